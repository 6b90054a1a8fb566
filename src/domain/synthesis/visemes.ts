/**
 * Azure's 22 viseme ids (the SAPI set: 0 silence … 21 p/b/m), from the phones an engine reports.
 * Azure documents the same mapping for en-US ("Map phonemes to visemes").
 */
const ARPABET: Record<string, number> = {
  pau: 0, sil: 0, h: 0,
  ae: 1, ah: 1, ax: 1, aa: 2, ao: 3, eh: 4, uh: 4, er: 5, axr: 5,
  y: 6, iy: 6, ih: 6, ix: 6, w: 7, uw: 7, ow: 8, aw: 9, oy: 10, ay: 11, ey: 4, hh: 12,
  r: 13, l: 14, el: 14, s: 15, z: 15, sh: 16, ch: 16, jh: 16, zh: 16, dh: 17, f: 18, v: 18,
  d: 19, t: 19, n: 19, th: 19, dx: 19, en: 19, k: 20, g: 20, ng: 20, p: 21, b: 21, m: 21, em: 21,
};

/** eSpeak NG mnemonics (stress marks and length marks stripped) mapped to the same ids. */
const ESPEAK: Record<string, number> = {
  '_': 0, '': 0,
  a: 1, '@': 1, V: 1, '3': 5, A: 2, 'A@': 2, O: 3, E: 4, U: 4, 'e@': 4, eI: 4, i: 6, I: 6, j: 6,
  u: 7, w: 7, oU: 8, o: 8, aU: 9, OI: 10, aI: 11, h: 12, r: 13, 'r-': 13, l: 14, s: 15, z: 15,
  S: 16, tS: 16, dZ: 16, Z: 16, D: 17, f: 18, v: 18, d: 19, t: 19, n: 19, T: 19, k: 20, g: 20, N: 20, x: 20,
  p: 21, b: 21, m: 21,
};

export function visemeId(phone: string, phoneSet: 'arpabet' | 'espeak'): number {
  if (phoneSet === 'arpabet') {
    const p = phone.toLowerCase().replace(/[0-9]/g, '');
    return ARPABET[p] ?? 0;
  }
  const p = phone.replace(/[',:;!%=]/g, '');
  if (p in ESPEAK) return ESPEAK[p] ?? 0;
  // Unknown eSpeak phones: fall back on their first symbol (vowels and consonants of other languages).
  return ESPEAK[p.slice(0, 1)] ?? 0;
}
