/**
 * Word error rate for tests and benchmarks, with the project's normalization convention so that a
 * Display form ("Go forward 10 meters.") scores against a lexical reference ("go forward ten meters")
 * without counting formatting as errors:
 *
 * 1. lower-case;
 * 2. "e-mail" → "email" (before hyphens are split, so it stays one word);
 * 3. hyphens → spaces;
 * 4. apostrophes removed ("what's" → "whats"), every other punctuation mark → a space (so "3:30"
 *    gives "3 30" and "end.start" two words; a mark between words never glues them together);
 * 5. "mr" → "mister";
 * 6. whole numbers 0–99 written as digits → words ("5" → "five", "21" → "twenty one", "07" stays:
 *    only canonical spellings without a leading zero are converted).
 *
 * Then word-level Levenshtein alignment; the error counts come from one minimal alignment, preferring
 * substitutions over a deletion + insertion pair.
 *
 * The rules live in the domain (src/domain/customspeech/word-errors.ts, which evaluations use), so the
 * figures tests print and the figures an evaluation reports are computed the same way.
 */

import { countWordErrors, normalizeWords, type WordErrorCounts } from '../../src/domain/customspeech/word-errors.js';

/** The normalized word list of `text`. */
export const normalizeForWer = normalizeWords;

/** Error counts of one hypothesis against one reference. */
export type WordErrors = WordErrorCounts;

export const wordErrors = countWordErrors;



/** Corpus-level result: total errors over total reference words. */
export interface WerResult extends WordErrors {
  /**
   * (S + D + I) / N over all pairs. With no reference words at all it is 0 when there are no errors
   * and +Infinity otherwise (any hypothesis word is then infinitely wrong, and a threshold check fails).
   */
  wer: number;
}

/** Corpus-level WER over reference/hypothesis pairs (errors summed, not per-utterance rates averaged). */
export function wer(pairs: readonly { ref: string; hyp: string }[]): WerResult {
  let substitutions = 0;
  let deletions = 0;
  let insertions = 0;
  let refWords = 0;
  for (const { ref, hyp } of pairs) {
    const e = wordErrors(ref, hyp);
    substitutions += e.substitutions;
    deletions += e.deletions;
    insertions += e.insertions;
    refWords += e.refWords;
  }
  const errors = substitutions + deletions + insertions;
  const rate = refWords === 0 ? (errors === 0 ? 0 : Number.POSITIVE_INFINITY) : errors / refWords;
  return { wer: rate, substitutions, deletions, insertions, refWords };
}
