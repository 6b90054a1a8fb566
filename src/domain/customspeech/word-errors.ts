import type { EvaluationTotals } from './entities.js';

/**
 * Word error counting for evaluations (issue #5 item 7). Azure scores lexical, normalised text: the
 * reference transcription (display text, as an Acoustic dataset holds it) and the recognized lexical
 * form are both normalised the same way, so formatting is never counted as an error:
 *
 * 1. lower-case;
 * 2. "e-mail" → "email" (before hyphens are split, so it stays one word);
 * 3. hyphens → spaces;
 * 4. apostrophes removed ("what's" → "whats"), every other punctuation mark → a space;
 * 5. "mr" → "mister";
 * 6. whole numbers 0–99 written as digits → words ("21" → "twenty one"; "07" stays).
 *
 * Then a word-level Levenshtein alignment; the counts come from one minimal alignment, preferring
 * substitutions over a deletion + insertion pair. (The same convention as the tests' WER helper.)
 */

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine',
  'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** Longest utterance aligned (words); longer texts are cut so the alignment stays bounded (≈ 4 M cells). */
export const MAX_ALIGNED_WORDS = 2_000;

function numberWords(token: string): string[] | undefined {
  if (!/^(?:0|[1-9][0-9]?)$/u.test(token)) return undefined;
  const n = Number(token);
  if (n < 20) return [ONES[n] ?? ''];
  const tens = TENS[Math.floor(n / 10)] ?? '';
  const unit = n % 10;
  return unit === 0 ? [tens] : [tens, ONES[unit] ?? ''];
}

/** The normalised word list of `text` (rules in the module comment). */
export function normalizeWords(text: string): string[] {
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
  return out.slice(0, MAX_ALIGNED_WORDS);
}

export interface WordErrorCounts {
  substitutions: number;
  deletions: number;
  insertions: number;
  /** Reference words. */
  refWords: number;
}

/** Error counts of `hyp` (recognized) against `ref` (the transcription), both normalised. */
export function countWordErrors(ref: string, hyp: string): WordErrorCounts {
  const r = normalizeWords(ref);
  const h = normalizeWords(hyp);
  const cols = h.length + 1;
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

export function emptyTotals(): EvaluationTotals {
  return { sentenceCount: 0, sentenceErrors: 0, wordCount: 0, correctWordCount: 0, substitutions: 0, deletions: 0, insertions: 0 };
}

/** Adds one utterance's counts to `t` (in place) and returns it. */
export function addUtterance(t: EvaluationTotals, e: WordErrorCounts): EvaluationTotals {
  t.sentenceCount += 1;
  if (e.substitutions + e.deletions + e.insertions > 0) t.sentenceErrors += 1;
  t.wordCount += e.refWords;
  t.correctWordCount += e.refWords - e.substitutions - e.deletions;
  t.substitutions += e.substitutions;
  t.deletions += e.deletions;
  t.insertions += e.insertions;
  return t;
}

/** (S + D + I) / N as a fraction (Azure reports e.g. 0.065); 0 without reference words and errors. */
export function wordErrorRate(t: EvaluationTotals): number {
  const errors = t.substitutions + t.deletions + t.insertions;
  if (t.wordCount === 0) return errors === 0 ? 0 : 1;
  return errors / t.wordCount;
}

export function sentenceErrorRate(t: EvaluationTotals): number {
  return t.sentenceCount === 0 ? 0 : t.sentenceErrors / t.sentenceCount;
}
