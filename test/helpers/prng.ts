/**
 * Seeded pseudo-random generators for tests, so that generated inputs (noise, fuzz cases, chunk
 * sizes) are the same on every run and a failure reproduces. Both return numbers in [0, 1).
 */

/** mulberry32: small, fast, good statistical quality for test-case generation. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 32-bit linear congruential generator (Numerical Recipes constants): a different, simpler sequence than `prng`. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
