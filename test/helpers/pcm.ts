import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RawAudioFormat } from '../../src/kernel/audio/format.js';
import { parseWavHeader } from '../../src/kernel/audio/wav.js';
import { SDK_AUDIO } from './paths.js';

/** A WAV file split into its format and its sample bytes. */
export interface Wav {
  format: RawAudioFormat;
  /** The data chunk (clipped to the file when the header claims more, or claims nothing). */
  data: Buffer;
  /** The data as samples, when the format is 16-bit PCM (interleaved if there are several channels). */
  pcm?: Int16Array;
}

/** Reads a WAV file; a relative path is taken inside SDK_AUDIO (`readWav('whatstheweatherlike.wav')`). */
export function readWav(path: string): Wav {
  const bytes = readFileSync(resolve(SDK_AUDIO, path));
  const h = parseWavHeader(bytes);
  if ('needMore' in h) assert.fail(`${path}: incomplete WAV header`);
  const end = h.dataBytes === undefined ? bytes.length : Math.min(bytes.length, h.dataOffset + h.dataBytes);
  const data = bytes.subarray(h.dataOffset, end);
  const wav: Wav = { format: h.format, data };
  if (h.format.encoding === 'pcm-s16') wav.pcm = s16FromBytes(data);
  return wav;
}

/** s16le bytes → samples (a trailing odd byte is ignored). */
export function s16FromBytes(bytes: Uint8Array): Int16Array {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int16Array(buf.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = buf.readInt16LE(i * 2);
  return out;
}

/** Samples → s16le bytes (a copy). */
export function bytesFromS16(pcm: Int16Array): Buffer {
  const b = Buffer.alloc(pcm.length * 2);
  for (let i = 0; i < pcm.length; i++) b.writeInt16LE(pcm[i] ?? 0, i * 2);
  return b;
}

/** The parts one after another, in a new array. */
export function concatInt16(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Best normalised cross-correlation of b against a for lags within ±maxLag samples. */
export function bestCorrelation(a: Int16Array, b: Int16Array, maxLag: number): { ncc: number; lag: number } {
  let best = { ncc: -1, lag: 0 };
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let i = Math.max(0, -lag); i < a.length && i + lag < b.length; i++) {
      const x = a[i] ?? 0;
      const y = b[i + lag] ?? 0;
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    const ncc = ab / Math.sqrt(aa * bb || 1);
    if (ncc > best.ncc) best = { ncc, lag };
  }
  return best;
}
