import { alawToLinear, mulawToLinear } from './g711.js';

export type EightBitEncoding = 'pcm-u8' | 'mulaw' | 'alaw';

/** Bytes needed for a confident guess (a quarter second at 16 kHz). */
export const EIGHT_BIT_PROBE_BYTES = 4000;

/**
 * Which 8-bit encoding a byte stream most plausibly uses.
 *
 * Why: the JS Speech SDK's `AudioConfig.fromWavFileInput` rewrites every WAV header as PCM
 * (format tag 1) and keeps only rate, bits and channels, so G.711 files arrive declared as 8-bit
 * unsigned PCM (SDK 1.52, FileAudioSource.readHeader). Speech is quiet most of the time, so the right
 * decoding is the one with the smallest typical amplitude: µ-law silence (0xFF/0x7F) read as u8 is
 * near full scale, u8 silence (0x80) read as µ-law is near full scale, and so on.
 */
export function guessEightBitEncoding(bytes: Uint8Array): EightBitEncoding {
  const candidates: Array<[EightBitEncoding, (b: number) => number]> = [
    ['pcm-u8', (b) => (b - 128) * 256],
    ['mulaw', mulawToLinear],
    ['alaw', alawToLinear],
  ];
  let best: EightBitEncoding = 'pcm-u8';
  let bestScore = Infinity;
  for (const [name, decode] of candidates) {
    const score = medianAbs(bytes, decode);
    if (score < bestScore) {
      bestScore = score;
      best = name;
    }
  }
  return best;
}

function medianAbs(bytes: Uint8Array, decode: (b: number) => number): number {
  // Histogram over the 256 byte values: the median of |decode(b)| without sorting every sample.
  const counts = new Uint32Array(256);
  for (const b of bytes) counts[b] = (counts[b] ?? 0) + 1;
  const values = Array.from({ length: 256 }, (_, b) => ({ abs: Math.abs(decode(b)), n: counts[b] ?? 0 })).sort((x, y) => x.abs - y.abs);
  let seen = 0;
  const half = bytes.length / 2;
  for (const v of values) {
    seen += v.n;
    if (seen >= half) return v.abs;
  }
  return 0;
}
