/**
 * Language-model training for custom models, in pure TypeScript (no C, no I/O): text normalisation, n-gram
 * counting and an ARPA writer with Witten-Bell smoothing. Used by the build worker (build-worker.ts); exported
 * for unit tests.
 *
 * Normalisation (`normalizeTrainingText`) turns display text into the lexical words the recognizer emits:
 * 1. Unicode NFKC; typographic apostrophes (’ ‘ ʼ ` ´) become "'".
 * 2. A line is split into sentences after '.', '!', '?' or ';' followed by whitespace, and at line breaks
 *    (abbreviations such as "Dr. Smith" are split too: harmless for an n-gram model).
 * 3. Accents are removed (NFD, combining marks dropped) and the text is lower-cased.
 * 4. '&' → "and", '%' → "percent", '@' → "at".
 * 5. Numbers are spelled out as US English cardinals: "42" → "forty two", "1,500" → "one thousand five
 *    hundred", "3.25" → "three point two five", "007" → "zero zero seven" (a leading zero reads digit by digit),
 *    ordinals "21st" → "twenty first". Years are read as cardinals ("2024" → "two thousand twenty four"), the
 *    one simplification a speaker may notice. Digits glued to letters are split off ("mp3" → "mp three").
 * 6. Every other character that is not a letter or an apostrophe separates words (hyphens, slashes,
 *    punctuation); apostrophes are kept inside words ("don't", "o'clock") and stripped at their ends.
 *
 * Smoothing: interpolated Witten-Bell, written as a back-off ARPA model whose probabilities are exactly the
 * interpolated ones. For a history h seen c(h) times with T(h) distinct followers,
 *   P(w | h) = (c(h, w) + T(h) · P(w | h')) / (c(h) + T(h)),  h' = h without its oldest word,
 * and the back-off weight of h is T(h) / (c(h) + T(h)): for every w not seen after h the ARPA back-off gives
 * bow(h) · P(w | h'), which is the same interpolated value, so each history's distribution sums to 1.
 * Unigrams are maximum-likelihood over the training words and `</s>` (every vocabulary word was seen).
 * `<s>` is listed with log-probability -99 (it is never predicted, only a history), as sphinxbase expects.
 * There is no `<unk>`: the model is closed-vocabulary, like the base model. Every listed n-gram's prefix and
 * suffix are listed too (they were counted), which the sphinxbase trie reader needs.
 */

export const SENTENCE_START = '<s>';
export const SENTENCE_END = '</s>';

// ---------------------------------------------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------------------------------------------

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const SCALES = ['', 'thousand', 'million', 'billion'];
/** Integers with more digits than this are read digit by digit. */
const MAX_CARDINAL_DIGITS = 12;

function below1000(n: number): string[] {
  const out: string[] = [];
  const hundreds = Math.floor(n / 100);
  const rest = n % 100;
  if (hundreds > 0) out.push(ONES[hundreds] ?? '', 'hundred');
  if (rest >= 20) {
    out.push(TENS[Math.floor(rest / 10)] ?? '');
    if (rest % 10 !== 0) out.push(ONES[rest % 10] ?? '');
  } else if (rest > 0 || hundreds === 0) {
    out.push(ONES[rest] ?? '');
  }
  return out;
}

function digitByDigit(digits: string): string[] {
  return [...digits].map((d) => ONES[Number(d)] ?? '');
}

/** US English words for a string of decimal digits ("1500" → one thousand five hundred). */
export function spellCardinal(digits: string): string[] {
  if (!/^\d+$/.test(digits)) throw new RangeError(`not a digit string: '${digits}'`);
  if ((digits.length > 1 && digits.startsWith('0')) || digits.length > MAX_CARDINAL_DIGITS) return digitByDigit(digits);
  let n = Number(digits);
  if (n === 0) return ['zero'];
  const groups: string[][] = [];
  for (let scale = 0; n > 0; scale++, n = Math.floor(n / 1000)) {
    const group = n % 1000;
    if (group > 0) groups.unshift([...below1000(group), ...(scale > 0 ? [SCALES[scale] ?? ''] : [])]);
  }
  return groups.flat();
}

const IRREGULAR_ORDINALS: Record<string, string> = {
  one: 'first', two: 'second', three: 'third', five: 'fifth', eight: 'eighth', nine: 'ninth', twelve: 'twelfth',
};

/** "21" → twenty first. */
export function spellOrdinal(digits: string): string[] {
  const words = spellCardinal(digits);
  const last = words.pop() ?? '';
  const ordinal = IRREGULAR_ORDINALS[last] ?? (last.endsWith('y') ? `${last.slice(0, -1)}ieth` : `${last}th`);
  return [...words, ordinal];
}

/** "1,500.25" → one thousand five hundred point two five. */
function spellNumber(token: string): string[] {
  const [whole = '', fraction] = token.replace(/,/g, '').split('.');
  return [...spellCardinal(whole), ...(fraction === undefined || fraction === '' ? [] : ['point', ...digitByDigit(fraction)])];
}

// ---------------------------------------------------------------------------------------------------------------
// Normalisation
// ---------------------------------------------------------------------------------------------------------------

/** The sentences of `text` as lists of lexical words (rules in the module comment); empty sentences are dropped. */
export function normalizeTrainingText(text: string): string[][] {
  const unified = text.normalize('NFKC').replace(/[\u2018\u2019\u02bc`\u00b4]/gu, "'");
  const sentences: string[][] = [];
  for (const raw of unified.split(/(?<=[.!?;])\s+|[\r\n\u2028\u2029]+/u)) {
    const words = normalizeSentence(raw);
    if (words.length > 0) sentences.push(words);
  }
  return sentences;
}

function normalizeSentence(sentence: string): string[] {
  const text = sentence
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/%/g, ' percent ')
    .replace(/@/g, ' at ')
    .replace(/(\d+)(?:st|nd|rd|th)\b/gu, (_m, digits: string) => ` ${spellOrdinal(digits).join(' ')} `)
    .replace(/\d+(?:,\d{3})*(?:\.\d+)?/gu, (m) => ` ${spellNumber(m).join(' ')} `)
    .replace(/[^\p{L}']+/gu, ' ');
  const words: string[] = [];
  for (const token of text.split(' ')) {
    const word = token.replace(/^'+|'+$/g, '');
    if (word !== '') words.push(word);
  }
  return words;
}

// ---------------------------------------------------------------------------------------------------------------
// Counting
// ---------------------------------------------------------------------------------------------------------------

/** Word ↔ id; `<s>` is 0 and `</s>` is 1. */
export class Vocabulary {
  static readonly START = 0;
  static readonly END = 1;
  readonly words: string[] = [SENTENCE_START, SENTENCE_END];
  private readonly ids = new Map<string, number>([[SENTENCE_START, 0], [SENTENCE_END, 1]]);

  id(word: string): number {
    let id = this.ids.get(word);
    if (id === undefined) {
      id = this.words.length;
      if (id >= MAX_VOCABULARY) throw new RangeError(`vocabulary larger than ${MAX_VOCABULARY} words`);
      this.words.push(word);
      this.ids.set(word, id);
    }
    return id;
  }

  lookup(word: string): number | undefined {
    return this.ids.get(word);
  }

  get size(): number {
    return this.words.length;
  }
}

/** Ids fit in 26 bits, so a pair of ids is one exact JS number (52 bits). */
const MAX_VOCABULARY = 2 ** 26;

function pairKey(u: number, v: number): number {
  return u * MAX_VOCABULARY + v;
}

/** How often each history was followed by each word. */
type Followers = Map<number, Map<number, number>>;

function bump(table: Followers, history: number, word: number): void {
  let row = table.get(history);
  if (row === undefined) {
    row = new Map();
    table.set(history, row);
  }
  row.set(word, (row.get(word) ?? 0) + 1);
}

/** N-gram counts of sentences (orders 1 to 3), each padded with `<s>` and `</s>`. */
export class NgramCounter {
  readonly order: number;
  /** unigram counts by id (`<s>` stays 0: it is never predicted). */
  readonly unigrams: number[] = [];
  readonly bigrams: Followers = new Map();
  /** Keyed by pairKey(u, v). */
  readonly trigrams: Followers = new Map();
  sentences = 0;

  constructor(order = 3) {
    if (!Number.isInteger(order) || order < 1 || order > 3) throw new RangeError(`n-gram order must be 1, 2 or 3, got ${order}`);
    this.order = order;
  }

  /** Adds one sentence given as word ids (without sentence markers). */
  addSentence(ids: ArrayLike<number>): void {
    if (ids.length === 0) return;
    this.sentences++;
    let u = -1;
    let v = Vocabulary.START;
    for (let i = 0; i <= ids.length; i++) {
      const w = i < ids.length ? (ids[i] ?? Vocabulary.END) : Vocabulary.END;
      this.unigrams[w] = (this.unigrams[w] ?? 0) + 1;
      if (this.order >= 2) bump(this.bigrams, v, w);
      if (this.order >= 3 && u >= 0) bump(this.trigrams, pairKey(u, v), w);
      u = v;
      v = w;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// ARPA
// ---------------------------------------------------------------------------------------------------------------

/** Distinct n-grams written per order (index 0 = unigrams, `<s>` included). */
export interface ArpaSummary {
  counts: number[];
}

/** log10 with the ARPA format's usual precision. */
function log10(p: number): string {
  return Math.log10(p).toFixed(6);
}

function sum(row: Map<number, number>): number {
  let total = 0;
  for (const c of row.values()) total += c;
  return total;
}

/**
 * Writes `counter` as an ARPA back-off model (see the module comment for the smoothing) through `sink`, in
 * chunks of about 64 KB, n-grams sorted by their words for a deterministic file. Words of `vocabulary` that were
 * never counted are left out.
 */
export function writeArpa(counter: NgramCounter, vocabulary: Vocabulary, sink: (chunk: string) => void): ArpaSummary {
  const words = vocabulary.words;
  // Sorted positions, so output order does not depend on the order words were first seen.
  const byWord = words.map((_, id) => id).sort((a, b) => (words[a]! < words[b]! ? -1 : words[a]! > words[b]! ? 1 : 0));
  const rank = new Int32Array(words.length);
  byWord.forEach((id, i) => (rank[id] = i));
  const sortIds = (ids: Iterable<number>): number[] => [...ids].sort((a, b) => rank[a]! - rank[b]!);

  // Unigrams: maximum likelihood over everything but <s>.
  const unigramIds = byWord.filter((id) => id === Vocabulary.START || (counter.unigrams[id] ?? 0) > 0);
  let total = 0;
  for (const id of unigramIds) if (id !== Vocabulary.START) total += counter.unigrams[id] ?? 0;
  const pUni = (w: number): number => (counter.unigrams[w] ?? 0) / total;

  // Bigram histories: count and distinct followers.
  const biTotals = new Map<number, { count: number; types: number }>();
  for (const [u, row] of counter.bigrams) biTotals.set(u, { count: sum(row), types: row.size });
  const pBi = (u: number, w: number): number => {
    const t = biTotals.get(u);
    const c = counter.bigrams.get(u)?.get(w) ?? 0;
    if (t === undefined) return pUni(w);
    return (c + t.types * pUni(w)) / (t.count + t.types);
  };
  const bowOf = (t: { count: number; types: number } | undefined): number | undefined => (t === undefined ? undefined : t.types / (t.count + t.types));

  const triTotals = new Map<number, { count: number; types: number }>();
  for (const [key, row] of counter.trigrams) triTotals.set(key, { count: sum(row), types: row.size });

  const biHistories = sortIds(counter.bigrams.keys());
  let biCount = 0;
  for (const u of biHistories) biCount += counter.bigrams.get(u)?.size ?? 0;
  const triHistories = [...counter.trigrams.keys()].sort((a, b) => {
    const ua = Math.floor(a / MAX_VOCABULARY);
    const ub = Math.floor(b / MAX_VOCABULARY);
    return rank[ua]! - rank[ub]! || rank[a - ua * MAX_VOCABULARY]! - rank[b - ub * MAX_VOCABULARY]!;
  });
  let triCount = 0;
  for (const key of triHistories) triCount += counter.trigrams.get(key)?.size ?? 0;

  const counts = [unigramIds.length, ...(counter.order >= 2 ? [biCount] : []), ...(counter.order >= 3 ? [triCount] : [])];

  let buffer: string[] = [];
  let buffered = 0;
  const line = (s: string): void => {
    buffer.push(s);
    buffered += s.length + 1;
    if (buffered >= 65_536) flush();
  };
  const flush = (): void => {
    if (buffer.length === 0) return;
    sink(`${buffer.join('\n')}\n`);
    buffer = [];
    buffered = 0;
  };

  line('\\data\\');
  counts.forEach((n, i) => line(`ngram ${i + 1}=${n}`));
  line('');
  line('\\1-grams:');
  for (const w of unigramIds) {
    const prob = w === Vocabulary.START ? '-99' : log10(pUni(w));
    const bow = counter.order >= 2 ? bowOf(biTotals.get(w)) : undefined;
    line(bow === undefined ? `${prob} ${words[w]}` : `${prob} ${words[w]} ${log10(bow)}`);
  }
  if (counter.order >= 2) {
    line('');
    line('\\2-grams:');
    for (const u of biHistories) {
      const row = counter.bigrams.get(u);
      if (row === undefined) continue;
      for (const w of sortIds(row.keys())) {
        const prob = log10(pBi(u, w));
        const bow = counter.order >= 3 ? bowOf(triTotals.get(pairKey(u, w))) : undefined;
        line(bow === undefined ? `${prob} ${words[u]} ${words[w]}` : `${prob} ${words[u]} ${words[w]} ${log10(bow)}`);
      }
    }
  }
  if (counter.order >= 3) {
    line('');
    line('\\3-grams:');
    for (const key of triHistories) {
      const row = counter.trigrams.get(key);
      const t = triTotals.get(key);
      if (row === undefined || t === undefined) continue;
      const u = Math.floor(key / MAX_VOCABULARY);
      const v = key - u * MAX_VOCABULARY;
      for (const w of sortIds(row.keys())) {
        const p = ((row.get(w) ?? 0) + t.types * pBi(v, w)) / (t.count + t.types);
        line(`${log10(p)} ${words[u]} ${words[v]} ${words[w]}`);
      }
    }
  }
  line('');
  line('\\end\\');
  flush();
  return { counts };
}

/** Convenience for small inputs and tests: the ARPA text of already-normalized sentences. */
export function arpaFromSentences(sentences: Iterable<readonly string[]>, order = 3): string {
  const vocabulary = new Vocabulary();
  const counter = new NgramCounter(order);
  for (const s of sentences) counter.addSentence(s.map((w) => vocabulary.id(w)));
  const chunks: string[] = [];
  writeArpa(counter, vocabulary, (c) => chunks.push(c));
  return chunks.join('');
}
