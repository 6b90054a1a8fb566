import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cardinalWords,
  digitWords,
  expandSayAs,
  isEnglish,
  normalizeForSpeech,
  numberWords,
  ordinalWords,
  yearWords,
} from '../../src/domain/synthesis/text-normalizer.js';

/** [input, spoken] pairs, checked with the word map invariants. */
function check(cases: ReadonlyArray<readonly [string, string]>, lang = 'en-US'): void {
  for (const [input, spoken] of cases) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(spoken)}`, () => {
      const out = normalizeForSpeech(input, lang);
      assert.equal(out.text.trim(), spoken);
      checkWords(input, out);
    });
  }
}

function checkWords(input: string, out: ReturnType<typeof normalizeForSpeech>): void {
  let lastSource = -1;
  let lastSpoken = -1;
  for (const w of out.words) {
    assert.notEqual(w.sourceText, '');
    assert.equal(input.substr(w.sourceOffset, w.sourceText.length), w.sourceText);
    assert.ok(w.sourceOffset > lastSource && w.spokenOffset > lastSpoken, 'ordered, non-overlapping');
    assert.ok(w.spokenLength > 0 && w.spokenOffset + w.spokenLength <= out.text.length);
    lastSource = w.sourceOffset + w.sourceText.length - 1;
    lastSpoken = w.spokenOffset + w.spokenLength - 1;
  }
}

/** The spoken span of each source token: `{ source: spoken }`. */
function mapping(input: string, lang = 'en-US'): Array<[string, string, string]> {
  const out = normalizeForSpeech(input, lang);
  return out.words.map((w) => [w.sourceText, out.text.slice(w.spokenOffset, w.spokenOffset + w.spokenLength), w.kind]);
}

describe('text normalizer: numbers', () => {
  check([
    ['25', 'twenty five'],
    ['0', 'zero'],
    ['7', 'seven'],
    ['13', 'thirteen'],
    ['40', 'forty'],
    ['100', 'one hundred'],
    ['101', 'one hundred one'],
    ['999', 'nine hundred ninety nine'],
    ['1,000', 'one thousand'],
    ['1,000,000', 'one million'],
    ['1,234,567', 'one million two hundred thirty four thousand five hundred sixty seven'],
    ['12345', 'twelve thousand three hundred forty five'],
    ['2,000,000,000', 'two billion'],
    ['3.14', 'three point one four'],
    ['0.5', 'zero point five'],
    ['1,000.25', 'one thousand point two five'],
    ['-5', 'minus five'],
    ['-3.5', 'minus three point five'],
    ['(-3)', '(minus three)'],
    ['007', 'zero zero seven'],
    ['1234567890123456789', 'one two three four five six seven eight nine zero one two three four five six seven eight nine'],
  ]);
});

describe('text normalizer: years, ordinals, percentages, money, times', () => {
  check([
    ['1999', 'nineteen ninety nine'],
    ['In 1999 we met', 'In nineteen ninety nine we met'],
    ['2000', 'two thousand'],
    ['2005', 'two thousand five'],
    ['2010', 'twenty ten'],
    ['2024', 'twenty twenty four'],
    ['1905', 'nineteen oh five'],
    ['1900', 'nineteen hundred'],
    ['1100', 'eleven hundred'],
    ['2099', 'twenty ninety nine'],
    ['2100', 'two thousand one hundred'],
    ['1099', 'one thousand ninety nine'],
    ['1st', 'first'],
    ['2nd', 'second'],
    ['3rd', 'third'],
    ['4th', 'fourth'],
    ['12th', 'twelfth'],
    ['21st', 'twenty first'],
    ['40th', 'fortieth'],
    ['100th', 'one hundredth'],
    ['50%', 'fifty percent'],
    ['12.5%', 'twelve point five percent'],
    ['-2%', 'minus two percent'],
    ['$3.50', 'three dollars fifty cents'],
    ['$1', 'one dollar'],
    ['$1.01', 'one dollar one cent'],
    ['$0.99', 'ninety nine cents'],
    ['$20', 'twenty dollars'],
    ['$1,000,000', 'one million dollars'],
    ['$3.5', 'three dollars fifty cents'],
    ['$3.00', 'three dollars'],
    ['$2.125', 'two point one two five dollars'],
    ['€5', 'five euros'],
    ['£2.50', 'two pounds fifty pence'],
    ['¥500', 'five hundred yen'],
    ['-$5', 'minus five dollars'],
    ['$5M', 'five million dollars'],
    ['€2.5bn', 'two point five billion euros'],
    ['3:30', 'three thirty'],
    ['3:05', 'three oh five'],
    ['3:00', "three o'clock"],
    ['15:00', 'fifteen hundred'],
    ['10:30:15', 'ten thirty and fifteen seconds'],
    ['3:30 pm', 'three thirty pee em'],
    ['3:00 PM', 'three pee em'],
    ['7 a.m.', 'seven ay em.'],
    ['7 a.m. today', 'seven ay em today'],
    ['10:00am', 'ten ay em'],
    ['5pm', 'five pee em'],
    ['I am here', 'I am here'],
    ['12/25/2020', 'December twenty fifth twenty twenty'],
    ['25/12/2020', 'December twenty fifth twenty twenty'],
    ['2024-03-01', 'March first twenty twenty four'],
    ['1/2', 'one half'],
    ['3/4', 'three quarters'],
    ['2/3', 'two thirds'],
    ['24/7', 'twenty four seven'],
    ['5km', 'five kilometers'],
    ['1kg', 'one kilogram'],
    ['2.5GB', 'two point five gigabytes'],
    ['the 1990s', 'the nineteen nineties'],
    ["the 80's", 'the eighties'],
    ['1900s', 'nineteen hundreds'],
  ]);
});

describe('text normalizer: abbreviations and symbols', () => {
  check([
    ['Mr. Smith', 'mister Smith'],
    ['Mrs. Smith and Ms. Jones', 'missus Smith and miz Jones'],
    ['Dr. Who', 'doctor Who'],
    ['Dr Who', 'doctor Who'],
    ['St. Louis', 'saint Louis'],
    ['Main St.', 'Main street.'],
    ['Main St. is long', 'Main street is long'],
    ['No. 5', 'number 5'.replace('5', 'five')],
    ['Say No.', 'Say no.'],
    ['apples, pears, etc.', 'apples, pears, et cetera.'],
    ['e.g. this', 'for example this'],
    ['i.e. that', 'that is that'],
    ['A vs. B', 'A versus B'],
    ['the U.S. economy', 'the you ess economy'],
    ['Jan. 5', 'January five'],
    ['A & B', 'A and B'],
    ['2 + 2 = 4', 'two plus two equals four'],
    ['me @ home', 'me at home'],
    ['AT&T', 'AT and T'],
    ['R&D', 'R and D'],
    ['me@example.com', 'me at example dot com'],
    ['mp3', 'mp three'],
    ['COVID-19', 'COVID nineteen'],
    ['B2B', 'B two B'],
    ['555-1234', 'five five five one two three four'],
    ['192.168.0.1', 'one nine two dot one six eight dot zero dot one'],
    ['well-known', 'well-known'],
    ["don't", "don't"],
    ['and/or', 'and slash or'],
    ['#1', 'number one'],
    ['100°', 'one hundred degrees'],
    ['x < y', 'x less than y'],
  ]);
});

describe('text normalizer: punctuation and whitespace', () => {
  it('keeps punctuation as its own tokens and collapses whitespace', () => {
    assert.deepEqual(mapping('Hello,  world!\n(Really?) "Yes."'), [
      ['Hello', 'Hello', 'word'],
      [',', ',', 'punctuation'],
      ['world', 'world', 'word'],
      ['!', '!', 'punctuation'],
      ['(', '(', 'punctuation'],
      ['Really', 'Really', 'word'],
      ['?', '?', 'punctuation'],
      [')', ')', 'punctuation'],
      ['"', '"', 'punctuation'],
      ['Yes', 'Yes', 'word'],
      ['.', '.', 'punctuation'],
      ['"', '"', 'punctuation'],
    ]);
    assert.equal(normalizeForSpeech('Hello,  world!\n(Really?) "Yes."').text, 'Hello, world! (Really?) "Yes."');
  });

  it('keeps one space at either end when the input had whitespace there', () => {
    assert.equal(normalizeForSpeech('  two words \n').text, ' two words ');
    assert.equal(normalizeForSpeech('').text, '');
    assert.equal(normalizeForSpeech('   ').text, ' ');
  });

  it('maps each expansion to its literal token', () => {
    assert.deepEqual(mapping('I paid $3.50 on 12/25/2020.'), [
      ['I', 'I', 'word'],
      ['paid', 'paid', 'word'],
      ['$3.50', 'three dollars fifty cents', 'word'],
      ['on', 'on', 'word'],
      ['12/25/2020', 'December twenty fifth twenty twenty', 'word'],
      ['.', '.', 'punctuation'],
    ]);
    assert.deepEqual(mapping('Mr. Smith'), [
      ['Mr.', 'mister', 'word'],
      ['Smith', 'Smith', 'word'],
    ]);
  });

  it('keeps the invariants on awkward input', () => {
    const inputs = ['...!!!???', '$', '-', '- 5', '5-', '1,', ',1', '1.', '.5', 'a..b', '😀😀', '\u00a0x\u3000y', 'x'.repeat(100), '9'.repeat(40), "''quoted''", 'a—b–c', '¿Qué?', 'İstanbul'];
    for (const input of inputs) checkWords(input, normalizeForSpeech(input));
  });
});

describe('text normalizer: other languages', () => {
  it('passes non-English text through, words cut at whitespace and punctuation', () => {
    const out = normalizeForSpeech('Es kostet 25 Euro, oder?', 'de-DE');
    assert.equal(out.text, 'Es kostet 25 Euro, oder?');
    assert.deepEqual(
      out.words.map((w) => [w.sourceText, w.kind]),
      [['Es', 'word'], ['kostet', 'word'], ['25', 'word'], ['Euro', 'word'], [',', 'punctuation'], ['oder', 'word'], ['?', 'punctuation']],
    );
    checkWords('Es kostet 25 Euro, oder?', out);
    assert.equal(normalizeForSpeech('こんにちは。 元気？', 'ja-JP').text, 'こんにちは。 元気？');
  });

  it('applies to every English locale and nothing else', () => {
    for (const lang of ['en', 'en-US', 'en-GB', 'EN-au', 'en_IN']) assert.ok(isEnglish(lang), lang);
    for (const lang of ['de-DE', 'fr', 'eng', 'es-US', '']) assert.ok(!isEnglish(lang), lang);
    assert.equal(normalizeForSpeech('25', 'en-GB').text, 'twenty five');
    assert.equal(normalizeForSpeech('25', 'fr-FR').text, '25');
  });
});

describe('text normalizer: number words', () => {
  it('cardinals, digits, decimals, ordinals, years', () => {
    assert.equal(cardinalWords('0'), 'zero');
    assert.equal(cardinalWords('000'), 'zero');
    assert.equal(cardinalWords('1000001'), 'one million one');
    assert.equal(cardinalWords('999999999999999'), 'nine hundred ninety nine trillion nine hundred ninety nine billion nine hundred ninety nine million nine hundred ninety nine thousand nine hundred ninety nine');
    assert.equal(digitWords('2048'), 'two zero four eight');
    assert.equal(numberWords('1,500', '75'), 'one thousand five hundred point seven five');
    assert.equal(ordinalWords('1'), 'first');
    assert.equal(ordinalWords('11'), 'eleventh');
    assert.equal(ordinalWords('22'), 'twenty second');
    assert.equal(ordinalWords('1000'), 'one thousandth');
    assert.equal(ordinalWords('0'), 'zeroth');
    assert.equal(yearWords(1066), 'ten sixty six');
    assert.equal(yearWords(1776), 'seventeen seventy six');
    assert.equal(yearWords(2001), 'two thousand one');
  });
});

describe('text normalizer: say-as', () => {
  const say = (interpretAs: string, text: string, format?: string, lang = 'en-US'): string => expandSayAs(text, { interpretAs, format }, lang);

  it('reads each type', () => {
    assert.equal(say('cardinal', '1,234'), 'one thousand two hundred thirty four');
    assert.equal(say('number', '2024'), 'two thousand twenty four');
    assert.equal(say('cardinal', '3rd'), 'third');
    assert.equal(say('ordinal', '103'), 'one hundred third');
    assert.equal(say('characters', 'Hi 5!'), 'aitch eye five !');
    assert.equal(say('spell-out', 'a_b@c.d'), 'ay underscore bee at see dot dee');
    assert.equal(say('digits', '12-34'), 'one two three four');
    assert.equal(say('fraction', '1 1/2'), 'one and one half');
    assert.equal(say('fraction', '5/3'), 'five thirds');
    assert.equal(say('fraction', '7/200'), 'seven over two hundred');
    assert.equal(say('date', 'Dec 25 2020', 'mdy'), 'December twenty fifth twenty twenty');
    assert.equal(say('date', '25 December 2020', 'dmy'), 'December twenty fifth twenty twenty');
    assert.equal(say('date', '25/12/2020', 'dmy', 'en-GB'), 'the twenty fifth of December twenty twenty');
    assert.equal(say('date', '12/25/05', 'mdy'), 'December twenty fifth oh five');
    assert.equal(say('date', '13/13/2020', 'mdy'), 'thirteen thirteen two thousand twenty');
    assert.equal(say('time', '9:30', 'hms12'), 'nine thirty');
    assert.equal(say('time', '9:30 a.m.', 'hms12'), 'nine thirty ay em');
    assert.equal(say('time', '0:15', 'hms12'), 'twelve fifteen ay em');
    assert.equal(say('time', '23:00', 'hms24'), 'twenty three hundred');
    assert.equal(say('telephone', '555 0100'), 'five five five, zero one zero zero');
    assert.equal(say('currency', 'USD 1,500.10'), 'one thousand five hundred dollars ten cents');
    assert.equal(say('currency', '42 JPY'), 'forty two yen');
    assert.equal(say('duration', '1:30:05'), 'one hour thirty minutes five seconds');
    assert.equal(say('duration', '2:00', 'hm'), 'two hours');
    assert.equal(say('interjection', 'wow'), 'wow');
    assert.equal(say('cardinal', '   '), '');
  });

  it('falls back to normalized text for content the type cannot read', () => {
    assert.equal(say('cardinal', 'about 5'), 'about five');
    assert.equal(say('telephone', 'call me'), 'call me');
    assert.equal(say('currency', '5 bucks'), 'five bucks');
    assert.equal(say('time', '25:99'), 'twenty five ninety nine');
  });

  it('spells and passes through in other languages', () => {
    assert.equal(say('characters', 'ABC', undefined, 'de-DE'), 'A B C');
    assert.equal(say('digits', '123', undefined, 'fr-FR'), '1 2 3');
    assert.equal(say('cardinal', '25', undefined, 'fr-FR'), '25');
    assert.equal(say('date', '25/12/2020', 'dmy', 'de-DE'), '25/12/2020');
  });
});
