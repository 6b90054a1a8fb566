import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';

import { EngineError, type EngineErrorKind, type Prosody, type SynthesisEvent } from '../../src/domain/ports/engines.js';
import { FestivalEngine, prepareText, splitSentences } from '../../src/engines/festival/index.js';

// ------------------------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------------------------

const RATE = 32_000;
const VOICE = 'festival:cmu_us_slt_arctic_hts';
const NORMAL: Prosody = { rate: 1, pitch: 1, volume: 1 };

type WordEvent = Extract<SynthesisEvent, { type: 'word' }>;
type PhoneEvent = Extract<SynthesisEvent, { type: 'phone' }>;

interface Collected {
  events: SynthesisEvent[];
  /** performance.now() at each event's arrival, relative to the call. */
  arrivals: number[];
  pcm: Int16Array;
  words: WordEvent[];
  phones: PhoneEvent[];
  durationMs: number;
}

async function collect(iterable: AsyncIterable<SynthesisEvent>): Promise<Collected> {
  const t0 = performance.now();
  const events: SynthesisEvent[] = [];
  const arrivals: number[] = [];
  for await (const e of iterable) {
    events.push(e);
    arrivals.push(performance.now() - t0);
  }
  const chunks = events.flatMap((e) => (e.type === 'audio' ? [e.pcm] : []));
  const pcm = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    pcm.set(c, offset);
    offset += c.length;
  }
  return {
    events,
    arrivals,
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

/** Median fundamental frequency of the louder 40 ms frames, by autocorrelation (70–500 Hz). */
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

function spelled(text: string, words: readonly WordEvent[]): string[] {
  return words.map((w) => text.slice(w.textOffset, w.textOffset + w.textLength));
}

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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Festival processes that are children of this test process. */
function festivalChildren(): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-f', 'festival'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map(Number);
  } catch {
    // pgrep exits with 1 when nothing matches.
    return [];
  }
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!condition()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const HELLO = 'Hello world. This is a test.';

// ------------------------------------------------------------------------------------------------------------------
// Text handling (no Festival needed)
// ------------------------------------------------------------------------------------------------------------------

describe('Festival text preparation', () => {
  it('splits sentences at . ! ? and blank lines, not after abbreviations, initials or before lower case', () => {
    const text = 'Dr. Smith met J. R. Tolkien. Really?! Yes… e.g. this one.\n\nNew paragraph without a stop\n\nLast one. and more';
    const parts = splitSentences(text).map(([s, e]) => text.slice(s, e).trim());
    assert.deepEqual(parts, ['Dr. Smith met J. R. Tolkien.', 'Really?!', 'Yes… e.g. this one.', 'New paragraph without a stop', 'Last one. and more']);
  });

  it('cuts very long sentences at a comma and leaves out blank pieces', () => {
    const clause = 'and then another clause follows here';
    const text = `${Array.from({ length: 30 }, () => clause).join(', ')}.  ...  `;
    const parts = splitSentences(text);
    assert.ok(parts.length >= 2);
    for (const [s, e] of parts) assert.ok(e - s <= 400, `piece of ${e - s} characters`);
    assert.equal(parts.map(([s, e]) => text.slice(s, e)).join(''), text.slice(0, parts.at(-1)?.[1]));
  });

  it('transliterates to printable ASCII and maps every character back to the source', () => {
    const source = 'Naïve “café” – straße\t🍕!';
    const p = prepareText(source, 10);
    assert.equal(p.text, 'Naive "cafe" - strasse  !');
    assert.equal(p.text.length, p.from.length);
    assert.match(p.text, /^[\x20-\x7e]*$/);
    // "ß" became "ss": both characters map to it.
    const ss = p.text.indexOf('ss');
    assert.equal(source[(p.from[ss] ?? 0) - 10], 'ß');
    assert.equal(p.from[ss + 1], p.from[ss]);
    // The emoji (two UTF-16 units) is one space that covers both.
    const pizza = source.indexOf('🍕') + 10;
    const at = p.from.indexOf(pizza);
    assert.equal((p.to[at] ?? 0) - (p.from[at] ?? 0), 2);
  });
});

// ------------------------------------------------------------------------------------------------------------------
// Engine
// ------------------------------------------------------------------------------------------------------------------

describe('FestivalEngine', () => {
  let engine: FestivalEngine;

  before(async () => {
    engine = new FestivalEngine();
    await engine.ready();
  });

  after(async () => {
    await engine.close();
  });

  it('lists the SLT HTS voice at 32 kHz', () => {
    assert.deepEqual(engine.voices(), [
      { id: VOICE, engine: 'festival', name: 'Slt', locale: 'en-US', gender: 'Female', sampleRate: RATE, wordsPerMinute: engine.voices()[0]?.wordsPerMinute },
    ]);
    assert.equal(engine.phoneSet, 'arpabet');
  });

  it('speaks "Hello world. This is a test." with a word event on each word, in order, inside the audio', async () => {
    const c = await collect(engine.synthesize({ text: HELLO, voiceId: VOICE, prosody: NORMAL }));
    assert.ok(c.durationMs > 1200 && c.durationMs < 4000, `plausible duration: ${c.durationMs} ms`);
    assert.ok(rms(c.pcm) > 300, `not silent (rms ${rms(c.pcm)})`);
    assert.deepEqual(spelled(HELLO, c.words), ['Hello', 'world', 'This', 'is', 'a', 'test']);
    assert.deepEqual(
      c.words.map((w) => w.textOffset),
      [0, 6, 13, 18, 21, 23],
    );
    const world = c.words[1];
    const thisWord = c.words[2];
    assert.ok(world !== undefined && thisWord !== undefined && thisWord.audioOffsetMs - (world.audioOffsetMs + world.durationMs) > 150, 'pause between the sentences');
    const names = new Set(c.phones.map((p) => p.phone));
    for (const p of ['pau', 'hh', 'l', 'ow', 'w', 't', 's']) assert.ok(names.has(p), `arpabet phone ${p} in ${[...names].join(' ')}`);
    assertAudioTimeOrder(c);
  });

  it('maps words back to the original text through punctuation, numbers and non-ASCII letters', async () => {
    const text = 'Dr. Smith paid $5.50 for “naïve” café-au-lait; it’s 10:30 now!';
    const c = await collect(engine.synthesize({ text, voiceId: VOICE, prosody: NORMAL }));
    assert.deepEqual(spelled(text, c.words), ['Dr', 'Smith', 'paid', '$5.50', 'for', 'naïve', 'café-au-lait', 'it’s', '10:30', 'now']);
    assertAudioTimeOrder(c);
  });

  it('copes with quotes, backslashes and control characters in the text', async () => {
    const text = 'He said "hi" \\ (back\\slash) and\u0007 left.\r\nThe end.';
    const c = await collect(engine.synthesize({ text, voiceId: VOICE, prosody: NORMAL }));
    const words = spelled(text, c.words);
    for (const w of ['He', 'said', 'hi', 'and', 'left', 'The', 'end']) assert.ok(words.includes(w), `${w} in ${JSON.stringify(words)}`);
  });

  it('follows the rate: 2 is much shorter than 0.5', async () => {
    const text = 'The quick brown fox jumps over the lazy dog.';
    const slow = await collect(engine.synthesize({ text, voiceId: VOICE, prosody: { ...NORMAL, rate: 0.5 } }));
    const normal = await collect(engine.synthesize({ text, voiceId: VOICE, prosody: NORMAL }));
    const fast = await collect(engine.synthesize({ text, voiceId: VOICE, prosody: { ...NORMAL, rate: 2 } }));
    assert.ok(slow.durationMs > normal.durationMs * 1.6, `0.5: ${slow.durationMs} vs 1: ${normal.durationMs}`);
    assert.ok(fast.durationMs < normal.durationMs * 0.65, `2: ${fast.durationMs} vs 1: ${normal.durationMs}`);
    assert.equal(fast.words.length, 9);
    assertAudioTimeOrder(slow);
    assertAudioTimeOrder(fast);
  });

  it('follows the pitch, keeping the duration', async () => {
    const text = 'Hello, how are you doing today?';
    const low = await collect(engine.synthesize({ text, voiceId: VOICE, prosody: { ...NORMAL, pitch: 0.75 } }));
    const high = await collect(engine.synthesize({ text, voiceId: VOICE, prosody: { ...NORMAL, pitch: 1.5 } }));
    const f0Low = medianF0(low.pcm, RATE);
    const f0High = medianF0(high.pcm, RATE);
    assert.ok(f0High > f0Low * 1.6, `f0 ${f0Low.toFixed(0)} Hz → ${f0High.toFixed(0)} Hz`);
    assert.ok(Math.abs(high.durationMs - low.durationMs) < 0.1 * low.durationMs, `duration ${low.durationMs} vs ${high.durationMs}`);
    assert.equal(high.words.length, 6);
    assertAudioTimeOrder(high);
  });

  it('sends the first sentence before the last one is synthesized', async () => {
    const sentences = [
      'The first sentence is short.',
      'The weather today will be sunny with a high of seventy degrees.',
      'Turn on the lights in the living room and close the kitchen door.',
      'Our meeting has been moved to Thursday afternoon at three.',
      'This is the last sentence of the text.',
    ];
    const text = sentences.join(' ');
    const c = await collect(engine.synthesize({ text, voiceId: VOICE, prosody: NORMAL }));
    const firstAudio = c.events.findIndex((e) => e.type === 'audio');
    const lastSentenceWord = c.events.findIndex((e) => e.type === 'word' && e.textOffset >= text.indexOf('This is the last'));
    assert.ok(firstAudio >= 0 && lastSentenceWord > firstAudio, 'audio before the last sentence');
    const firstAudioAt = c.arrivals[firstAudio] ?? Infinity;
    const lastAt = c.arrivals.at(-1) ?? 0;
    assert.ok(firstAudioAt < lastAt * 0.5, `first audio after ${firstAudioAt.toFixed(0)} ms of ${lastAt.toFixed(0)} ms`);
    assert.equal(c.events.filter((e) => e.type === 'audio').length, sentences.length);
    assert.equal(c.words.length, text.split(' ').length);
    assertAudioTimeOrder(c);
  });

  it('gives nothing for text without anything to say', async () => {
    const c = await collect(engine.synthesize({ text: ' … ?! \n', voiceId: VOICE, prosody: NORMAL }));
    assert.equal(c.events.length, 0);
  });

  it('rejects an unknown voice with UnsupportedLocale', async () => {
    await assert.rejects(collect(engine.synthesize({ text: 'hi', voiceId: 'festival:kal_diphone', prosody: NORMAL })), isEngineError('UnsupportedLocale'));
    await assert.rejects(collect(engine.synthesize({ text: 'hi', voiceId: 'espeak-ng:en-us', prosody: NORMAL })), isEngineError('UnsupportedLocale'));
  });

  it('stops on abort by replacing the busy process, and serves the next request', async () => {
    const [before] = engine.processIdsForTest();
    assert.ok(before !== undefined);
    const text = Array.from({ length: 6 }, () => 'This sentence is long enough to keep Festival busy for a little while, to be sure.').join(' ');
    const ac = new AbortController();
    await assert.rejects(
      (async () => {
        for await (const e of engine.synthesize({ text, voiceId: VOICE, prosody: NORMAL }, ac.signal)) {
          if (e.type === 'audio') ac.abort();
        }
      })(),
      isEngineError('Aborted'),
    );
    await until(() => !alive(before));
    const next = await collect(engine.synthesize({ text: HELLO, voiceId: VOICE, prosody: NORMAL }));
    assert.equal(next.words.length, 6);
    assert.notEqual(engine.processIdsForTest()[0], before);

    const already = new AbortController();
    already.abort();
    await assert.rejects(collect(engine.synthesize({ text: HELLO, voiceId: VOICE, prosody: NORMAL }, already.signal)), isEngineError('Aborted'));
  });

  it('stops when the consumer stops reading', async () => {
    const text = Array.from({ length: 6 }, () => 'Another sentence that the consumer will not wait for, as it walks away early.').join(' ');
    for await (const e of engine.synthesize({ text, voiceId: VOICE, prosody: NORMAL })) {
      if (e.type === 'audio') break;
    }
    const next = await collect(engine.synthesize({ text: HELLO, voiceId: VOICE, prosody: NORMAL }));
    assert.equal(next.words.length, 6);
  });

  it('takes turns by sentence: a short request does not wait for a long one to finish', async () => {
    const long = Array.from({ length: 8 }, (_, i) => `This is sentence ${i + 1} of the long request.`).join(' ');
    let longDone = 0;
    let shortDone = 0;
    const longRun = collect(engine.synthesize({ text: long, voiceId: VOICE, prosody: NORMAL })).then((c) => {
      longDone = performance.now();
      return c;
    });
    await new Promise((r) => setTimeout(r, 30));
    const shortRun = collect(engine.synthesize({ text: 'Short one.', voiceId: VOICE, prosody: NORMAL })).then((c) => {
      shortDone = performance.now();
      return c;
    });
    const [l, s] = await Promise.all([longRun, shortRun]);
    assert.ok(shortDone < longDone, 'the short request finished first');
    assert.equal(l.words.length, long.split(' ').length);
    assert.deepEqual(spelled('Short one.', s.words), ['Short', 'one']);
  });
});

describe('FestivalEngine limits and lifecycle', () => {
  it('rejects with Overloaded beyond processes + maxQueued requests', async () => {
    const engine = new FestivalEngine({ processes: 1, maxQueued: 0 });
    try {
      await engine.ready();
      const first = engine.synthesize({ text: `${HELLO} ${HELLO} ${HELLO}`, voiceId: VOICE, prosody: NORMAL })[Symbol.asyncIterator]();
      await first.next();
      await assert.rejects(collect(engine.synthesize({ text: HELLO, voiceId: VOICE, prosody: NORMAL })), isEngineError('Overloaded'));
      while (!(await first.next()).done);
      const after = await collect(engine.synthesize({ text: HELLO, voiceId: VOICE, prosody: NORMAL }));
      assert.equal(after.words.length, 6);
    } finally {
      await engine.close();
    }
  });

  it('kills and replaces a process that takes longer than sentenceTimeoutMs', async () => {
    const engine = new FestivalEngine({ sentenceTimeoutMs: 20 });
    try {
      await engine.ready();
      const [before] = engine.processIdsForTest();
      assert.ok(before !== undefined);
      const text = 'This sentence takes Festival much longer than twenty milliseconds to synthesize, so it times out.';
      await assert.rejects(collect(engine.synthesize({ text, voiceId: VOICE, prosody: NORMAL })), isEngineError('Internal'));
      await until(() => !alive(before));
      await engine.ready();
      await until(() => engine.processIdsForTest().length === 1 && engine.processIdsForTest()[0] !== before);
    } finally {
      await engine.close();
    }
  });

  it('restarts a crashed process', async () => {
    const engine = new FestivalEngine();
    try {
      await engine.ready();
      const [before] = engine.processIdsForTest();
      engine.crashProcessForTest(0);
      let served = false;
      for (let attempt = 0; attempt < 100 && !served; attempt++) {
        try {
          served = (await collect(engine.synthesize({ text: HELLO, voiceId: VOICE, prosody: NORMAL }))).words.length === 6;
        } catch (err) {
          assert.ok(err instanceof EngineError && err.kind === 'Internal', `only requests caught by the crash fail: ${String(err)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      assert.ok(served, 'served after the restart');
      assert.ok(before !== undefined && !alive(before));
    } finally {
      await engine.close();
    }
  });

  it('reports ModelLoadFailed when Festival cannot be run', async () => {
    const engine = new FestivalEngine({ command: '/nonexistent/festival' });
    try {
      await assert.rejects(engine.ready(), isEngineError('ModelLoadFailed'));
      await assert.rejects(collect(engine.synthesize({ text: HELLO, voiceId: VOICE, prosody: NORMAL })), isEngineError('ModelLoadFailed'));
    } finally {
      await engine.close();
    }
  });

  it('closes: pending requests end with Aborted, the processes exit, nothing is left behind', async () => {
    const engine = new FestivalEngine({ processes: 2 });
    await engine.ready();
    const pids = engine.processIdsForTest();
    assert.equal(pids.length, 2);
    const running = assert.rejects(
      collect(engine.synthesize({ text: Array.from({ length: 5 }, () => HELLO).join(' '), voiceId: VOICE, prosody: NORMAL })),
      isEngineError('Aborted'),
    );
    await new Promise((r) => setTimeout(r, 50));
    await engine.close();
    await running;
    for (const pid of pids) assert.ok(!alive(pid), `process ${pid} exited`);
    await assert.rejects(collect(engine.synthesize({ text: HELLO, voiceId: VOICE, prosody: NORMAL })), isEngineError('Aborted'));
    await engine.close(); // idempotent
  });

  it('leaves no Festival process behind', async () => {
    await until(() => festivalChildren().length === 0, 5_000);
  });
});
