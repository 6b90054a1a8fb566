import { readFileSync } from 'node:fs';

export interface WavHeaderOptions {
  sampleRate?: number;
  channels?: number;
  bits?: number;
  /** The data chunk size (default 0). */
  dataBytes?: number;
  /** The RIFF chunk size (default 36 + dataBytes); the JS SDK's streaming header has 0 here and in dataBytes. */
  riffBytes?: number;
}

/** A canonical 44-byte PCM WAV header (default 16 kHz, 16-bit, mono). */
export function wavHeader({ sampleRate = 16_000, channels = 1, bits = 16, dataBytes = 0, riffBytes = 36 + dataBytes }: WavHeaderOptions = {}): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(riffBytes, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE((sampleRate * bits * channels) / 8, 28);
  h.writeUInt16LE((bits * channels) / 8, 32);
  h.writeUInt16LE(bits, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** Wraps raw s16le PCM in a 44-byte WAV header. */
export function wavFromPcm(pcm: Buffer, sampleRate = 16_000, channels = 1): Buffer {
  return Buffer.concat([wavHeader({ sampleRate, channels, dataBytes: pcm.length }), pcm]);
}

/** Silence of `ms` milliseconds as 16 kHz s16le PCM. */
export function silencePcm(ms: number, sampleRate = 16_000): Buffer {
  return Buffer.alloc(Math.round((ms * sampleRate) / 1000) * 2);
}

export function readFile(path: string): Buffer {
  return readFileSync(path);
}
