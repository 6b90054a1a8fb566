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
 */

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine',
  'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** "21" → ["twenty", "one"]; undefined outside 0–99 or for non-canonical spellings like "07". */
function numberWords(token: string): string[] | undefined {
  if (!/^(?:0|[1-9][0-9]?)$/u.test(token)) return undefined;
  const n = Number(token);
  if (n < 20) return [ONES[n] ?? ''];
  const tens = TENS[Math.floor(n / 10)] ?? '';
  const unit = n % 10;
  return unit === 0 ? [tens] : [tens, ONES[unit] ?? ''];
}

/** The normalized word list of `text` (rules in the module comment). */
export function normalizeForWer(text: string): string[] {
  const cleaned = text
    .toLowerCase()
    .replace(/\be-mail/gu, 'email')
    .replace(/[-\u2010-\u2015]/gu, ' ')
    .replace(/['\u2018\u2019\u02bc`]/gu, '')
    .replace(/[^\p{L}\p{N}\s]/gu, ' ');
  const out: string[] = [];
  for (const token of cleaned.split(/\s+/u)) {
    if (token === '') continue;
    if (token === 'mr') {
      out.push('mister');
      continue;
    }
    out.push(...(numberWords(token) ?? [token]));
  }
  return out;
}

/** Error counts of one hypothesis against one reference. */
export interface WordErrors {
  substitutions: number;
  deletions: number;
  insertions: number;
  refWords: number;
}

/** Word-level Levenshtein alignment of normalized `hyp` against normalized `ref`. */
export function wordErrors(ref: string, hyp: string): WordErrors {
  const r = normalizeForWer(ref);
  const h = normalizeForWer(hyp);
  const cols = h.length + 1;
  // cost[i * cols + j]: edit distance between r[0..i) and h[0..j).
  const cost = new Int32Array((r.length + 1) * cols);
  for (let i = 0; i <= r.length; i++) cost[i * cols] = i;
  for (let j = 0; j <= h.length; j++) cost[j] = j;
  const at = (i: number, j: number): number => cost[i * cols + j] ?? 0;
  for (let i = 1; i <= r.length; i++) {
    for (let j = 1; j <= h.length; j++) {
      const diagonal = at(i - 1, j - 1) + (r[i - 1] === h[j - 1] ? 0 : 1);
      cost[i * cols + j] = Math.min(diagonal, at(i - 1, j) + 1, at(i, j - 1) + 1);
    }
  }
  // Walk back along one optimal path; the diagonal first so equal-cost paths count a substitution
  // rather than a deletion plus an insertion.
  let substitutions = 0;
  let deletions = 0;
  let insertions = 0;
  let i = r.length;
  let j = h.length;
  while (i > 0 || j > 0) {
    const here = at(i, j);
    if (i > 0 && j > 0) {
      const same = r[i - 1] === h[j - 1];
      if (here === at(i - 1, j - 1) + (same ? 0 : 1)) {
        if (!same) substitutions += 1;
        i -= 1;
        j -= 1;
        continue;
      }
    }
    if (i > 0 && here === at(i - 1, j) + 1) {
      deletions += 1;
      i -= 1;
    } else {
      insertions += 1;
      j -= 1;
    }
  }
  return { substitutions, deletions, insertions, refWords: r.length };
}

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
