import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { EngineError, type CustomModelBuild, type EngineHypothesis, type LiveDecoder, type SttEngine, type SttModelRef } from '../../src/domain/ports/engines.js';
import type { CompressedAudioDecoder } from '../../src/domain/ports/audio.js';
import { RecognitionTurn } from '../../src/domain/recognition/recognition-turn.js';
import { RecognitionService } from '../../src/domain/recognition/recognition-service.js';
import type { Hypothesis, PhraseResult, RecognitionMode, RecognitionOptions, TurnListener } from '../../src/domain/recognition/types.js';
import { FakeSttEngine } from '../../src/engines/fake/index.js';
import { ErrorCodes, Errors } from '../../src/domain/errors.js';
import { ServiceError } from '../../src/kernel/errors.js';
import type { Logger } from '../../src/kernel/logger.js';
import { within } from '../helpers/async.js';
import { prng } from '../helpers/prng.js';

// ---------------------------------------------------------------------------------------------
// Signals

const RATE = 16_000;
const SPM = RATE / 1000;

/** Alternating silence / speech-like bursts, in ms: [silence, speech, silence, speech, ...]. */
function synth(layout: number[], seed = 1): Int16Array {
  const rnd = prng(seed);
  const total = layout.reduce((n, ms) => n + Math.round(ms * SPM), 0);
  const out = new Int16Array(total);
  let i = 0;
  let phase = 0;
  layout.forEach((ms, idx) => {
    const voiced = idx % 2 === 1;
    const n = Math.round(ms * SPM);
    for (let k = 0; k < n; k++, i++) {
      let v = (rnd() * 2 - 1) * 30;
      if (voiced) {
        const tMs = k / SPM;
        const f = 200 + 200 * (0.5 + 0.5 * Math.sin((2 * Math.PI * tMs) / 700));
        phase += (2 * Math.PI * f) / RATE;
        v += 3000 * (tMs % 250 > 220 ? 0.1 : 1) * Math.sin(phase);
      }
      out[i] = Math.round(v);
    }
  });
  return out;
}

/** [startMs, endMs] of each burst of a layout. */
function bursts(layout: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let t = 0;
  layout.forEach((ms, idx) => {
    if (idx % 2 === 1) out.push([t, t + ms]);
    t += ms;
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Engine, listener, logger

/** Words placed on the loud part of the audio, so offsets can be checked against the signal. */
function wordsFromEnergy(pcm: Int16Array, words: string[]): EngineHypothesis {
  const frame = 160;
  let first = -1;
  let last = -1;
  for (let f = 0; f * frame < pcm.length; f++) {
    let sum = 0;
    const end = Math.min(pcm.length, (f + 1) * frame);
    for (let i = f * frame; i < end; i++) sum += (pcm[i] ?? 0) ** 2;
    const rms = Math.sqrt(sum / Math.max(1, end - f * frame));
    if (rms > 1000) {
      if (first < 0) first = f;
      last = f;
    }
  }
  if (first < 0 || words.length === 0) return { text: '', words: [], confidence: 0 };
  const startMs = first * 10;
  const endMs = (last + 1) * 10;
  const step = (endMs - startMs) / words.length;
  return {
    text: words.join(' '),
    confidence: 0.8,
    words: words.map((word, i) => ({ word, startMs: startMs + i * step, endMs: startMs + (i + 1) * step, confidence: 0.8 })),
  };
}

interface DecodeCall {
  index: number;
  pcm: Int16Array;
  signal: AbortSignal | undefined;
}

type DecodeBehaviour = (call: DecodeCall) => Promise<EngineHypothesis>;

const UTTERANCE_WORDS = [
  ['alpha', 'bravo'],
  ['charlie', 'delta', 'echo'],
  ['foxtrot'],
  ['golf', 'hotel'],
  ['india', 'juliet'],
  ['kilo'],
];

const energyDecode: DecodeBehaviour = async (call) => wordsFromEnergy(call.pcm, UTTERANCE_WORDS[call.index % UTTERANCE_WORDS.length] ?? ['x']);

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A SttEngine whose decodes follow a script, recording every call. */
class ScriptedEngine implements SttEngine {
  readonly info = { id: 'scripted', locales: ['en-US'] };
  readonly calls: DecodeCall[] = [];
  inFlight = 0;
  maxInFlight = 0;
  liveOpened = 0;
  liveReleased = 0;

  constructor(
    private readonly decode: DecodeBehaviour = energyDecode,
    private readonly live = true,
  ) {}

  supportsLocale(locale: string): boolean {
    return locale.toLowerCase() === 'en-us';
  }

  async openLiveDecoder(_model: SttModelRef): Promise<LiveDecoder | undefined> {
    if (!this.live) return undefined;
    this.liveOpened++;
    const words = ['partial', 'words', 'growing', 'longer', 'still', 'more', 'and', 'more'];
    let fed = 0;
    let released = false;
    return {
      feed: async (pcm: Int16Array) => {
        fed += pcm.length;
        return words.slice(0, Math.max(1, Math.min(words.length, Math.ceil(fed / 4800)))).join(' ');
      },
      release: () => {
        if (!released) this.liveReleased++;
        released = true;
      },
    };
  }

  async decodeUtterance(_model: SttModelRef, pcm: Int16Array, signal?: AbortSignal): Promise<EngineHypothesis> {
    const call: DecodeCall = { index: this.calls.length, pcm, signal };
    this.calls.push(call);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      return await this.decode(call);
    } finally {
      this.inFlight--;
    }
  }

  async buildCustomModel(): Promise<CustomModelBuild> {
    return { files: [], vocabularySize: 0, newWords: [], sentenceCount: 0 };
  }
  async loadCustomModel(): Promise<void> {}
  async unloadCustomModel(): Promise<void> {}
  async ready(): Promise<void> {}
  async close(): Promise<void> {}
}

/** A decode behaviour the test releases by hand, one call at a time. */
function manualDecodes(): { behaviour: DecodeBehaviour; pending: Array<{ call: DecodeCall; release: () => void; fail: (e: unknown) => void }> } {
  const pending: Array<{ call: DecodeCall; release: () => void; fail: (e: unknown) => void }> = [];
  const behaviour: DecodeBehaviour = (call) =>
    new Promise<EngineHypothesis>((resolve, reject) => {
      pending.push({
        call,
        release: () => resolve(wordsFromEnergy(call.pcm, UTTERANCE_WORDS[call.index % UTTERANCE_WORDS.length] ?? ['x'])),
        fail: reject,
      });
    });
  return { behaviour, pending };
}

type Ev =
  | { t: 'start'; offsetMs: number }
  | { t: 'hyp'; h: Hypothesis }
  | { t: 'phrase'; p: PhraseResult }
  | { t: 'end'; offsetMs: number }
  | { t: 'turnEnd' };

class Recorder implements TurnListener {
  readonly events: Ev[] = [];
  speechStartDetected(offsetMs: number): void {
    this.events.push({ t: 'start', offsetMs });
  }
  hypothesis(h: Hypothesis): void {
    this.events.push({ t: 'hyp', h });
  }
  phrase(p: PhraseResult): void {
    this.events.push({ t: 'phrase', p });
  }
  speechEndDetected(offsetMs: number): void {
    this.events.push({ t: 'end', offsetMs });
  }
  turnEnd(): void {
    this.events.push({ t: 'turnEnd' });
  }
  get phrases(): PhraseResult[] {
    return this.events.flatMap((e) => (e.t === 'phrase' ? [e.p] : []));
  }
  get types(): string[] {
    return this.events.map((e) => (e.t === 'phrase' ? `phrase:${e.p.status}` : e.t));
  }
  count(t: Ev['t']): number {
    return this.events.filter((e) => e.t === t).length;
  }
}

class RecordingLogger implements Logger {
  readonly lines: Array<{ level: string; obj: unknown; msg?: string }> = [];
  debug(obj: object | string, msg?: string): void {
    this.lines.push({ level: 'debug', obj, msg });
  }
  info(obj: object | string, msg?: string): void {
    this.lines.push({ level: 'info', obj, msg });
  }
  warn(obj: object | string, msg?: string): void {
    this.lines.push({ level: 'warn', obj, msg });
  }
  error(obj: object | string, msg?: string): void {
    this.lines.push({ level: 'error', obj, msg });
  }
  child(): Logger {
    return this;
  }
}

function options(mode: RecognitionMode, over: Partial<RecognitionOptions> = {}): RecognitionOptions {
  return {
    mode,
    locale: 'en-US',
    format: 'detailed',
    profanity: 'masked',
    wordTimings: true,
    initialSilenceTimeoutMs: 0,
    segmentationSilenceTimeoutMs: 500,
    maxUtteranceMs: 20_000,
    model: { locale: 'en-US' },
    ...over,
  };
}

function makeTurn(
  mode: RecognitionMode,
  engine: SttEngine,
  over: Partial<RecognitionOptions> = {},
  deps: { maxTurnAudioMs?: number; hypothesisIntervalMs?: number; logger?: Logger } = {},
): { turn: RecognitionTurn; rec: Recorder } {
  const rec = new Recorder();
  const turn = new RecognitionTurn(options(mode, over), rec, {
    engine,
    logger: deps.logger ?? new RecordingLogger(),
    hypothesisIntervalMs: deps.hypothesisIntervalMs ?? 300,
    maxTurnAudioMs: deps.maxTurnAudioMs ?? 600_000,
  });
  return { turn, rec };
}

/** Writes 100 ms chunks (the SDK's size), yielding to the event loop between them like a socket would. */
async function feed(turn: RecognitionTurn, pcm: Int16Array, opts: { chunk?: number; yieldEach?: boolean; respectBackpressure?: boolean } = {}): Promise<void> {
  const chunk = opts.chunk ?? 1600;
  for (let i = 0; i < pcm.length; i += chunk) {
    turn.write(pcm.subarray(i, i + chunk));
    if (opts.respectBackpressure && turn.backlogged) await turn.whenDrained();
    if (opts.yieldEach ?? true) await tick();
  }
}

function near(actual: number, expected: number, what: string, tol = 60): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} is not within ${tol} of ${expected}`);
}

/** The invariants every turn must keep, whatever happened. */
function checkInvariants(rec: Recorder): void {
  const ev = rec.events;
  assert.equal(rec.count('turnEnd'), 1, `exactly one turnEnd: ${rec.types.join(',')}`);
  assert.equal(ev[ev.length - 1]?.t, 'turnEnd', 'turnEnd is last');
  assert.ok(rec.count('start') <= 1, 'speechStartDetected at most once per turn');
  const firstStart = ev.findIndex((e) => e.t === 'start');
  ev.forEach((e, i) => {
    if (e.t === 'hyp' || (e.t === 'phrase' && (e.p.status === 'success' || e.p.status === 'no-match'))) {
      assert.ok(firstStart >= 0 && firstStart < i, `speechStartDetected precedes ${e.t} #${i}: ${rec.types.join(',')}`);
    }
  });
  // Hypotheses belong to the utterance whose phrase comes next: their offset (the speech start) never
  // goes back, and no hypothesis follows the phrase of a later-or-same utterance.
  let lastPhraseEnd = -Infinity;
  let lastHypOffset = -Infinity;
  for (const e of ev) {
    if (e.t === 'hyp') {
      assert.ok(e.h.offsetMs >= lastHypOffset, 'hypothesis offsets never go back');
      assert.ok(e.h.offsetMs >= lastPhraseEnd - 600, `hypothesis at ${e.h.offsetMs} after a phrase ending ${lastPhraseEnd}`);
      lastHypOffset = e.h.offsetMs;
    }
    if (e.t === 'phrase' && e.p.status === 'success') lastPhraseEnd = e.p.offsetMs + e.p.durationMs;
  }
}

/** Index of the utterance (by burst) a time belongs to: the nearest burst start. */
function burstOf(ms: number, bs: Array<[number, number]>): number {
  let best = 0;
  for (let i = 1; i < bs.length; i++) if (Math.abs(bs[i]![0] - ms) < Math.abs(bs[best]![0] - ms)) best = i;
  return best;
}

// ---------------------------------------------------------------------------------------------

describe('RecognitionTurn: continuous ordering', () => {
  it('conversation: start, hypotheses before their phrase, phrases in utterance order, end, turnEnd', async () => {
    const layout = [800, 1200, 900, 1500, 900, 1000, 800];
    const bs = bursts(layout);
    const engine = new ScriptedEngine();
    const { turn, rec } = makeTurn('conversation', engine);
    await feed(turn, synth(layout));
    await turn.end();
    checkInvariants(rec);
    assert.equal(rec.events[0]?.t, 'start');
    near((rec.events[0] as { offsetMs: number }).offsetMs, bs[0]![0], 'speechStartDetected offset');
    const phrases = rec.phrases;
    assert.deepEqual(
      phrases.map((p) => p.status),
      ['success', 'success', 'success'],
    );
    assert.deepEqual(
      phrases.map((p) => p.alternatives[0]?.lexical),
      ['alpha bravo', 'charlie delta echo', 'foxtrot'],
    );
    // Every utterance got live partials, each before its phrase.
    const phraseIdx = rec.events.flatMap((e, i) => (e.t === 'phrase' ? [i] : []));
    const hyps = rec.events.flatMap((e, i) => (e.t === 'hyp' ? [{ i, u: burstOf(e.h.offsetMs, bs), h: e.h }] : []));
    for (let u = 0; u < bs.length; u++) {
      const mine = hyps.filter((h) => h.u === u);
      assert.ok(mine.length >= 1, `utterance ${u} has hypotheses`);
      for (const h of mine) {
        assert.ok(h.i < phraseIdx[u]!, `hypothesis of utterance ${u} precedes its phrase`);
        if (u > 0) assert.ok(h.i > phraseIdx[u - 1]!, `hypothesis of utterance ${u} follows the previous phrase`);
        near(h.h.offsetMs, bs[u]![0], `hypothesis offset of utterance ${u}`);
        assert.ok(h.h.durationMs > 0);
      }
    }
    // speechEndDetected once, right before turnEnd, at the end of the audio.
    assert.equal(rec.count('end'), 1);
    assert.deepEqual(rec.types.slice(-2), ['end', 'turnEnd']);
    assert.equal((rec.events.at(-2) as { offsetMs: number }).offsetMs, turn.audioMs);
    assert.equal(turn.finished, true);
    assert.equal(engine.liveOpened, engine.liveReleased, 'every live decoder was released');
  });

  it('phrases stay in utterance order when decodes take different times', async () => {
    const layout = [600, 700, 700, 700, 700, 700, 700, 700, 700];
    const delays = [60, 0, 25, 5];
    const engine = new ScriptedEngine(async (call) => {
      await delay(delays[call.index] ?? 0);
      return energyDecode(call);
    });
    const { turn, rec } = makeTurn('conversation', engine);
    await feed(turn, synth(layout), { yieldEach: false });
    await turn.end();
    checkInvariants(rec);
    assert.deepEqual(
      rec.phrases.map((p) => p.alternatives[0]?.lexical),
      ['alpha bravo', 'charlie delta echo', 'foxtrot', 'golf hotel'],
    );
    const offsets = rec.phrases.map((p) => p.offsetMs);
    assert.deepEqual([...offsets].sort((a, b) => a - b), offsets, 'phrase offsets increase');
    bursts(layout).forEach(([s], i) => near(offsets[i]!, s, `phrase ${i} offset`));
  });

  it('offsets: phrase offset/duration and word offsets are on the turn timeline and increase', async () => {
    const layout = [1300, 900, 1700, 1400, 2500, 600, 700];
    const bs = bursts(layout);
    const { turn, rec } = makeTurn('conversation', new ScriptedEngine());
    await feed(turn, synth(layout, 4));
    await turn.end();
    checkInvariants(rec);
    const phrases = rec.phrases;
    assert.equal(phrases.length, bs.length);
    let prevWordEnd = -1;
    phrases.forEach((p, i) => {
      const [s, e] = bs[i]!;
      near(p.offsetMs, s, `phrase ${i} offset`);
      near(p.offsetMs + p.durationMs, e, `phrase ${i} end`);
      const words = p.alternatives[0]?.words ?? [];
      assert.ok(words.length > 0);
      near(words[0]!.offsetMs, p.offsetMs, `first word of phrase ${i}`, 1);
      const last = words[words.length - 1]!;
      near(last.offsetMs + last.durationMs, p.offsetMs + p.durationMs, `last word of phrase ${i}`, 1);
      for (const w of words) {
        assert.ok(w.offsetMs >= prevWordEnd - 1e-6, `word ${w.word} starts after the previous one`);
        assert.ok(w.durationMs > 0);
        prevWordEnd = w.offsetMs + w.durationMs;
      }
    });
  });

  it('offsets hold with odd chunk sizes and without yielding', async () => {
    const layout = [1100, 800, 1200, 900, 600];
    const bs = bursts(layout);
    for (const chunk of [1, 333, 16_000, 1_000_000]) {
      const { turn, rec } = makeTurn('conversation', new ScriptedEngine());
      await feed(turn, synth(layout, 9), { chunk, yieldEach: chunk > 1000 });
      await turn.end();
      checkInvariants(rec);
      assert.equal(rec.phrases.length, 2, `chunk ${chunk}`);
      rec.phrases.forEach((p, i) => {
        near(p.offsetMs, bs[i]![0], `chunk ${chunk} phrase ${i} offset`);
        near(p.offsetMs + p.durationMs, bs[i]![1], `chunk ${chunk} phrase ${i} end`);
      });
    }
  });

  it('no-match when the engine recognizes nothing: offset is the speech start', async () => {
    const layout = [700, 800, 900];
    const engine = new ScriptedEngine(async () => ({ text: '', words: [], confidence: 0 }));
    const { turn, rec } = makeTurn('conversation', engine);
    await feed(turn, synth(layout));
    await turn.end();
    checkInvariants(rec);
    assert.equal(rec.phrases.length, 1);
    const p = rec.phrases[0]!;
    assert.equal(p.status, 'no-match');
    near(p.offsetMs, 700, 'no-match offset');
    near(p.offsetMs + p.durationMs, 1500, 'no-match end');
  });

  it('works with the FakeSttEngine through RecognitionService.startTurn', async () => {
    const engine = new FakeSttEngine(['hello world', 'good morning']);
    const decoder: CompressedAudioDecoder = {
      open() {
        throw new Error('no compressed audio in this test');
      },
    };
    const service = new RecognitionService(
      engine,
      decoder,
      {
        initialSilenceTimeoutMsInteractive: 5000,
        initialSilenceTimeoutMsContinuous: 15000,
        segmentationSilenceTimeoutMs: 500,
        maxUtteranceMs: 20000,
        hypothesisIntervalMs: 300,
      },
      new RecordingLogger(),
    );
    const opts = service.resolveOptions({ mode: 'conversation' });
    const rec = new Recorder();
    const { turn, input } = service.startTurn(opts, rec, { maxTurnAudioMs: 60_000 });
    const pcm = synth([700, 1000, 800, 1000, 800]);
    const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    for (let i = 0; i < bytes.length; i += 3200) {
      await input.write(bytes.subarray(i, i + 3200));
      await tick();
    }
    await input.end();
    await turn.end();
    checkInvariants(rec);
    assert.deepEqual(
      rec.phrases.map((p) => p.displayText),
      ['Hello world.', 'Good morning.'],
    );
    near(input.audioMs, 4300, 'audio duration', 1);
    near(turn.audioMs, 4300, 'turn audio', 1);
  });
});

describe('RecognitionTurn: interactive', () => {
  it('exactly one phrase, then turnEnd; later audio is ignored', async () => {
    const layout = [800, 1000, 900, 1000, 1000];
    const engine = new ScriptedEngine();
    const { turn, rec } = makeTurn('interactive', engine);
    const pcm = synth(layout);
    await feed(turn, pcm);
    await tick();
    // The turn ended on its own at the first utterance's end; no end() needed.
    assert.equal(turn.finished, true);
    checkInvariants(rec);
    assert.equal(rec.phrases.length, 1);
    assert.equal(rec.phrases[0]?.alternatives[0]?.lexical, 'alpha bravo');
    assert.deepEqual(rec.types.slice(-3), ['end', 'phrase:success', 'turnEnd']);
    near((rec.events.at(-3) as { offsetMs: number }).offsetMs, 1800, 'speechEndDetected offset');
    assert.equal(engine.calls.length, 1, 'only one utterance decoded');
    const audioMs = turn.audioMs;
    const before = rec.events.length;
    turn.write(synth([0, 1000, 500]));
    await turn.end();
    await tick();
    assert.equal(rec.events.length, before, 'no events after turnEnd');
    assert.equal(turn.audioMs, audioMs, 'audio after the phrase is not taken');
  });

  it('an utterance the engine finds no words in (noise) does not end an interactive turn', async () => {
    // First burst decodes to nothing (a cough, a click); the second is the speech.
    const engine = new ScriptedEngine(async (call) => (call.index === 0 ? { text: '', words: [], confidence: 0 } : wordsFromEnergy(call.pcm, ['real', 'speech'])));
    const { turn, rec } = makeTurn('interactive', engine, { initialSilenceTimeoutMs: 5_000 });
    await feed(turn, synth([300, 400, 900, 1000, 900]));
    await tick();
    assert.equal(turn.finished, true);
    checkInvariants(rec);
    assert.deepEqual(
      rec.phrases.map((p) => p.status),
      ['success'],
    );
    assert.equal(rec.phrases[0]?.alternatives[0]?.lexical, 'real speech');
  });

  it('noise only: NoMatch at the end of the stream, or the initial silence timeout when it runs out first', async () => {
    const noWords = async (): Promise<EngineHypothesis> => ({ text: '', words: [], confidence: 0 });
    const a = makeTurn('interactive', new ScriptedEngine(noWords), { initialSilenceTimeoutMs: 10_000 });
    await feed(a.turn, synth([300, 400, 900]));
    await a.turn.end();
    checkInvariants(a.rec);
    assert.deepEqual(
      a.rec.phrases.map((p) => p.status),
      ['no-match'],
    );
    const b = makeTurn('interactive', new ScriptedEngine(noWords), { initialSilenceTimeoutMs: 1_500 });
    await feed(b.turn, synth([300, 400, 2000]));
    await tick();
    assert.equal(b.turn.finished, true, 'the timeout ends the turn without end()');
    checkInvariants(b.rec);
    assert.deepEqual(
      b.rec.phrases.map((p) => p.status),
      ['initial-silence-timeout'],
    );
  });

  it('an utterance still open at end() is flushed as the one phrase', async () => {
    const { turn, rec } = makeTurn('interactive', new ScriptedEngine());
    await feed(turn, synth([600, 1200]));
    assert.equal(rec.phrases.length, 0);
    await turn.end();
    checkInvariants(rec);
    assert.deepEqual(
      rec.types.filter((t) => t !== 'hyp'),
      ['start', 'end', 'phrase:success', 'turnEnd'],
    );
    near(rec.phrases[0]!.offsetMs, 600, 'offset');
  });

  it('initial silence timeout gives an initial-silence-timeout phrase and turnEnd without end()', async () => {
    const { turn, rec } = makeTurn('interactive', new ScriptedEngine(), { initialSilenceTimeoutMs: 1000 });
    await feed(turn, synth([3000]));
    assert.equal(turn.finished, true);
    assert.deepEqual(rec.types, ['phrase:initial-silence-timeout', 'turnEnd']);
    const p = rec.phrases[0]!;
    assert.equal(p.offsetMs, 0);
    assert.equal(p.durationMs, 1000);
    assert.equal(p.displayText, '');
    assert.equal(turn.audioMs, 1000, 'audio after the timeout is not taken');
    await turn.end();
    assert.deepEqual(rec.types, ['phrase:initial-silence-timeout', 'turnEnd']);
  });

  it('speech before the initial silence timeout prevents it', async () => {
    const { turn, rec } = makeTurn('interactive', new ScriptedEngine(), { initialSilenceTimeoutMs: 1000 });
    await feed(turn, synth([500, 800, 2000]));
    await turn.end();
    checkInvariants(rec);
    assert.deepEqual(
      rec.phrases.map((p) => p.status),
      ['success'],
    );
  });

  it('end() with silence shorter than the timeout reports initial silence', async () => {
    const { turn, rec } = makeTurn('interactive', new ScriptedEngine(), { initialSilenceTimeoutMs: 5000 });
    await feed(turn, synth([1200]));
    await turn.end();
    checkInvariants(rec);
    assert.deepEqual(
      rec.phrases.map((p) => [p.status, p.offsetMs, p.durationMs]),
      [['initial-silence-timeout', 0, 1200]],
    );
  });
});

describe('RecognitionTurn: continuous and dictation specifics', () => {
  it('continuous mode reports the initial silence timeout once and keeps listening', async () => {
    const layout = [4000, 1000, 900];
    const { turn, rec } = makeTurn('conversation', new ScriptedEngine(), { initialSilenceTimeoutMs: 1000 });
    await feed(turn, synth(layout));
    assert.equal(turn.finished, false);
    await turn.end();
    checkInvariants(rec);
    assert.deepEqual(
      rec.phrases.map((p) => p.status),
      ['initial-silence-timeout', 'success'],
    );
    assert.equal(rec.phrases[0]!.durationMs, 1000);
    near(rec.phrases[1]!.offsetMs, 4000, 'speech after the timeout');
    assert.equal(rec.types[0], 'phrase:initial-silence-timeout');
  });

  it('continuous mode with only silence: one timeout phrase, then end() ends the turn', async () => {
    const { turn, rec } = makeTurn('conversation', new ScriptedEngine(), { initialSilenceTimeoutMs: 1000 });
    await feed(turn, synth([5000]));
    await turn.end();
    checkInvariants(rec);
    assert.deepEqual(rec.types, ['phrase:initial-silence-timeout', 'end', 'turnEnd']);
  });

  it('dictation adds an end-of-dictation phrase at end()', async () => {
    const layout = [700, 900, 800, 900, 700];
    const { turn, rec } = makeTurn('dictation', new ScriptedEngine());
    await feed(turn, synth(layout));
    await turn.end();
    checkInvariants(rec);
    assert.deepEqual(
      rec.phrases.map((p) => p.status),
      ['success', 'success', 'end-of-dictation'],
    );
    const eod = rec.phrases[2]!;
    assert.equal(eod.offsetMs, turn.audioMs);
    assert.equal(eod.durationMs, 0);
    assert.deepEqual(rec.types.slice(-3), ['phrase:end-of-dictation', 'end', 'turnEnd']);
  });

  it('end() with no audio at all: no phrase, just the end of the turn', async () => {
    for (const mode of ['interactive', 'conversation'] as const) {
      const { turn, rec } = makeTurn(mode, new ScriptedEngine(), { initialSilenceTimeoutMs: 1000 });
      await turn.end();
      checkInvariants(rec);
      assert.equal(rec.phrases.length, 0, mode);
      assert.equal(turn.audioMs, 0);
    }
    const { turn, rec } = makeTurn('dictation', new ScriptedEngine());
    await turn.end();
    checkInvariants(rec);
    assert.deepEqual(
      rec.phrases.map((p) => p.status),
      ['end-of-dictation'],
    );
  });

  it('end() is idempotent and resolves after turnEnd', async () => {
    const { turn, rec } = makeTurn('conversation', new ScriptedEngine());
    await feed(turn, synth([500, 800]));
    const a = turn.end();
    const b = turn.end();
    assert.equal(a, b);
    await a;
    assert.equal(rec.events.at(-1)?.t, 'turnEnd');
    await turn.end();
    checkInvariants(rec);
  });
});

describe('RecognitionTurn: engine failures and abort', () => {
  const cases: Array<[string, () => unknown, string, number]> = [
    ['Overloaded', () => new EngineError('Overloaded', 'queue full'), ErrorCodes.EngineOverloaded, 503],
    ['Internal', () => new EngineError('Internal', 'boom'), ErrorCodes.EngineFailure, 500],
    ['UnsupportedLocale', () => new EngineError('UnsupportedLocale', 'xx'), ErrorCodes.UnsupportedLocale, 400],
    ['plain Error', () => new Error('kaput'), ErrorCodes.EngineFailure, 500],
    ['ServiceError', () => Errors.invalidAudio('bad'), ErrorCodes.InvalidAudio, 400],
  ];
  for (const [name, err, code, status] of cases) {
    it(`engine failure (${name}) gives an error phrase with code ${code}, then turnEnd`, async () => {
      const logger = new RecordingLogger();
      const engine = new ScriptedEngine(async () => {
        throw err();
      });
      const { turn, rec } = makeTurn('conversation', engine, {}, { logger });
      await feed(turn, synth([600, 800, 800, 800, 800]));
      assert.equal(turn.finished, true, 'the error ended the turn');
      checkInvariants(rec);
      assert.deepEqual(
        rec.types.filter((t) => t !== 'hyp'),
        ['start', 'phrase:error', 'turnEnd'],
      );
      const p = rec.phrases[0]!;
      assert.ok(p.error instanceof ServiceError);
      assert.equal(p.error.code, code);
      assert.equal(p.error.status, status);
      assert.equal(p.displayText, '');
      assert.equal(engine.calls.length, 1, 'no decode after the failure');
      assert.equal(
        logger.lines.some((l) => l.level === 'error'),
        status >= 500,
        'server-side failures are logged as errors',
      );
      await turn.end();
      assert.equal(rec.count('turnEnd'), 1);
    });
  }

  it('engine failure in interactive mode: speechEndDetected, error phrase, turnEnd', async () => {
    const engine = new ScriptedEngine(async () => {
      throw new EngineError('Overloaded', 'busy');
    });
    const { turn, rec } = makeTurn('interactive', engine);
    await feed(turn, synth([600, 800, 800]));
    await turn.end();
    checkInvariants(rec);
    assert.deepEqual(rec.types.filter((t) => t !== 'hyp'), ['start', 'end', 'phrase:error', 'turnEnd']);
    assert.equal(rec.phrases[0]!.error?.code, 'EngineOverloaded');
  });

  it('a live decoder that is unavailable or fails only costs the partials', async () => {
    const noLive = new ScriptedEngine(energyDecode, false);
    const a = makeTurn('conversation', noLive);
    await feed(a.turn, synth([600, 1200, 800]));
    await a.turn.end();
    checkInvariants(a.rec);
    assert.equal(a.rec.count('hyp'), 0);
    assert.deepEqual(
      a.rec.phrases.map((p) => p.status),
      ['success'],
    );

    const failing = new ScriptedEngine();
    failing.openLiveDecoder = async () => {
      throw new EngineError('Overloaded', 'no live decoder');
    };
    const b = makeTurn('conversation', failing);
    await feed(b.turn, synth([600, 1200, 800]));
    await b.turn.end();
    checkInvariants(b.rec);
    assert.deepEqual(
      b.rec.phrases.map((p) => p.status),
      ['success'],
    );
  });

  it('abort() produces no further events and aborts the decode signal', async () => {
    const manual = manualDecodes();
    const engine = new ScriptedEngine(manual.behaviour);
    const { turn, rec } = makeTurn('conversation', engine);
    await feed(turn, synth([600, 800, 700, 800, 300]));
    assert.equal(manual.pending.length, 1);
    const before = rec.events.length;
    turn.abort();
    assert.equal(turn.finished, true);
    assert.equal(manual.pending[0]!.call.signal?.aborted, true, 'the engine sees the abort');
    manual.pending[0]!.release();
    await tick();
    turn.write(synth([100, 800, 800]));
    await turn.end();
    for (let i = 0; i < 5; i++) await tick();
    assert.equal(rec.events.length, before, `no events after abort: ${rec.types.slice(before).join(',')}`);
    assert.equal(engine.calls.length, 1, 'queued utterances are not decoded after abort');
  });

  it(
    'abort() in interactive mode while the final decode runs emits nothing afterwards',
    async () => {
      const manual = manualDecodes();
      const { turn, rec } = makeTurn('interactive', new ScriptedEngine(manual.behaviour));
      await feed(turn, synth([600, 800, 800]));
      assert.equal(manual.pending.length, 1, 'the decode is running');
      const before = rec.events.length;
      turn.abort();
      manual.pending[0]!.release();
      for (let i = 0; i < 5; i++) await tick();
      assert.deepEqual(rec.types.slice(before), [], 'no events after abort');
    },
  );
});

describe('RecognitionTurn: backpressure and limits', () => {
  it('backlogged / whenDrained resolve once queued decodes complete', async () => {
    const manual = manualDecodes();
    const engine = new ScriptedEngine(manual.behaviour);
    const { turn, rec } = makeTurn('conversation', engine, { segmentationSilenceTimeoutMs: 200 });
    // Four short utterances, written without waiting: their finals queue up behind the first decode.
    await feed(turn, synth([300, 400, 400, 400, 400, 400, 400, 400, 400]));
    assert.equal(turn.backlogged, true, 'four pending finals exceed the queue');
    let drained = false;
    const waiting = turn.whenDrained().then(() => {
      drained = true;
    });
    await tick();
    assert.equal(drained, false);
    assert.equal(engine.maxInFlight, 1, 'finals are decoded one at a time, in order');
    assert.equal(manual.pending.length, 1, 'the second decode waits for the first');
    manual.pending[0]!.release();
    for (let k = 0; k < 5 && manual.pending.length < 2; k++) await tick();
    assert.equal(turn.backlogged, true, 'three finals still pending');
    assert.equal(drained, false);
    manual.pending[1]!.release();
    await within(waiting, 1000);
    assert.equal(drained, true, 'drained once the backlog is back under the limit');
    assert.equal(turn.backlogged, false);
    await turn.whenDrained();
    // Release the rest and finish normally.
    for (let i = 2; i < 4; i++) {
      for (let k = 0; k < 5 && manual.pending.length <= i; k++) await tick();
      manual.pending[i]!.release();
    }
    await turn.end();
    checkInvariants(rec);
    assert.equal(rec.phrases.length, 4);
  });

  it('a writer that respects backpressure gets every phrase', async () => {
    const engine = new ScriptedEngine(async (call) => {
      await delay(5);
      return energyDecode(call);
    });
    const { turn, rec } = makeTurn('conversation', engine, { segmentationSilenceTimeoutMs: 200 });
    await feed(turn, synth([300, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400]), { yieldEach: false, respectBackpressure: true });
    await turn.end();
    checkInvariants(rec);
    assert.equal(rec.phrases.length, 6);
  });

  it(
    'after the turn ended with finals still queued, backlogged is false and whenDrained() resolves',
    async () => {
      const manual = manualDecodes();
      const { turn, rec } = makeTurn('conversation', new ScriptedEngine(manual.behaviour), { segmentationSilenceTimeoutMs: 200 });
      await feed(turn, synth([300, 400, 400, 400, 400, 400, 400, 400, 400]));
      assert.equal(turn.backlogged, true);
      manual.pending[0]!.fail(new EngineError('Overloaded', 'queue full'));
      for (let i = 0; i < 5; i++) await tick();
      assert.equal(turn.finished, true);
      assert.deepEqual(
        rec.phrases.map((p) => p.status),
        ['error'],
      );
      assert.equal(turn.backlogged, false, 'a finished turn is not backlogged');
      assert.notEqual(await within(turn.whenDrained(), 200), 'timeout', 'whenDrained() on a finished turn resolves');
    },
  );

  it(
    'after abort() with finals queued, whenDrained() resolves',
    async () => {
      const manual = manualDecodes();
      const { turn } = makeTurn('conversation', new ScriptedEngine(manual.behaviour), { segmentationSilenceTimeoutMs: 200 });
      await feed(turn, synth([300, 400, 400, 400, 400, 400, 400, 400, 400]));
      assert.equal(turn.backlogged, true);
      turn.abort();
      manual.pending[0]!.release();
      for (let i = 0; i < 5; i++) await tick();
      assert.notEqual(await within(turn.whenDrained(), 200), 'timeout');
    },
  );

  it(
    'REST recognizeOnce: a body chunk holding several utterances does not stall the request',
    async () => {
      const service = new RecognitionService(
        new ScriptedEngine(),
        { open: () => assert.fail('no compressed audio') },
        {
          initialSilenceTimeoutMsInteractive: 5000,
          initialSilenceTimeoutMsContinuous: 15000,
          segmentationSilenceTimeoutMs: 200,
          maxUtteranceMs: 20000,
          hypothesisIntervalMs: 300,
        },
        new RecordingLogger(),
      );
      const pcm = synth([300, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400]);
      const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
      async function* body(): AsyncGenerator<Buffer> {
        yield bytes;
        yield Buffer.alloc(3200);
      }
      const controller = new AbortController();
      const result = service
        .recognizeOnce(service.resolveOptions({ mode: 'interactive' }), body(), {
          maxAudioMs: 60_000,
          declared: { kind: 'raw', format: { encoding: 'pcm-s16', sampleRate: 16_000, channels: 1 } },
          signal: controller.signal,
        })
        .catch((err: unknown) => err);
      const outcome = await within(result, 1000);
      controller.abort();
      await result;
      assert.notEqual(outcome, 'timeout', 'recognizeOnce returned');
      assert.equal((outcome as PhraseResult).status, 'success');
    },
  );

  it('whenDrained() waiting at abort() is released', async () => {
    const manual = manualDecodes();
    const { turn } = makeTurn('conversation', new ScriptedEngine(manual.behaviour), { segmentationSilenceTimeoutMs: 200 });
    await feed(turn, synth([300, 400, 400, 400, 400, 400, 400, 400, 400]));
    assert.equal(turn.backlogged, true);
    const waiting = turn.whenDrained();
    turn.abort();
    assert.notEqual(await within(waiting, 500), 'timeout');
  });

  it('maxTurnAudioMs ends the turn without end()', async () => {
    const { turn, rec } = makeTurn('conversation', new ScriptedEngine(), {}, { maxTurnAudioMs: 2000 });
    await feed(turn, synth([500, 800, 3700]));
    for (let i = 0; i < 5; i++) await tick();
    assert.equal(turn.finished, true);
    assert.equal(turn.audioMs, 2000, 'audio beyond the limit is not taken');
    checkInvariants(rec);
    assert.deepEqual(
      rec.types.filter((t) => t !== 'hyp'),
      ['start', 'phrase:success', 'end', 'turnEnd'],
    );
    assert.equal((rec.events.at(-2) as { offsetMs: number }).offsetMs, 2000);
  });

  it('maxTurnAudioMs cutting into speech flushes the open utterance', async () => {
    const { turn, rec } = makeTurn('conversation', new ScriptedEngine(), {}, { maxTurnAudioMs: 2000 });
    await feed(turn, synth([1000, 3000]));
    await turn.end();
    checkInvariants(rec);
    assert.equal(turn.audioMs, 2000);
    assert.deepEqual(
      rec.phrases.map((p) => p.status),
      ['success'],
    );
    near(rec.phrases[0]!.offsetMs, 1000, 'offset');
    near(rec.phrases[0]!.offsetMs + rec.phrases[0]!.durationMs, 2000, 'end at the limit');
  });

  it('interactive: reaching maxTurnAudioMs mid-speech reports the utterance so far as the one Success phrase', async () => {
    // What the WebSocket session does with Azure's 15 s single-shot limit (scaled down).
    const { turn, rec } = makeTurn('interactive', new ScriptedEngine(), {}, { maxTurnAudioMs: 2000 });
    await feed(turn, synth([500, 4000]));
    for (let i = 0; i < 5 && !turn.finished; i++) await tick();
    assert.equal(turn.finished, true, 'no end() needed');
    checkInvariants(rec);
    assert.equal(turn.audioMs, 2000, 'audio beyond the limit is not taken');
    assert.deepEqual(
      rec.types.filter((t) => t !== 'hyp'),
      ['start', 'end', 'phrase:success', 'turnEnd'],
    );
    near(rec.phrases[0]!.offsetMs, 500, 'offset');
    near(rec.phrases[0]!.offsetMs + rec.phrases[0]!.durationMs, 2000, 'end at the limit');
  });

  it('ending: set once end() was called or the turn queued its own end, cleared when finished', async () => {
    const { turn } = makeTurn('conversation', new ScriptedEngine());
    await feed(turn, synth([300, 800, 200]));
    assert.equal(turn.ending, false, 'a turn taking audio is not ending');
    const ended = turn.end();
    assert.equal(turn.ending, true, 'after end(), before turnEnd');
    await ended;
    assert.equal(turn.finished, true);
    assert.equal(turn.ending, false, 'a finished turn is not ending');
    const silent = makeTurn('interactive', new ScriptedEngine(), { initialSilenceTimeoutMs: 500 });
    silent.turn.write(synth([800]));
    assert.equal(silent.turn.ending || silent.turn.finished, true, 'the initial silence timeout ends an interactive turn by itself');
  });

  it('maxUtteranceMs splits one long burst into several phrases', async () => {
    const engine = new ScriptedEngine();
    const { turn, rec } = makeTurn('conversation', engine, { maxUtteranceMs: 2000 });
    await feed(turn, synth([500, 5000, 800]));
    await turn.end();
    checkInvariants(rec);
    assert.equal(rec.phrases.length, 3);
    assert.equal(engine.calls.length, 3);
    near(rec.phrases[0]!.offsetMs, 500, 'first');
    assert.ok(rec.phrases[1]!.offsetMs > rec.phrases[0]!.offsetMs);
    assert.ok(rec.phrases[2]!.offsetMs > rec.phrases[1]!.offsetMs);
    near(rec.phrases[2]!.offsetMs + rec.phrases[2]!.durationMs, 5500, 'end of the last');
  });

  it(
    'phrases cut by maxUtteranceMs do not decode the same audio twice',
    async () => {
      const engine = new ScriptedEngine();
      const { turn, rec } = makeTurn('conversation', engine, { maxUtteranceMs: 2000 });
      await feed(turn, synth([500, 5000, 800]));
      await turn.end();
      const spans = rec.phrases.map((p) => [p.offsetMs, p.offsetMs + p.durationMs] as const);
      for (let i = 1; i < spans.length; i++) {
        assert.ok(spans[i]![0] >= spans[i - 1]![1] - 60, `phrase ${i} (${spans[i]!.join('–')}) overlaps phrase ${i - 1} (${spans[i - 1]!.join('–')})`);
      }
      near(rec.phrases[1]!.offsetMs, 2500, 'second');
      near(rec.phrases[2]!.offsetMs, 4500, 'third');
    },
  );
});
