/**
 * Built-in English (en-US) profanity list and the masking helpers Azure's profanity option implies.
 *
 * The list is deliberately modest: common strong profanity and slurs with their usual inflections,
 * matched as whole words only (so "class", "scunthorpe" or "passion" are never touched). Words that
 * are ordinary English in most uses are left out on purpose, because masking a clean word is a worse
 * failure than letting a mild one through: "ass" (donkey), "dick" (a name), "cock" (rooster),
 * "pussy" (cat), "screw", "bloody", "hell", "damn", "crap", "prick", "balls".
 */

/** How profanity is rendered in the Display form; mirrors Azure's `profanity` query parameter. */
export type ProfanityOption = 'masked' | 'removed' | 'raw';

// Every inflection is spelled out rather than derived by stemming: a stemmer would also catch
// innocent words that merely end or start the same way.
const WORDS: readonly string[] = [
  // fuck
  'fuck', 'fucks', 'fucked', 'fucker', 'fuckers', 'fucking', 'fuckin', "fuckin'", 'fuckup', 'fuckups',
  'fuckface', 'fuckhead', 'fuckheads', 'fuckwit', 'fuckwits',
  'motherfucker', 'motherfuckers', 'motherfucking', 'motherfuckin', "motherfuckin'",
  // shit
  'shit', 'shits', 'shitted', 'shitting', 'shitty', 'shittier', 'shittiest', 'shite',
  'bullshit', 'bullshitting', 'bullshitter', 'horseshit', 'shithead', 'shitheads', 'shithole', 'shitholes',
  'dipshit', 'dipshits', 'chickenshit',
  // ass compounds (bare "ass" is excluded, see above)
  'asshole', 'assholes', 'arsehole', 'arseholes', 'jackass', 'jackasses', 'dumbass', 'dumbasses',
  'smartass', 'badass', 'asswipe', 'kickass',
  // bitch
  'bitch', 'bitches', 'bitched', 'bitching', 'bitchy', 'sonofabitch',
  // other strong words
  'bastard', 'bastards', 'cunt', 'cunts', 'twat', 'twats', 'wanker', 'wankers', 'wank', 'wanking',
  'dickhead', 'dickheads', 'cocksucker', 'cocksuckers', 'cocksucking',
  'slut', 'sluts', 'slutty', 'whore', 'whores',
  'piss', 'pissed', 'pisses', 'pissing',
  'goddamn', 'goddamned', 'goddammit', 'goddamnit',
  // slurs
  'nigger', 'niggers', 'nigga', 'niggas', 'faggot', 'faggots', 'fag', 'fags', 'kike', 'kikes',
];

/** The built-in profane words, lower-case, exact forms only (no stemming). */
export const PROFANE_WORDS: ReadonlySet<string> = new Set(WORDS);

/**
 * True when `word` (any case) is on the built-in list, also when it carries a possessive or
 * contracted "'s" ("bastard's"), which recognizers emit as part of the word.
 */
export function isProfane(word: string): boolean {
  const w = word.toLowerCase();
  if (PROFANE_WORDS.has(w)) return true;
  return w.endsWith("'s") && PROFANE_WORDS.has(w.slice(0, -2));
}

/**
 * The whole word replaced by asterisks, one per character (code point), as Azure masks:
 * "shit" → "****". Apostrophes are masked too so the length still matches the spoken word's form.
 */
export function maskWord(word: string): string {
  return '*'.repeat([...word].length);
}

/**
 * Applies a profanity option to plain space-separated text (partial hypotheses, ITN strings):
 * 'masked' masks each profane word, 'removed' drops it and collapses spaces, 'raw' returns the text
 * unchanged. Only whole space-delimited words are considered; punctuation glued to a word is kept
 * (trailing `.,?!` is split off before the lookup and kept when the word is removed).
 */
export function applyProfanity(text: string, option: ProfanityOption): string {
  if (option === 'raw') return text;
  const out: string[] = [];
  for (const token of text.split(/\s+/)) {
    if (token === '') continue;
    // Display text may end in sentence punctuation; look the bare word up but keep the mark.
    const m = /^(.*?)([.,?!]*)$/u.exec(token);
    const core = m?.[1] ?? token;
    const tail = m?.[2] ?? '';
    if (core === '' || !isProfane(core)) {
      out.push(token);
    } else if (option === 'masked') {
      out.push(maskWord(core) + tail);
    } else if (tail !== '' && out.length > 0) {
      // A removed word must not take its sentence mark with it; the mark replaces any comma left
      // dangling on the previous word ("it broke, shit." → "it broke.").
      const previous = out[out.length - 1] ?? '';
      out[out.length - 1] = previous.replace(/[.,?!;:]+$/u, '') + tail;
    }
  }
  return out.join(' ');
}

/** Shorthand for `applyProfanity(text, 'masked')`: what Azure's MaskedITN does to ITN text. */
export function maskProfanity(text: string): string {
  return applyProfanity(text, 'masked');
}
