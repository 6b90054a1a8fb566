import { alawToLinear, mulawToLinear } from './g711.js';

export type EightBitEncoding = 'pcm-u8' | 'mulaw' | 'alaw';

/** Bytes needed for a confident guess (a quarter second at 16 kHz). */
export const EIGHT_BIT_PROBE_BYTES = 4000;

/**
 * Which 8-bit encoding a byte stream most plausibly uses.
 *
 * Why: the JS Speech SDK's `AudioConfig.fromWavFileInput` rewrites every WAV header as PCM
 * (format tag 1) and keeps only rate, bits and channels, so G.711 files arrive declared as 8-bit
 * unsigned PCM (SDK 1.52, FileAudioSource.readHeader).
 *
 * Two cues, in order: (1) smoothness — real audio sampled at 8–48 kHz is strongly correlated from one
 * sample to the next, while a wrong decoding scrambles magnitudes, so the decoding with the clearly
 * highest lag-1 autocorrelation wins; (2) when that does not separate them (near-silence), quietness —
 * speech is quiet most of the time, so the decoding with the smallest median amplitude wins (µ-law
 * silence 0xFF/0x7F read as u8 is near full scale, u8 silence 0x80 read as µ-law likewise).
 */
export function guessEightBitEncoding(bytes: Uint8Array): EightBitEncoding {
  const candidates: Array<[EightBitEncoding, (b: number) => number]> = [
    ['pcm-u8', (b) => (b - 128) * 256],
    ['mulaw', mulawToLinear],
    ['alaw', alawToLinear],
  ];
  const scored = candidates
    .map(([name, decode]) => ({ name, r: lagOneCorrelation(bytes, decode), quiet: medianAbs(bytes, decode) }))
    .sort((a, b) => b.r - a.r);
  const [first, second] = scored;
  if (first && second && first.r > 0.5 && first.r - second.r > 0.05) return first.name;
  let best: EightBitEncoding = 'pcm-u8';
  let bestQuiet = Infinity;
  for (const c of scored) {
    if (c.quiet < bestQuiet) {
      bestQuiet = c.quiet;
      best = c.name;
    }
  }
  return best;
}

/** Mean-removed lag-1 autocorrelation coefficient of the decoded signal (0 for a constant signal). */
function lagOneCorrelation(bytes: Uint8Array, decode: (b: number) => number): number {
  const n = bytes.length;
  if (n < 2) return 0;
  const table = new Float64Array(256);
  for (let b = 0; b < 256; b++) table[b] = decode(b);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += table[bytes[i] ?? 0] ?? 0;
  mean /= n;
  let num = 0;
  let den = 0;
  let prev = (table[bytes[0] ?? 0] ?? 0) - mean;
  den += prev * prev;
  for (let i = 1; i < n; i++) {
    const x = (table[bytes[i] ?? 0] ?? 0) - mean;
    num += x * prev;
    den += x * x;
    prev = x;
  }
  return den === 0 ? 0 : num / den;
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
