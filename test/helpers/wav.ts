import { readFileSync } from 'node:fs';

/** Wraps raw s16le mono PCM in a 44-byte WAV header. */
export function wavFromPcm(pcm: Buffer, sampleRate = 16_000, channels = 1): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + pcm.length, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([h, pcm]);
}

/** Silence of `ms` milliseconds as 16 kHz s16le PCM. */
export function silencePcm(ms: number, sampleRate = 16_000): Buffer {
  return Buffer.alloc(Math.round((ms * sampleRate) / 1000) * 2);
}

export function readFile(path: string): Buffer {
  return readFileSync(path);
}
