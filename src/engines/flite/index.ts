/**
 * Flite text-to-speech engine (Debian's flite 2.2 voices: en-US slt, rms, kal16, kal; en-GB awb), synthesizing
 * in a pool of worker threads through koffi.
 *
 * Streaming: the text is split into sentences (flite's own rule, see `splitSentences`) and each sentence is one
 * flite utterance, synthesized on its own, so a request's first audio leaves after its first sentence (≈0.1 s)
 * rather than after the whole text. For each sentence the stream yields its word and phone events, in audio
 * time, then its audio: metadata always arrives just ahead of the audio it describes. Times add up across
 * sentences from the sample counts, so they do not drift.
 *
 * Scheduling, all on the main thread (as in the PocketSphinx engine, but per sentence rather than per request):
 * - A worker gets one sentence at a time. Requests with a sentence to synthesize wait in one list; a free worker
 *   takes the sentence of the request with the least audio buffered ahead of its consumer (first come first
 *   served among equals). A new request therefore starts after at most one sentence per worker, even behind a
 *   long text, and requests in progress take turns.
 * - A request synthesizes ahead of its consumer only up to `readAheadMs` of audio, then waits until the consumer
 *   has taken some: a slow client holds memory for that much audio (plus a sentence), not for the whole text,
 *   and holds no worker.
 * - At most `workers + maxQueued` requests are in progress at once; beyond that, `Overloaded`.
 * - Aborting (the signal, or the consumer leaving the loop) takes effect at once for the consumer; a sentence
 *   already in C finishes in its worker (≈0.1 s) and its result is dropped.
 * - A worker that dies fails the request whose sentence it had with `Internal` and is respawned; other requests
 *   wait for it or use the other workers. A crash inside the C library still takes the whole process down
 *   (threads share the process), which only child processes could contain.
 * - Errors (unknown voice → `UnsupportedLocale`, `Overloaded`, `Aborted`) surface from the iterator's first
 *   `next()`: the request is admitted when its consumer starts reading, not when `synthesize` is called.
 *
 * Events and port notes: phones use flite's CMU arpabet names, except flite's silence `pau`, reported as `sil`.
 * One word event per input token that flite spoke ("25" → one event for "twenty five", "$5.50" one for four
 * words); tokens flite says nothing for (lone punctuation, characters it cannot pronounce) get none. Volume is
 * left to the domain (which applies it); rate and pitch are applied here (bindings.ts: duration_stretch and
 * f0_shift, plus a re-synthesis for rms, whose F0 model ignores f0_shift). The clustergen voices (slt, rms, awb)
 * excite unvoiced sounds with libc rand() noise, so their samples differ slightly from run to run; lengths,
 * timings and events do not.
 */
import { Worker } from 'node:worker_threads';
import { deferred, startWorker, afterWorkerCrash } from '../../kernel/worker-threads.js';

import { EngineError, type Prosody, type SynthesisEvent, type SynthesisInput, type TtsEngine, type TtsVoice, engineErrorFrom } from '../../domain/ports/engines.js';
import { silentLogger, type Logger } from '../../kernel/logger.js';
import type { FliteSegment, FliteToken } from './bindings.js';
import { FLITE_INIT_LOCK } from './init-lock.js';
import { ENGINE_ID, selectVoices, type FliteVoiceInfo } from './voices.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker.js';

export { FLITE_VOICES, type FliteVoiceInfo } from './voices.js';
export { FliteLetterToSound } from './lts.js';

export interface FliteEngineOptions {
  /** Worker threads; each synthesizes one sentence at a time (≈0.1 s for clustergen voices). Default 1. */
  workers?: number;
  /** Requests allowed in progress beyond one per worker; more are rejected with `Overloaded`. Default 32. */
  maxQueued?: number;
  /** Flite voice names to offer (default: all of FLITE_VOICES). */
  voices?: readonly string[];
  /** Audio a request synthesizes ahead of its consumer before it waits for it to catch up. Default 10 s. */
  readAheadMs?: number;
  /** Longer sentences are cut at a space (flite's time and memory grow with the utterance). Default 1,000. */
  maxSentenceChars?: number;
  logger?: Logger;
}

export interface FliteEngineStats {
  workersReady: number;
  /** Workers synthesizing a sentence right now. */
  workersBusy: number;
  /** Requests in progress (admitted, not yet finished). */
  activeRequests: number;
  /** Requests whose next sentence waits for a worker. */
  waitingRequests: number;
  /** Sentences synthesized since the engine started. */
  sentencesSynthesized: number;
}

const WORKER_URL = new URL('./worker.js', import.meta.url);

const DEFAULT_MAX_QUEUED = 32;
const DEFAULT_READ_AHEAD_MS = 10_000;
const DEFAULT_MAX_SENTENCE_CHARS = 1_000;

/**
 * How long close() lets a worker finish the sentence it is on before terminating it. A sentence of
 * `maxSentenceChars` takes well under a second, so this only matters for a worker that is truly stuck.
 */
const SHUTDOWN_GRACE_MS = 10_000;


// ---------------------------------------------------------------------------------------------------------------
// Text: sentences and token positions (pure; exported for tests)
// ---------------------------------------------------------------------------------------------------------------

/** A piece of the input synthesized as one flite utterance; `offset` is where `text` starts in the input. */
export interface Sentence {
  offset: number;
  text: string;
}

/** Flite's US English punctuation (usenglish.c): what its tokenizer strips before and after a token's name. */
const PRE_PUNCTUATION = '"\'`({[';
const POST_PUNCTUATION = '"\'`.,:;!?(){}[]';

function stripPunctuation(raw: string): { name: string; punc: string } {
  let start = 0;
  let end = raw.length;
  while (start < end && PRE_PUNCTUATION.includes(raw.charAt(start))) start++;
  while (end > start && POST_PUNCTUATION.includes(raw.charAt(end - 1))) end--;
  return { name: raw.slice(start, end), punc: raw.slice(end) };
}

/**
 * Whether a sentence ends after `token`, given the whitespace `gap` and the `next` token: flite's
 * default_utt_break (cst_synth.c), minus its break on ':'. A blank line ends one; '?' and '!' do; '.' does when
 * the next word is capitalised and the token does not look like an abbreviation ("Dr.", "U.S.A.", "Mr."),
 * unless two spaces follow it.
 */
function endsSentence(token: string, gap: string, next: string): boolean {
  if ((gap.match(/\n/g)?.length ?? 0) >= 2) return true;
  const { name, punc } = stripPunctuation(token);
  if (/[?!]/.test(punc)) return true;
  if (!punc.includes('.')) return false;
  const nextName = stripPunctuation(next).name;
  if (!/^\p{Lu}/u.test(nextName)) return false;
  if (gap.length > 1) return true;
  const abbreviation = /\p{Lu}$/u.test(name) || (name.length < 4 && /^\p{Lu}/u.test(name));
  return !abbreviation;
}

/** Cuts a sentence longer than `maxChars` at the last whitespace before the limit (or at the limit, if none). */
function capLength(sentence: Sentence, maxChars: number): Sentence[] {
  const out: Sentence[] = [];
  let { offset, text } = sentence;
  while (text.length > maxChars) {
    let cut = maxChars;
    while (cut > 0 && !/\s/.test(text.charAt(cut))) cut--;
    if (cut === 0) {
      cut = maxChars;
      // Never between the halves of a surrogate pair.
      const code = text.charCodeAt(cut);
      if (code >= 0xdc00 && code <= 0xdfff) cut--;
    }
    const head = text.slice(0, cut).trimEnd();
    if (head !== '') out.push({ offset, text: head });
    let rest = cut;
    while (rest < text.length && /\s/.test(text.charAt(rest))) rest++;
    offset += rest;
    text = text.slice(rest);
  }
  if (text !== '') out.push({ offset, text });
  return out;
}

/** Splits `text` into sentences with their offsets; whitespace between sentences belongs to none. */
export function splitSentences(text: string, maxChars = DEFAULT_MAX_SENTENCE_CHARS): Sentence[] {
  const tokens = [...text.matchAll(/\S+/gu)].map((m) => ({ start: m.index, end: m.index + m[0].length, raw: m[0] }));
  const sentences: Sentence[] = [];
  let first = tokens[0];
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i];
    const next = tokens[i + 1];
    if (tok === undefined || first === undefined) break;
    if (next === undefined || endsSentence(tok.raw, text.slice(tok.end, next.start), next.raw)) {
      sentences.push(...capLength({ offset: first.start, text: text.slice(first.start, tok.end) }, Math.max(1, maxChars)));
      first = next;
    }
  }
  return sentences;
}

/**
 * Where each of flite's tokens is in `text`: each is searched for from the end of the previous match, so
 * repeated words map in order. A token not found (flite altered it) gets `undefined` and moves nothing.
 */
export function locateTokens(text: string, tokens: readonly string[]): Array<{ offset: number; length: number } | undefined> {
  let cursor = 0;
  return tokens.map((t) => {
    if (t === '') return undefined;
    const at = text.indexOf(t, cursor);
    if (at < 0) return undefined;
    cursor = at + t.length;
    return { offset: at, length: t.length };
  });
}

/** What a worker returns for one sentence. */
export interface SentenceAudio {
  pcm: Int16Array;
  tokens: readonly FliteToken[];
  segments: readonly FliteSegment[];
}

/**
 * The events of one synthesized sentence: word and phone events in audio-time order (a word before the phones
 * starting with it), then the audio. `baseMs` is where the sentence starts in the request's audio.
 */
export function sentenceEvents(sentence: Sentence, audio: SentenceAudio, baseMs: number): SynthesisEvent[] {
  const spans = locateTokens(sentence.text, audio.tokens.map((t) => t.text));
  const meta: SynthesisEvent[] = [];
  audio.tokens.forEach((token, i) => {
    const span = spans[i];
    if (span === undefined || token.startMs === undefined || token.endMs === undefined) return;
    meta.push({
      type: 'word',
      textOffset: sentence.offset + span.offset,
      textLength: span.length,
      audioOffsetMs: baseMs + token.startMs,
      durationMs: token.endMs - token.startMs,
    });
  });
  for (const seg of audio.segments) {
    if (seg.endMs <= seg.startMs) continue;
    meta.push({ type: 'phone', phone: seg.phone === 'pau' ? 'sil' : seg.phone, audioOffsetMs: baseMs + seg.startMs, durationMs: seg.endMs - seg.startMs });
  }
  // Stable: at equal times words (pushed first) stay ahead of phones.
  meta.sort((a, b) => startOf(a) - startOf(b));
  if (audio.pcm.length > 0) meta.push({ type: 'audio', pcm: audio.pcm });
  return meta;
}

function startOf(ev: SynthesisEvent): number {
  return ev.type === 'audio' ? Infinity : ev.audioOffsetMs;
}

// ---------------------------------------------------------------------------------------------------------------
// One request as the scheduler and its consumer see it
// ---------------------------------------------------------------------------------------------------------------

class SynthesisStream {
  /** Index of the next sentence to send to a worker. */
  next = 0;
  inFlight = false;
  /** In the engine's list of requests waiting for a worker. */
  waiting = false;
  /** Samples of the sentences delivered so far: where the next sentence's audio starts. */
  private samplesDelivered = 0;
  private readonly buffer: SynthesisEvent[] = [];
  private bufferedSamples = 0;
  private ended = false;
  private error: EngineError | undefined;
  private wake: (() => void) | undefined;

  constructor(
    readonly voice: FliteVoiceInfo,
    readonly prosody: { rate: number; pitch: number },
    readonly sentences: readonly Sentence[],
    private readonly readAheadSamples: number,
    /** Called when the consumer has taken enough audio for synthesis to go on. */
    private readonly onDrained: () => void,
  ) {}

  /** Finished, failed or cancelled: nothing more is delivered. */
  get settled(): boolean {
    return this.ended || this.error !== undefined;
  }

  /** Whether a worker should synthesize this request's next sentence now. */
  get wantsSentence(): boolean {
    if (this.settled || this.inFlight || this.next >= this.sentences.length) return false;
    // With nothing buffered it always goes on (so a read-ahead of 0 means "one sentence at a time").
    return this.bufferedSamples === 0 || this.bufferedSamples < this.readAheadSamples;
  }

  get bufferedMs(): number {
    return (this.bufferedSamples * 1000) / this.voice.sampleRate;
  }

  deliver(sentence: Sentence, audio: SentenceAudio): void {
    if (this.settled) return;
    const baseMs = (this.samplesDelivered * 1000) / this.voice.sampleRate;
    this.buffer.push(...sentenceEvents(sentence, audio, baseMs));
    this.samplesDelivered += audio.pcm.length;
    this.bufferedSamples += audio.pcm.length;
    if (this.next >= this.sentences.length) this.ended = true;
    this.notify();
  }

  fail(err: EngineError): void {
    if (this.settled) return;
    this.error = err;
    this.buffer.length = 0;
    this.bufferedSamples = 0;
    this.notify();
  }

  /** The next event; `undefined` at the end. @throws the error the request failed with. */
  async take(): Promise<SynthesisEvent | undefined> {
    for (;;) {
      if (this.error !== undefined) throw this.error;
      const ev = this.buffer.shift();
      if (ev !== undefined) {
        if (ev.type === 'audio') {
          this.bufferedSamples -= ev.pcm.length;
          if (this.wantsSentence && !this.waiting) this.onDrained();
        }
        return ev;
      }
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Workers
// ---------------------------------------------------------------------------------------------------------------

function abortedError(): EngineError {
  return new EngineError('Aborted', 'synthesis aborted');
}

/** Replies a worker owes us, by request id. */
interface PendingReply {
  onReply(msg: FromWorker): void;
  onFailure(err: EngineError): void;
}

/** One worker thread as the main side sees it; `worker` is replaced on respawn. */
class WorkerSlot {
  worker: Worker | undefined;
  state: 'starting' | 'ready' | 'failed' | 'respawning' | 'closed' = 'starting';
  /** The request whose sentence this worker is synthesizing, if any. */
  job: SynthesisStream | undefined;
  readonly pending = new Map<number, PendingReply>();
  consecutiveCrashes = 0;
  /** Ever sent 'ready' (a crash before that is a start-up failure). */
  everReady = false;
  respawnTimer: NodeJS.Timeout | undefined;
  /** Settles once: when the worker is first ready, or when it cannot be (voices failed to load, engine closed). */
  readonly firstReady = deferred<void>();

  constructor(readonly index: number) {
    // ready() may never be called; the rejection is reported through it or through requests.
    this.firstReady.promise.catch(() => undefined);
  }
}

function clampFinite(x: number, min: number, max: number): number {
  return Number.isFinite(x) ? Math.min(max, Math.max(min, x)) : 1;
}

// ---------------------------------------------------------------------------------------------------------------
// Engine
// ---------------------------------------------------------------------------------------------------------------

export class FliteEngine implements TtsEngine {
  readonly id = ENGINE_ID;
  readonly phoneSet = 'arpabet' as const;

  private readonly log: Logger;
  private readonly catalogue: readonly FliteVoiceInfo[];
  private readonly publicVoices: readonly TtsVoice[];
  private readonly maxQueued: number;
  private readonly readAheadMs: number;
  private readonly maxSentenceChars: number;
  private readonly slots: WorkerSlot[];
  /** Requests whose next sentence waits for a worker. */
  private readonly waiting: SynthesisStream[] = [];
  private readonly active = new Set<SynthesisStream>();
  private readonly readyPromise: Promise<void>;
  private nextRequestId = 1;
  private sentencesSynthesized = 0;
  private closing: Promise<void> | undefined;
  /** Set when no worker could load the voices: nothing can be served, so requests fail fast. */
  private fatal: EngineError | undefined;

  constructor(options: FliteEngineOptions = {}) {
    const workers = options.workers ?? 1;
    const maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
    const maxSentenceChars = options.maxSentenceChars ?? DEFAULT_MAX_SENTENCE_CHARS;
    for (const [name, v, min] of [['workers', workers, 1], ['maxQueued', maxQueued, 0], ['maxSentenceChars', maxSentenceChars, 1]] as const) {
      if (!Number.isInteger(v) || v < min) throw new RangeError(`FliteEngine: ${name} must be an integer >= ${min}, got ${v}`);
    }
    const readAheadMs = options.readAheadMs ?? DEFAULT_READ_AHEAD_MS;
    if (!(readAheadMs >= 0)) throw new RangeError(`FliteEngine: readAheadMs must be >= 0, got ${readAheadMs}`);
    this.maxQueued = maxQueued;
    this.readAheadMs = readAheadMs;
    this.maxSentenceChars = maxSentenceChars;
    this.log = (options.logger ?? silentLogger).child({ engine: ENGINE_ID });
    this.catalogue = selectVoices(options.voices);
    if (this.catalogue.length === 0) throw new RangeError('FliteEngine: no voices selected');
    this.publicVoices = this.catalogue.map(({ fliteName: _, ...v }) => Object.freeze(v));
    this.slots = Array.from({ length: workers }, (_, i) => new WorkerSlot(i));
    for (const slot of this.slots) this.spawn(slot);
    this.readyPromise = Promise.all(this.slots.map((s) => s.firstReady.promise)).then(() => undefined);
    this.readyPromise.catch(() => undefined);
  }

  voices(): readonly TtsVoice[] {
    return this.publicVoices;
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  stats(): FliteEngineStats {
    return {
      workersReady: this.slots.filter((s) => s.state === 'ready').length,
      workersBusy: this.slots.filter((s) => s.job !== undefined).length,
      activeRequests: this.active.size,
      waitingRequests: this.waiting.length,
      sentencesSynthesized: this.sentencesSynthesized,
    };
  }

  async *synthesize(input: SynthesisInput, signal?: AbortSignal): AsyncGenerator<SynthesisEvent, void, undefined> {
    const voice = this.catalogue.find((v) => v.id === input.voiceId);
    if (voice === undefined) throw new EngineError('UnsupportedLocale', `flite has no voice '${input.voiceId}'`);
    if (signal?.aborted === true) throw abortedError();
    if (this.closing !== undefined) throw new EngineError('Aborted', 'engine closed');
    if (this.fatal !== undefined) throw this.fatal;
    const sentences = splitSentences(input.text, this.maxSentenceChars);
    if (sentences.length === 0) return;
    if (this.active.size >= this.slots.length + this.maxQueued) {
      throw new EngineError('Overloaded', `flite is busy (${this.active.size} requests in progress)`);
    }

    const stream = new SynthesisStream(voice, prosodyOf(input.prosody), sentences, Math.round((this.readAheadMs * voice.sampleRate) / 1000), () =>
      this.schedule(stream),
    );
    const onAbort = (): void => {
      stream.fail(abortedError());
      this.unschedule(stream);
    };
    this.active.add(stream);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      this.schedule(stream);
      for (let ev = await stream.take(); ev !== undefined; ev = await stream.take()) yield ev;
    } finally {
      // Also reached when the consumer leaves the loop early: the request stops here.
      signal?.removeEventListener('abort', onAbort);
      stream.fail(new EngineError('Aborted', 'synthesis cancelled by its consumer'));
      this.unschedule(stream);
      this.active.delete(stream);
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** @internal Test hook: makes worker `index` exit as if it had crashed. */
  crashWorkerForTest(index: number): void {
    this.slots[index]?.worker?.postMessage({ type: 'crash' } satisfies ToWorker);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Scheduling
  // -------------------------------------------------------------------------------------------------------------

  private schedule(stream: SynthesisStream): void {
    if (this.fatal !== undefined) stream.fail(this.fatal);
    if (stream.wantsSentence && !stream.waiting) {
      stream.waiting = true;
      this.waiting.push(stream);
    }
    this.pump();
  }

  private unschedule(stream: SynthesisStream): void {
    if (!stream.waiting) return;
    stream.waiting = false;
    const i = this.waiting.indexOf(stream);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  private idleSlot(): WorkerSlot | undefined {
    return this.slots.find((s) => s.state === 'ready' && s.job === undefined);
  }

  /** The waiting request with the least audio buffered ahead of its consumer (the first of equals). */
  private takeNeediest(): SynthesisStream | undefined {
    let best = -1;
    let bestMs = Infinity;
    this.waiting.forEach((s, i) => {
      if (s.bufferedMs < bestMs) {
        best = i;
        bestMs = s.bufferedMs;
      }
    });
    if (best < 0) return undefined;
    const [stream] = this.waiting.splice(best, 1);
    if (stream !== undefined) stream.waiting = false;
    return stream;
  }

  private pump(): void {
    if (this.closing !== undefined) return;
    for (let slot = this.idleSlot(); slot !== undefined && this.waiting.length > 0; slot = this.idleSlot()) {
      const stream = this.takeNeediest();
      if (stream === undefined) break;
      // A request may have stopped wanting (failed, or its consumer stalled) since it was listed.
      if (stream.wantsSentence) this.startSentence(slot, stream);
    }
  }

  private startSentence(slot: WorkerSlot, stream: SynthesisStream): void {
    const sentence = stream.sentences[stream.next];
    if (sentence === undefined) return;
    stream.next++;
    stream.inFlight = true;
    slot.job = stream;
    const done = (): void => {
      if (slot.job === stream) slot.job = undefined;
      stream.inFlight = false;
    };
    const { rate, pitch } = stream.prosody;
    this.request(slot, (id) => ({ type: 'synthesize', id, voice: stream.voice.fliteName, text: sentence.text, rate, pitch }), 'synthesized').then(
      (msg) => {
        done();
        this.sentencesSynthesized++;
        this.log.debug({ worker: slot.index, chars: sentence.text.length, synthMs: Math.round(msg.synthMs), audioMs: Math.round((msg.pcm.length * 1000) / msg.sampleRate) }, 'synthesized sentence');
        if (msg.sampleRate !== stream.voice.sampleRate) {
          stream.fail(new EngineError('Internal', `flite voice ${stream.voice.fliteName} produced ${msg.sampleRate} Hz audio, expected ${stream.voice.sampleRate} Hz`));
        } else {
          stream.deliver(sentence, msg);
        }
        this.schedule(stream);
      },
      (err: EngineError) => {
        done();
        stream.fail(err);
        this.pump();
      },
    );
  }

  /** Sends one request to a worker and waits for its reply of the expected type. */
  private request<T extends FromWorker['type']>(slot: WorkerSlot, build: (id: number) => ToWorker, expect: T): Promise<Extract<FromWorker, { type: T }>> {
    return new Promise((resolve, reject) => {
      const worker = slot.worker;
      if (worker === undefined || slot.state !== 'ready') {
        reject(new EngineError('Internal', 'flite worker is not running'));
        return;
      }
      const id = this.nextRequestId++;
      slot.pending.set(id, {
        onReply: (msg) => {
          if (msg.type === expect) resolve(msg as Extract<FromWorker, { type: T }>);
          else if (msg.type === 'failed') reject(engineErrorFrom(msg.error));
          else reject(new EngineError('Internal', `unexpected reply '${msg.type}' to '${expect}'`));
        },
        onFailure: reject,
      });
      worker.postMessage(build(id));
    });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Worker lifecycle
  // -------------------------------------------------------------------------------------------------------------

  private spawn(slot: WorkerSlot): void {
    const init: WorkerInit = {
      voices: this.catalogue.map((v) => ({ fliteName: v.fliteName, sampleRate: v.sampleRate })),
      initLock: FLITE_INIT_LOCK,
    };
    const worker = startWorker(WORKER_URL, init);
    slot.worker = worker;
    slot.state = 'starting';
    worker.on('message', (msg: FromWorker) => {
      if (slot.worker === worker) this.onMessage(slot, msg);
    });
    worker.on('error', (err) => {
      // Followed by 'exit', which does the recovery.
      if (slot.worker === worker) this.log.error({ err, worker: slot.index }, 'flite worker failed');
    });
    worker.on('exit', (code) => {
      if (slot.worker === worker) this.onExit(slot, code);
    });
  }

  private onMessage(slot: WorkerSlot, msg: FromWorker): void {
    switch (msg.type) {
      case 'ready':
        slot.state = 'ready';
        slot.everReady = true;
        slot.consecutiveCrashes = 0;
        this.log.info({ worker: slot.index, loadMs: Math.round(msg.loadMs) }, 'flite worker ready');
        slot.firstReady.resolve();
        this.pump();
        return;
      case 'init-failed': {
        const err = engineErrorFrom(msg.error);
        this.log.error({ worker: slot.index, err }, 'flite worker could not load its voices');
        const worker = slot.worker;
        slot.worker = undefined;
        void worker?.terminate();
        this.giveUp(slot, err);
        return;
      }
      case 'shut-down':
        return;
      case 'synthesized':
      case 'failed': {
        const pending = slot.pending.get(msg.id);
        slot.pending.delete(msg.id);
        pending?.onReply(msg);
        return;
      }
    }
  }

  /** A worker that cannot start: its slot stays empty; when no worker can start, requests fail fast. */
  private giveUp(slot: WorkerSlot, err: EngineError): void {
    slot.state = 'failed';
    slot.firstReady.reject(err);
    this.failPending(slot, err);
    if (this.slots.every((s) => s.state === 'failed')) {
      // The same configuration failed everywhere: nothing waiting can ever run.
      this.fatal = err;
      this.waiting.length = 0;
      for (const stream of this.active) {
        stream.waiting = false;
        // Requests with all their audio already synthesized are settled and unaffected.
        stream.fail(err);
      }
    }
  }

  private onExit(slot: WorkerSlot, code: number): void {
    slot.worker = undefined;
    if (slot.state === 'closed' || slot.state === 'failed') return;
    const next = afterWorkerCrash(slot);
    if (next.action === 'giveUp') {
      this.log.error({ worker: slot.index, exitCode: code }, 'flite worker keeps exiting during start-up; giving up');
      this.giveUp(slot, new EngineError('Internal', `flite worker exited during start-up ${slot.consecutiveCrashes} times (last code ${code})`));
      return;
    }
    const delay = next.delayMs;
    this.log.error({ worker: slot.index, exitCode: code, respawnInMs: delay }, 'flite worker exited unexpectedly; respawning');
    slot.state = 'respawning';
    this.failPending(slot, new EngineError('Internal', `flite worker exited (code ${code})`));
    slot.respawnTimer = setTimeout(() => {
      slot.respawnTimer = undefined;
      if (this.closing === undefined) this.spawn(slot);
    }, delay);
    // Waiting requests may still fit on the other workers.
    this.pump();
  }

  private failPending(slot: WorkerSlot, err: EngineError): void {
    const pending = [...slot.pending.values()];
    slot.pending.clear();
    for (const p of pending) p.onFailure(err);
  }

  private async shutdown(): Promise<void> {
    const closedErr = new EngineError('Aborted', 'engine closed');
    this.waiting.length = 0;
    for (const stream of this.active) {
      stream.waiting = false;
      stream.fail(closedErr);
    }
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.respawnTimer !== undefined) clearTimeout(slot.respawnTimer);
        slot.state = 'closed';
        // No-op if it was ready before; otherwise ready() must not hang forever.
        slot.firstReady.reject(closedErr);
        this.failPending(slot, closedErr);
        const worker = slot.worker;
        if (worker === undefined) return;
        const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
        // Graceful first: the worker finishes the C call it is in (terminate() cannot interrupt C either), and
        // a timer bounds the wait for one that is stuck.
        worker.postMessage({ type: 'shutdown' } satisfies ToWorker);
        const timer = setTimeout(() => void worker.terminate(), SHUTDOWN_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}

/** The port bounds prosody (rate 0.25..4, pitch 0.5..2); clamped again here because C gets the values. */
function prosodyOf(p: Prosody): { rate: number; pitch: number } {
  return { rate: clampFinite(p.rate, 0.25, 4), pitch: clampFinite(p.pitch, 0.5, 2) };
}

