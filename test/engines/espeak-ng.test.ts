import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { EngineError, type EngineErrorKind, type Prosody, type SynthesisEvent } from '../../src/domain/ports/engines.js';
import { EspeakNgEngine, espeakPitch, espeakRate } from '../../src/engines/espeak-ng/index.js';

// ------------------------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------------------------

const RATE = 22_050;
const NORMAL: Prosody = { rate: 1, pitch: 1, volume: 1 };

type WordEvent = Extract<SynthesisEvent, { type: 'word' }>;
type PhoneEvent = Extract<SynthesisEvent, { type: 'phone' }>;

interface Collected {
  events: SynthesisEvent[];
  pcm: Int16Array;
  words: WordEvent[];
  phones: PhoneEvent[];
  durationMs: number;
}

async function collect(iterable: AsyncIterable<SynthesisEvent>): Promise<Collected> {
  const events: SynthesisEvent[] = [];
  for await (const e of iterable) events.push(e);
  const chunks = events.flatMap((e) => (e.type === 'audio' ? [e.pcm] : []));
  const pcm = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    pcm.set(c, offset);
    offset += c.length;
  }
  return {
    events,
    pcm,
    words: events.filter((e): e is WordEvent => e.type === 'word'),
    phones: events.filter((e): e is PhoneEvent => e.type === 'phone'),
    durationMs: (pcm.length * 1000) / RATE,
  };
}

function rms(pcm: Int16Array): number {
  let sum = 0;
  for (const s of pcm) sum += s * s;
  return Math.sqrt(sum / Math.max(1, pcm.length));
}

/** Median fundamental frequency of the voiced 40 ms frames, by autocorrelation (70–500 Hz). */
function medianF0(pcm: Int16Array, rate: number): number {
  const frame = Math.round(rate * 0.04);
  const minLag = Math.floor(rate / 500);
  const maxLag = Math.ceil(rate / 70);
  const threshold = rms(pcm) * 0.5;
  const f0s: number[] = [];
  for (let start = 0; start + frame + maxLag < pcm.length; start += frame) {
    const x = pcm.subarray(start, start + frame + maxLag);
    if (rms(x.subarray(0, frame)) < threshold) continue;
    let energy = 0;
    for (let i = 0; i < frame; i++) energy += (x[i] ?? 0) ** 2;
    let bestLag = 0;
    let best = 0;
    for (let lag = minLag; lag <= maxLag; lag++) {
      let c = 0;
      for (let i = 0; i < frame; i++) c += (x[i] ?? 0) * (x[i + lag] ?? 0);
      if (c > best) {
        best = c;
        bestLag = lag;
      }
    }
    if (bestLag > 0 && best > 0.3 * energy) f0s.push(rate / bestLag);
  }
  f0s.sort((a, b) => a - b);
  return f0s[Math.floor(f0s.length / 2)] ?? 0;
}

function isEngineError(kind: EngineErrorKind): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof EngineError, `expected EngineError(${kind}), got ${String(err)}`);
    assert.equal(err.kind, kind);
    return true;
  };
}

/** The words' text as written in the input. */
function spelled(text: string, words: readonly WordEvent[]): string[] {
  return words.map((w) => text.slice(w.textOffset, w.textOffset + w.textLength));
}

/** Events (other than audio) never go back in time, and each starts inside the audio emitted up to its batch's end. */
function assertAudioTimeOrder(c: Collected): void {
  let last = -1;
  for (const e of c.events) {
    if (e.type === 'audio') continue;
    assert.ok(e.audioOffsetMs >= last, `events in audio-time order: ${e.audioOffsetMs} after ${last}`);
    assert.ok(e.durationMs > 0);
    assert.ok(e.audioOffsetMs + e.durationMs <= c.durationMs + 1, `event ends inside the audio (${e.audioOffsetMs}+${e.durationMs} > ${c.durationMs})`);
    last = e.audioOffsetMs;
  }
}

const HELLO = 'Hello world. This is a test.';

// ------------------------------------------------------------------------------------------------------------------
// Tests
// ------------------------------------------------------------------------------------------------------------------

describe('EspeakNgEngine', () => {
  let engine: EspeakNgEngine;

  before(async () => {
    engine = new EspeakNgEngine();
    await engine.ready();
  });

  after(async () => {
    await engine.close();
  });

  it('lists a male and a female voice for each curated locale, at 22 050 Hz', () => {
    const voices = engine.voices();
    const locales = ['en-US', 'en-GB', 'de-DE', 'fr-FR', 'es-ES', 'it-IT', 'pt-BR', 'nl-NL', 'ja-JP', 'zh-CN', 'ru-RU', 'pl-PL', 'sv-SE', 'hi-IN', 'ko-KR'];
    assert.equal(voices.length, locales.length * 2, 'every voice installed on this machine');
    for (const locale of locales) {
      const mine = voices.filter((v) => v.locale === locale);
      assert.deepEqual(mine.map((v) => v.gender).sort(), ['Female', 'Male'], locale);
    }
    const enUs = voices.find((v) => v.id === 'espeak-ng:en-us');
    assert.deepEqual(enUs, { id: 'espeak-ng:en-us', engine: 'espeak-ng', name: 'Male', locale: 'en-US', gender: 'Male', sampleRate: RATE, wordsPerMinute: enUs?.wordsPerMinute });
    assert.ok(voices.some((v) => v.id === 'espeak-ng:en-us+f3' && v.gender === 'Female'));
    assert.equal(new Set(voices.map((v) => v.id)).size, voices.length, 'ids are unique');
    assert.equal(engine.phoneSet, 'espeak');
  });

  it('speaks "Hello world. This is a test." with a word event on each word, in order, inside the audio', async () => {
    const c = await collect(engine.synthesize({ text: HELLO, voiceId: 'espeak-ng:en-us', prosody: NORMAL }));
    assert.ok(c.durationMs > 1200 && c.durationMs < 3500, `plausible duration: ${c.durationMs} ms`);
    assert.ok(rms(c.pcm) > 500, `not silent (rms ${rms(c.pcm)})`);
    assert.deepEqual(spelled(HELLO, c.words), ['Hello', 'world', 'This', 'is', 'a', 'test']);
    assert.deepEqual(
      c.words.map((w) => w.textOffset),
      [0, 6, 13, 18, 21, 23],
    );
    for (let i = 1; i < c.words.length; i++) {
      const prev = c.words[i - 1];
      const cur = c.words[i];
      assert.ok(prev !== undefined && cur !== undefined && cur.audioOffsetMs >= prev.audioOffsetMs + prev.durationMs - 1, 'words do not overlap');
    }
    // The sentence pause lies between "world" and "This".
    const world = c.words[1];
    const thisWord = c.words[2];
    assert.ok(world !== undefined && thisWord !== undefined && thisWord.audioOffsetMs - (world.audioOffsetMs + world.durationMs) > 150, 'pause after the sentence');
    assert.ok(c.phones.length >= 15, `phones reported (${c.phones.length})`);
    assert.ok(c.phones.some((p) => p.phone === 'h') && c.phones.some((p) => p.phone === 'oU'), `eSpeak mnemonics: ${c.phones.map((p) => p.phone).join(' ')}`);
    assertAudioTimeOrder(c);
  });

  it('gives UTF-16 offsets for German umlauts and for characters outside the BMP', async () => {
    const german = 'Über größere Brücken fährt man. Schön!';
    const de = await collect(engine.synthesize({ text: german, voiceId: 'espeak-ng:de', prosody: NORMAL }));
    assert.deepEqual(spelled(german, de.words), ['Über', 'größere', 'Brücken', 'fährt', 'man', 'Schön']);
    assertAudioTimeOrder(de);

    const emoji = 'I like 🍕 pizza and café au lait.';
    const en = await collect(engine.synthesize({ text: emoji, voiceId: 'espeak-ng:en-us', prosody: NORMAL }));
    const words = spelled(emoji, en.words);
    assert.ok(words.includes('pizza') && words.includes('café') && words.includes('lait'), `words after a surrogate pair: ${JSON.stringify(words)}`);
    const pizza = en.words[words.indexOf('pizza')];
    assert.equal(pizza?.textOffset, emoji.indexOf('pizza'));
  });

  it('reports a number with separators as one word', async () => {
    const text = 'It costs $1,234.50 today.';
    const c = await collect(engine.synthesize({ text, voiceId: 'espeak-ng:en-us', prosody: NORMAL }));
    assert.deepEqual(spelled(text, c.words), ['It', 'costs', '$1,234.50', 'today']);
  });

  it('speaks every listed voice', async () => {
    for (const voice of engine.voices()) {
      const c = await collect(engine.synthesize({ text: '12', voiceId: voice.id, prosody: NORMAL }));
      assert.ok(c.durationMs > 200 && rms(c.pcm) > 300, `${voice.id}: ${c.durationMs} ms`);
    }
  });

  it('follows the rate: 2 is much shorter than 0.5', async () => {
    const text = 'The quick brown fox jumps over the lazy dog.';
    const [slow, normal, fast] = await Promise.all(
      [0.5, 1, 2].map((rate) => collect(engine.synthesize({ text, voiceId: 'espeak-ng:en-us', prosody: { ...NORMAL, rate } }))),
    );
    assert.ok(slow !== undefined && normal !== undefined && fast !== undefined);
    assert.ok(slow.durationMs > normal.durationMs * 1.6, `0.5: ${slow.durationMs} vs 1: ${normal.durationMs}`);
    assert.ok(fast.durationMs < normal.durationMs * 0.65, `2: ${fast.durationMs} vs 1: ${normal.durationMs}`);
    assert.equal(fast.words.length, 9);
    assertAudioTimeOrder(fast);
    assert.equal(espeakRate(1), 175);
    assert.equal(espeakRate(0.25), 80, 'eSpeak minimum');
    assert.equal(espeakRate(4), 700);
  });

  it('follows the pitch', async () => {
    const text = 'Hello, how are you doing today?';
    const low = await collect(engine.synthesize({ text, voiceId: 'espeak-ng:en-us', prosody: { ...NORMAL, pitch: 0.7 } }));
    const high = await collect(engine.synthesize({ text, voiceId: 'espeak-ng:en-us', prosody: { ...NORMAL, pitch: 1.4 } }));
    const f0Low = medianF0(low.pcm, RATE);
    const f0High = medianF0(high.pcm, RATE);
    assert.ok(f0High > f0Low * 1.5, `f0 ${f0Low.toFixed(0)} Hz → ${f0High.toFixed(0)} Hz`);
    assert.ok(Math.abs(high.durationMs - low.durationMs) < 0.1 * low.durationMs, 'pitch does not change the duration');
    assert.equal(espeakPitch(1), 50);
    assert.equal(espeakPitch(0.5), 0);
    assert.equal(espeakPitch(2), 100);
  });

  it('sends audio before the last sentence is done', async () => {
    const sentences = Array.from({ length: 12 }, (_, i) => `This is sentence number ${i + 1} of a longer text.`);
    const text = sentences.join(' ');
    const lastStart = text.lastIndexOf('This');
    const c = await collect(engine.synthesize({ text, voiceId: 'espeak-ng:en-us', prosody: NORMAL }));
    const firstAudio = c.events.findIndex((e) => e.type === 'audio');
    const lastSentenceWord = c.events.findIndex((e) => e.type === 'word' && e.textOffset >= lastStart);
    assert.ok(firstAudio >= 0 && lastSentenceWord > firstAudio, `first audio (event ${firstAudio}) before the last sentence (event ${lastSentenceWord})`);
    assert.ok(c.events.filter((e) => e.type === 'audio').length >= 12, 'audio in several pieces');
    // eSpeak folds some unstressed words into the next ("of a longer": no event for "a").
    const written = text.split(' ').map((w) => w.replace('.', ''));
    const said = spelled(text, c.words);
    assert.ok(said.length >= written.length * 0.85, `${said.length} of ${written.length} words`);
    assert.ok(said.every((w) => written.includes(w)), JSON.stringify(said));
    assert.ok(c.words.every((w, i) => i === 0 || w.textOffset > (c.words[i - 1]?.textOffset ?? 0)), 'words in text order');
    assertAudioTimeOrder(c);
  });

  it('gives nothing for blank text', async () => {
    const c = await collect(engine.synthesize({ text: '  \n ', voiceId: 'espeak-ng:en-us', prosody: NORMAL }));
    assert.equal(c.events.length, 0);
  });

  it('rejects an unknown voice with UnsupportedLocale', async () => {
    await assert.rejects(collect(engine.synthesize({ text: 'hi', voiceId: 'espeak-ng:xx-nope', prosody: NORMAL })), isEngineError('UnsupportedLocale'));
    await assert.rejects(collect(engine.synthesize({ text: 'hi', voiceId: 'flite:slt', prosody: NORMAL })), isEngineError('UnsupportedLocale'));
  });

  it('stops on abort, and serves the next request', async () => {
    const text = Array.from({ length: 300 }, () => 'A fairly long sentence keeps the worker busy for a while.').join(' ');
    const ac = new AbortController();
    let audio = 0;
    await assert.rejects(
      (async () => {
        for await (const e of engine.synthesize({ text, voiceId: 'espeak-ng:en-us', prosody: NORMAL }, ac.signal)) {
          if (e.type === 'audio' && ++audio === 2) ac.abort();
        }
      })(),
      isEngineError('Aborted'),
    );
    const already = new AbortController();
    already.abort();
    await assert.rejects(collect(engine.synthesize({ text: HELLO, voiceId: 'espeak-ng:en-us', prosody: NORMAL }, already.signal)), isEngineError('Aborted'));
    const next = await collect(engine.synthesize({ text: HELLO, voiceId: 'espeak-ng:en-us', prosody: NORMAL }));
    assert.equal(next.words.length, 6);
  });

  it('stops when the consumer stops reading', async () => {
    const text = Array.from({ length: 300 }, () => 'Another long sentence for the consumer to walk away from.').join(' ');
    for await (const e of engine.synthesize({ text, voiceId: 'espeak-ng:en-us', prosody: NORMAL })) {
      if (e.type === 'audio') break;
    }
    const next = await collect(engine.synthesize({ text: HELLO, voiceId: 'espeak-ng:en-us+f3', prosody: NORMAL }));
    assert.equal(next.words.length, 6);
  });

  it('runs concurrent requests one after another on one worker', async () => {
    const texts = ['First request here.', 'Zweite Anfrage hier.', 'Third request here.'];
    const voices = ['espeak-ng:en-us', 'espeak-ng:de', 'espeak-ng:en'];
    const results = await Promise.all(texts.map((text, i) => collect(engine.synthesize({ text, voiceId: voices[i] ?? '', prosody: NORMAL }))));
    results.forEach((r, i) => assert.deepEqual(spelled(texts[i] ?? '', r.words), (texts[i] ?? '').replace('.', '').split(' ')));
  });
});

describe('EspeakNgEngine limits and lifecycle', () => {
  it('rejects with Overloaded when the queue is full', async () => {
    const engine = new EspeakNgEngine({ workers: 1, maxQueued: 0 });
    try {
      await engine.ready();
      const long = Array.from({ length: 400 }, () => 'Keep the only worker busy with this sentence.').join(' ');
      const first = engine.synthesize({ text: long, voiceId: 'espeak-ng:en-us', prosody: NORMAL })[Symbol.asyncIterator]();
      await first.next();
      await assert.rejects(collect(engine.synthesize({ text: HELLO, voiceId: 'espeak-ng:en-us', prosody: NORMAL })), isEngineError('Overloaded'));
      await first.return?.();
      // The worker stops within one buffer; until it has, the (zero-length) queue is still full.
      let after: Collected | undefined;
      for (let attempt = 0; attempt < 100 && after === undefined; attempt++) {
        try {
          after = await collect(engine.synthesize({ text: HELLO, voiceId: 'espeak-ng:en-us', prosody: NORMAL }));
        } catch (err) {
          assert.ok(err instanceof EngineError && err.kind === 'Overloaded');
          await new Promise((r) => setTimeout(r, 10));
        }
      }
      assert.equal(after?.words.length, 6);
    } finally {
      await engine.close();
    }
  });

  it('runs two workers in parallel, each with its own copy of the library, with the same results as one', async () => {
    const single = new EspeakNgEngine();
    const dual = new EspeakNgEngine({ workers: 2 });
    try {
      await Promise.all([single.ready(), dual.ready()]);
      const inputs = [
        { text: Array.from({ length: 20 }, () => HELLO).join(' '), voiceId: 'espeak-ng:en-us', prosody: NORMAL },
        { text: Array.from({ length: 20 }, () => 'Über größere Brücken fährt man.').join(' '), voiceId: 'espeak-ng:de', prosody: NORMAL },
      ];
      const expected: Collected[] = [];
      for (const input of inputs) expected.push(await collect(single.synthesize(input)));
      for (let round = 0; round < 3; round++) {
        const got = await Promise.all(inputs.map((input) => collect(dual.synthesize(input))));
        got.forEach((g, i) => {
          const want = expected[i];
          assert.ok(want !== undefined);
          assert.deepEqual(spelled(inputs[i]?.text ?? '', g.words), spelled(inputs[i]?.text ?? '', want.words));
          // eSpeak's pauses vary by a few ms between calls; the words and the length must not.
          assert.ok(Math.abs(g.durationMs - want.durationMs) < 0.05 * want.durationMs, `${g.durationMs} vs ${want.durationMs}`);
        });
      }
    } finally {
      await Promise.all([single.close(), dual.close()]);
    }
  });

  it('respawns a crashed worker', async () => {
    const engine = new EspeakNgEngine();
    try {
      await engine.ready();
      engine.crashWorkerForTest(0);
      let served = false;
      for (let attempt = 0; attempt < 50 && !served; attempt++) {
        try {
          served = (await collect(engine.synthesize({ text: HELLO, voiceId: 'espeak-ng:en-us', prosody: NORMAL }))).words.length === 6;
        } catch (err) {
          assert.ok(err instanceof EngineError && err.kind === 'Internal', `only the crashed request fails: ${String(err)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      assert.ok(served, 'served after the respawn');
    } finally {
      await engine.close();
    }
  });

  it('closes: pending requests end with Aborted, later ones are refused', async () => {
    const engine = new EspeakNgEngine();
    await engine.ready();
    const long = Array.from({ length: 400 }, () => 'Closing the engine ends this request early.').join(' ');
    const running = assert.rejects(collect(engine.synthesize({ text: long, voiceId: 'espeak-ng:en-us', prosody: NORMAL })), isEngineError('Aborted'));
    await new Promise((r) => setTimeout(r, 5));
    await engine.close();
    await running;
    await assert.rejects(collect(engine.synthesize({ text: HELLO, voiceId: 'espeak-ng:en-us', prosody: NORMAL })), isEngineError('Aborted'));
    await engine.close(); // idempotent
  });
});
