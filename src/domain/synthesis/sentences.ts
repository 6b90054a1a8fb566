/**
 * Sentence boundaries in plain text, so synthesis can stream sentence by sentence and report SentenceBoundary
 * events. Rule based and language neutral:
 *
 * - `.`, `!`, `?`, `…` (and runs of them, plus closing quotes/brackets after them) end a sentence when followed by
 *   whitespace or the end of the text — so "3.14" and "example.com" never split;
 * - a single `.` after a title-like abbreviation (Mr. Dr. St. e.g. i.e. …) or a capital initial ("J. Smith")
 *   never ends a sentence; after a sentence-final-capable abbreviation (etc. a.m. Inc. U.S. …) or an
 *   ellipsis, it ends the sentence only when the next word does not start in lower case;
 * - CJK full stops `。！？` end a sentence wherever they are (CJK text puts no space after them);
 * - a blank line (two or more line breaks) ends a sentence, for plain text without final punctuation.
 */

/** Abbreviations after which a period never ends a sentence (compared lower-case, with the final period). */
export const NON_TERMINAL_ABBREVIATIONS: ReadonlySet<string> = new Set([
  'mr.', 'mrs.', 'ms.', 'dr.', 'prof.', 'st.', 'sr.', 'jr.', 'mt.', 'ft.', 'ave.', 'rd.', 'blvd.', 'vs.', 'e.g.', 'i.e.',
  'cf.', 'approx.', 'no.', 'nos.', 'fig.', 'figs.', 'vol.', 'gen.', 'gov.', 'sen.', 'rep.', 'capt.', 'lt.', 'col.',
  'sgt.', 'rev.', 'hon.', 'messrs.', 'mme.', 'mlle.', 'dept.', 'est.', 'ca.', 'jan.', 'feb.', 'mar.', 'apr.', 'jun.',
  'jul.', 'aug.', 'sep.', 'sept.', 'oct.', 'nov.', 'dec.',
]);

/** Abbreviations that often end a sentence too: a period after them ends one unless a lower-case word follows. */
export const TERMINAL_CAPABLE_ABBREVIATIONS: ReadonlySet<string> = new Set([
  'etc.', 'a.m.', 'p.m.', 'inc.', 'ltd.', 'co.', 'corp.', 'llc.', 'jr.', 'sr.', 'esq.', 'al.',
]);

const TERMINALS = new Set(['.', '!', '?', '…']);
const CJK_TERMINALS = new Set(['。', '！', '？', '｡']);
const CLOSERS = new Set(['"', "'", '”', '’', '»', ')', ']', '}', '」', '』', '）', '】', '〕', '》', '〉']);

/** A sentence as a span of the input (trimmed of surrounding whitespace). */
export interface SentenceSpan {
  start: number;
  end: number;
  text: string;
}

/**
 * Offsets where sentences end in `text` (exclusive ends, after any closing quotes), strictly increasing, each in
 * `(0, text.length]`. The end of the text is included only when a terminal mark is there.
 */
export function sentenceEnds(text: string): number[] {
  const ends: number[] = [];
  const push = (at: number): void => {
    const last = ends[ends.length - 1];
    if (at > 0 && (last === undefined || at > last)) ends.push(at);
  };
  const n = text.length;
  let i = 0;
  while (i < n) {
    const ch = text.charAt(i);
    if (CJK_TERMINALS.has(ch)) {
      let j = i + 1;
      while (j < n && (CJK_TERMINALS.has(text.charAt(j)) || CLOSERS.has(text.charAt(j)))) j++;
      push(j);
      i = j;
      continue;
    }
    if (TERMINALS.has(ch)) {
      let j = i;
      while (j < n && TERMINALS.has(text.charAt(j))) j++;
      const run = text.slice(i, j);
      while (j < n && CLOSERS.has(text.charAt(j))) j++;
      if ((j === n || isSpace(text.charAt(j))) && terminalEndsSentence(text, i, run, j)) push(j);
      i = j;
      continue;
    }
    if (ch === '\n') {
      // A blank line: the whitespace run holds two line breaks. The sentence ends at the last non-space character.
      let j = i;
      let breaks = 0;
      while (j < n && isSpace(text.charAt(j))) {
        if (text.charAt(j) === '\n') breaks++;
        j++;
      }
      if (breaks >= 2 && j < n) {
        let k = i;
        while (k > 0 && isSpace(text.charAt(k - 1))) k--;
        push(k);
      }
      i = j;
      continue;
    }
    i++;
  }
  return ends;
}

/** The sentences of `text`, trimmed, empty ones left out. */
export function splitSentences(text: string): SentenceSpan[] {
  const spans: SentenceSpan[] = [];
  let start = 0;
  for (const end of [...sentenceEnds(text), text.length]) {
    let a = start;
    let b = end;
    while (a < b && isSpace(text.charAt(a))) a++;
    while (b > a && isSpace(text.charAt(b - 1))) b--;
    if (b > a) spans.push({ start: a, end: b, text: text.slice(a, b) });
    start = end;
  }
  return spans;
}

/**
 * Whether the terminal run `run` starting at `at` (followed by whitespace or the end, next non-closer at `after`)
 * ends a sentence. Only a single period needs a look at the word before it.
 */
function terminalEndsSentence(text: string, at: number, run: string, after: number): boolean {
  if (run.includes('!') || run.includes('?')) return true;
  if (run !== '.') return !nextWordIsLowerCase(text, after); // "...", "…": a pause inside a sentence unless a new one starts
  const word = wordBefore(text, at);
  if (word === '') return true;
  const withDot = `${word}.`.toLowerCase();
  if (NON_TERMINAL_ABBREVIATIONS.has(withDot) && !TERMINAL_CAPABLE_ABBREVIATIONS.has(withDot)) return false;
  // A capital initial: "J. Smith", "Harry S. Truman".
  if (/^\p{Lu}$/u.test(word)) return false;
  if (TERMINAL_CAPABLE_ABBREVIATIONS.has(withDot) || /^(?:\p{L}\.)+\p{L}$/u.test(word)) return !nextWordIsLowerCase(text, after);
  return true;
}

/** The run of letters, digits and inner periods right before `at` ("e.g" before the final "." of "e.g."). */
function wordBefore(text: string, at: number): string {
  // Abbreviations are short: looking 32 characters back bounds the work on long unbroken runs.
  const limit = Math.max(0, at - 32);
  let k = at;
  while (k > limit && /[\p{L}\p{M}\p{N}.]/u.test(text.charAt(k - 1))) k--;
  // A leading period belongs to the previous sentence ("end..Mr" is not a word).
  while (k < at && text.charAt(k) === '.') k++;
  return text.slice(k, at);
}

function nextWordIsLowerCase(text: string, from: number): boolean {
  let k = from;
  while (k < text.length && isSpace(text.charAt(k))) k++;
  while (k < text.length && /[\p{Pi}\p{Ps}"'“‘(]/u.test(text.charAt(k))) k++;
  return k < text.length && /\p{Ll}/u.test(text.charAt(k));
}

function isSpace(ch: string): boolean {
  return ch === ' ' || ch === '\n' || ch === '\t' || ch === '\r' || ch === '\u00a0' || ch === '\u3000' || /\s/u.test(ch);
}
