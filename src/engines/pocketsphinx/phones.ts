/**
 * The phone set of the en-US acoustic model (CMU arpabet without stress: the 39 phones of cmudict-en-us.dict)
 * and the mapping of pronunciations from other sources onto it. Pure; used on both sides of the worker boundary.
 */

export const SPHINX_PHONES: ReadonlySet<string> = new Set([
  'AA', 'AE', 'AH', 'AO', 'AW', 'AY', 'B', 'CH', 'D', 'DH', 'EH', 'ER', 'EY', 'F', 'G', 'HH', 'IH', 'IY', 'JH', 'K', 'L',
  'M', 'N', 'NG', 'OW', 'OY', 'P', 'R', 'S', 'SH', 'T', 'TH', 'UH', 'UW', 'V', 'W', 'Y', 'Z', 'ZH',
]);

/**
 * Phones of the wider arpabet (TIMIT, flite's lexicon) that the model lacks, as their nearest model phones.
 * Silences and the glottal stop map to nothing.
 */
const EQUIVALENTS: Record<string, string[]> = {
  AX: ['AH'], AXR: ['ER'], IX: ['IH'], UX: ['UW'], DX: ['D'], NX: ['N'], HV: ['HH'],
  EN: ['AH', 'N'], EM: ['AH', 'M'], EL: ['AH', 'L'], ENG: ['AH', 'NG'],
  Q: [], PAU: [], SIL: [], 'H#': [], EPI: [],
};

/**
 * `raw` ("K AE1 T", "k ae t", "Z AX0 R") as a pronunciation of the model ("K AE T"): upper-cased, stress digits
 * removed, other arpabet symbols mapped (AX → AH, EL → AH L…). Undefined when a phone is unknown or nothing is left.
 */
export function toSphinxPhones(raw: string): string | undefined {
  const out: string[] = [];
  for (const token of raw.trim().split(/\s+/u)) {
    if (token === '') continue;
    const phone = token.toUpperCase().replace(/[0-9]+$/u, '');
    if (SPHINX_PHONES.has(phone)) out.push(phone);
    else if (EQUIVALENTS[phone] !== undefined) out.push(...EQUIVALENTS[phone]);
    else return undefined;
  }
  return out.length === 0 ? undefined : out.join(' ');
}

/** Words a dictionary line may define: no whitespace, no NUL, and not a sentence marker or filler. */
export function isDictionaryWord(word: string): boolean {
  return word.length > 0 && word.length <= 200 && !/[\s\0]/u.test(word) && !/^(<.*>|\[.*\]|\+\+.*\+\+)$/u.test(word);
}
