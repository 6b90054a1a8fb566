import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { EngineError, type EngineErrorKind, type SynthesisEvent, type SynthesisInput } from '../../src/domain/ports/engines.js';
import { FliteEngine, locateTokens, sentenceEvents, splitSentences } from '../../src/engines/flite/index.js';

// ------------------------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------------------------

type WordEvent = Extract<SynthesisEvent, { type: 'word' }>;
type PhoneEvent = Extract<SynthesisEvent, { type: 'phone' }>;

const PLAIN = { rate: 1, pitch: 1, volume: 1 };

function input(text: string, voiceId = 'flite:slt', prosody: Partial<SynthesisInput['prosody']> = {}): SynthesisInput {
  return { text, voiceId, prosody: { ...PLAIN, ...prosody } };
}

async function collect(events: AsyncIterable<SynthesisEvent>): Promise<SynthesisEvent[]> {
  const out: SynthesisEvent[] = [];
  for await (const ev of events) out.push(ev);
  return out;
}

function audioOf(events: readonly SynthesisEvent[]): Int16Array {
  const chunks = events.flatMap((e) => (e.type === 'audio' ? [e.pcm] : []));
  const out = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

const wordsOf = (events: readonly SynthesisEvent[]): WordEvent[] => events.filter((e): e is WordEvent => e.type === 'word');
const phonesOf = (events: readonly SynthesisEvent[]): PhoneEvent[] => events.filter((e): e is PhoneEvent => e.type === 'phone');
const spoken = (text: string, events: readonly SynthesisEvent[]): string[] => wordsOf(events).map((w) => text.substr(w.textOffset, w.textLength));

function rms(pcm: Int16Array): number {
  let sum = 0;
  for (const s of pcm) sum += s * s;
  return Math.sqrt(sum / Math.max(1, pcm.length));
}

/** Median F0 (Hz) of the loud, clearly periodic 40 ms frames, by normalised autocorrelation. */
function medianF0(pcm: Int16Array, sampleRate: number): number {
  const frame = Math.round(sampleRate * 0.04);
  const hop = Math.round(sampleRate * 0.01);
  const minLag = Math.floor(sampleRate / 400);
  const maxLag = Math.ceil(sampleRate / 60);
  const energy = (i: number, lag = 0): number => {
    let e = 0;
    for (let j = 0; j < frame; j++) e += (pcm[i + j + lag] ?? 0) ** 2;
    return e;
  };
  let loudest = 0;
  for (let i = 0; i + frame < pcm.length; i += hop) loudest = Math.max(loudest, energy(i));
  const estimates: number[] = [];
  for (let i = 0; i + frame + maxLag < pcm.length; i += hop) {
    const e0 = energy(i);
    if (e0 < loudest * 0.05) continue;
    let best = 0;
    let bestLag = 0;
    for (let lag = minLag; lag <= maxLag; lag++) {
      let c = 0;
      for (let j = 0; j < frame; j++) c += (pcm[i + j] ?? 0) * (pcm[i + j + lag] ?? 0);
      const r = c / Math.sqrt(e0 * energy(i, lag) + 1);
      if (r > best) {
        best = r;
        bestLag = lag;
      }
    }
    if (best > 0.6) estimates.push(sampleRate / bestLag);
  }
  estimates.sort((a, b) => a - b);
  assert.ok(estimates.length > 20, `too few voiced frames (${estimates.length})`);
  return estimates[Math.floor(estimates.length / 2)] ?? 0;
}

function isEngineError(kind: EngineErrorKind): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof EngineError, `expected EngineError(${kind}), got ${String(err)}`);
    assert.equal(err.kind, kind);
    return true;
  };
}

/** Checks the port's ordering promise: nothing refers to audio already yielded, times only go forward. */
function assertAudioTimeOrder(events: readonly SynthesisEvent[], sampleRate: number): void {
  let audioMs = 0;
  let lastStart = 0;
  for (const ev of events) {
    if (ev.type === 'audio') {
      audioMs += (ev.pcm.length * 1000) / sampleRate;
      continue;
    }
    assert.ok(ev.audioOffsetMs >= audioMs - 1e-6, `${ev.type} at ${ev.audioOffsetMs} ms after ${audioMs} ms of audio were yielded`);
    assert.ok(ev.audioOffsetMs >= lastStart - 1e-6, `${ev.type} at ${ev.audioOffsetMs} ms goes back in time (${lastStart})`);
    assert.ok(ev.durationMs >= 0);
    lastStart = ev.audioOffsetMs;
  }
}

const TEN_SENTENCES = Array.from(
  { length: 10 },
  (_, i) => `Sentence number ${i + 1} is here to make the text long enough for streaming to matter at all.`,
).join(' ');

// ------------------------------------------------------------------------------------------------------------------
// Pure text helpers
// ------------------------------------------------------------------------------------------------------------------

describe('flite text helpers', () => {
  it('splits sentences at . ! ? before a capital, keeping offsets', () => {
    const text = '  Hello world.  This is it! Is it? yes, Dr. Smith of the U.S.A. Lives here. e.g. this stays. "Quoted." Next';
    const sentences = splitSentences(text);
    assert.deepEqual(
      sentences.map((s) => s.text),
      // Like flite: no break after an abbreviation-like token ("Dr", "U.S.A") or before a lower-case word.
      ['Hello world.', 'This is it!', 'Is it?', 'yes, Dr. Smith of the U.S.A. Lives here. e.g. this stays.', '"Quoted."', 'Next'],
    );
    for (const s of sentences) assert.equal(text.substr(s.offset, s.text.length), s.text);
  });

  it('breaks at blank lines, and caps long sentences at a space', () => {
    assert.deepEqual(
      splitSentences('one\n\ntwo\nthree').map((s) => s.text),
      ['one', 'two\nthree'],
    );
    const long = 'word '.repeat(500).trim();
    const pieces = splitSentences(long, 100);
    assert.ok(pieces.every((p) => p.text.length <= 100 && p.text === p.text.trim()));
    assert.equal(pieces.map((p) => p.text).join(' '), long);
    for (const p of pieces) assert.equal(long.substr(p.offset, p.text.length), p.text);
    assert.deepEqual(splitSentences('x'.repeat(250), 100).map((p) => p.text.length), [100, 100, 50]);
    assert.deepEqual(splitSentences(' \n\t '), []);
  });

  it('locates tokens in order, repeated words included', () => {
    assert.deepEqual(locateTokens('the cat and the hat', ['the', 'cat', 'and', 'the', 'hat']), [
      { offset: 0, length: 3 },
      { offset: 4, length: 3 },
      { offset: 8, length: 3 },
      { offset: 12, length: 3 },
      { offset: 16, length: 3 },
    ]);
    assert.deepEqual(locateTokens('a "quoted" b', ['a', 'missing', 'quoted', 'b']), [
      { offset: 0, length: 1 },
      undefined,
      { offset: 3, length: 6 },
      { offset: 11, length: 1 },
    ]);
  });

  it('orders a sentence\'s events by time, words before the phones they start with, audio last; pau is sil', () => {
    const events = sentenceEvents(
      { offset: 10, text: 'Hi you.' },
      {
        pcm: new Int16Array(16),
        tokens: [{ text: 'Hi', startMs: 100, endMs: 300 }, { text: 'you', startMs: 300, endMs: 500 }],
        segments: [
          { phone: 'pau', startMs: 0, endMs: 100 },
          { phone: 'hh', startMs: 100, endMs: 200 },
          { phone: 'ay', startMs: 200, endMs: 300 },
          { phone: 'y', startMs: 300, endMs: 400 },
          { phone: 'uw', startMs: 400, endMs: 500 },
          { phone: 'pau', startMs: 500, endMs: 500 },
        ],
      },
      1000,
    );
    assert.deepEqual(
      events.map((e) => (e.type === 'word' ? `w${e.textOffset}+${e.textLength}@${e.audioOffsetMs}` : e.type === 'phone' ? `${e.phone}@${e.audioOffsetMs}` : 'audio')),
      ['sil@1000', 'w10+2@1100', 'hh@1100', 'ay@1200', 'w13+3@1300', 'y@1300', 'uw@1400', 'audio'],
    );
  });
});

// ------------------------------------------------------------------------------------------------------------------
// One engine for the functional tests (two workers)
// ------------------------------------------------------------------------------------------------------------------

describe('FliteEngine', () => {
  let engine: FliteEngine;

  before(async () => {
    engine = new FliteEngine({ workers: 2, maxQueued: 8 });
    await engine.ready();
  });

  after(async () => {
    await engine.close();
  });

  it('lists its voices', () => {
    const voices = engine.voices();
    assert.equal(engine.id, 'flite');
    assert.equal(engine.phoneSet, 'arpabet');
    const byId = new Map(voices.map((v) => [v.id, v]));
    for (const id of ['flite:slt', 'flite:rms', 'flite:awb', 'flite:kal16', 'flite:kal']) assert.ok(byId.has(id), id);
    assert.deepEqual(
      { ...byId.get('flite:slt') },
      { id: 'flite:slt', engine: 'flite', name: 'Slt', locale: 'en-US', gender: 'Female', sampleRate: 16_000, wordsPerMinute: 206 },
    );
    assert.equal(byId.get('flite:awb')?.locale, 'en-GB');
    assert.equal(byId.get('flite:rms')?.gender, 'Male');
    assert.equal(byId.get('flite:kal')?.sampleRate, 8_000);
    for (const v of voices) assert.ok(v.wordsPerMinute > 120 && v.wordsPerMinute < 260);
  });

  it('synthesizes two sentences: plausible audio, a word event for every word, phones, audio-time order', async () => {
    const text = 'Hello world. This is a test of the flite engine.';
    const events = await collect(engine.synthesize(input(text)));
    const pcm = audioOf(events);
    const durationMs = (pcm.length * 1000) / 16_000;
    assert.ok(durationMs > 1500 && durationMs < 6000, `duration ${durationMs} ms`);
    assert.ok(rms(pcm) > 300, `RMS ${rms(pcm)}`);
    // One audio event per sentence.
    assert.equal(events.filter((e) => e.type === 'audio').length, 2);

    assert.deepEqual(spoken(text, events), ['Hello', 'world', 'This', 'is', 'a', 'test', 'of', 'the', 'flite', 'engine']);
    const words = wordsOf(events);
    assert.equal(words[0]?.textOffset, 0);
    assert.equal(words[0]?.textLength, 5);
    for (let i = 1; i < words.length; i++) {
      const [prev, cur] = [words[i - 1], words[i]];
      assert.ok(prev !== undefined && cur !== undefined);
      assert.ok(cur.textOffset > prev.textOffset);
      assert.ok(cur.audioOffsetMs >= prev.audioOffsetMs + prev.durationMs - 1e-6, 'words do not overlap');
    }
    for (const w of words) {
      assert.ok(w.durationMs > 30 && w.durationMs < 1500, `duration ${w.durationMs}`);
      assert.ok(w.audioOffsetMs + w.durationMs <= durationMs + 1e-6);
    }
    // The second sentence's words are placed after the first sentence's audio.
    const firstAudio = events.find((e) => e.type === 'audio');
    assert.ok(firstAudio?.type === 'audio');
    assert.ok((words[2]?.audioOffsetMs ?? 0) > (firstAudio.pcm.length * 1000) / 16_000);

    const phones = phonesOf(events);
    assert.ok(phones.length > 25);
    assert.equal(phones[0]?.phone, 'sil');
    assert.ok(phones.every((p) => /^[a-z]+$/.test(p.phone) && p.phone !== 'pau'));
    assert.deepEqual(
      phones.slice(1, 5).map((p) => p.phone),
      ['hh', 'ax', 'l', 'ow'],
    );
    assertAudioTimeOrder(events, 16_000);
  });

  it('gives one word event for a number flite reads as several words', async () => {
    const text = 'I have 25 apples.';
    const events = await collect(engine.synthesize(input(text)));
    assert.deepEqual(spoken(text, events), ['I', 'have', '25', 'apples']);
    const [, have, n25, apples] = wordsOf(events);
    assert.ok(have !== undefined && n25 !== undefined && apples !== undefined);
    // "twenty five" is longer than "have".
    assert.ok(n25.durationMs > have.durationMs);
    assert.ok(apples.audioOffsetMs >= n25.audioOffsetMs + n25.durationMs - 1e-6);
  });

  it('maps punctuated and normalised tokens back to the text; unpronounceable ones get no event', async () => {
    const text = '"Quoted," she said: $5.50 at 10:30am — 日本 ok.';
    const events = await collect(engine.synthesize(input(text)));
    assert.deepEqual(spoken(text, events), ['Quoted', 'she', 'said', '$5.50', 'at', '10:30am', 'ok']);
  });

  it('yields nothing for text without any words', async () => {
    assert.deepEqual(await collect(engine.synthesize(input('   \n '))), []);
  });

  it('speaks faster at rate 2 than at rate 0.5', async () => {
    const text = 'The quick brown fox jumps over the lazy dog.';
    const fast = audioOf(await collect(engine.synthesize(input(text, 'flite:slt', { rate: 2 })))).length;
    const normal = audioOf(await collect(engine.synthesize(input(text)))).length;
    const slow = audioOf(await collect(engine.synthesize(input(text, 'flite:slt', { rate: 0.5 })))).length;
    assert.ok(fast < normal && normal < slow, `${fast} < ${normal} < ${slow}`);
    assert.ok(fast < slow * 0.4, `rate 2: ${fast} samples, rate 0.5: ${slow}`);
  });

  for (const [voiceId, sampleRate] of [['flite:slt', 16_000], ['flite:rms', 16_000], ['flite:kal16', 16_000]] as const) {
    it(`raises and lowers the pitch of ${voiceId}`, async () => {
      const text = 'Hello world. This is a test of the flite engine.';
      const f0 = async (pitch: number): Promise<number> => medianF0(audioOf(await collect(engine.synthesize(input(text, voiceId, { pitch })))), sampleRate);
      const [low, normal, high] = [await f0(0.75), await f0(1), await f0(1.5)];
      assert.ok(low < normal * 0.85, `pitch 0.75: ${low} Hz vs ${normal} Hz`);
      assert.ok(high > normal * 1.3, `pitch 1.5: ${high} Hz vs ${normal} Hz`);
    });
  }

  it('speaks with every voice at its declared sample rate', async () => {
    for (const voice of engine.voices()) {
      const events = await collect(engine.synthesize(input('Good morning.', voice.id)));
      const ms = (audioOf(events).length * 1000) / voice.sampleRate;
      assert.ok(ms > 500 && ms < 3000, `${voice.id}: ${ms} ms`);
      assert.deepEqual(spoken('Good morning.', events), ['Good', 'morning']);
      assertAudioTimeOrder(events, voice.sampleRate);
    }
  });

  it('streams: the first audio comes before the later sentences are synthesized, and read-ahead is bounded', async () => {
    const startCount = engine.stats().sentencesSynthesized;
    const it = engine.synthesize(input(TEN_SENTENCES))[Symbol.asyncIterator]();
    const seen: SynthesisEvent[] = [];
    try {
      for (;;) {
        const r = await it.next();
        assert.ok(r.done !== true);
        seen.push(r.value);
        if (r.value.type === 'audio') break;
      }
      // At the first audio, at most the sentence after it can have been synthesized...
      assert.ok(engine.stats().sentencesSynthesized - startCount <= 2);
      // ...and only the first sentence's words were yielded.
      assert.deepEqual(spoken(TEN_SENTENCES, seen).slice(0, 3), ['Sentence', 'number', '1']);
      assert.ok(wordsOf(seen).every((w) => w.textOffset < TEN_SENTENCES.indexOf('Sentence number 2')));
      // Left alone, the request synthesizes ahead up to its read-ahead (10 s: two or three of these ≈5 s sentences),
      // then stops: no worker busy, nothing waiting for one.
      for (let s = engine.stats(); s.workersBusy > 0 || s.waitingRequests > 0; s = engine.stats()) await sleep(10);
      const ahead = engine.stats().sentencesSynthesized - startCount;
      assert.ok(ahead >= 2 && ahead <= 4, `${ahead} sentences synthesized while the consumer waited`);
      await sleep(100);
      assert.equal(engine.stats().sentencesSynthesized - startCount, ahead);
      for (let r = await it.next(); r.done !== true; r = await it.next()) seen.push(r.value);
    } finally {
      await it.return?.(undefined);
    }
    assert.equal(engine.stats().sentencesSynthesized - startCount, 10);
    assert.equal(seen.filter((e) => e.type === 'audio').length, 10);
    assert.equal(wordsOf(seen).length, 10 * 17);
    assertAudioTimeOrder(seen, 16_000);
    assert.equal(engine.stats().activeRequests, 0);
  });

  it('stops when aborted, and rejects an already aborted signal', async () => {
    const ac = new AbortController();
    const seen: SynthesisEvent[] = [];
    await assert.rejects(async () => {
      for await (const ev of engine.synthesize(input(TEN_SENTENCES), ac.signal)) {
        seen.push(ev);
        if (ev.type === 'audio') ac.abort();
      }
    }, isEngineError('Aborted'));
    assert.equal(seen.filter((e) => e.type === 'audio').length, 1);
    assert.equal(engine.stats().activeRequests, 0);
    await assert.rejects(collect(engine.synthesize(input('Hello.'), AbortSignal.abort())), isEngineError('Aborted'));
  });

  it('ends a request whose consumer leaves the loop early', async () => {
    for await (const ev of engine.synthesize(input(TEN_SENTENCES))) {
      if (ev.type === 'audio') break;
    }
    assert.equal(engine.stats().activeRequests, 0);
    assert.equal(engine.stats().waitingRequests, 0);
  });

  it('rejects an unknown voice with UnsupportedLocale', async () => {
    await assert.rejects(collect(engine.synthesize(input('Hello.', 'flite:nobody'))), isEngineError('UnsupportedLocale'));
    await assert.rejects(collect(engine.synthesize(input('Hello.', 'espeak-ng:en-us'))), isEngineError('UnsupportedLocale'));
  });

  // Clustergen voices excite unvoiced sounds with libc rand() noise, so their samples differ from run to run;
  // lengths and timings do not.
  it('serves 4 concurrent requests on 2 workers, with the same audio lengths and timings as one at a time', async () => {
    const texts = [
      'The weather today will be sunny with a high of seventy degrees.',
      'Turn on the lights in the living room. Close the kitchen door.',
      "Our meeting has been moved to Thursday afternoon at three o'clock.",
      'Please call Stella. Ask her to bring these things with her from the store.',
    ];
    const voices = ['flite:slt', 'flite:rms', 'flite:awb', 'flite:kal16'];
    const shape = (events: SynthesisEvent[]): { samples: number; rms: number; meta: SynthesisEvent[] } => {
      const pcm = audioOf(events);
      return { samples: pcm.length, rms: rms(pcm), meta: events.filter((e) => e.type !== 'audio') };
    };
    const serial: Array<ReturnType<typeof shape>> = [];
    for (const [i, text] of texts.entries()) serial.push(shape(await collect(engine.synthesize(input(text, voices[i])))));
    const started = engine.stats().sentencesSynthesized;
    const concurrent = await Promise.all(texts.map(async (text, i) => shape(await collect(engine.synthesize(input(text, voices[i]))))));
    assert.equal(engine.stats().sentencesSynthesized - started, 6);
    for (const [i, got] of concurrent.entries()) {
      const want = serial[i];
      assert.ok(want !== undefined);
      assert.ok(got.samples > 16_000, `request ${i}: ${got.samples} samples`);
      assert.equal(got.samples, want.samples, `request ${i}: length`);
      assert.deepEqual(got.meta, want.meta, `request ${i}: word and phone events`);
      assert.ok(Math.abs(got.rms - want.rms) < want.rms * 0.1, `request ${i}: RMS ${got.rms} vs ${want.rms}`);
    }
  });
});

// ------------------------------------------------------------------------------------------------------------------
// Queue bound, crash recovery
// ------------------------------------------------------------------------------------------------------------------

describe('FliteEngine under load', () => {
  let engine: FliteEngine;

  before(async () => {
    engine = new FliteEngine({ workers: 1, maxQueued: 1, voices: ['slt'] });
    await engine.ready();
  });

  after(async () => {
    await engine.close();
  });

  it('rejects with Overloaded beyond workers + maxQueued requests in progress', async () => {
    const a = engine.synthesize(input(TEN_SENTENCES))[Symbol.asyncIterator]();
    const b = engine.synthesize(input(TEN_SENTENCES))[Symbol.asyncIterator]();
    // A generator starts (and is admitted) on its first next().
    const [firstA, firstB] = await Promise.all([a.next(), b.next()]);
    assert.equal(firstA.done, false);
    assert.equal(firstB.done, false);
    assert.equal(engine.stats().activeRequests, 2);
    await assert.rejects(collect(engine.synthesize(input('Hello.'))), isEngineError('Overloaded'));
    await a.return(undefined);
    // Its place is free again.
    const c = await collect(engine.synthesize(input('Hello.')));
    assert.ok(audioOf(c).length > 0);
    await b.return(undefined);
    assert.equal(engine.stats().activeRequests, 0);
  });

  it('only lists and serves the voices it was given', async () => {
    assert.deepEqual(
      engine.voices().map((v) => v.id),
      ['flite:slt'],
    );
    await assert.rejects(collect(engine.synthesize(input('Hello.', 'flite:rms'))), isEngineError('UnsupportedLocale'));
  });

  it('survives a worker crash: the request in progress fails with Internal, the worker is respawned', async () => {
    // A request cancelled earlier may still have its last sentence in the worker; a new one would wait behind it.
    while (engine.stats().workersBusy > 0) await sleep(10);
    engine.crashWorkerForTest(0);
    // Sent right behind the crash message, before the main thread has seen the worker exit: it is lost.
    await assert.rejects(collect(engine.synthesize(input('Hello there.'))), isEngineError('Internal'));
    // Waits for the respawned worker.
    const after = await collect(engine.synthesize(input('Hello there.')));
    assert.deepEqual(spoken('Hello there.', after), ['Hello', 'there']);
  });

  it('rejects bad options', () => {
    assert.throws(() => new FliteEngine({ workers: 0 }), RangeError);
    assert.throws(() => new FliteEngine({ voices: ['nobody'] }), RangeError);
  });
});

// ------------------------------------------------------------------------------------------------------------------
// Child processes
// ------------------------------------------------------------------------------------------------------------------

async function runNode(args: string[], script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...args, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, 20_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  return { code, stdout, stderr };
}

describe('flite bindings', () => {
  // Regression: koffi unloads a library whose handle is garbage-collected, and the voice's data live in it; this
  // segfaulted on the first synthesis after a full GC.
  it('keep the voice libraries loaded across garbage collections', async () => {
    const moduleUrl = new URL('../../src/engines/flite/bindings.js', import.meta.url).href;
    const script = `
      import { FliteVoice } from ${JSON.stringify(moduleUrl)};
      const voices = ['kal16', 'slt'].map((n) => FliteVoice.register(n));
      for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
      console.log(JSON.stringify(voices.map((v) => v.synthesize('Hello world.', { rate: 1, pitch: 1 }).tokens.map((t) => t.text))));
    `;
    const { code, stdout, stderr } = await runNode(['--expose-gc'], script);
    assert.equal(code, 0, `child exited with ${code}; stderr: ${stderr}`);
    assert.deepEqual(JSON.parse(stdout.trim()), [['Hello', 'world'], ['Hello', 'world']]);
  });
});

// ------------------------------------------------------------------------------------------------------------------
// close(): a process that closes its engine can exit on its own
// ------------------------------------------------------------------------------------------------------------------

describe('FliteEngine.close', () => {
  it('stops every worker, so the process exits without process.exit(); requests after close are Aborted', async () => {
    const moduleUrl = new URL('../../src/engines/flite/index.js', import.meta.url).href;
    const script = `
      import { FliteEngine } from ${JSON.stringify(moduleUrl)};
      const engine = new FliteEngine({ workers: 2 });
      await engine.ready();
      const input = (text) => ({ text, voiceId: 'flite:slt', prosody: { rate: 1, pitch: 1, volume: 1 } });
      let samples = 0;
      for await (const ev of engine.synthesize(input('Hello world.'))) if (ev.type === 'audio') samples += ev.pcm.length;
      // One request still running when close() is called.
      const running = (async () => { for await (const ev of engine.synthesize(input('One. Two. Three. Four.'))) void ev; })().then(() => 'done', (e) => e.kind);
      await engine.close();
      const afterClose = await (async () => { for await (const ev of engine.synthesize(input('Hello.'))) void ev; })().then(() => 'done', (e) => e.kind);
      console.log(JSON.stringify({ spoke: samples > 0, running: await running, afterClose }));
    `;
    const { code, stdout, stderr } = await runNode([], script);
    assert.equal(code, 0, `child exited on its own (code ${code}); stderr: ${stderr}`);
    const result = JSON.parse(stdout.trim()) as { spoke: boolean; running: string; afterClose: string };
    assert.equal(result.spoke, true);
    assert.equal(result.afterClose, 'Aborted');
    // Either it finished before close() got to it, or close() aborted it: it must not hang.
    assert.ok(['done', 'Aborted'].includes(result.running), result.running);
  });
});
