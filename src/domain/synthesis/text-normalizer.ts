/**
 * Text normalization for speech: what a neural TTS front end does before an engine speaks — numbers, money,
 * times, dates, ordinals, abbreviations and symbols become words — while remembering which literal source token
 * each spoken stretch came from, so WordBoundary events can quote the input (see plan.ts, SourceWord).
 *
 * English only ({@link isEnglish}); other languages pass through unchanged apart from collapsed whitespace, with
 * word spans cut at whitespace and punctuation. Spoken forms avoid hyphens and letters-as-symbols ("twenty five",
 * "ay em") because the local engines read plain words most reliably.
 *
 * The rules and examples are in docs/ssml.md; test/unit/text-normalizer.test.ts has a case for each.
 */
import type { SourceWord } from './plan.js';

/** Spoken text and the map from spoken spans back to the input (offsets into the input string). */
export interface NormalizedText {
  text: string;
  words: SourceWord[];
}

/** Whether normalization rules apply: the language tag is English ("en", "en-US", "en-GB", …). */
export function isEnglish(lang: string): boolean {
  return /^en(?:[-_]|$)/i.test(lang);
}

/**
 * Normalizes `text` for speech. Whitespace runs become one space (kept at the ends, so pieces can be joined);
 * each token becomes its spoken form and one {@link SourceWord} whose `sourceText` is the literal token.
 */
export function normalizeForSpeech(text: string, lang = 'en-US'): NormalizedText {
  const english = isEnglish(lang);
  const tokens = english ? tokenizeEnglish(text) : tokenizePlain(text);
  const spoken = english ? tokens.map((t, i) => expandToken(text, tokens, i)) : tokens.map((t) => text.slice(t.start, t.end));
  return assemble(text, tokens, spoken);
}

// ---------------------------------------------------------------------------------------------------------------
// Tokens

type TokenKind = 'word' | 'punctuation' | 'symbol';

interface Token {
  start: number;
  end: number;
  kind: TokenKind;
}

/**
 * Joins tokens' spoken forms with the input's whitespace (collapsed) and records the word map. Builds from parts
 * with a running length: testing the end of a growing concatenated string would flatten it every time.
 */
function assemble(text: string, tokens: readonly Token[], spoken: readonly string[]): NormalizedText {
  const parts: string[] = [];
  let length = 0;
  let last = '';
  const add = (s: string): void => {
    parts.push(s);
    length += s.length;
    last = s.charAt(s.length - 1);
  };
  const words: SourceWord[] = [];
  let pos = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const s = spoken[i];
    if (t === undefined || s === undefined) continue;
    if (t.start > pos) {
      if (last !== ' ') add(' ');
    } else if (length > 0 && /[\p{L}\p{N}]/u.test(last) && /^[\p{L}\p{N}]/u.test(s) && (t.kind === 'symbol' || tokens[i - 1]?.kind === 'symbol')) {
      // "AT&" → "AT and": a symbol's name needs a space where the source had none.
      add(' ');
    }
    pos = t.end;
    if (s === '') continue;
    words.push({
      spokenOffset: length,
      spokenLength: s.length,
      sourceText: text.slice(t.start, t.end),
      sourceOffset: t.start,
      kind: t.kind === 'punctuation' ? 'punctuation' : 'word',
    });
    add(s);
  }
  if (pos < text.length && last !== ' ') add(' ');
  return { text: parts.join(''), words };
}

const SPACE = /\s/u;
const TERMINAL_RUN = /[.!?…]+/y;
const CURRENCY_SYMBOLS = '$£€¥';
/**
 * A word-like token: letters/digits joined by inner punctuation that belongs to the token ("AT&T", "e.g",
 * "3.14", "1,000", "3:30", "12/25/2020", "me@example.com", "don't"), optionally a leading currency symbol
 * before a digit and a trailing percent after one. Commas and colons join digits only.
 */
const WORD_TOKEN = /(?:[$£€¥](?=\d))?[\p{L}\p{M}\p{N}]+(?:(?:[-'’&@_/+.]|(?<=\d)[,:](?=\d))[\p{L}\p{M}\p{N}]+)*(?:(?<=\d)%)?/uy;
const PICTOGRAPHIC = /\p{Extended_Pictographic}/u;

function tokenizeEnglish(text: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const ch = text.charAt(i);
    if (SPACE.test(ch)) {
      i++;
      continue;
    }
    // A minus sign starts a number only at the start of a token ("-5", "(-3.5%)"), never inside one ("COVID-19").
    const prev = i > 0 ? text.charAt(i - 1) : ' ';
    const signed = (ch === '-' || ch === '−') && (SPACE.test(prev) || '([{'.includes(prev)) && /^[$£€¥]?\d/u.test(text.slice(i + 1, i + 3));
    const from = signed ? i + 1 : i;
    WORD_TOKEN.lastIndex = from;
    const m = WORD_TOKEN.exec(text);
    if (m !== null) {
      let end = from + m[0].length;
      // "Mr." "e.g." "U.S." "a.m." keep their final period; any other word leaves it as punctuation.
      if (text.charAt(end) === '.' && isDottedAbbreviation(text.slice(i, end + 1))) end++;
      tokens.push({ start: i, end, kind: 'word' });
      i = end;
      continue;
    }
    TERMINAL_RUN.lastIndex = i;
    const run = TERMINAL_RUN.exec(text);
    if (run !== null) {
      tokens.push({ start: i, end: i + run[0].length, kind: 'punctuation' });
      i += run[0].length;
      continue;
    }
    const cp = text.codePointAt(i) ?? 0;
    const len = cp > 0xffff ? 2 : 1;
    const c = text.slice(i, i + len);
    const kind: TokenKind = SYMBOL_WORDS.has(c) || CURRENCY_SYMBOLS.includes(c) || PICTOGRAPHIC.test(c) ? 'symbol' : 'punctuation';
    tokens.push({ start: i, end: i + len, kind });
    i += len;
  }
  return tokens;
}

/** Whitespace-separated tokens with leading/trailing punctuation split off (non-English text). */
function tokenizePlain(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\S+/gu;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    let a = m.index;
    let b = a + m[0].length;
    const lead: Token[] = [];
    const trail: Token[] = [];
    while (a < b && /\p{P}/u.test(text.charAt(a))) {
      lead.push({ start: a, end: a + 1, kind: 'punctuation' });
      a++;
    }
    while (b > a && /\p{P}/u.test(text.charAt(b - 1))) {
      trail.unshift({ start: b - 1, end: b, kind: 'punctuation' });
      b--;
    }
    tokens.push(...lead);
    if (b > a) tokens.push({ start: a, end: b, kind: 'word' });
    tokens.push(...trail);
  }
  return tokens;
}

// ---------------------------------------------------------------------------------------------------------------
// Expansion of one token

/** Standalone symbols and their spoken names. */
const SYMBOL_WORDS: ReadonlyMap<string, string> = new Map([
  ['&', 'and'], ['@', 'at'], ['+', 'plus'], ['=', 'equals'], ['%', 'percent'], ['#', 'number'], ['<', 'less than'],
  ['>', 'greater than'], ['×', 'times'], ['÷', 'divided by'], ['°', 'degrees'], ['/', 'slash'], ['©', 'copyright'],
  ['®', 'registered'], ['™', 'trademark'], ['$', 'dollars'], ['€', 'euros'], ['£', 'pounds'], ['¥', 'yen'],
]);

/** Abbreviations written with their period, spoken form. Matched case-sensitively, then lower-cased. */
const DOTTED_ABBREVIATIONS: ReadonlyMap<string, string> = new Map([
  ['Mr.', 'mister'], ['Mrs.', 'missus'], ['Ms.', 'miz'], ['Dr.', 'doctor'], ['Prof.', 'professor'], ['Jr.', 'junior'],
  ['Sr.', 'senior'], ['St.', 'street'], ['Mt.', 'mount'], ['Ave.', 'avenue'], ['Rd.', 'road'], ['Blvd.', 'boulevard'],
  ['vs.', 'versus'], ['etc.', 'et cetera'], ['e.g.', 'for example'], ['i.e.', 'that is'], ['approx.', 'approximately'],
  ['Inc.', 'incorporated'], ['Ltd.', 'limited'], ['Corp.', 'corporation'], ['Co.', 'company'], ['Dept.', 'department'],
  ['Gov.', 'governor'], ['Sen.', 'senator'], ['Rep.', 'representative'], ['Gen.', 'general'], ['Capt.', 'captain'],
  ['Lt.', 'lieutenant'], ['Col.', 'colonel'], ['Sgt.', 'sergeant'], ['Rev.', 'reverend'], ['No.', 'number'],
  ['Fig.', 'figure'], ['a.m.', 'ay em'], ['p.m.', 'pee em'], ['A.M.', 'ay em'], ['P.M.', 'pee em'], ['Jan.', 'January'],
  ['Feb.', 'February'], ['Mar.', 'March'], ['Apr.', 'April'], ['Jun.', 'June'], ['Jul.', 'July'], ['Aug.', 'August'],
  ['Sep.', 'September'], ['Sept.', 'September'], ['Oct.', 'October'], ['Nov.', 'November'], ['Dec.', 'December'],
]);

/** The same titles written without a period (British style); exact case only, so "st" or "dr" stay words. */
const BARE_ABBREVIATIONS: ReadonlyMap<string, string> = new Map([
  ['Mr', 'mister'], ['Mrs', 'missus'], ['Ms', 'miz'], ['Dr', 'doctor'], ['St', 'street'], ['Jr', 'junior'], ['Sr', 'senior'], ['vs', 'versus'],
]);

/** Units written right after a number ("5km"), singular and plural. */
const UNITS: ReadonlyMap<string, readonly [string, string]> = new Map([
  ['km', ['kilometer', 'kilometers']], ['m', ['meter', 'meters']], ['cm', ['centimeter', 'centimeters']],
  ['mm', ['millimeter', 'millimeters']], ['kg', ['kilogram', 'kilograms']], ['g', ['gram', 'grams']],
  ['mg', ['milligram', 'milligrams']], ['lb', ['pound', 'pounds']], ['lbs', ['pound', 'pounds']], ['oz', ['ounce', 'ounces']],
  ['mph', ['mile per hour', 'miles per hour']], ['kph', ['kilometer per hour', 'kilometers per hour']],
  ['ms', ['millisecond', 'milliseconds']],
  ['KB', ['kilobyte', 'kilobytes']], ['MB', ['megabyte', 'megabytes']], ['GB', ['gigabyte', 'gigabytes']],
  ['TB', ['terabyte', 'terabytes']], ['Hz', ['hertz', 'hertz']], ['kHz', ['kilohertz', 'kilohertz']],
  ['MHz', ['megahertz', 'megahertz']], ['GHz', ['gigahertz', 'gigahertz']],
]);

function isDottedAbbreviation(candidate: string): boolean {
  return DOTTED_ABBREVIATIONS.has(candidate) || /^(?:\p{L}\.){2,}$/u.test(candidate);
}

const NUM = String.raw`(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?`;
const RE_NUMBER = new RegExp(`^${NUM}$`);
const RE_SIGNED = new RegExp(`^[-−]${NUM}$`);
const RE_PERCENT = new RegExp(`^([-−]?)${NUM}%$`);
const RE_CURRENCY = new RegExp(`^([-−]?)([$£€¥])${NUM}$`);
const RE_CURRENCY_MAGNITUDE = new RegExp(`^([-−]?)([$£€¥])${NUM}(K|k|M|m|B|bn|T)$`);
const MAGNITUDES: Readonly<Record<string, string>> = { K: 'thousand', k: 'thousand', M: 'million', m: 'million', B: 'billion', bn: 'billion', T: 'trillion' };
const RE_ORDINAL = /^(\d{1,3}(?:,\d{3})+|\d+)(st|nd|rd|th)$/i;
const RE_TIME = /^(\d{1,2}):(\d{2})(?::(\d{2}))?(am|pm)?$/i;
const RE_HOUR_AMPM = /^(\d{1,2})(am|pm)$/i;
const RE_AMPM = /^(?:am|pm|AM|PM|a\.m\.|p\.m\.|A\.M\.|P\.M\.)$/;
const RE_SLASH_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4}|\d{2})$/;
const RE_ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const RE_FRACTION = /^(\d+)\/(\d+)$/;
const RE_UNIT = /^(\d+(?:\.\d+)?)([a-zA-Z]+)$/;
const RE_DECADE = /^(\d{4}|\d{2})['’]?s$/;

/** Spoken form of token `i` (context: its neighbours, for am/pm, "St." and "No."). */
function expandToken(text: string, tokens: readonly Token[], i: number): string {
  const t = tokens[i];
  if (t === undefined) return '';
  const core = text.slice(t.start, t.end);
  if (t.kind === 'punctuation') return core;
  if (t.kind === 'symbol') return SYMBOL_WORDS.get(core) ?? core;
  const prev = tokens[i - 1];
  const next = tokens[i + 1];
  const prevText = prev === undefined ? '' : text.slice(prev.start, prev.end);
  const nextText = next === undefined ? '' : text.slice(next.start, next.end);
  const nextAdjacentWord = next !== undefined && next.kind === 'word' ? nextText : '';

  // The period that ends a sentence can be inside an abbreviation token ("… etc."); keep it as the final stop.
  const stop = core.endsWith('.') && i === tokens.length - 1 ? '.' : '';
  if (RE_AMPM.test(core) && /^\d/.test(prevText)) return (/^[pP]/.test(core) ? 'pee em' : 'ay em') + stop;
  const abbreviation = DOTTED_ABBREVIATIONS.get(core) ?? BARE_ABBREVIATIONS.get(core);
  if (abbreviation !== undefined) {
    let spoken = abbreviation;
    if (core === 'St.' || core === 'St') spoken = /^\p{Lu}/u.test(nextAdjacentWord) ? 'saint' : 'street';
    if (core === 'No.' && !/^\d/.test(nextText)) spoken = 'no';
    return spoken + stop;
  }
  if (/^(?:\p{L}\.){2,}$/u.test(core)) return spellLetters(core.replace(/\./g, '')) + stop;
  // Plain words, the common case: spoken as written (engines read hyphenated words themselves).
  if (/^[\p{L}\p{M}'’]+(?:-[\p{L}\p{M}'’]+)*$/u.test(core)) return core;
  return expandNumeric(core, nextText) ?? expandGeneric(core);
}

/** Numbers, money, percentages, ordinals, times, dates; undefined when `core` is none of these. */
function expandNumeric(core: string, nextText: string): string | undefined {
  let m = RE_NUMBER.exec(core);
  if (m !== null) {
    const int = m[1] ?? '';
    const frac = m[2];
    if (frac === undefined && /^\d{4}$/.test(int)) {
      const y = Number(int);
      if (y >= 1100 && y <= 2099) return yearWords(y);
    }
    return numberWords(int, frac);
  }
  if ((m = RE_SIGNED.exec(core)) !== null) return `minus ${numberWords(m[1] ?? '', m[2])}`;
  if ((m = RE_PERCENT.exec(core)) !== null) return `${m[1] === '' ? '' : 'minus '}${numberWords(m[2] ?? '', m[3])} percent`;
  if ((m = RE_CURRENCY.exec(core)) !== null) {
    return `${m[1] === '' ? '' : 'minus '}${currencyWords(m[2] ?? '$', (m[3] ?? '').replace(/,/g, ''), m[4])}`;
  }
  if ((m = RE_CURRENCY_MAGNITUDE.exec(core)) !== null) {
    // "$5M" → "five million dollars": the magnitude comes before the currency name.
    const unit = CURRENCIES.get(m[2] ?? '$')?.many ?? 'dollars';
    return `${m[1] === '' ? '' : 'minus '}${numberWords(m[3] ?? '', m[4])} ${MAGNITUDES[m[5] ?? ''] ?? ''} ${unit}`;
  }
  if ((m = RE_DECADE.exec(core)) !== null && (m[1] ?? '').endsWith('0')) {
    // "1990s" → "nineteen nineties", "80s" → "eighties" (before units, so "90s" is never "ninety seconds").
    const n = m[1] ?? '';
    const words = n.length === 4 ? yearWords(Number(n)) : cardinalWords(n);
    return words.endsWith('y') ? `${words.slice(0, -1)}ies` : `${words}s`;
  }
  if ((m = RE_ORDINAL.exec(core)) !== null) return ordinalWords((m[1] ?? '').replace(/,/g, ''));
  if ((m = RE_TIME.exec(core)) !== null) {
    const spoken = timeWords(Number(m[1]), Number(m[2]), m[3] === undefined ? undefined : Number(m[3]), m[4], RE_AMPM.test(nextText));
    if (spoken !== undefined) return spoken;
  }
  if ((m = RE_HOUR_AMPM.exec(core)) !== null) {
    const spoken = timeWords(Number(m[1]), 0, undefined, m[2], false);
    if (spoken !== undefined) return spoken;
  }
  if ((m = RE_SLASH_DATE.exec(core)) !== null) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    // US order unless the first part cannot be a month.
    const [month, day] = a > 12 && b <= 12 ? [b, a] : [a, b];
    const spoken = dateWords({ y: m[3], m: month, d: day }, 'en-US');
    if (spoken !== undefined) return spoken;
  }
  if ((m = RE_ISO_DATE.exec(core)) !== null) {
    const spoken = dateWords({ y: m[1], m: Number(m[2]), d: Number(m[3]) }, 'en-US');
    if (spoken !== undefined) return spoken;
  }
  if ((m = RE_FRACTION.exec(core)) !== null) {
    const spoken = fractionWords(m[1] ?? '', m[2] ?? '');
    if (spoken !== undefined) return spoken;
  }
  if ((m = RE_UNIT.exec(core)) !== null) {
    const unit = UNITS.get(m[2] ?? '');
    if (unit !== undefined) {
      const [int = '', frac] = (m[1] ?? '').split('.');
      return `${numberWords(int, frac)} ${int === '1' && frac === undefined ? unit[0] : unit[1]}`;
    }
  }
  return undefined;
}

/** Letters, digits and inner symbols of a token that matched no pattern ("mp3", "AT&T", "me@x.com", "555-1234"). */
function expandGeneric(core: string): string {
  if (/^\d+(?:-\d+)+$/.test(core)) return core.split('-').map(digitWords).join(' '); // phone-like digit groups
  if (/^\d+(?:\.\d+){2,}$/.test(core)) return core.split('.').map(digitWords).join(' dot '); // versions, addresses
  const parts = core.match(/\p{L}[\p{L}\p{M}'’]*|\d+|[^\p{L}\d]/gu) ?? [core];
  const hasLetters = /\p{L}/u.test(core);
  const out: string[] = [];
  for (let k = 0; k < parts.length; k++) {
    const p = parts[k] ?? '';
    if (/^\d/.test(p)) {
      out.push(p.length > 1 && p.startsWith('0') ? digitWords(p) : cardinalWords(p));
    } else if (/^\p{L}/u.test(p)) {
      // A hyphen between two letter runs stays: engines read hyphenated words ("well-known") themselves.
      const last = out[out.length - 1];
      if (last !== undefined && last.endsWith('-')) out[out.length - 1] = last + p;
      else out.push(p);
    } else {
      const before = parts[k - 1] ?? '';
      const after = parts[k + 1] ?? '';
      const joined = JOINER_WORDS.get(p) ?? SYMBOL_WORDS.get(p);
      if (p === '-' && /^\p{L}/u.test(before) && /^\p{L}/u.test(after)) {
        out[out.length - 1] = `${out[out.length - 1] ?? ''}-`;
      } else if (p === '.' && /^\d/.test(before) && /^\d/.test(after) && !hasLetters) {
        out.push('point');
      } else if (p === '/' && /^\d/.test(before) && /^\d/.test(after)) {
        // "24/7": said as two numbers; "and/or" keeps its "slash".
      } else if (joined !== undefined) {
        if (joined !== '') out.push(joined);
      } else {
        out.push(p);
      }
    }
  }
  return out.join(' ').replace(/\s+/g, ' ').trim();
}

/** What inner symbols of a token say ('' = only a word break). */
const JOINER_WORDS: ReadonlyMap<string, string> = new Map([
  ['-', ''], ["'", "'"], ['’', '’'], ['&', 'and'], ['@', 'at'], ['.', 'dot'], ['_', 'underscore'], ['/', 'slash'],
  ['+', 'plus'], [',', ''], [':', ''], ['%', 'percent'],
]);

// ---------------------------------------------------------------------------------------------------------------
// Numbers → words

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
const SCALES = ['', 'thousand', 'million', 'billion', 'trillion'];
/** Longest integer read as a number; longer digit strings are read digit by digit (account numbers, ids). */
const MAX_CARDINAL_DIGITS = 15;

/** "0".."999" → words. */
function under1000(n: number): string {
  const words: string[] = [];
  const h = Math.floor(n / 100);
  const r = n % 100;
  if (h > 0) words.push(ONES[h] ?? '', 'hundred');
  if (r >= 20) {
    words.push(TENS[Math.floor(r / 10)] ?? '');
    if (r % 10 > 0) words.push(ONES[r % 10] ?? '');
  } else if (r > 0 || h === 0) {
    words.push(ONES[r] ?? '');
  }
  return words.join(' ');
}

/** Cardinal words of a non-negative integer written in ASCII digits ("1000" → "one thousand"). */
export function cardinalWords(digits: string): string {
  const clean = digits.replace(/^0+(?=\d)/, '');
  if (!/^\d+$/.test(clean)) return digits;
  if (clean.length > MAX_CARDINAL_DIGITS) return digitWords(clean);
  if (clean === '0') return 'zero';
  const groups: number[] = [];
  for (let end = clean.length; end > 0; end -= 3) groups.unshift(Number(clean.slice(Math.max(0, end - 3), end)));
  const words: string[] = [];
  groups.forEach((g, k) => {
    if (g === 0) return;
    const scale = SCALES[groups.length - 1 - k] ?? '';
    words.push(scale === '' ? under1000(g) : `${under1000(g)} ${scale}`);
  });
  return words.join(' ');
}

/** Each digit as a word ("007" → "zero zero seven"). */
export function digitWords(digits: string): string {
  return [...digits].map((d) => ONES[Number(d)] ?? d).join(' ');
}

/** A number with optional thousands separators and decimals: "1,000" → "one thousand", ("3", "14") → "three point one four". */
export function numberWords(int: string, frac?: string): string {
  const plain = int.replace(/,/g, '');
  const whole = plain.length > 1 && plain.startsWith('0') && frac === undefined ? digitWords(plain) : cardinalWords(plain);
  return frac === undefined || frac === '' ? whole : `${whole} point ${digitWords(frac)}`;
}

const ORDINAL_IRREGULAR: ReadonlyMap<string, string> = new Map([
  ['one', 'first'], ['two', 'second'], ['three', 'third'], ['five', 'fifth'], ['eight', 'eighth'], ['nine', 'ninth'], ['twelve', 'twelfth'],
]);

/** Ordinal words of an integer ("2" → "second", "21" → "twenty first", "100" → "one hundredth"). */
export function ordinalWords(digits: string): string {
  const cardinal = cardinalWords(digits);
  const cut = cardinal.lastIndexOf(' ');
  const head = cardinal.slice(0, cut + 1);
  const last = cardinal.slice(cut + 1);
  const irregular = ORDINAL_IRREGULAR.get(last);
  if (irregular !== undefined) return head + irregular;
  if (last.endsWith('y')) return `${head}${last.slice(0, -1)}ieth`;
  return `${head}${last}th`;
}

/** A year the way it is said: 1999 → "nineteen ninety nine", 2005 → "two thousand five", 1900 → "nineteen hundred". */
export function yearWords(year: number): string {
  if (!Number.isInteger(year) || year < 0 || year > 9999) return cardinalWords(String(year));
  if (year >= 2000 && year <= 2009) return cardinalWords(String(year));
  if (year < 1000 || year % 1000 === 0) return cardinalWords(String(year));
  const hi = Math.floor(year / 100);
  const lo = year % 100;
  if (lo === 0) return `${cardinalWords(String(hi))} hundred`;
  if (lo < 10) return `${cardinalWords(String(hi))} oh ${ONES[lo] ?? ''}`;
  return `${cardinalWords(String(hi))} ${cardinalWords(String(lo))}`;
}

/** Money: major units, and minor units when there are at most two decimals. */
function currencyWords(symbol: string, int: string, frac: string | undefined): string {
  const c = CURRENCIES.get(symbol) ?? { one: 'dollar', many: 'dollars', minorOne: 'cent', minorMany: 'cents' };
  const major = (n: string): string => `${cardinalWords(n)} ${n.replace(/^0+(?=\d)/, '') === '1' ? c.one : c.many}`;
  if (frac === undefined) return major(int);
  if (frac.length > 2 || c.minorOne === undefined) return `${numberWords(int, frac)} ${c.many}`;
  const minor = Number(frac.padEnd(2, '0'));
  const minorText = minor === 0 ? '' : `${cardinalWords(String(minor))} ${minor === 1 ? c.minorOne : (c.minorMany ?? '')}`;
  if (Number(int) === 0 && minorText !== '') return minorText;
  return minorText === '' ? major(int) : `${major(int)} ${minorText}`;
}

interface Currency {
  one: string;
  many: string;
  minorOne?: string;
  minorMany?: string;
}

const CURRENCIES: ReadonlyMap<string, Currency> = new Map([
  ['$', { one: 'dollar', many: 'dollars', minorOne: 'cent', minorMany: 'cents' }],
  ['€', { one: 'euro', many: 'euros', minorOne: 'cent', minorMany: 'cents' }],
  ['£', { one: 'pound', many: 'pounds', minorOne: 'penny', minorMany: 'pence' }],
  ['¥', { one: 'yen', many: 'yen' }],
  ['USD', { one: 'dollar', many: 'dollars', minorOne: 'cent', minorMany: 'cents' }],
  ['CAD', { one: 'Canadian dollar', many: 'Canadian dollars', minorOne: 'cent', minorMany: 'cents' }],
  ['AUD', { one: 'Australian dollar', many: 'Australian dollars', minorOne: 'cent', minorMany: 'cents' }],
  ['EUR', { one: 'euro', many: 'euros', minorOne: 'cent', minorMany: 'cents' }],
  ['GBP', { one: 'pound', many: 'pounds', minorOne: 'penny', minorMany: 'pence' }],
  ['JPY', { one: 'yen', many: 'yen' }],
  ['CNY', { one: 'yuan', many: 'yuan' }],
  ['INR', { one: 'rupee', many: 'rupees' }],
  ['CHF', { one: 'Swiss franc', many: 'Swiss francs', minorOne: 'centime', minorMany: 'centimes' }],
]);

/**
 * Clock time: "3:30" → "three thirty", "3:05" → "three oh five", "3:00" → "three o'clock", "15:00" → "fifteen
 * hundred", with "ay em"/"pee em" when `suffix` says so. Undefined for impossible times.
 */
function timeWords(h: number, m: number, s: number | undefined, suffix: string | undefined, suffixFollows: boolean): string | undefined {
  if (h > 24 || m > 59 || (s !== undefined && s > 59)) return undefined;
  if (suffix !== undefined && (h > 12 || h === 0)) return undefined;
  const hour = cardinalWords(String(h));
  let spoken: string;
  if (m === 0) {
    if (suffix !== undefined || suffixFollows) spoken = hour;
    else if (h > 12 || h === 0) spoken = `${hour} hundred`;
    else spoken = `${hour} o'clock`;
  } else {
    spoken = `${hour} ${m < 10 ? `oh ${ONES[m] ?? ''}` : cardinalWords(String(m))}`;
  }
  if (s !== undefined && s > 0) spoken += ` and ${cardinalWords(String(s))} ${s === 1 ? 'second' : 'seconds'}`;
  if (suffix !== undefined) spoken += /^p/i.test(suffix) ? ' pee em' : ' ay em';
  return spoken;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** A calendar date from whichever parts are present; undefined when a part is out of range. */
function dateWords(parts: { y?: string | undefined; m?: number | undefined; d?: number | undefined }, lang: string): string | undefined {
  const { y, m, d } = parts;
  if (m !== undefined && (!Number.isInteger(m) || m < 1 || m > 12)) return undefined;
  if (d !== undefined && (!Number.isInteger(d) || d < 1 || d > 31)) return undefined;
  if (y !== undefined && !/^\d{2}$|^\d{4}$/.test(y)) return undefined;
  const month = m === undefined ? undefined : MONTHS[m - 1];
  const day = d === undefined ? undefined : ordinalWords(String(d));
  const year = y === undefined ? undefined : y.length === 2 ? twoDigitYear(y) : yearWords(Number(y));
  const words: string[] = [];
  // American English says "December twenty fifth"; the other Englishes "the twenty fifth of December".
  if (month !== undefined && day !== undefined && !/^en-us$/i.test(lang) && lang.length > 2) words.push(`the ${day} of ${month}`);
  else if (month !== undefined && day !== undefined) words.push(`${month} ${day}`);
  else if (month !== undefined) words.push(month);
  else if (day !== undefined) words.push(`the ${day}`);
  if (year !== undefined) words.push(year);
  return words.length === 0 ? undefined : words.join(' ');
}

function twoDigitYear(y: string): string {
  const n = Number(y);
  return n < 10 ? `oh ${ONES[n] ?? ''}` : cardinalWords(y);
}

/** "3/4" → "three quarters", "1/2" → "one half"; undefined for what does not look like a fraction ("24/7"). */
function fractionWords(num: string, den: string): string | undefined {
  const n = Number(num);
  const d = Number(den);
  if (d < 2 || d > 100 || n >= d * 10) return undefined;
  if (n >= d && num.length > 1) return undefined;
  const plural = n !== 1;
  let denominator: string;
  if (d === 2) denominator = plural ? 'halves' : 'half';
  else if (d === 4) denominator = plural ? 'quarters' : 'quarter';
  else denominator = ordinalWords(den) + (plural ? 's' : '');
  return `${cardinalWords(num)} ${denominator}`;
}

const LETTER_NAMES: Readonly<Record<string, string>> = {
  a: 'ay', b: 'bee', c: 'see', d: 'dee', e: 'ee', f: 'ef', g: 'gee', h: 'aitch', i: 'eye', j: 'jay', k: 'kay', l: 'el', m: 'em',
  n: 'en', o: 'oh', p: 'pee', q: 'cue', r: 'ar', s: 'ess', t: 'tee', u: 'you', v: 'vee', w: 'double you', x: 'ex', y: 'why', z: 'zee',
};

/** Letters by name ("US" → "you ess"): engines read a lone capital letter inconsistently ("A" as the article). */
function spellLetters(letters: string): string {
  return [...letters].map((c) => LETTER_NAMES[c.toLowerCase()] ?? c).join(' ');
}

const SPELLED_SYMBOLS: ReadonlyMap<string, string> = new Map([
  ['&', 'ampersand'], ['-', 'dash'], ['.', 'dot'], ['@', 'at'], ['_', 'underscore'], ['/', 'slash'], ['+', 'plus'],
  ['#', 'hash'], ['*', 'star'], ['%', 'percent'], ['$', 'dollar sign'], [':', 'colon'], [',', 'comma'],
]);

// ---------------------------------------------------------------------------------------------------------------
// say-as

/** The attributes of an SSML `say-as` element. */
export interface SayAsOptions {
  interpretAs: string;
  format?: string | undefined;
  detail?: string | undefined;
}

/**
 * Spoken form of a say-as element's text content. English gets the full treatment; other languages get
 * spelled characters/digits (separated so their engine reads them one by one) and the text as is otherwise.
 * Content the type cannot read ("abc" as a date) is spoken as normalized text, not refused (as Azure does).
 */
export function expandSayAs(content: string, opts: SayAsOptions, lang: string): string {
  const text = content.trim().replace(/\s+/g, ' ');
  if (text === '') return '';
  const type = opts.interpretAs.trim().toLowerCase();
  const english = isEnglish(lang);
  const fallback = (): string => (english ? normalizeForSpeech(text, lang).text.trim() : text);
  if (!english) {
    if (type === 'characters' || type === 'spell-out' || type === 'letters' || type === 'verbatim') return [...text.replace(/\s/g, '')].join(' ');
    if (type === 'digits' || type === 'number_digit') return [...text.replace(/\D/g, '')].join(' ') || text;
    return text;
  }
  switch (type) {
    case 'cardinal':
    case 'number': {
      const m = /^([-−]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$/.exec(text);
      if (m !== null) return `${m[1] === '' ? '' : 'minus '}${numberWords(m[2] ?? '', m[3])}`;
      if (RE_ORDINAL.test(text)) return ordinalWords(text.replace(/\D/g, ''));
      return fallback();
    }
    case 'ordinal': {
      const m = /^(\d{1,3}(?:,\d{3})+|\d+)(?:st|nd|rd|th|\.)?$/i.exec(text);
      return m === null ? fallback() : ordinalWords((m[1] ?? '').replace(/,/g, ''));
    }
    case 'characters':
    case 'spell-out':
    case 'letters':
    case 'verbatim':
      return spellOut(text);
    case 'digits':
    case 'number_digit': {
      const digits = text.replace(/\D/g, '');
      return digits === '' ? fallback() : digitWords(digits);
    }
    case 'fraction': {
      const m = /^(?:(\d+)\s+)?(\d+)\/(\d+)$/.exec(text);
      const frac = m === null ? undefined : fractionWords(m[2] ?? '', m[3] ?? '') ?? `${cardinalWords(m[2] ?? '')} over ${cardinalWords(m[3] ?? '')}`;
      if (m === null || frac === undefined) return fallback();
      return m[1] === undefined ? frac : `${cardinalWords(m[1])} and ${frac}`;
    }
    case 'date':
      return sayAsDate(text, opts.format, lang) ?? fallback();
    case 'time':
      return sayAsTime(text, opts.format) ?? fallback();
    case 'telephone':
      return sayAsTelephone(text) ?? fallback();
    case 'currency':
      return sayAsCurrency(text) ?? fallback();
    case 'duration':
      return sayAsDuration(text, opts.format) ?? fallback();
    default:
      return fallback();
  }
}

/** Every character on its own: letters by name, digits as words, symbols by name. */
function spellOut(text: string): string {
  const out: string[] = [];
  for (const c of text) {
    if (/\s/u.test(c)) continue;
    if (/\d/.test(c)) out.push(ONES[Number(c)] ?? c);
    else if (/\p{L}/u.test(c)) out.push(LETTER_NAMES[c.toLowerCase()] ?? c);
    else out.push(SPELLED_SYMBOLS.get(c) ?? c);
  }
  return out.join(' ');
}

function monthNumber(part: string): number | undefined {
  if (/^\d{1,2}$/.test(part)) return Number(part);
  const p = part.toLowerCase().replace(/\.$/, '');
  if (p.length < 3) return undefined;
  const k = MONTHS.findIndex((name) => name.toLowerCase().startsWith(p) && (p.length >= 3 || p === name.toLowerCase()));
  return k < 0 ? undefined : k + 1;
}

/** say-as date with format letters y/m/d in any order (mdy, dmy, ymd, md, dm, ym, my, d, m, y); parts split by - / . , or spaces. */
function sayAsDate(text: string, format: string | undefined, lang: string): string | undefined {
  const parts = text.split(/[-/.,\s]+/).filter((p) => p !== '');
  let fmt = (format ?? '').toLowerCase();
  if (fmt === '') {
    if (parts.length === 3) fmt = /^\d{4}$/.test(parts[0] ?? '') ? 'ymd' : Number(parts[0]) > 12 ? 'dmy' : 'mdy';
    else if (parts.length === 2) fmt = /^\d{4}$/.test(parts[1] ?? '') ? 'my' : 'md';
    else if (parts.length === 1) fmt = /^\d{4}$/.test(parts[0] ?? '') ? 'y' : 'd';
  }
  if (!/^[ymd]{1,3}$/.test(fmt) || new Set(fmt).size !== fmt.length || fmt.length !== parts.length) return undefined;
  const value: { y?: string; m?: number; d?: number } = {};
  for (let k = 0; k < fmt.length; k++) {
    const p = (parts[k] ?? '').replace(/(?<=\d)(?:st|nd|rd|th)$/i, '');
    const f = fmt.charAt(k);
    if (f === 'y') value.y = p;
    else if (f === 'm') {
      const mo = monthNumber(p);
      if (mo === undefined) return undefined;
      value.m = mo;
    } else {
      if (!/^\d{1,2}$/.test(p)) return undefined;
      value.d = Number(p);
    }
  }
  return dateWords(value, lang);
}

/** say-as time, format hms12 (default when am/pm is written) or hms24. */
function sayAsTime(text: string, format: string | undefined): string | undefined {
  const m = /^(\d{1,2})(?:[:.](\d{2}))?(?:[:.](\d{2}))?\s*([ap])\.?\s*m\.?$|^(\d{1,2})(?:[:.](\d{2}))(?:[:.](\d{2}))?$/i.exec(text);
  if (m === null) return undefined;
  const h = Number(m[1] ?? m[5]);
  const min = Number(m[2] ?? m[6] ?? '0');
  const secText = m[3] ?? m[7];
  const sec = secText === undefined ? undefined : Number(secText);
  let suffix = m[4] === undefined ? undefined : `${m[4]}m`;
  let hour = h;
  if ((format ?? '').toLowerCase() === 'hms12' && suffix === undefined && (h >= 13 || h === 0) && h <= 24) {
    // A 24-hour time asked to be read on a 12-hour clock; "9:30" stays without am/pm (it could be either).
    suffix = h >= 12 && h < 24 ? 'pm' : 'am';
    hour = h % 12 === 0 ? 12 : h % 12;
  }
  return timeWords(hour, min, sec, suffix, false);
}

/** Telephone numbers digit by digit, groups separated by pauses: "(425) 555-0100" → "four two five, five five five, …". */
function sayAsTelephone(text: string): string | undefined {
  if (!/^\+?[\d\s().-]+$/.test(text) || !/\d/.test(text)) return undefined;
  const groups = text.match(/\d+/g) ?? [];
  const spoken = groups.map(digitWords).join(', ');
  return text.startsWith('+') ? `plus ${spoken}` : spoken;
}

/** Money written with a symbol ("$3.50") or an ISO code before or after the amount ("3.50 USD", "EUR 10"). */
function sayAsCurrency(text: string): string | undefined {
  const compact = text.replace(/\s+/g, ' ');
  let m = /^([-−]?)([$£€¥])\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$/.exec(compact);
  if (m !== null) return `${m[1] === '' ? '' : 'minus '}${currencyWords(m[2] ?? '$', (m[3] ?? '').replace(/,/g, ''), m[4])}`;
  m = /^([A-Z]{3}) ?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$|^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))? ?([A-Z]{3})$/.exec(compact);
  if (m === null) return undefined;
  const code = m[1] ?? m[6] ?? '';
  if (!CURRENCIES.has(code)) return undefined;
  return currencyWords(code, (m[2] ?? m[4] ?? '').replace(/,/g, ''), m[3] ?? m[5]);
}

/** say-as duration "1:30:05" (format hms, hm or ms; hms when three parts, ms when two). */
function sayAsDuration(text: string, format: string | undefined): string | undefined {
  const parts = text.split(':');
  if (parts.some((p) => !/^\d{1,3}$/.test(p))) return undefined;
  const fmt = (format ?? (parts.length === 3 ? 'hms' : parts.length === 2 ? 'ms' : 's')).toLowerCase();
  if (fmt.length !== parts.length || !/^[hms]+$/.test(fmt)) return undefined;
  const names: Readonly<Record<string, readonly [string, string]>> = { h: ['hour', 'hours'], m: ['minute', 'minutes'], s: ['second', 'seconds'] };
  const out: string[] = [];
  for (let k = 0; k < fmt.length; k++) {
    const n = Number(parts[k]);
    const name = names[fmt.charAt(k)];
    if (name === undefined) return undefined;
    if (n > 0) out.push(`${cardinalWords(String(n))} ${n === 1 ? name[0] : name[1]}`);
  }
  return out.length === 0 ? `zero ${names[fmt.charAt(fmt.length - 1)]?.[1] ?? 'seconds'}` : out.join(' ');
}
