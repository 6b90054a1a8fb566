/**
 * Festival text-to-speech engine (the CMU SLT HTS voice, en-US female), through long-lived child processes.
 *
 * - Text is split into sentences here; each sentence is one request to a Festival process (runner.ts), so the
 *   first sentence's audio leaves while the rest is still being synthesized.
 * - `processes` Festival processes (≈350 MB each) serve all requests. Scheduling is round-robin by sentence:
 *   a request with many sentences does not hold a process while a one-sentence request waits. Requests beyond
 *   `processes + maxQueued` in the engine at once are rejected with `Overloaded`.
 * - Abort (or a consumer that stops reading) kills the process working on that request's sentence and starts
 *   another; so does a sentence that takes longer than `sentenceTimeoutMs` (a hung Festival). A process that
 *   dies on its own fails its request with `Internal` and is restarted.
 * - Festival's text analysis is English and byte-oriented: text is transliterated to printable ASCII first
 *   (accents dropped, typographic quotes and dashes replaced, other characters spoken as spaces), keeping a map
 *   back to the caller's UTF-16 offsets for word events.
 * - Rate uses the HTS engine's own speed option. Pitch has no Festival control for HTS voices: it is shifted by
 *   synthesizing at rate/pitch and resampling by the pitch factor (formants shift along, as with tape speed).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deferred, afterWorkerCrash } from '../../kernel/worker-threads.js';

import { EngineError, type SynthesisEvent, type SynthesisInput, type TtsEngine, type TtsVoice } from '../../domain/ports/engines.js';
import { Resampler } from '../../kernel/audio/resample.js';
import { parseWavHeader } from '../../kernel/audio/wav.js';
import { silentLogger, type Logger } from '../../kernel/logger.js';
import { FestivalProcess, type FestivalResult } from './runner.js';

export interface FestivalEngineOptions {
  /** Festival processes (each ≈350 MB resident); default 1. */
  processes?: number;
  /** Requests allowed in the engine beyond one per process; more are rejected with `Overloaded`. Default 8. */
  maxQueued?: number;
  /** The festival executable; default `festival` (from PATH). */
  command?: string;
  /**
   * A sentence taking longer than this kills its process (a hung Festival); default 30 s, stretched for slow
   * speech (×1/speed).
   */
  sentenceTimeoutMs?: number;
  /** Loading Festival and the voice may take this long; default 60 s. */
  startupTimeoutMs?: number;
  logger?: Logger;
}

const ENGINE_ID = 'festival';
const VOICE_NAME = 'cmu_us_slt_arctic_hts';
/** What Debian's festvox-us-slt-hts produces (measured); other rates are resampled to it. */
const SAMPLE_RATE = 32_000;
/** Measured: the 25-word benchmark sentence lasts 8.2 s, ≈183 words per minute. */
const WORDS_PER_MINUTE = 183;

const VOICE: TtsVoice = {
  id: `${ENGINE_ID}:${VOICE_NAME}`,
  engine: ENGINE_ID,
  name: 'Slt',
  locale: 'en-US',
  gender: 'Female',
  sampleRate: SAMPLE_RATE,
  wordsPerMinute: WORDS_PER_MINUTE,
};

/** Sentences longer than this are cut (at a comma, else a space): synthesis time and memory grow with length. */
const MAX_SENTENCE_CHARS = 400;
const CLOSE_GRACE_MS = 3_000;

// ---------------------------------------------------------------------------------------------------------------
// Text preparation
// ---------------------------------------------------------------------------------------------------------------

/** Text for Festival and, per character of it, where it came from in the caller's text (UTF-16). */
export interface PreparedText {
  text: string;
  /** Start of the source character of each character of `text`. */
  from: number[];
  /** End of the source character of each character of `text`. */
  to: number[];
}

/** Letters NFD cannot take apart, and typography Festival's tokenizer does not know. */
const TRANSLITERATIONS: Record<string, string> = {
  ß: 'ss', æ: 'ae', Æ: 'AE', œ: 'oe', Œ: 'OE', ø: 'o', Ø: 'O', ł: 'l', Ł: 'L', đ: 'd', Đ: 'D', ð: 'd', Ð: 'D',
  þ: 'th', Þ: 'Th', ı: 'i', '‘': "'", '’': "'", '‚': "'", '‛': "'", '′': "'", '“': '"', '”': '"', '„': '"',
  '‟': '"', '″': '"', '«': '"', '»': '"', '‹': "'", '›': "'", '–': '-', '—': '-', '‐': '-', '‑': '-', '−': '-',
  '…': '...', '€': ' euros ', '£': ' pounds ',
};

/**
 * Printable ASCII for Festival, with a map back to `source`. Whitespace and control characters become spaces
 * (so nothing unprintable reaches the Scheme string), accented letters lose their accents, and characters
 * Festival cannot say at all become spaces.
 */
export function prepareText(source: string, base = 0): PreparedText {
  let text = '';
  const from: number[] = [];
  const to: number[] = [];
  let i = 0;
  for (const ch of source) {
    const code = ch.codePointAt(0) ?? 0;
    let out: string;
    if (code >= 0x20 && code < 0x7f) out = ch;
    else if (code < 0x20 || (code >= 0x7f && code < 0xa0) || /\s/u.test(ch)) out = ' ';
    else {
      const mapped = TRANSLITERATIONS[ch] ?? ch.normalize('NFD').replace(/\p{M}/gu, '');
      out = /^[\x20-\x7e]+$/.test(mapped) ? mapped : ' ';
    }
    for (let k = 0; k < out.length; k++) {
      from.push(base + i);
      to.push(base + i + ch.length);
    }
    text += out;
    i += ch.length;
  }
  return { text, from, to };
}

/** Abbreviations after which a period does not end a sentence (lower-case, without the period). */
const ABBREVIATIONS = new Set(['mr', 'mrs', 'ms', 'dr', 'prof', 'st', 'jr', 'sr', 'vs', 'etc', 'e.g', 'i.e', 'no', 'inc', 'ltd', 'co', 'mt', 'ft', 'approx', 'dept', 'fig', 'vol']);

/**
 * Sentence ranges [start, end) of `text`: ends at . ! ? (and closing quotes or brackets) followed by
 * whitespace, and at blank lines; not after common abbreviations or single initials, nor before a lower-case
 * letter. Ranges longer than MAX_SENTENCE_CHARS are cut at a comma or space. Blank ranges are left out.
 */
export function splitSentences(text: string): Array<[number, number]> {
  const raw: Array<[number, number]> = [];
  const boundary = /([.!?]+)["')\]’”]*(?=\s)|\n[ \t]*\n/g;
  let start = 0;
  for (let m = boundary.exec(text); m !== null; m = boundary.exec(text)) {
    const end = m.index + m[0].length;
    if (m[1] !== undefined && m[1] === '.' && !endsSentence(text, m.index, end)) continue;
    raw.push([start, end]);
    start = end;
  }
  raw.push([start, text.length]);
  const out: Array<[number, number]> = [];
  for (const [s, e] of raw) {
    for (const piece of cutLong(text, s, e)) if (/[\p{L}\p{N}]/u.test(text.slice(piece[0], piece[1]))) out.push(piece);
  }
  return out;
}

function endsSentence(text: string, dot: number, after: number): boolean {
  const word = /([\p{L}.]+)$/u.exec(text.slice(Math.max(0, dot - 12), dot))?.[1] ?? '';
  if (ABBREVIATIONS.has(word.toLowerCase())) return false;
  // "J. R. R. Tolkien": an initial.
  if (/^\p{Lu}$/u.test(word)) return false;
  const next = /\S/u.exec(text.slice(after));
  return !(next !== null && /\p{Ll}/u.test(next[0]));
}

function cutLong(text: string, start: number, end: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let s = start;
  while (end - s > MAX_SENTENCE_CHARS) {
    const window = text.slice(s, s + MAX_SENTENCE_CHARS);
    const comma = Math.max(window.lastIndexOf(', '), window.lastIndexOf('; '), window.lastIndexOf(': '));
    const space = window.lastIndexOf(' ');
    const cut = comma > MAX_SENTENCE_CHARS / 2 ? comma + 1 : space > 0 ? space : MAX_SENTENCE_CHARS;
    out.push([s, s + cut]);
    s += cut;
  }
  out.push([s, end]);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Engine
// ---------------------------------------------------------------------------------------------------------------

function abortedError(): EngineError {
  return new EngineError('Aborted', 'synthesis aborted');
}

/** Events of one request, from the scheduler to the consumer (at most one sentence ahead of the reader is typical). */
class EventSink {
  private readonly items: SynthesisEvent[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;
  private error: EngineError | undefined;

  push(events: readonly SynthesisEvent[]): void {
    if (this.ended) return;
    this.items.push(...events);
    this.wake();
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  fail(err: EngineError): void {
    if (this.ended) return;
    this.error = err;
    this.items.length = 0;
    this.end();
  }

  get finished(): boolean {
    return this.ended;
  }

  async next(): Promise<SynthesisEvent | undefined> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) return item;
      if (this.ended) {
        if (this.error !== undefined) throw this.error;
        return undefined;
      }
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}

interface Sentence {
  /** The caller's text range. */
  start: number;
  end: number;
  prepared: PreparedText;
}

interface Job {
  sentences: Sentence[];
  next: number;
  /** HTS speed: the prosody rate divided by the pitch factor (see the file comment). */
  speed: number;
  pitch: number;
  sink: EventSink;
  /** Samples already emitted: where the next sentence starts. */
  emitted: number;
  /** Set while one of its sentences is with a process. */
  slot: ProcessSlot | undefined;
  /** Kept across sentences: building its filter is the expensive part. flush() leaves it ready for reuse. */
  resampler?: Resampler;
}

class ProcessSlot {
  proc: FestivalProcess | undefined;
  state: 'starting' | 'ready' | 'failed' | 'respawning' | 'closed' = 'starting';
  job: Job | undefined;
  generation = 0;
  consecutiveCrashes = 0;
  everReady = false;
  /** The next exit was asked for (an aborted request): restart at once, not as a crash. */
  killedOnPurpose = false;
  respawnTimer: NodeJS.Timeout | undefined;
  /** Why the last start failed (missing voice, timeout…), reported if the slot is given up. */
  lastStartError: EngineError | undefined;
  readonly firstReady = deferred<void>();

  constructor(readonly index: number) {
    // ready() may never be called; the rejection is reported through it or through requests.
    this.firstReady.promise.catch(() => undefined);
  }
}

export class FestivalEngine implements TtsEngine {
  readonly id = ENGINE_ID;
  readonly phoneSet = 'arpabet' as const;

  private readonly log: Logger;
  private readonly maxJobs: number;
  private readonly command: string;
  private readonly sentenceTimeoutMs: number;
  private readonly startupTimeoutMs: number;
  private readonly workDir: string;
  private readonly slots: ProcessSlot[];
  private readonly jobs = new Set<Job>();
  /** Jobs waiting for a process for their next sentence, in turn order. */
  private readonly runnable: Job[] = [];
  private readonly readyPromise: Promise<void>;
  private closing: Promise<void> | undefined;
  private fatal: EngineError | undefined;

  constructor(options: FestivalEngineOptions = {}) {
    const processes = options.processes ?? 1;
    const maxQueued = options.maxQueued ?? 8;
    const sentenceTimeoutMs = options.sentenceTimeoutMs ?? 30_000;
    const startupTimeoutMs = options.startupTimeoutMs ?? 60_000;
    for (const [name, v, min] of [['processes', processes, 1], ['maxQueued', maxQueued, 0], ['sentenceTimeoutMs', sentenceTimeoutMs, 1], ['startupTimeoutMs', startupTimeoutMs, 1]] as const) {
      if (!Number.isInteger(v) || v < min) throw new RangeError(`FestivalEngine: ${name} must be an integer >= ${min}, got ${v}`);
    }
    this.log = (options.logger ?? silentLogger).child({ engine: ENGINE_ID });
    this.maxJobs = processes + maxQueued;
    this.command = options.command ?? 'festival';
    this.sentenceTimeoutMs = sentenceTimeoutMs;
    this.startupTimeoutMs = startupTimeoutMs;
    this.workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parlance-festival-'));
    this.slots = Array.from({ length: processes }, (_, i) => new ProcessSlot(i));
    for (const slot of this.slots) this.spawn(slot);
    this.readyPromise = Promise.all(this.slots.map((s) => s.firstReady.promise)).then(() => undefined);
    this.readyPromise.catch(() => undefined);
  }

  voices(): readonly TtsVoice[] {
    return [VOICE];
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  /**
   * Errors (`UnsupportedLocale` for a voice id not in voices(), `Overloaded`, `Aborted`, `Internal`) surface from
   * the iteration; nothing is queued before the first next(). Stopping the iteration early stops the synthesis.
   */
  async *synthesize(input: SynthesisInput, signal?: AbortSignal): AsyncGenerator<SynthesisEvent, void, undefined> {
    if (input.voiceId !== VOICE.id) throw new EngineError('UnsupportedLocale', `unknown Festival voice '${input.voiceId}'`);
    yield* this.run(input, signal);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** @internal Test hook: the ids of the Festival processes running now. */
  processIdsForTest(): number[] {
    return this.slots.flatMap((s) => (s.proc?.pid === undefined ? [] : [s.proc.pid]));
  }

  /** @internal Test hook: kills process `index` as if it had crashed. */
  crashProcessForTest(index: number): void {
    this.slots[index]?.proc?.kill();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Requests
  // -------------------------------------------------------------------------------------------------------------

  private async *run(input: SynthesisInput, signal: AbortSignal | undefined): AsyncGenerator<SynthesisEvent> {
    if (signal?.aborted === true) throw abortedError();
    if (this.closing !== undefined) throw new EngineError('Aborted', 'engine closed');
    if (this.fatal !== undefined) throw this.fatal;
    const sentences = splitSentences(input.text).map(([start, end]) => ({ start, end, prepared: prepareText(input.text.slice(start, end), start) }));
    // Festival would say nothing either (punctuation only, or characters it cannot speak).
    if (!sentences.some((s) => /[A-Za-z0-9]/.test(s.prepared.text))) return;
    if (this.jobs.size >= this.maxJobs) throw new EngineError('Overloaded', `Festival engine is full (${this.jobs.size} requests)`);
    const rate = Number.isFinite(input.prosody.rate) ? Math.min(4, Math.max(0.25, input.prosody.rate)) : 1;
    // Quantized to 1 %: inaudible, and it keeps the pitch resampler's polyphase table small (see toEvents).
    const pitch = Number.isFinite(input.prosody.pitch) ? Math.round(Math.min(2, Math.max(0.5, input.prosody.pitch)) * 100) / 100 : 1;
    const job: Job = { sentences, next: 0, speed: rate / pitch, pitch, sink: new EventSink(), emitted: 0, slot: undefined };
    const onAbort = (): void => {
      job.sink.fail(abortedError());
      this.cancel(job);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    this.jobs.add(job);
    this.runnable.push(job);
    this.pump();
    try {
      for (let event = await job.sink.next(); event !== undefined; event = await job.sink.next()) yield event;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (!job.sink.finished) job.sink.fail(abortedError());
      this.cancel(job);
    }
  }

  /** Drops a job: out of the queue, and its sentence in progress (if any) dies with its process. */
  private cancel(job: Job): void {
    this.jobs.delete(job);
    const i = this.runnable.indexOf(job);
    if (i >= 0) this.runnable.splice(i, 1);
    const slot = job.slot;
    job.slot = undefined;
    if (slot !== undefined && slot.job === job) {
      slot.job = undefined;
      slot.killedOnPurpose = true;
      slot.proc?.kill();
    }
  }

  private idleSlot(): ProcessSlot | undefined {
    return this.slots.find((s) => s.state === 'ready' && s.job === undefined && s.proc?.busy !== true);
  }

  private pump(): void {
    for (let slot = this.idleSlot(); slot !== undefined && this.runnable.length > 0; slot = this.idleSlot()) {
      const job = this.runnable.shift();
      if (job !== undefined) this.runSentence(slot, job);
    }
  }

  private runSentence(slot: ProcessSlot, job: Job): void {
    const proc = slot.proc;
    const sentence = job.sentences[job.next];
    if (proc === undefined || sentence === undefined) return;
    slot.job = job;
    job.slot = slot;
    const t0 = performance.now();
    // Slow speech takes proportionally longer to synthesize (HTS works per output frame).
    const timeoutMs = Math.round(this.sentenceTimeoutMs * Math.max(1, 1 / job.speed));
    proc.synthesize(sentence.prepared.text, job.speed, timeoutMs).then(
      (result) => {
        if (slot.job === job) slot.job = undefined;
        job.slot = undefined;
        if (!this.jobs.has(job)) return this.pump();
        this.log.debug({ process: slot.index, chars: sentence.end - sentence.start, synthMs: Math.round(performance.now() - t0) }, 'synthesized sentence');
        try {
          job.sink.push(this.toEvents(job, sentence, result));
        } catch (err) {
          this.failJob(job, err instanceof EngineError ? err : new EngineError('Internal', 'cannot read Festival output', { cause: err }));
          return this.pump();
        }
        job.next++;
        if (job.next < job.sentences.length) this.runnable.push(job);
        else {
          this.jobs.delete(job);
          job.sink.end();
        }
        this.pump();
      },
      (err: EngineError) => {
        if (slot.job === job) slot.job = undefined;
        job.slot = undefined;
        // An aborted job's process was killed on purpose; its consumer already has its error.
        if (this.jobs.has(job)) this.failJob(job, err);
        this.pump();
      },
    );
  }

  private failJob(job: Job, err: EngineError): void {
    this.jobs.delete(job);
    job.sink.fail(err);
  }

  /**
   * One sentence's result → events: words (one per text token), phones, then the audio, all at `job.emitted`.
   * Festival times are in the synthesized (pre-resampling) timeline; `timeScale` maps them onto the output.
   */
  private toEvents(job: Job, sentence: Sentence, result: FestivalResult): SynthesisEvent[] {
    const header = parseWavHeader(result.wav);
    if ('needMore' in header || header.format.encoding !== 'pcm-s16' || header.format.channels !== 1) {
      throw new EngineError('Internal', 'Festival wrote an unexpected wave format');
    }
    const dataEnd = Math.min(result.wav.length, header.dataOffset + (header.dataBytes ?? result.wav.length));
    const raw = new Int16Array(Math.floor((dataEnd - header.dataOffset) / 2));
    for (let i = 0; i < raw.length; i++) raw[i] = result.wav.readInt16LE(header.dataOffset + 2 * i);
    // Reinterpreting the samples as recorded at rate × pitch and resampling to the output rate raises the pitch
    // by that factor and shortens the audio by it (the synthesis ran that much slower to make up for it).
    const inRate = Math.round(header.format.sampleRate * job.pitch);
    let pcm: Int16Array = raw;
    if (inRate !== SAMPLE_RATE) {
      if (job.resampler?.inRate !== inRate) job.resampler = new Resampler(inRate, SAMPLE_RATE);
      const resampler = job.resampler;
      const body = resampler.process(raw);
      const tail = resampler.flush();
      pcm = new Int16Array(body.length + tail.length);
      pcm.set(body);
      pcm.set(tail, body.length);
    }
    const timeScale = (header.format.sampleRate / inRate) * 1000;
    const baseMs = (job.emitted * 1000) / SAMPLE_RATE;
    const audioMs = (pcm.length * 1000) / SAMPLE_RATE;
    const at = (seconds: number): number => Math.min(audioMs, Math.max(0, seconds * timeScale));

    const timed: Array<{ startMs: number; rank: number; event: SynthesisEvent }> = [];
    const prepared = sentence.prepared;
    let cursor = 0;
    for (const token of result.tokens) {
      const spoken = token.words.filter((w) => Number.isFinite(w.start) && Number.isFinite(w.end) && w.end > w.start);
      if (spoken.length === 0 || token.name === '') continue;
      const found = findToken(prepared.text, token.name, cursor);
      // A token Festival rewrote beyond recognition gets no word event rather than a wrong one.
      if (found < 0) continue;
      cursor = found + token.name.length;
      const textOffset = prepared.from[found] ?? sentence.start;
      const textEnd = prepared.to[found + token.name.length - 1] ?? textOffset;
      const startMs = at(Math.min(...spoken.map((w) => w.start)));
      const endMs = at(Math.max(...spoken.map((w) => w.end)));
      if (endMs <= startMs) continue;
      timed.push({ startMs, rank: 0, event: { type: 'word', textOffset, textLength: textEnd - textOffset, audioOffsetMs: baseMs + startMs, durationMs: endMs - startMs } });
    }
    for (const seg of result.segments) {
      const startMs = at(seg.start);
      const endMs = at(seg.end);
      if (seg.name === '' || !(endMs > startMs)) continue;
      timed.push({ startMs, rank: 1, event: { type: 'phone', phone: seg.name, audioOffsetMs: baseMs + startMs, durationMs: endMs - startMs } });
    }
    timed.sort((a, b) => a.startMs - b.startMs || a.rank - b.rank);
    const events = timed.map((t) => t.event);
    if (pcm.length > 0) events.push({ type: 'audio', pcm });
    job.emitted += pcm.length;
    return events;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Process lifecycle
  // -------------------------------------------------------------------------------------------------------------

  private spawn(slot: ProcessSlot): void {
    slot.generation++;
    slot.state = 'starting';
    slot.job = undefined;
    slot.killedOnPurpose = false;
    let proc: FestivalProcess;
    try {
      proc = new FestivalProcess({
        command: this.command,
        voice: VOICE_NAME,
        wavPath: path.join(this.workDir, `p${slot.index}-${slot.generation}.wav`),
        startupTimeoutMs: this.startupTimeoutMs,
        logger: this.log.child({ process: slot.index }),
      });
    } catch (err) {
      this.giveUp(slot, err instanceof EngineError ? err : new EngineError('ModelLoadFailed', 'cannot start Festival', { cause: err }));
      return;
    }
    slot.proc = proc;
    const t0 = performance.now();
    proc.onExit = (code, signal) => {
      if (slot.proc === proc) this.onExit(slot, proc, code, signal);
    };
    proc.start().then(
      () => {
        if (slot.proc !== proc || slot.state !== 'starting') return;
        slot.state = 'ready';
        slot.everReady = true;
        slot.consecutiveCrashes = 0;
        this.log.info({ process: slot.index, pid: proc.pid, loadMs: Math.round(performance.now() - t0) }, 'Festival process ready');
        slot.firstReady.resolve();
        this.pump();
      },
      (err: EngineError) => {
        // The process is killed (or gone); onExit retries a few times and then gives up with this reason.
        if (slot.proc !== proc || slot.state === 'closed') return;
        slot.lastStartError = err;
        this.log.error({ process: slot.index, err }, 'Festival process could not start');
      },
    );
  }

  private onExit(slot: ProcessSlot, proc: FestivalProcess, code: number | null, signal: NodeJS.Signals | null): void {
    slot.proc = undefined;
    const job = slot.job;
    slot.job = undefined;
    if (job !== undefined) {
      job.slot = undefined;
      if (this.jobs.has(job)) this.failJob(job, new EngineError('Internal', `Festival process exited (${signal ?? `code ${String(code)}`})`));
    }
    if (slot.state === 'closed' || slot.state === 'failed') return;
    if (slot.killedOnPurpose) {
      this.log.debug({ process: slot.index }, 'Festival process killed for an aborted request; restarting');
      slot.state = 'respawning';
      this.spawn(slot);
      return;
    }
    if (proc.timedOut && slot.everReady) {
      this.log.warn({ process: slot.index, timeoutMs: this.sentenceTimeoutMs }, 'Festival process hung on a sentence and was killed; restarting');
      slot.state = 'respawning';
      this.spawn(slot);
      return;
    }
    const next = afterWorkerCrash(slot);
    if (next.action === 'giveUp') {
      this.giveUp(slot, slot.lastStartError ?? new EngineError('ModelLoadFailed', `Festival exited during start-up ${slot.consecutiveCrashes} times (last ${signal ?? `code ${String(code)}`})`));
      return;
    }
    const delay = next.delayMs;
    this.log.error({ process: slot.index, exitCode: code, signal, respawnInMs: delay }, 'Festival process exited unexpectedly; restarting');
    slot.state = 'respawning';
    slot.respawnTimer = setTimeout(() => {
      slot.respawnTimer = undefined;
      if (this.closing === undefined) this.spawn(slot);
    }, delay);
  }

  /** A process that cannot start: its slot stays empty; when none can, requests fail fast. */
  private giveUp(slot: ProcessSlot, err: EngineError): void {
    slot.state = 'failed';
    slot.firstReady.reject(err);
    if (this.slots.every((s) => s.state === 'failed')) {
      this.fatal = err;
      for (const job of [...this.jobs]) this.failJob(job, err);
      this.runnable.length = 0;
    }
  }

  private async shutdown(): Promise<void> {
    const closedErr = new EngineError('Aborted', 'engine closed');
    for (const job of [...this.jobs]) this.failJob(job, closedErr);
    this.runnable.length = 0;
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.respawnTimer !== undefined) clearTimeout(slot.respawnTimer);
        slot.state = 'closed';
        slot.firstReady.reject(closedErr);
        slot.job = undefined;
        await slot.proc?.close(CLOSE_GRACE_MS);
        slot.proc = undefined;
      }),
    );
    fs.rmSync(this.workDir, { recursive: true, force: true });
  }
}

/** Where `name` (a Festival token) occurs in `text` from `from` on: exactly, else ignoring case; -1 if not. */
function findToken(text: string, name: string, from: number): number {
  const exact = text.indexOf(name, from);
  if (exact >= 0) return exact;
  return text.toLowerCase().indexOf(name.toLowerCase(), from);
}

