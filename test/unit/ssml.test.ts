import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServiceError } from '../../src/kernel/errors.js';
import { PROSODY_BOUNDS, type PlanItem, type SourceWord, type SpeechItem, type SynthesisPlan } from '../../src/domain/synthesis/plan.js';
import { sentenceEnds, splitSentences } from '../../src/domain/synthesis/sentences.js';
import { MAX_BREAK_MS, PARAGRAPH_PAUSE_MS, parseSsml, planFromText } from '../../src/domain/synthesis/ssml.js';
import { prng } from '../helpers/prng.js';

// ---------------------------------------------------------------------------------------------------------------
// Helpers

const NS = `xmlns='http://www.w3.org/2001/10/synthesis' xmlns:mstts='http://www.w3.org/2001/mstts' xmlns:emo='http://www.w3.org/2009/10/emotionml'`;

/** The JS SDK's plain-text wrapper (SpeechSynthesizer.buildSsml), text XML-escaped. */
function sdkWrap(text: string, voice = 'en-US-AvaMultilingualNeural', lang = 'en-US'): string {
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
  return `<speak version='1.0' ${NS} xml:lang='${lang}'><voice name='${voice}'>${escaped}</voice></speak>`;
}

/** A voice-wrapped document around SSML body markup. */
function doc(body: string, voice = 'en-US-AvaMultilingualNeural'): string {
  return `<speak version="1.0" ${NS} xml:lang="en-US"><voice name="${voice}">${body}</voice></speak>`;
}

function speech(plan: SynthesisPlan): SpeechItem[] {
  return plan.items.filter((i): i is SpeechItem => i.kind === 'speech');
}

function spokenText(plan: SynthesisPlan): string {
  return speech(plan)
    .map((i) => i.text)
    .join(' ');
}

function allWords(plan: SynthesisPlan): SourceWord[] {
  return speech(plan).flatMap((i) => i.words);
}

function expectInvalid(ssml: string, pattern: RegExp, opts?: Parameters<typeof parseSsml>[1]): ServiceError {
  let caught: unknown;
  try {
    parseSsml(ssml, opts);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ServiceError, `expected a ServiceError, got ${String(caught)}`);
  assert.equal(caught.code, 'InvalidSsml');
  assert.equal(caught.status, 400);
  assert.match(caught.message, pattern);
  return caught;
}

/** Every structural promise of a plan, checked against the document it came from. */
function checkPlan(source: string, plan: SynthesisPlan): void {
  assert.equal(plan.sourceLength, source.length);
  let lastSource = -1;
  for (const item of plan.items) {
    if (item.kind === 'silence') {
      assert.ok(Number.isFinite(item.ms) && item.ms > 0 && item.ms <= MAX_BREAK_MS + PARAGRAPH_PAUSE_MS, `silence ${item.ms}`);
      continue;
    }
    if (item.kind === 'bookmark') continue;
    assert.notEqual(item.text.trim(), '', 'speech items have text');
    assert.equal(item.text, item.text.trim(), 'speech text is trimmed');
    for (const key of ['rate', 'pitch', 'volume'] as const) {
      const [lo, hi] = PROSODY_BOUNDS[key];
      assert.ok(item.prosody[key] >= lo && item.prosody[key] <= hi, `${key} ${item.prosody[key]} in bounds`);
    }
    let lastSpoken = -1;
    for (const w of item.words) {
      assert.notEqual(w.sourceText, '', 'no empty source text');
      assert.equal(source.substr(w.sourceOffset, w.sourceText.length), w.sourceText, `literal at ${w.sourceOffset}`);
      assert.ok(w.sourceOffset > lastSource, 'source offsets increase');
      lastSource = w.sourceOffset + w.sourceText.length - 1;
      assert.ok(w.spokenOffset > lastSpoken, 'spoken offsets increase');
      assert.ok(w.spokenLength > 0 && w.spokenOffset + w.spokenLength <= item.text.length, 'spoken span inside the text');
      lastSpoken = w.spokenOffset + w.spokenLength - 1;
    }
    if (item.sentence !== undefined) {
      assert.ok(item.sentenceStart);
      assert.equal(source.substr(item.sentence.sourceOffset, item.sentence.sourceText.length), item.sentence.sourceText);
      assert.ok(!item.sentence.sourceText.includes('<'), 'sentence text has no markup');
    }
  }
}

/**
 * The JS SDK's SynthesisTurn.updateTextOffset: indexOf from the end of the previous match; a match inside an
 * XML tag (the next '<' comes after the next '>') is skipped by searching again.
 */
function sdkOffsets(raw: string, texts: readonly string[]): number[] {
  const isXmlTag = (t: string): boolean => t.length >= 2 && t.startsWith('<') && t.endsWith('>');
  const withinXmlTag = (idx: number): boolean => raw.indexOf('<', idx + 1) > raw.indexOf('>', idx + 1);
  let next = 0;
  const out: number[] = [];
  for (const text of texts) {
    let offset = raw.indexOf(text, next);
    while (offset >= 0) {
      next = offset + text.length;
      if (!(withinXmlTag(offset) && !isXmlTag(text))) break;
      offset = raw.indexOf(text, next);
    }
    out.push(offset);
  }
  return out;
}

function checkSdkFinds(source: string, plan: SynthesisPlan): void {
  const words = allWords(plan);
  // WordBoundary and PunctuationBoundary share one search pointer in the SDK.
  assert.deepEqual(sdkOffsets(source, words.map((w) => w.sourceText)), words.map((w) => w.sourceOffset), 'words + punctuation');
  const onlyWords = words.filter((w) => w.kind === 'word');
  assert.deepEqual(sdkOffsets(source, onlyWords.map((w) => w.sourceText)), onlyWords.map((w) => w.sourceOffset), 'words only');
  const sentences = speech(plan).flatMap((i) => (i.sentence === undefined ? [] : [i.sentence]));
  assert.deepEqual(sdkOffsets(source, sentences.map((s) => s.sourceText)), sentences.map((s) => s.sourceOffset), 'sentences');
}

// ---------------------------------------------------------------------------------------------------------------

describe('ssml: the SDK plain-text wrapper', () => {
  it('gives one speech item with the voice, language and two words', () => {
    const ssml = `<speak version='1.0' xmlns='http://www.w3.org/2001/10/synthesis' xmlns:mstts='http://www.w3.org/2001/mstts' xmlns:emo='http://www.w3.org/2009/10/emotionml' xml:lang='en-US'><voice name='en-US-AvaMultilingualNeural'>Hello world</voice></speak>`;
    const plan = parseSsml(ssml);
    assert.equal(plan.lang, 'en-US');
    assert.equal(plan.sourceLength, ssml.length);
    assert.equal(plan.items.length, 1);
    const item = plan.items[0];
    assert.ok(item?.kind === 'speech');
    assert.deepEqual(item.voice, { name: 'en-US-AvaMultilingualNeural', lang: undefined });
    assert.equal(item.lang, 'en-US');
    assert.equal(item.text, 'Hello world');
    assert.deepEqual(item.prosody, { rate: 1, pitch: 1, volume: 1 });
    assert.equal(item.sentenceStart, true);
    assert.deepEqual(item.words, [
      { spokenOffset: 0, spokenLength: 5, sourceText: 'Hello', sourceOffset: ssml.indexOf('Hello'), kind: 'word' },
      { spokenOffset: 6, spokenLength: 5, sourceText: 'world', sourceOffset: ssml.indexOf('world'), kind: 'word' },
    ]);
    assert.deepEqual(item.sentence, { sourceText: 'Hello world', sourceOffset: ssml.indexOf('Hello') });
    checkSdkFinds(ssml, plan);
  });

  it('maps escaped text back to the escaped literal', () => {
    const ssml = sdkWrap(`AT&T's "best" <offer> costs $5 & more.`);
    const plan = parseSsml(ssml);
    checkPlan(ssml, plan);
    checkSdkFinds(ssml, plan);
    const texts = allWords(plan).map((w) => w.sourceText);
    assert.ok(texts.includes('AT&amp;T&apos;s'), texts.join(' | '));
    assert.ok(texts.includes('&amp;'));
    assert.ok(texts.includes('&lt;'));
    assert.match(spokenText(plan), /AT and T's "best" less than offer greater than costs five dollars and more\./);
  });

  it('accepts an empty text: a plan without speech', () => {
    assert.deepEqual(parseSsml(sdkWrap('')).items, []);
    assert.deepEqual(parseSsml(`<speak version="1.0" xml:lang="en-US"/>`).items, []);
    assert.deepEqual(parseSsml(sdkWrap('   \n  ')).items, []);
  });

  it('uses the SDK wrapper for other languages without English normalization', () => {
    const ssml = sdkWrap('Es kostet 25 Euro. Danke!', 'de-DE-KatjaNeural', 'de-DE');
    const plan = parseSsml(ssml);
    assert.equal(plan.lang, 'de-DE');
    assert.deepEqual(speech(plan).map((i) => i.text), ['Es kostet 25 Euro.', 'Danke!']);
    checkSdkFinds(ssml, plan);
  });
});

describe('ssml: speak and voice', () => {
  it('reads xml:lang from speak, the default when missing, and accepts a missing version', () => {
    assert.equal(parseSsml(`<speak version="1.0" xml:lang="fr-FR">Bonjour</speak>`).lang, 'fr-FR');
    assert.equal(parseSsml(`<speak>Hi</speak>`).lang, 'en-US');
    assert.equal(parseSsml(`<speak>Hi</speak>`, { defaultLang: 'en-GB' }).lang, 'en-GB');
  });

  it('gives text directly under speak the default voice (name "")', () => {
    const plan = parseSsml(`<speak version="1.0" xml:lang="en-US">Plain text.</speak>`);
    const [item] = speech(plan);
    assert.deepEqual(item?.voice, { name: '', lang: undefined });
    assert.equal(item?.text, 'Plain text.');
  });

  it('gives each voice element its own items, in order, each starting a sentence', () => {
    const ssml = `<speak version="1.0" xml:lang="en-US">
      <voice name="en-US-AvaNeural">Hello from Ava</voice>
      <voice name="en-GB-RyanNeural" xml:lang="en-GB">and from Ryan</voice>
      Between voices.
      <voice name="en-US-AvaNeural">Ava again.</voice>
    </speak>`;
    const plan = parseSsml(ssml);
    checkPlan(ssml, plan);
    const items = speech(plan);
    assert.deepEqual(
      items.map((i) => [i.voice.name, i.voice.lang, i.lang, i.text, i.sentenceStart]),
      [
        ['en-US-AvaNeural', undefined, 'en-US', 'Hello from Ava', true],
        ['en-GB-RyanNeural', 'en-GB', 'en-GB', 'and from Ryan', true],
        ['', undefined, 'en-US', 'Between voices.', true],
        ['en-US-AvaNeural', undefined, 'en-US', 'Ava again.', true],
      ],
    );
    checkSdkFinds(ssml, plan);
  });

  it('accepts 50 voice elements and refuses 51', () => {
    const voices = (n: number): string => `<speak version="1.0" xml:lang="en-US">${'<voice name="en-US-AvaNeural">Hi.</voice>'.repeat(n)}</speak>`;
    assert.equal(speech(parseSsml(voices(50))).length, 50);
    expectInvalid(voices(51), /more than 50 <voice> elements/);
    expectInvalid(voices(3), /more than 2 <voice> elements/, { maxVoices: 2 });
  });

  it('switches language with <lang> without ending the sentence', () => {
    const plan = parseSsml(doc(`I said <lang xml:lang="fr-FR">bonjour 25</lang> to them.`));
    assert.deepEqual(
      speech(plan).map((i) => [i.lang, i.text, i.sentenceStart]),
      [
        ['en-US', 'I said', true],
        ['fr-FR', 'bonjour 25', false],
        ['en-US', 'to them.', false],
      ],
    );
  });
});

describe('ssml: p and s', () => {
  it('starts a sentence at each p and s and pauses after a paragraph', () => {
    const ssml = doc(`<p>First paragraph <s>one sentence</s> more</p><p>Second paragraph</p>`);
    const plan = parseSsml(ssml);
    checkPlan(ssml, plan);
    const shape = plan.items.map((i) => (i.kind === 'speech' ? `${i.sentenceStart ? '^' : ''}${i.text}` : i.kind === 'silence' ? `[${i.ms}]` : '#'));
    assert.deepEqual(shape, ['^First paragraph', '^one sentence', '^more', `[${PARAGRAPH_PAUSE_MS}]`, '^Second paragraph']);
  });

  it('never ends a document with a paragraph pause', () => {
    const plan = parseSsml(doc(`<p>Only one.</p>`));
    assert.equal(plan.items.at(-1)?.kind, 'speech');
  });
});

describe('ssml: break', () => {
  const breaks = (body: string): PlanItem[] => parseSsml(doc(body)).items.filter((i) => i.kind === 'silence');

  it('reads time in ms and s', () => {
    assert.deepEqual(breaks(`a<break time="500ms"/>b<break time="2s"/>c<break time="1.5s"/>d<break time=" 250 ms "/>e`), [
      { kind: 'silence', ms: 500 },
      { kind: 'silence', ms: 2000 },
      { kind: 'silence', ms: 1500 },
      { kind: 'silence', ms: 250 },
    ]);
  });

  it('maps strengths to Azure durations, medium by default', () => {
    const ms = ['x-weak', 'weak', 'medium', 'strong', 'x-strong'].map((s) => breaks(`a<break strength="${s}"/>b`)[0]);
    assert.deepEqual(ms, [250, 500, 750, 1000, 1250].map((m) => ({ kind: 'silence', ms: m })));
    assert.deepEqual(breaks(`a<break/>b`), [{ kind: 'silence', ms: 750 }]);
    assert.deepEqual(breaks(`a<break strength="none"/>b`), []);
  });

  it('prefers time over strength and caps long breaks', () => {
    assert.deepEqual(breaks(`a<break strength="x-strong" time="100ms"/>b`), [{ kind: 'silence', ms: 100 }]);
    assert.deepEqual(breaks(`a<break time="60s"/>b`), [{ kind: 'silence', ms: MAX_BREAK_MS }]);
  });

  it('splits speech without starting a new sentence', () => {
    const plan = parseSsml(doc(`Wait for it <break time="1s"/> now.`));
    assert.deepEqual(plan.items.map((i) => (i.kind === 'speech' ? [i.text, i.sentenceStart] : i.kind)), [['Wait for it', true], 'silence', ['now.', false]]);
  });

  it('refuses bad values', () => {
    expectInvalid(doc(`a<break time="abc"/>`), /<break> time "abc" is not a duration/);
    expectInvalid(doc(`a<break time="-5s"/>`), /<break> time "-5s"/);
    expectInvalid(doc(`a<break time="5"/>`), /<break> time "5"/);
    expectInvalid(doc(`a<break strength="huge"/>`), /<break> strength "huge" is not valid/);
    expectInvalid(doc(`a<break>text</break>`), /<break> must be empty/);
  });
});

describe('ssml: prosody', () => {
  const prosodyOf = (attrs: string): SpeechItem['prosody'] | undefined => speech(parseSsml(doc(`<prosody ${attrs}>x</prosody>`)))[0]?.prosody;

  it('reads rate keywords, percentages and multipliers', () => {
    const rates: Array<[string, number]> = [
      ['x-slow', 0.5], ['slow', 0.64], ['medium', 1], ['fast', 1.55], ['x-fast', 2], ['default', 1],
      ['+20%', 1.2], ['-30%', 0.7], ['+20.00%', 1.2], ['50%', 0.5], ['1.5', 1.5], ['0.8', 0.8], ['-100%', 0.25], ['10', 4],
    ];
    for (const [value, expected] of rates) assert.equal(prosodyOf(`rate="${value}"`)?.rate, expected, value);
  });

  it('reads pitch keywords, percentages, semitones and hertz', () => {
    const pitches: Array<[string, number]> = [
      ['x-low', 0.5], ['low', 0.75], ['medium', 1], ['high', 1.25], ['x-high', 1.5], ['default', 1],
      ['+10%', 1.1], ['-10%', 0.9], ['+12st', 2], ['-12st', 0.5], ['+50Hz', 4 / 3], ['-75Hz', 0.5], ['300Hz', 2], ['75hz', 0.5],
    ];
    for (const [value, expected] of pitches) {
      const got = prosodyOf(`pitch="${value}"`)?.pitch ?? NaN;
      assert.ok(Math.abs(got - expected) < 1e-5, `${value}: ${got} ≠ ${expected}`);
    }
    const st = prosodyOf(`pitch="-2st"`)?.pitch ?? NaN;
    assert.ok(Math.abs(st - 2 ** (-2 / 12)) < 1e-5);
  });

  it('reads volume keywords, numbers, percentages and decibels', () => {
    const volumes: Array<[string, number]> = [
      ['silent', 0], ['x-soft', 0.2], ['soft', 0.4], ['medium', 0.6], ['loud', 0.8], ['x-loud', 1], ['default', 1],
      ['50', 0.5], ['100', 1], ['0', 0], ['+20%', 1.2], ['-50%', 0.5], ['+10', 1.1], ['-25', 0.75], ['-6dB', 10 ** (-6 / 20)], ['250', 1],
    ];
    for (const [value, expected] of volumes) {
      const got = prosodyOf(`volume="${value}"`)?.volume ?? NaN;
      assert.ok(Math.abs(got - expected) < 1e-5, `${value}: ${got} ≠ ${expected}`);
    }
  });

  it('multiplies nested relative values, resets on keywords, clamps to the bounds', () => {
    const ssml = doc(
      `<prosody rate="+50%" volume="+100%">a <prosody rate="1.5" pitch="+20%">b <prosody rate="x-slow">c</prosody> <prosody rate="4" volume="+200%">d</prosody></prosody></prosody>`,
    );
    const items = speech(parseSsml(ssml));
    assert.deepEqual(
      items.map((i) => [i.text, i.prosody]),
      [
        ['a', { rate: 1.5, pitch: 1, volume: 2 }],
        ['b', { rate: 2.25, pitch: 1.2, volume: 2 }],
        ['c', { rate: 0.5, pitch: 1.2, volume: 2 }],
        ['d', { rate: 4, pitch: 1.2, volume: 4 }],
      ],
    );
  });

  it('keeps one sentence across prosody changes', () => {
    const items = speech(parseSsml(doc(`This is <prosody rate="slow">very</prosody> important.`)));
    assert.deepEqual(items.map((i) => [i.text, i.sentenceStart]), [['This is', true], ['very', false], ['important.', false]]);
  });

  it('refuses values it cannot read', () => {
    expectInvalid(doc(`<prosody rate="fast-ish">x</prosody>`), /<prosody> rate "fast-ish" is not valid; expected x-slow/);
    expectInvalid(doc(`<prosody pitch="very high">x</prosody>`), /<prosody> pitch "very high" is not valid/);
    expectInvalid(doc(`<prosody volume="loudest">x</prosody>`), /<prosody> volume "loudest" is not valid/);
    expectInvalid(doc(`<prosody rate="">x</prosody>`), /<prosody> rate "" is not valid/);
  });
});

describe('ssml: emphasis', () => {
  it('changes rate and volume modestly by level, moderate by default', () => {
    const items = speech(parseSsml(doc(`<emphasis level="strong">a</emphasis> <emphasis>b</emphasis> <emphasis level="reduced">c</emphasis> <emphasis level="none">d</emphasis>`)));
    const [a, b, c, d] = items.map((i) => i.prosody);
    assert.ok(a !== undefined && b !== undefined && c !== undefined && d !== undefined);
    assert.ok(a.rate < b.rate && b.rate < 1 && c.rate > 1, 'strong slower than moderate, reduced faster');
    assert.ok(a.volume > b.volume && b.volume > 1 && c.volume < 1, 'strong louder than moderate, reduced softer');
    assert.deepEqual(d, { rate: 1, pitch: 1, volume: 1 });
  });

  it('keeps the closing period with the emphasized word', () => {
    const items = speech(parseSsml(doc(`I <emphasis>really</emphasis>. Mean it.`)));
    assert.deepEqual(items.map((i) => i.text), ['I', 'really.', 'Mean it.']);
  });

  it('refuses an unknown level', () => {
    expectInvalid(doc(`<emphasis level="loud">x</emphasis>`), /<emphasis> level "loud" is not valid/);
  });
});

describe('ssml: say-as', () => {
  const sayAs = (attrs: string, content: string): { text: string; words: SourceWord[]; ssml: string } => {
    const ssml = doc(`Value <say-as ${attrs}>${content}</say-as> end`);
    const plan = parseSsml(ssml);
    checkPlan(ssml, plan);
    checkSdkFinds(ssml, plan);
    return { text: spokenText(plan), words: allWords(plan), ssml };
  };

  it('expands each interpret-as type', () => {
    const cases: Array<[string, string, string]> = [
      ['interpret-as="cardinal"', '1999', 'Value one thousand nine hundred ninety nine end'],
      ['interpret-as="number"', '-3.5', 'Value minus three point five end'],
      ['interpret-as="ordinal"', '3', 'Value third end'],
      ['interpret-as="ordinal"', '21st', 'Value twenty first end'],
      ['interpret-as="characters"', 'ABC', 'Value ay bee see end'],
      ['interpret-as="spell-out"', 'a1-b', 'Value ay one dash bee end'],
      ['interpret-as="digits"', '1234', 'Value one two three four end'],
      ['interpret-as="fraction"', '3/4', 'Value three quarters end'],
      ['interpret-as="date" format="mdy"', '12/25/2020', 'Value December twenty fifth twenty twenty end'],
      ['interpret-as="date" format="dmy"', '25-12-2020', 'Value December twenty fifth twenty twenty end'],
      ['interpret-as="date" format="ymd"', '2020.12.25', 'Value December twenty fifth twenty twenty end'],
      ['interpret-as="date" format="md"', '12/25', 'Value December twenty fifth end'],
      ['interpret-as="date" format="dm"', '25/12', 'Value December twenty fifth end'],
      ['interpret-as="date" format="ym"', '1999-07', 'Value July nineteen ninety nine end'],
      ['interpret-as="date" format="my"', '07/1999', 'Value July nineteen ninety nine end'],
      ['interpret-as="date" format="d"', '5', 'Value the fifth end'],
      ['interpret-as="date" format="m"', '7', 'Value July end'],
      ['interpret-as="date" format="y"', '2024', 'Value twenty twenty four end'],
      ['interpret-as="date"', '2024-03-01', 'Value March first twenty twenty four end'],
      ['interpret-as="time" format="hms12"', '3:30pm', 'Value three thirty pee em end'],
      ['interpret-as="time" format="hms12"', '15:45', 'Value three forty five pee em end'],
      ['interpret-as="time" format="hms24"', '15:45', 'Value fifteen forty five end'],
      ['interpret-as="time" format="hms24"', '07:05:09', 'Value seven oh five and nine seconds end'],
      ['interpret-as="telephone"', '(425) 555-0100', 'Value four two five, five five five, zero one zero zero end'],
      ['interpret-as="telephone"', '+1-800-555-0199', 'Value plus one, eight zero zero, five five five, zero one nine nine end'],
      ['interpret-as="currency"', '$3.50', 'Value three dollars fifty cents end'],
      ['interpret-as="currency"', '10 EUR', 'Value ten euros end'],
      ['interpret-as="address"', '123 Main St.', 'Value one hundred twenty three Main street. end'],
      ['interpret-as="name"', 'Dr. Jones', 'Value doctor Jones end'],
      ['interpret-as="something-new"', '25', 'Value twenty five end'],
      ['interpret-as="date"', 'not a date', 'Value not a date end'],
    ];
    for (const [attrs, content, expected] of cases) assert.equal(sayAs(attrs, content).text, expected, `${attrs} ${content}`);
  });

  it('maps the whole expansion to the element content literal', () => {
    const { words, ssml } = sayAs('interpret-as="characters"', ' AT&amp;T ');
    const w = words.find((x) => x.sourceText === 'AT&amp;T');
    assert.ok(w !== undefined);
    assert.equal(w.sourceOffset, ssml.indexOf('AT&amp;T'));
    assert.equal(w.spokenLength, 'ay tee ampersand tee'.length);
  });

  it('refuses a missing interpret-as or child elements', () => {
    expectInvalid(doc(`<say-as>5</say-as>`), /<say-as> needs an interpret-as attribute/);
    expectInvalid(doc(`<say-as interpret-as="cardinal">5<break/></say-as>`), /<say-as> may contain only text, not <break>/);
  });
});

describe('ssml: sub, phoneme, bookmark, audio', () => {
  it('speaks the sub alias, mapped to the element content', () => {
    const ssml = doc(`The <sub alias="World Wide Web Consortium">W3C</sub> says so.`);
    const plan = parseSsml(ssml);
    assert.equal(spokenText(plan), 'The World Wide Web Consortium says so.');
    const w = allWords(plan).find((x) => x.sourceText === 'W3C');
    assert.equal(w?.spokenLength, 'World Wide Web Consortium'.length);
    checkSdkFinds(ssml, plan);
    expectInvalid(doc(`<sub>W3C</sub>`), /<sub> needs an alias attribute/);
  });

  it('speaks a phoneme element text (pronunciation ignored)', () => {
    const ssml = doc(`You say <phoneme alphabet="ipa" ph="təˈmeɪtoʊ">tomato</phoneme>.`);
    assert.equal(spokenText(parseSsml(ssml)), 'You say tomato.');
  });

  it('places bookmarks between speech items', () => {
    const plan = parseSsml(doc(`One <bookmark mark="first"/>two <mark name="second"/>three.`));
    assert.deepEqual(
      plan.items.map((i) => (i.kind === 'bookmark' ? `#${i.name}` : i.kind === 'speech' ? i.text : i.kind)),
      ['One', '#first', 'two', '#second', 'three.'],
    );
    expectInvalid(doc(`<bookmark/>`), /<bookmark> needs a non-empty mark attribute/);
  });

  it('speaks the fallback text of audio, not its description, and counts audio elements', () => {
    const plan = parseSsml(doc(`<audio src="https://example.com/a.wav"><desc>a bell</desc>Ding dong.</audio>`));
    assert.equal(spokenText(plan), 'Ding dong.');
    const audios = (n: number): string => doc('<audio src="x.wav">x</audio>'.repeat(n));
    assert.doesNotThrow(() => parseSsml(audios(50)));
    expectInvalid(audios(51), /more than 50 <audio> elements/);
  });
});

describe('ssml: mstts extensions', () => {
  it('keeps the content of express-as and unknown mstts elements', () => {
    const ssml = doc(`<mstts:express-as style="cheerful" styledegree="2">Great news!</mstts:express-as> <mstts:newthing foo="1">Still spoken.</mstts:newthing><mstts:backgroundaudio src="x.wav"/>`);
    const plan = parseSsml(ssml);
    assert.deepEqual(speech(plan).map((i) => i.text), ['Great news!', 'Still spoken.']);
    checkSdkFinds(ssml, plan);
  });

  it('adds Leading, Tailing and Sentenceboundary silences to the voice', () => {
    const plan = parseSsml(
      doc(`<mstts:silence type="Leading" value="200ms"/><mstts:silence type="Tailing-exact" value="300ms"/><mstts:silence type="Sentenceboundary" value="100ms"/>One. Two. Three.`),
    );
    assert.deepEqual(
      plan.items.map((i) => (i.kind === 'silence' ? i.ms : i.kind === 'speech' ? i.text : i.kind)),
      [200, 'One.', 100, 'Two.', 100, 'Three.', 300],
    );
  });

  it('accepts comma/semicolon silences without effect and refuses bad ones', () => {
    const plan = parseSsml(doc(`<mstts:silence type="Comma-exact" value="50ms"/>a, b`));
    assert.deepEqual(plan.items.map((i) => i.kind), ['speech']);
    expectInvalid(doc(`<mstts:silence type="Sometimes" value="50ms"/>`), /<mstts:silence> type "Sometimes" is not valid/);
    expectInvalid(doc(`<mstts:silence type="Leading" value="long"/>`), /<mstts:silence> value "long"/);
  });
});

describe('ssml: XML details', () => {
  it('decodes predefined entities and character references', () => {
    const ssml = doc(`&#65;&#x42;C &lt;tag&gt; &quot;quoted&quot; it&apos;s`);
    const plan = parseSsml(ssml);
    assert.equal(spokenText(plan), `ABC less than tag greater than "quoted" it's`);
    checkPlan(ssml, plan);
    assert.equal(allWords(plan)[0]?.sourceText, '&#65;&#x42;C');
  });

  it('reads CDATA sections, skips comments and processing instructions', () => {
    const ssml = `<?xml version="1.0" encoding="UTF-8"?>\n<!-- a comment --><speak version="1.0" xml:lang="en-US"><voice name="v">Hello <!-- not spoken --> <![CDATA[Tom & Jerry]]> <?pi data?>friends</voice></speak>\n<!-- trailing -->`;
    const plan = parseSsml(ssml);
    assert.equal(spokenText(plan), 'Hello Tom and Jerry friends');
    checkPlan(ssml, plan);
  });

  it('keeps offsets exact with CRLF line ends and a byte-order mark', () => {
    const ssml = `\ufeff<speak version="1.0" xml:lang="en-US">\r\n<voice name="v">\r\nFirst line.\r\n<break/>Second &amp; last.\r\n</voice>\r\n</speak>`;
    const plan = parseSsml(ssml);
    checkPlan(ssml, plan);
    checkSdkFinds(ssml, plan);
    assert.equal(spokenText(plan), 'First line. Second and last.');
  });

  it('handles attributes containing ">" and either quote style', () => {
    const ssml = `<speak version='1.0' xml:lang="en-US"><voice name='a>b'>Quoted</voice></speak>`;
    assert.equal(speech(parseSsml(ssml))[0]?.voice.name, 'a>b');
  });
});

describe('ssml: errors name the problem', () => {
  it('not well-formed XML, with line and column', () => {
    const err = expectInvalid(`<speak version="1.0" xml:lang="en-US">\n<voice name="v">Hi</vocie></speak>`, /not well-formed XML: .*closing tag.*\(line 2, column \d+\)/);
    assert.equal(err.details?.line, 2);
    expectInvalid(`<speak>Tom & Jerry</speak>`, /not well-formed XML/);
    expectInvalid(`<speak>unclosed`, /not well-formed XML/);
    expectInvalid('', /document is empty/);
    expectInvalid(' \n ', /document is empty/);
    expectInvalid('just text', /not well-formed XML/);
  });

  it('root element and structure', () => {
    expectInvalid(`<voice name="v">Hi</voice>`, /root element is <voice>; it must be <speak>/);
    expectInvalid(`<speak>a</speak><speak>b</speak>`, /more than one root element|Multiple possible root nodes/);
    expectInvalid(`<speak>a</speak>trailing`, /Text outside the root element|not well-formed/);
    expectInvalid(`<speak><speak>a</speak></speak>`, /<speak> can only be the root element/);
    expectInvalid(`<speak version="2.0">a</speak>`, /version "2.0" is not supported/);
    expectInvalid(`<!DOCTYPE speak [<!ENTITY x "boom">]><speak>&x;</speak>`, /DOCTYPE declarations are not allowed/);
  });

  it('entities and characters', () => {
    expectInvalid(`<speak>&nbsp;</speak>`, /Undefined or malformed entity reference &nbsp;/);
    expectInvalid(`<speak>&#0;</speak>`, /entity reference/);
    expectInvalid(`<speak>&#1114112;</speak>`, /entity reference/);
    expectInvalid(`<speak>bell\u0007</speak>`, /U\+0007 is not allowed/);
    expectInvalid(`<speak><voice name="&bogus;">x</voice></speak>`, /Attribute name has an undefined or malformed entity/);
  });

  it('unknown elements: strict without a prefix, lenient with one', () => {
    expectInvalid(doc(`<foo>x</foo>`), /Unknown SSML element <foo> \(line 1, column \d+\)/);
    expectInvalid(doc(`<Break/>`), /Unknown SSML element <Break>/);
    assert.equal(spokenText(parseSsml(doc(`<emo:emotion category="happy">yay</emo:emotion>`))), 'yay');
  });

  it('missing or bad attributes', () => {
    expectInvalid(`<speak><voice>x</voice></speak>`, /<voice> needs a name attribute/);
    expectInvalid(`<speak><voice name=" ">x</voice></speak>`, /<voice> needs a name attribute/);
    expectInvalid(doc(`<lang>x</lang>`), /<lang> needs an xml:lang attribute/);
    expectInvalid(`<speak xml:lang="english (US)">x</speak>`, /xml:lang "english \(US\)" is not a language tag/);
  });

  it('the 64 KB limit counts UTF-8 bytes', () => {
    const wrapper = doc('');
    const fill = (bytes: number, ch: string, size: number): string => doc(ch.repeat(Math.floor((bytes - wrapper.length) / size)));
    const exact = fill(65_536, 'a', 1);
    assert.equal(Buffer.byteLength(exact), 65_536);
    assert.doesNotThrow(() => parseSsml(exact));
    expectInvalid(`${exact} `, /larger than 65536 bytes/);
    const euro = fill(65_536 + 3, '€', 3); // 3 bytes each: under 64 K characters, over 64 KB
    assert.ok(euro.length < 65_536 && Buffer.byteLength(euro) > 65_536);
    expectInvalid(euro, /larger than 65536 bytes/);
    expectInvalid(doc('hello'), /larger than 100 bytes/, { maxBytes: 100 });
  });

  it('nesting deeper than 64 levels', () => {
    const nest = (n: number): string => `<speak>${'<s>'.repeat(n - 1)}deep${'</s>'.repeat(n - 1)}</speak>`;
    assert.doesNotThrow(() => parseSsml(nest(64)));
    expectInvalid(nest(65), /deeper than 64 levels/);
    expectInvalid(nest(5000), /deeper than 64 levels/);
  });
});

describe('ssml: sentence splitting', () => {
  it('splits at . ! ? followed by space, not after abbreviations or inside numbers', () => {
    const text = 'Mr. Smith met Dr. Jones at 3.14 p.m. today! Did they talk, e.g. about pi? Yes. They did etc. and so on.';
    assert.deepEqual(splitSentences(text).map((s) => s.text), [
      'Mr. Smith met Dr. Jones at 3.14 p.m. today!',
      'Did they talk, e.g. about pi?',
      'Yes.',
      'They did etc. and so on.',
    ]);
  });

  it('handles initials, closing quotes, ellipses, CJK and blank lines', () => {
    assert.deepEqual(splitSentences('J. R. R. Tolkien wrote it. "Really?" she asked. Wait... what? Go… Now.').map((s) => s.text), [
      'J. R. R. Tolkien wrote it.',
      '"Really?"',
      'she asked.',
      'Wait... what?',
      'Go…',
      'Now.',
    ]);
    assert.deepEqual(splitSentences('你好。今天天气很好！你呢？').map((s) => s.text), ['你好。', '今天天气很好！', '你呢？']);
    assert.deepEqual(splitSentences('Title line\n\nBody text').map((s) => s.text), ['Title line', 'Body text']);
    assert.deepEqual(splitSentences('It ends at 5 p.m. Then we go.').map((s) => s.text), ['It ends at 5 p.m.', 'Then we go.']);
    assert.deepEqual(splitSentences('Visit example.com today. Version 1.2.3 is out.').map((s) => s.text), ['Visit example.com today.', 'Version 1.2.3 is out.']);
  });

  it('reports increasing ends within the text', () => {
    assert.deepEqual(sentenceEnds('Ok. B! C? 。D'), [3, 6, 9, 11]);
    assert.deepEqual(sentenceEnds('No end here'), []);
    assert.deepEqual(sentenceEnds('Ends here.'), [10]);
  });

  it('marks the first piece of each sentence and cuts speech there', () => {
    const ssml = doc(`Hello Mr. Smith. How are <emphasis>you</emphasis> today? Fine!`);
    const plan = parseSsml(ssml);
    assert.deepEqual(
      speech(plan).map((i) => [i.text, i.sentenceStart, i.sentence?.sourceText]),
      [
        ['Hello mister Smith.', true, 'Hello Mr. Smith.'],
        ['How are', true, 'How are'],
        ['you', false, undefined],
        ['today?', false, undefined],
        ['Fine!', true, 'Fine!'],
      ],
    );
    checkSdkFinds(ssml, plan);
  });
});

describe('ssml: planFromText', () => {
  it('plans plain text with offsets into the text', () => {
    const text = 'I owe you $20.  Pay me by 5pm, OK?\nThanks & bye.';
    const plan = planFromText(text, 'en-US-AvaMultilingualNeural', 'en-US');
    checkPlan(text, plan);
    assert.deepEqual(speech(plan).map((i) => i.text), ['I owe you twenty dollars.', 'Pay me by five pee em, OK?', 'Thanks and bye.']);
    assert.deepEqual(speech(plan)[0]?.voice, { name: 'en-US-AvaMultilingualNeural', lang: 'en-US' });
    const sdk = sdkOffsets(text, allWords(plan).map((w) => w.sourceText));
    assert.deepEqual(sdk, allWords(plan).map((w) => w.sourceOffset));
    assert.deepEqual(planFromText('', 'v', 'en-US').items, []);
  });

  it('does not treat markup-like text as markup', () => {
    const plan = planFromText('a <b> & c', 'v', 'en-US');
    assert.equal(spokenText(plan), 'a less than b greater than and c');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Many documents: the literal-offset invariant and the SDK's search

const CORPUS: readonly string[] = [
  sdkWrap('The quick brown fox jumps over the lazy dog.'),
  sdkWrap('On 12/25/2020 at 3:30 pm, Mr. Smith paid $1,234.56 (about 50%) for 2 tickets, i.e. 1 each.'),
  sdkWrap('Call 555-1234 or e-mail me@example.com; the 2nd option is free. 1999 was a good year — wasn’t it?'),
  sdkWrap('Repeated words: the cat saw the cat and the other cat. 25 and 25 and 25!'),
  sdkWrap('Punctuation... lots of it!!! (Really?) "Yes," she said: \'fine\'.'),
  sdkWrap('Tabs\tand\nnewlines\r\nand   spaces.'),
  sdkWrap('Emoji 😀 and accents: café, naïve, Zürich. Math: 2 + 2 = 4; 10 × 3.'),
  sdkWrap('Japanese: こんにちは。元気ですか？', 'ja-JP-NanamiNeural', 'ja-JP'),
  doc(`<p><s>First sentence.</s><s>Second one.</s></p><p>Another paragraph with <break time="300ms"/> a pause.</p>`),
  doc(`<prosody rate="slow" pitch="low">Slow and low, <emphasis level="strong">very</emphasis> slow.</prosody> Normal again.`),
  doc(`The word <say-as interpret-as="characters">cat</say-as> has three letters: c, a, t. The cat sat.`),
  doc(`Numbers <say-as interpret-as="cardinal">25</say-as> and 25 and <say-as interpret-as="ordinal">25</say-as>.`),
  doc(`<sub alias="doctor">Dr.</sub> Dr. Who and <sub alias="doctor">Dr.</sub> again.`),
  doc(`Mark <bookmark mark="m1"/>here and <bookmark mark="here"/>here.`),
  doc(`<mstts:express-as style="sad">I'm sad.</mstts:express-as> <mstts:express-as style="cheerful">Now happy!</mstts:express-as>`),
  `<speak version="1.0" xml:lang="en-US"><voice name="a">Voice A speaks.</voice><voice name="b">Voice B speaks, voice A listens.</voice><voice name="a">A again: speaks.</voice></speak>`,
  doc(`Escapes: &lt;b&gt;bold&lt;/b&gt; &amp;&amp; &quot;x&quot; &#x263A; &#9731;.`),
  doc(`A <lang xml:lang="de-DE">Straße 5</lang> and <lang xml:lang="fr-FR">café 7</lang> mix.`),
  doc(`<audio src="a.wav">fallback <desc>desc words</desc> text</audio> after audio.`),
  doc(`name speaks the name: name <break/> name.`),
  doc(`voice speak break prosody are words here: voice, speak, break.`),
  doc(`Dates <say-as interpret-as="date" format="ymd">2024-01-02</say-as>, times <say-as interpret-as="time" format="hms24">13:05</say-as>.`),
];

describe('ssml: invariants over a corpus', () => {
  it('every word is a literal substring at its offset, spans are ordered', () => {
    for (const source of CORPUS) checkPlan(source, parseSsml(source));
  });

  it('the SDK search lands on every word, punctuation and sentence', () => {
    for (const source of CORPUS) checkSdkFinds(source, parseSsml(source));
  });

  it('plain-text plans keep the invariant too', () => {
    for (const source of CORPUS) {
      const text = source.replace(/<[^>]*>/g, ' ');
      const plan = planFromText(text, 'v', 'en-US');
      checkPlan(text, plan);
      checkSdkFinds(text, plan);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Fuzz: random and mutated documents either parse into a valid plan or fail with InvalidSsml, quickly.

const FRAGMENTS = [
  'Hello', ' world', '. ', '! ', '? ', ', ', 'Mr. ', 'Dr.', ' e.g. ', '3.14', ' $3.50', '1,000', ' 25 ', '2nd', '1999', '-5', '50%', '3:30',
  ' a.m.', '&amp;', '&lt;', '&#65;', '&#x1F600;', '&bogus;', '&', '<', '>', '"', "'", '\n', '\t', '\r\n', ' ', 'café', '你好。', '😀',
  '<break/>', '<break time="500ms"/>', '<break time="abc"/>', '<break strength="strong"/>', '<p>', '</p>', '<s>', '</s>',
  '<prosody rate="+20%">', '<prosody rate="fast-ish">', '<prosody pitch="-2st" volume="loud">', '</prosody>', '<emphasis>', '</emphasis>',
  '<say-as interpret-as="cardinal">', '<say-as interpret-as="date" format="mdy">', '<say-as interpret-as="characters">', '</say-as>',
  '<sub alias="x">', '</sub>', '<phoneme ph="x">', '</phoneme>', '<bookmark mark="b"/>', '<audio src="a">', '</audio>', '<desc>', '</desc>',
  '<mstts:express-as style="cheerful">', '</mstts:express-as>', '<mstts:silence type="Leading" value="100ms"/>', '<lang xml:lang="fr-FR">',
  '</lang>', '<voice name="v2">', '</voice>', '<unknown>', '</unknown>', '<!-- c -->', '<![CDATA[raw <text> & stuff]]>', '<?pi x?>', '<x:y/>',
];

function randomDocument(r: () => number): string {
  const parts: string[] = [];
  const n = 1 + Math.floor(r() * 30);
  for (let i = 0; i < n; i++) parts.push(FRAGMENTS[Math.floor(r() * FRAGMENTS.length)] ?? '');
  return doc(parts.join(''));
}

function mutate(source: string, r: () => number): string {
  let s = source;
  const ops = 1 + Math.floor(r() * 4);
  for (let k = 0; k < ops; k++) {
    const at = Math.floor(r() * (s.length + 1));
    const len = Math.floor(r() * 8);
    const op = Math.floor(r() * 4);
    if (op === 0) s = s.slice(0, at) + s.slice(at + len);
    else if (op === 1) s = s.slice(0, at) + ('<>/&;"\'= ax#!.'.charAt(Math.floor(r() * 15)) ?? '') + s.slice(at);
    else if (op === 2) s = s.slice(0, at) + s.slice(at, at + len) + s.slice(at);
    else s = s.slice(0, at) + (FRAGMENTS[Math.floor(r() * FRAGMENTS.length)] ?? '') + s.slice(at);
  }
  return s;
}

function parseOrInvalid(source: string): 'plan' | 'invalid' {
  try {
    const plan = parseSsml(source);
    checkPlan(source, plan);
    return 'plan';
  } catch (err) {
    if (err instanceof ServiceError && err.code === 'InvalidSsml' && err.status === 400 && err.message.length > 0) return 'invalid';
    throw new Error(`${JSON.stringify(source)} threw ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
}

describe('ssml: fuzz', () => {
  it('thousands of random and mutated documents: a valid plan or InvalidSsml, never anything else', () => {
    const r = prng(20_240_601);
    const seeds = [...CORPUS];
    const tally = { plan: 0, invalid: 0 };
    const started = performance.now();
    for (let i = 0; i < 4000; i++) {
      const source = i % 2 === 0 ? randomDocument(r) : mutate(seeds[Math.floor(r() * seeds.length)] ?? '', r);
      tally[parseOrInvalid(source)]++;
    }
    const elapsed = performance.now() - started;
    assert.ok(tally.plan > 300 && tally.invalid > 300, `both outcomes exercised: ${JSON.stringify(tally)}`);
    assert.ok(elapsed < 20_000, `took ${Math.round(elapsed)} ms`);
  });

  it('bounded work on huge and deeply nested inputs', () => {
    const inputs: string[] = [
      doc('word. '.repeat(10_900)),
      doc('1'.repeat(65_000)),
      doc('a.'.repeat(32_500)),
      doc('&amp;'.repeat(13_000)),
      doc('<break/>'.repeat(8_000)),
      doc('<prosody rate="+1%">x</prosody>'.repeat(2_000)),
      doc('!?'.repeat(32_000)),
      doc('\n\n'.repeat(32_000)),
      doc('Mr. '.repeat(16_000)),
      doc('1,'.repeat(32_000)),
      `<speak>${'<s>'.repeat(20_000)}</speak>`,
      `<speak>${'<s>'.repeat(10_000)}${'</s>'.repeat(10_000)}</speak>`,
      `<speak>${'<p a="1" b="2">'.repeat(60)}x${'</p>'.repeat(60)}</speak>`,
      `<speak ${Array.from({ length: 3000 }, (_, k) => `a${k}="v"`).join(' ')}>x</speak>`,
      `<speak>${'<!-- -->'.repeat(8000)}</speak>`,
      doc('<say-as interpret-as="characters">' + 'x'.repeat(60_000) + '</say-as>'),
    ];
    for (const source of inputs) {
      const started = performance.now();
      parseOrInvalid(source);
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 2_000, `${source.slice(0, 80)}… took ${Math.round(elapsed)} ms`);
    }
  });
});
