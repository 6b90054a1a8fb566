/**
 * Builds Azure's four text forms of a recognition result from the recognizer's lexical words:
 *
 * - Lexical: the words as recognized, joined by single spaces.
 * - ITN: inverse-text-normalized lexical ("five pencils" → "5 pencils"), still lower-case and
 *   without sentence punctuation. Never profanity-filtered (Azure's ITN is not either).
 * - MaskedITN: ITN with every profane word masked, whatever the profanity option.
 * - Display: ITN with capitalization and a final "." or "?", profanity per the option.
 *
 * The rules, and where they deliberately differ from Azure, are in docs/display-form.md; each rule
 * has cases in test/unit/display-form.test.ts. The guiding principle is to stay conservative: Azure
 * uses a learned formatter, Parlance uses rules, and a rule that turns an ordinary word into a digit
 * ("one of us" → "1 of us") is a worse error than a number left spelled out.
 */
import { type ProfanityOption, isProfane, maskWord } from './profanity-words.js';
import { isQuestion } from './question-words.js';

export type { ProfanityOption } from './profanity-words.js';

/** Options for {@link buildDisplayForms}. */
export interface DisplayFormOptions {
  /** What the Display form does with profanity; MaskedITN is always masked, Lexical/ITN never. */
  profanity: ProfanityOption;
}

/** The four text forms of one recognition result (Azure's NBest Lexical/ITN/MaskedITN/Display). */
export interface DisplayForms {
  lexical: string;
  itn: string;
  maskedItn: string;
  display: string;
}

/**
 * Builds Lexical, ITN, MaskedITN and Display from the recognizer's lexical words. Empty input (or
 * only blank words) gives four empty strings. Words containing spaces are split.
 */
export function buildDisplayForms(lexicalWords: readonly string[], options: DisplayFormOptions): DisplayForms {
  const words = lexicalWords.flatMap((w) => w.trim().split(/\s+/u)).filter((w) => w !== '');
  if (words.length === 0) return { lexical: '', itn: '', maskedItn: '', display: '' };

  const lower = words.map((w) => w.toLowerCase());
  const segments = toSegments(lower);

  const itn = segments.map((s) => s.itn).join(' ');
  const maskedItn = segments.map((s) => (s.profane ? maskWord(s.itn) : s.itn)).join(' ');

  const shown = options.profanity === 'removed' ? segments.filter((s) => !s.profane) : segments;
  const parts = shown.map((s) => (s.profane && options.profanity === 'masked' ? maskWord(s.display) : s.display));
  let display = '';
  const first = parts[0];
  if (first !== undefined) {
    parts[0] = capitalizeFirst(first);
    const mark = isQuestion(lower, isProfane) ? '?' : '.';
    display = parts.join(' ');
    // A word the recognizer spelled with a final period ("etc.") already ends the sentence.
    if (!(mark === '.' && display.endsWith('.'))) display += mark;
  }
  return { lexical: words.join(' '), itn, maskedItn, display };
}

/**
 * The ITN form alone (lower-case, no sentence punctuation, profanity untouched) of lexical words;
 * the same text as `buildDisplayForms(words, …).itn`.
 */
export function inverseTextNormalize(lexicalWords: readonly string[]): string {
  const words = lexicalWords.flatMap((w) => w.trim().toLowerCase().split(/\s+/u)).filter((w) => w !== '');
  return toSegments(words)
    .map((s) => s.itn)
    .join(' ');
}

// ---------------------------------------------------------------------------------------------
// Segments: the ITN output, one entry per plain word or per formatted expression.

interface Segment {
  /** ITN text: lower-case. */
  itn: string;
  /** Display text before sentence-level capitalization (months, "I", "PM" already cased). */
  display: string;
  /** A number-derived expression (digits, money, time, date), for rules that look at neighbours. */
  numeric: boolean;
  /** A clock time, so "from nine thirty to ten thirty" reads the second half as a time too. */
  time: boolean;
  profane: boolean;
}

interface Match {
  segments: Segment[];
  end: number;
}

function toSegments(words: readonly string[]): Segment[] {
  const segments: Segment[] = [];
  let i = 0;
  while (i < words.length) {
    const m =
      matchDate(words, i) ?? matchTime(words, i, segments) ?? matchNegative(words, i, segments) ?? matchNumber(words, i, segments);
    if (m !== undefined && m.end > i) {
      segments.push(...m.segments);
      i = m.end;
    } else {
      segments.push(wordSegment(words[i] ?? ''));
      i += 1;
    }
  }
  return segments;
}

function wordSegment(word: string): Segment {
  return { itn: word, display: displayWord(word), numeric: false, time: false, profane: isProfane(word) };
}

function numericSegment(itn: string, display: string = itn, time = false): Segment {
  return { itn, display, numeric: true, time, profane: false };
}

function plainWords(words: readonly string[], start: number, end: number): Match {
  const segments: Segment[] = [];
  for (let k = start; k < end; k++) segments.push(wordSegment(words[k] ?? ''));
  return { segments, end };
}

// ---------------------------------------------------------------------------------------------
// Vocabulary.

const UNITS: ReadonlyMap<string, number> = new Map([
  ['one', 1], ['two', 2], ['three', 3], ['four', 4], ['five', 5], ['six', 6], ['seven', 7], ['eight', 8], ['nine', 9],
]);
const TEENS: ReadonlyMap<string, number> = new Map([
  ['ten', 10], ['eleven', 11], ['twelve', 12], ['thirteen', 13], ['fourteen', 14], ['fifteen', 15],
  ['sixteen', 16], ['seventeen', 17], ['eighteen', 18], ['nineteen', 19],
]);
const TENS: ReadonlyMap<string, number> = new Map([
  ['twenty', 20], ['thirty', 30], ['forty', 40], ['fifty', 50], ['sixty', 60], ['seventy', 70], ['eighty', 80], ['ninety', 90],
]);
const ORDINAL_UNITS: ReadonlyMap<string, number> = new Map([
  ['first', 1], ['second', 2], ['third', 3], ['fourth', 4], ['fifth', 5], ['sixth', 6], ['seventh', 7], ['eighth', 8], ['ninth', 9],
]);
const ORDINAL_TEENS: ReadonlyMap<string, number> = new Map([
  ['tenth', 10], ['eleventh', 11], ['twelfth', 12], ['thirteenth', 13], ['fourteenth', 14], ['fifteenth', 15],
  ['sixteenth', 16], ['seventeenth', 17], ['eighteenth', 18], ['nineteenth', 19],
]);
const ORDINAL_TENS: ReadonlyMap<string, number> = new Map([
  ['twentieth', 20], ['thirtieth', 30], ['fortieth', 40], ['fiftieth', 50], ['sixtieth', 60], ['seventieth', 70],
  ['eightieth', 80], ['ninetieth', 90],
]);
const BIG_MAGNITUDES: ReadonlyMap<string, number> = new Map([
  ['thousand', 1e3], ['million', 1e6], ['billion', 1e9], ['trillion', 1e12],
]);
const BIG_ORDINAL_MAGNITUDES: ReadonlyMap<string, number> = new Map([
  ['thousandth', 1e3], ['millionth', 1e6], ['billionth', 1e9], ['trillionth', 1e12],
]);
/** Single digits as read out in phone numbers and after "point"; "oh" only ever inside a sequence. */
const DIGITS: ReadonlyMap<string, number> = new Map([['zero', 0], ['oh', 0], ...UNITS]);

// Fraction denominators: after a number they make a fraction ("two thirds"), which stays in words.
// "seconds" is missing on purpose: after a number it is the unit of time ("two seconds").
const FRACTION_WORDS: ReadonlySet<string> = new Set([
  'half', 'halves', 'quarter', 'quarters',
  ...[...ORDINAL_UNITS.keys(), ...ORDINAL_TEENS.keys(), ...ORDINAL_TENS.keys(), 'hundredth', ...BIG_ORDINAL_MAGNITUDES.keys()]
    .map((w) => `${w}s`)
    .filter((w) => w !== 'seconds' && w !== 'firsts'),
]);

/** Plural tens name decades: "the nineteen nineties" → "the 1990s"; alone ("the sixties") they stay words. */
const DECADES: ReadonlyMap<string, number> = new Map([...TENS].map(([w, v]) => [`${w.slice(0, -1)}ies`, v]));

/** Any word that can be part of a spoken number (not "a", "and", "oh" or "point", which also have other uses). */
function isNumberWord(word: string | undefined): boolean {
  if (word === undefined) return false;
  return (
    word === 'zero' || word === 'hundred' || word === 'hundredth' ||
    UNITS.has(word) || TEENS.has(word) || TENS.has(word) ||
    ORDINAL_UNITS.has(word) || ORDINAL_TEENS.has(word) || ORDINAL_TENS.has(word) ||
    BIG_MAGNITUDES.has(word) || BIG_ORDINAL_MAGNITUDES.has(word) || FRACTION_WORDS.has(word) || DECADES.has(word)
  );
}

const MONTHS: ReadonlyMap<string, string> = new Map([
  ['january', 'January'], ['february', 'February'], ['march', 'March'], ['april', 'April'], ['may', 'May'],
  ['june', 'June'], ['july', 'July'], ['august', 'August'], ['september', 'September'], ['october', 'October'],
  ['november', 'November'], ['december', 'December'],
]);
/** Months that are also everyday words ("may I", "march on", "an august body"): capitalized only in a date. */
const AMBIGUOUS_MONTHS: ReadonlySet<string> = new Set(['march', 'may', 'august']);
const DAYS: ReadonlySet<string> = new Set(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']);

/** Units after which even "one" and "zero" are clearly quantities ("one meter", "zero percent"). */
const MEASURE_UNITS: ReadonlySet<string> = new Set([
  'percent', 'per', 'dollar', 'dollars', 'cent', 'cents', 'euro', 'euros', 'degree', 'degrees',
  'meter', 'meters', 'metre', 'metres', 'kilometer', 'kilometers', 'kilometre', 'kilometres',
  'centimeter', 'centimeters', 'centimetre', 'centimetres', 'millimeter', 'millimeters', 'millimetre', 'millimetres',
  'mile', 'miles', 'foot', 'feet', 'inch', 'inches', 'yard', 'yards',
  'gram', 'grams', 'kilogram', 'kilograms', 'kilo', 'kilos', 'pound', 'pounds', 'ounce', 'ounces', 'ton', 'tons',
  'liter', 'liters', 'litre', 'litres', 'milliliter', 'milliliters', 'gallon', 'gallons',
  'byte', 'bytes', 'kilobyte', 'kilobytes', 'megabyte', 'megabytes', 'gigabyte', 'gigabytes', 'terabyte', 'terabytes',
  'volt', 'volts', 'watt', 'watts', 'kilowatt', 'kilowatts', 'hertz',
]);

/** Words after which "H MM" is a clock time even without "a m"/"p m": "at three thirty". */
const TIME_TRIGGERS: ReadonlySet<string> = new Set(['at', 'by', 'until', 'till', "'til", 'around', 'before', 'after', 'from', 'since']);
/** Joiners that make a second "H MM" a time when the first was: "from nine thirty to ten thirty". */
const RANGE_JOINERS: ReadonlySet<string> = new Set(['to', 'and', 'or', 'until', 'till', "'til", 'through']);

/** "two of us" keeps its word: a number before "of" + pronoun counts people, it is not a quantity to write as a digit. */
const OF_PRONOUNS: ReadonlySet<string> = new Set(['us', 'them', 'you', 'these', 'those']);
/** Set phrases whose number is part of the idiom. */
const IDIOMS: ReadonlySet<string> = new Set(['high five', 'cloud nine', 'forty winks']);

// ---------------------------------------------------------------------------------------------
// Number grammar.

interface NumberMatch {
  value: number;
  end: number;
  ordinal: boolean;
}

/** 1–99, cardinal or ordinal: "seven", "fifteen", "forty", "forty two", "forty second", "fortieth". */
function parseSub100(words: readonly string[], i: number): NumberMatch | undefined {
  const w = words[i];
  if (w === undefined) return undefined;
  const tens = TENS.get(w);
  if (tens !== undefined) {
    const next = words[i + 1] ?? '';
    const unit = UNITS.get(next);
    if (unit !== undefined) return { value: tens + unit, end: i + 2, ordinal: false };
    const ordinalUnit = ORDINAL_UNITS.get(next);
    if (ordinalUnit !== undefined) return { value: tens + ordinalUnit, end: i + 2, ordinal: true };
    return { value: tens, end: i + 1, ordinal: false };
  }
  const simple = UNITS.get(w) ?? TEENS.get(w);
  if (simple !== undefined) return { value: simple, end: i + 1, ordinal: false };
  const ordinal = ORDINAL_UNITS.get(w) ?? ORDINAL_TEENS.get(w) ?? ORDINAL_TENS.get(w);
  if (ordinal !== undefined) return { value: ordinal, end: i + 1, ordinal: true };
  return undefined;
}

/**
 * 1–999 ("three hundred and five"), also the colloquial "twenty five hundred" (2500). `allowA`
 * admits "a hundred" at the start of a number only.
 */
function parseGroup(words: readonly string[], i: number, allowA: boolean): NumberMatch | undefined {
  let multiplier: number;
  let j: number;
  if (allowA && words[i] === 'a' && words[i + 1] === 'hundred') {
    multiplier = 1;
    j = i + 1;
  } else {
    const head = parseSub100(words, i);
    if (head === undefined) return undefined;
    if (head.ordinal || (words[head.end] !== 'hundred' && words[head.end] !== 'hundredth')) return head;
    multiplier = head.value;
    j = head.end;
  }
  if (words[j] === 'hundredth') return { value: multiplier * 100, end: j + 1, ordinal: true };
  const hundreds = multiplier * 100;
  j += 1;
  const tailStart = words[j] === 'and' ? j + 1 : j;
  const tail = parseSub100(words, tailStart);
  // "one hundred and two hundred" is two numbers: a tail followed by "hundred" belongs to the next one.
  if (tail !== undefined && words[tail.end] !== 'hundred' && words[tail.end] !== 'hundredth') {
    return { value: hundreds + tail.value, end: tail.end, ordinal: tail.ordinal };
  }
  return { value: hundreds, end: j, ordinal: false };
}

/**
 * The longest well-formed cardinal or ordinal number at `i`: "zero", "twenty five",
 * "three thousand two hundred", "a million", "two thousand and five", "one hundred twenty third".
 * Magnitudes must decrease, so "two thousand three thousand" stops before "three".
 */
function parseCardinal(words: readonly string[], i: number): NumberMatch | undefined {
  if (words[i] === 'zero') return { value: 0, end: i + 1, ordinal: false };
  // A bare "hundredth"/"thousandth" ("the hundredth time"); bare "hundred" is not a number on its own.
  const bareOrdinal = words[i] === 'hundredth' ? 100 : BIG_ORDINAL_MAGNITUDES.get(words[i] ?? '');
  if (bareOrdinal !== undefined) return { value: bareOrdinal, end: i + 1, ordinal: true };
  let total = 0;
  let end = i;
  let ordinal = false;
  let lastMagnitude = Number.POSITIVE_INFINITY;
  let j = i;
  for (;;) {
    const first = j === i;
    const usesAnd = !first && words[j] === 'and';
    const k = usesAnd ? j + 1 : j;
    const group =
      first && words[k] === 'a' && BIG_MAGNITUDES.has(words[k + 1] ?? '')
        ? { value: 1, end: k + 1, ordinal: false }
        : parseGroup(words, k, first);
    if (group === undefined) break;
    const next = words[group.end] ?? '';
    const magnitude = BIG_MAGNITUDES.get(next) ?? BIG_ORDINAL_MAGNITUDES.get(next);
    if (!group.ordinal && magnitude !== undefined) {
      if (magnitude >= lastMagnitude || group.value >= 1000) break;
      total += group.value * magnitude;
      lastMagnitude = magnitude;
      end = group.end + 1;
      j = end;
      if (BIG_ORDINAL_MAGNITUDES.has(next)) {
        ordinal = true;
        break;
      }
      continue;
    }
    // "and" only joins a final part under a hundred: "two thousand and five", not "… and five hundred".
    if (usesAnd && group.value >= 100) break;
    if (!first && group.value >= lastMagnitude) break;
    total += group.value;
    end = group.end;
    ordinal = group.ordinal;
    break;
  }
  return end === i ? undefined : { value: total, end, ordinal };
}

/** Digit words read one by one: "five five five one two one two", "two oh one" (3+ digits). */
function parseDigitSequence(words: readonly string[], i: number): { digits: string; end: number } | undefined {
  if (words[i] === 'oh') return undefined;
  let j = i;
  let digits = '';
  for (;;) {
    const d = DIGITS.get(words[j] ?? '');
    if (d === undefined) break;
    digits += String(d);
    j += 1;
  }
  // A trailing "oh" is likelier the interjection than a digit, unless it completes a phone number
  // ("four two five eight eight two eight oh eight oh").
  while (j > i && words[j - 1] === 'oh' && !isPhoneLength(digits)) {
    j -= 1;
    digits = digits.slice(0, -1);
  }
  if (digits.length < 3) return undefined;
  // "one two hundred" or "three four point five" are not digit strings; leave them alone.
  if (isNumberWord(words[j]) || words[j] === 'point') return undefined;
  return { digits, end: j };
}

/**
 * A telephone number read in chunks, as people do: "one eight hundred four five six eight nine ten"
 * (1-800-456-8910). Chunks are single digits, "X hundred" (X00) and two-digit numbers ("ten",
 * "twenty five"). Only accepted when the digits add up to a phone-number length (7, 10, or 11 with a
 * leading 1) over at least four chunks with at least four single digits: a run of number words that
 * long and that shaped is a phone number, not a quantity.
 */
function parsePhoneNumber(words: readonly string[], i: number): { digits: string; end: number } | undefined {
  let j = i;
  let digits = '';
  let chunks = 0;
  let singles = 0;
  for (;;) {
    const w = words[j] ?? '';
    const digit = DIGITS.get(w);
    if (digit !== undefined && !(j === i && w === 'oh')) {
      if (UNITS.has(w) && words[j + 1] === 'hundred') {
        digits += `${digit}00`;
        j += 2;
      } else {
        digits += String(digit);
        singles += 1;
        j += 1;
      }
    } else {
      const pair = parseSub100(words, j);
      if (pair === undefined || pair.ordinal || pair.value < 10) break;
      digits += String(pair.value);
      j = pair.end;
    }
    chunks += 1;
  }
  if (!isPhoneLength(digits) || chunks < 4 || singles < 4 || isNumberWord(words[j]) || words[j] === 'point') return undefined;
  return { digits, end: j };
}

function isPhoneLength(digits: string): boolean {
  return digits.length === 7 || digits.length === 10 || (digits.length === 11 && digits.startsWith('1'));
}

/** US telephone layout for 7, 10 and 11 (leading 1) digits, as Azure writes "1-800-456-8910". */
function formatDigitSequence(digits: string): string {
  if (digits.length === 7) return `${digits.slice(0, 3)}-${digits.slice(3)}`;
  if (digits.length === 10) return `${digits.slice(0, 3)}-${digits.slice(3, 6)}-${digits.slice(6)}`;
  if (digits.length === 11 && digits.startsWith('1')) {
    return `1-${digits.slice(1, 4)}-${digits.slice(4, 7)}-${digits.slice(7)}`;
  }
  return digits;
}

/**
 * A year read in two halves: "nineteen ninety nine", "twenty twenty four", "nineteen oh five".
 * `minCentury` is 19 in free text (only 1900–2099 are common enough to guess) and 11 inside a date.
 */
function parseYear(words: readonly string[], i: number, minCentury: number): { value: number; end: number } | undefined {
  const w = words[i] ?? '';
  const century = w === 'twenty' ? 20 : TEENS.get(w);
  if (century === undefined || century < minCentury) return undefined;
  let rest: number;
  let end: number;
  if (words[i + 1] === 'oh') {
    const unit = UNITS.get(words[i + 2] ?? '');
    if (unit === undefined) return undefined;
    rest = unit;
    end = i + 3;
  } else {
    const tail = parseSub100(words, i + 1);
    if (tail === undefined || tail.ordinal || tail.value < 10) return undefined;
    rest = tail.value;
    end = tail.end;
  }
  if (isNumberWord(words[end]) || words[end] === 'point') return undefined;
  return { value: century * 100 + rest, end };
}

function ordinalSuffix(n: number): string {
  const lastTwo = n % 100;
  if (lastTwo >= 11 && lastTwo <= 13) return 'th';
  switch (n % 10) {
    case 1:
      return 'st';
    case 2:
      return 'nd';
    case 3:
      return 'rd';
    default:
      return 'th';
  }
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

// ---------------------------------------------------------------------------------------------
// Dates: "january fifth" → "January 5th", "january fifth twenty twenty four" → "January 5th, 2024",
// "the fifth of may" → "the 5th of May", "january twenty twenty four" → "January 2024".

function matchDate(words: readonly string[], i: number): Match | undefined {
  const w = words[i] ?? '';
  const monthName = MONTHS.get(w);
  if (monthName !== undefined) return matchMonthFirst(words, i, w, monthName);
  return matchDayOfMonth(words, i);
}

/** A year after a month (strictly two-halves for "may"/"march"/"august", which are also common words). */
function parseDateYear(
  words: readonly string[],
  i: number,
  minCentury: number,
  allowCardinal: boolean,
): { value: number; end: number } | undefined {
  const y = parseYear(words, i, minCentury);
  if (y !== undefined) return y;
  if (!allowCardinal) return undefined;
  // "two thousand five", "two thousand and twenty four".
  const c = parseCardinal(words, i);
  if (c === undefined || c.ordinal || c.value < 1000 || c.value > 2999 || isNumberWord(words[c.end])) return undefined;
  return { value: c.value, end: c.end };
}

function matchMonthFirst(words: readonly string[], i: number, month: string, monthName: string): Match | undefined {
  const ambiguous = AMBIGUOUS_MONTHS.has(month);
  const yearOnly = parseDateYear(words, i + 1, 19, !ambiguous);
  if (yearOnly !== undefined) {
    return { segments: [numericSegment(`${month} ${yearOnly.value}`, `${monthName} ${yearOnly.value}`)], end: yearOnly.end };
  }
  const day = parseSub100(words, i + 1);
  // "may five" is too likely the modal ("you may five…" is odd, but "may one day" is not): ambiguous
  // months need an ordinal day.
  if (day === undefined || day.value < 1 || day.value > 31 || (ambiguous && !day.ordinal)) return undefined;
  const dayText = day.ordinal ? `${day.value}${ordinalSuffix(day.value)}` : String(day.value);
  const year = parseDateYear(words, day.end, 11, true);
  if (year === undefined && (isNumberWord(words[day.end]) || words[day.end] === 'point')) return undefined;
  if (year === undefined) {
    return { segments: [numericSegment(`${month} ${dayText}`, `${monthName} ${dayText}`)], end: day.end };
  }
  return {
    segments: [numericSegment(`${month} ${dayText} ${year.value}`, `${monthName} ${dayText}, ${year.value}`)],
    end: year.end,
  };
}

function matchDayOfMonth(words: readonly string[], i: number): Match | undefined {
  const day = parseSub100(words, i);
  if (day === undefined || !day.ordinal || day.value > 31 || words[day.end] !== 'of') return undefined;
  const month = words[day.end + 1] ?? '';
  const monthName = MONTHS.get(month);
  if (monthName === undefined) return undefined;
  const dayText = `${day.value}${ordinalSuffix(day.value)}`;
  const year = parseDateYear(words, day.end + 2, 11, true);
  const yearText = year === undefined ? '' : ` ${year.value}`;
  return {
    segments: [numericSegment(`${dayText} of ${month}${yearText}`, `${dayText} of ${monthName}${yearText}`)],
    end: year?.end ?? day.end + 2,
  };
}

// ---------------------------------------------------------------------------------------------
// Times: "three o'clock" → "3:00", "six forty five p m" → "6:45 PM", "seven a m" → "7 AM",
// "at three thirty" → "at 3:30".

function parseMeridiem(words: readonly string[], j: number): { text: 'am' | 'pm'; end: number } | undefined {
  const w = words[j];
  const next = words[j + 1];
  const letterM = next === 'm' || next === 'm.';
  if ((w === 'a' || w === 'a.') && letterM) return { text: 'am', end: j + 2 };
  if ((w === 'p' || w === 'p.') && letterM) return { text: 'pm', end: j + 2 };
  if (w === 'a.m.' || (w === 'am' && next !== 'i')) return { text: 'am', end: j + 1 };
  if (w === 'p.m.' || w === 'pm') return { text: 'pm', end: j + 1 };
  return undefined;
}

function matchTime(words: readonly string[], i: number, before: readonly Segment[]): Match | undefined {
  const hour = parseSub100(words, i);
  if (hour === undefined || hour.ordinal || hour.value < 1 || hour.value > 12) return undefined;
  let j = hour.end;
  let minutes: string | undefined;
  let oclock = false;
  if (words[j] === "o'clock") {
    minutes = '00';
    oclock = true;
    j += 1;
  } else if (words[j] === 'o' && words[j + 1] === 'clock') {
    minutes = '00';
    oclock = true;
    j += 2;
  } else if (words[j] === 'oh' && UNITS.has(words[j + 1] ?? '')) {
    minutes = `0${UNITS.get(words[j + 1] ?? '') ?? 0}`;
    j += 2;
  } else {
    const m = parseSub100(words, j);
    if (m !== undefined && !m.ordinal && m.value >= 10 && m.value <= 59) {
      minutes = pad2(m.value);
      j = m.end;
    }
  }
  const meridiem = parseMeridiem(words, j);
  if (meridiem !== undefined) j = meridiem.end;
  if (!oclock && meridiem === undefined) {
    // Without "o'clock" or "a m"/"p m", "three thirty" is only a time after a time-ish preposition.
    if (minutes === undefined) return undefined;
    const prev = words[i - 1] ?? '';
    const afterTime = RANGE_JOINERS.has(prev) && before[before.length - 2]?.time === true;
    if (!TIME_TRIGGERS.has(prev) && !afterTime) return undefined;
    // "by two fifty dollars" is a price.
    const next = words[j];
    if (isNumberWord(next) || next === 'point' || MEASURE_UNITS.has(next ?? '')) return undefined;
  }
  const clock = minutes === undefined ? String(hour.value) : `${hour.value}:${minutes}`;
  const itn = meridiem === undefined ? clock : `${clock} ${meridiem.text}`;
  const display = meridiem === undefined ? clock : `${clock} ${meridiem.text.toUpperCase()}`;
  return { segments: [numericSegment(itn, display, true)], end: j };
}

// ---------------------------------------------------------------------------------------------
// Numbers, decimals, money and percentages.

interface Quantity {
  /** Digits as written: "25", "2.5", "2.5 million". */
  text: string;
  end: number;
  integer: boolean;
}

/** A decimal at `i` ("two point five", "six point oh one", "two point five million"). */
function parseDecimal(words: readonly string[], i: number, whole: NumberMatch): Quantity | undefined {
  if (whole.ordinal || words[whole.end] !== 'point') return undefined;
  // "at one point" is the idiom for "at some moment"; "at one point two" is too rare to risk it.
  if (whole.end === i + 1 && words[i] === 'one' && words[i - 1] === 'at') return undefined;
  let j = whole.end + 1;
  let fraction = '';
  for (;;) {
    const d = DIGITS.get(words[j] ?? '');
    if (d === undefined) break;
    fraction += String(d);
    j += 1;
  }
  if (fraction === '') return undefined;
  let text = `${whole.value}.${fraction}`;
  // "2.5 million" rather than 2500000: the usual written form, and expanding would imply precision.
  const magnitude = words[j];
  if (magnitude === 'million' || magnitude === 'billion' || magnitude === 'trillion') {
    text += ` ${magnitude}`;
    j += 1;
  }
  // "two point five hundred" or "one point two three four five six seven" chained into more number
  // words is not a decimal we can read with confidence.
  if (isNumberWord(words[j])) return undefined;
  return { text, end: j, integer: false };
}

/** Attaches a following unit: "%", "$" (with "and N cents"), "€". Other units stay words after the digits. */
function withUnit(words: readonly string[], q: Quantity, sign: string): Match {
  const unit = words[q.end];
  const number = sign + q.text;
  if (unit === 'percent') return { segments: [numericSegment(`${number}%`)], end: q.end + 1 };
  if (unit === 'per' && words[q.end + 1] === 'cent') return { segments: [numericSegment(`${number}%`)], end: q.end + 2 };
  if (unit === 'dollar' || unit === 'dollars') {
    if (q.integer && words[q.end + 1] === 'and') {
      const cents = parseSub100(words, q.end + 2);
      const centWord = cents === undefined ? undefined : words[cents.end];
      if (cents !== undefined && !cents.ordinal && (centWord === 'cents' || centWord === 'cent')) {
        return { segments: [numericSegment(`${sign}$${q.text}.${pad2(cents.value)}`)], end: cents.end + 1 };
      }
    }
    return { segments: [numericSegment(`${sign}$${q.text}`)], end: q.end + 1 };
  }
  if (unit === 'euro' || unit === 'euros') return { segments: [numericSegment(`${sign}€${q.text}`)], end: q.end + 1 };
  return { segments: [numericSegment(number)], end: q.end };
}

/** "negative five" → "-5", "minus two point five degrees" → "-2.5 degrees" ("five minus three" stays). */
function matchNegative(words: readonly string[], i: number, before: readonly Segment[]): Match | undefined {
  const w = words[i];
  if (w !== 'negative' && w !== 'minus') return undefined;
  if (w === 'minus' && before[before.length - 1]?.numeric === true) return undefined;
  const whole = parseCardinal(words, i + 1);
  if (whole === undefined || whole.ordinal) return undefined;
  const q = parseDecimal(words, i + 1, whole) ?? { text: String(whole.value), end: whole.end, integer: true };
  if (isNumberWord(words[q.end])) return undefined;
  return withUnit(words, q, '-');
}

function matchNumber(words: readonly string[], i: number, before: readonly Segment[]): Match | undefined {
  const year = parseYear(words, i, 19);
  if (year !== undefined) return { segments: [numericSegment(String(year.value))], end: year.end };
  const decade = DECADES.get(words[i + 1] ?? '');
  if (decade !== undefined && (words[i] === 'nineteen' || words[i] === 'twenty')) {
    return { segments: [numericSegment(`${words[i] === 'twenty' ? 20 : 19}${decade}s`)], end: i + 2 };
  }

  const sequence = parseDigitSequence(words, i) ?? parsePhoneNumber(words, i);
  if (sequence !== undefined) {
    return { segments: [numericSegment(formatDigitSequence(sequence.digits))], end: sequence.end };
  }

  const n = parseCardinal(words, i);
  if (n === undefined) return undefined;
  const decimal = parseDecimal(words, i, n);
  if (decimal !== undefined) return withUnit(words, decimal, '');

  const single = n.end === i + 1;
  const word = words[i] ?? '';
  const prev = words[i - 1];
  const next = words[n.end];

  // Numbers running into numbers the grammar cannot join ("twenty four seven", "two thirds",
  // "nine eleven", "one tenth") are ambiguous: keep the whole run in words.
  if (isNumberWord(next)) {
    let end = n.end;
    while (isNumberWord(words[end])) end += 1;
    return plainWords(words, i, end);
  }
  // "two and a half hours": a digit next to spelled-out "a half" reads badly; keep words.
  if (!n.ordinal && next === 'and' && words[n.end + 1] === 'a' && (words[n.end + 2] === 'half' || words[n.end + 2] === 'quarter')) {
    return plainWords(words, i, n.end);
  }

  if (n.ordinal) {
    // "first" to "ninth" are words outside dates (style guides spell them out, and "at first", "the
    // second time", "in the first place" are idioms); "a tenth" is a fraction; "one hundredth" may be.
    if (single && (n.value < 10 || prev === 'a' || prev === 'an')) return undefined;
    if (n.end === i + 2 && word === 'one' && (words[i + 1] === 'hundredth' || BIG_ORDINAL_MAGNITUDES.has(words[i + 1] ?? ''))) {
      return plainWords(words, i, n.end);
    }
    return { segments: [numericSegment(`${n.value}${ordinalSuffix(n.value)}`)], end: n.end };
  }

  if (single) {
    // Bare "one" and "zero" are mostly not quantities ("one of them", "no one", "zero tolerance"):
    // they become digits only before a unit or in a range ("one to five", "from ten to one").
    if (word === 'one' || word === 'zero') {
      const range = (next === 'to' || next === 'through' || next === 'and') && isNumberWord(words[n.end + 1]);
      const rangeEnd =
        (prev === 'to' || prev === 'through' || prev === 'and') && before[before.length - 2]?.numeric === true;
      if (!MEASURE_UNITS.has(next ?? '') && !range && !rangeEnd) return undefined;
    }
    if (n.value < 10 && next === 'of' && OF_PRONOUNS.has(words[n.end + 1] ?? '')) return undefined;
    if (IDIOMS.has(`${prev ?? ''} ${word}`) || IDIOMS.has(`${word} ${next ?? ''}`)) return undefined;
    // "one or two": the partner of a spelled-out "one" stays spelled out too.
    const partner = words[i - 2];
    if (prev === 'or' && (partner === 'one' || partner === 'zero') && before[before.length - 2]?.numeric === false) {
      return undefined;
    }
  }
  return withUnit(words, { text: String(n.value), end: n.end, integer: true }, '');
}

// ---------------------------------------------------------------------------------------------
// Capitalization.

function displayWord(word: string): string {
  // "i", "i'm", "i'll", "i've", "i'd".
  if (word === 'i' || word.startsWith("i'")) return `I${word.slice(1)}`;
  if (MONTHS.has(word) && !AMBIGUOUS_MONTHS.has(word)) return capitalizeFirst(word);
  const day = word.endsWith("'s") ? word.slice(0, -2) : word.endsWith('s') ? word.slice(0, -1) : word;
  if (DAYS.has(word) || DAYS.has(day)) return capitalizeFirst(word);
  return word;
}

function capitalizeFirst(text: string): string {
  const first = text.codePointAt(0);
  if (first === undefined) return text;
  const ch = String.fromCodePoint(first);
  return ch.toUpperCase() + text.slice(ch.length);
}
