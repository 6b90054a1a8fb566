/**
 * eSpeak NG text-to-speech engine: the Debian shared library, in-process through koffi, in worker threads.
 *
 * - Each worker thread owns one loaded instance of the library. eSpeak keeps its state in library globals, and
 *   the dynamic loader maps a file once per process, so two threads loading it share (and corrupt) one state
 *   (measured: the process aborts). So the first worker of the process, of any engine instance, loads the
 *   installed file; every later worker (others, respawned ones, other engines') loads a private copy of it,
 *   which the loader maps as a separate instance with its own globals (measured: three in parallel give the
 *   same audio as one). An instance is used by one worker only, once. All loads use full paths: a load by
 *   name ("libespeak-ng.so.1") would be matched to an already loaded copy by its SONAME and share its state.
 *   One worker is the default: a synthesis runs at ≈0.15 % of real time (10 ms for 7 s of speech), so
 *   one worker keeps up with hundreds of concurrent real-time streams.
 * - Requests wait in one bounded FIFO here (beyond `maxQueued`: `Overloaded`) and go to an idle worker.
 * - A worker synthesizes a request in one espeak_Synth call and posts events as eSpeak produces them; an abort
 *   reaches it through shared memory, read from eSpeak's callback, so it stops within one buffer.
 * - A worker that dies fails its request with `Internal` and is respawned.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { deferred, startWorker, afterWorkerCrash } from '../../kernel/worker-threads.js';

import { EngineError, type SynthesisEvent, type SynthesisInput, type TtsEngine, type TtsVoice, type VoiceGender, engineErrorFrom } from '../../domain/ports/engines.js';
import { silentLogger, type Logger } from '../../kernel/logger.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker.js';

export interface EspeakNgEngineOptions {
  /** Worker threads, each with its own instance of the library (≈8 MB); default 1. */
  workers?: number;
  /** Requests allowed to wait for a worker; more are rejected with `Overloaded`. Default 32. */
  maxQueued?: number;
  /**
   * The shared library: a path, or a file name looked up in LD_LIBRARY_PATH and the usual library directories.
   * Default `libespeak-ng.so.1`.
   */
  libraryPath?: string;
  /** Directory containing `espeak-ng-data`; default: the library's built-in location. */
  dataPath?: string;
  logger?: Logger;
}

const ENGINE_ID = 'espeak-ng';
/** What espeak_Initialize returns for every Debian voice; checked against the worker's report at start-up. */
const SAMPLE_RATE = 22_050;
/**
 * Measured speaking rate at espeakRATE 175 (its nominal "words per minute"): the 25-word benchmark sentence
 * lasts 7.0 s with en-us, i.e. ≈215 words per minute.
 */
const WORDS_PER_MINUTE = 215;
/** eSpeak hands over audio in buffers of this length; small enough that an abort stops within 50 ms of audio. */
const BUFFER_MS = 50;
/** Longest audio held back waiting for a clause to end before it is posted anyway. */
const MAX_BATCH_MS = 1000;
/**
 * espeakRATE bounds (words per minute): eSpeak's documented minimum and normal; above 450 it speeds up with
 * libsonic (linked in Debian's build), measured to work up to at least 1000.
 */
const RATE_MIN_WPM = 80;
const RATE_NORMAL_WPM = 175;
const RATE_MAX_WPM = 900;

const WORKER_URL = new URL('./worker.js', import.meta.url);
/** How long close() waits for a worker to finish its current synthesis before terminating the thread. */
const SHUTDOWN_GRACE_MS = 5_000;
/** Where the dynamic loader usually finds the library (resolveLibrary). */
const LIBRARY_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib', '/lib/x86_64-linux-gnu', '/lib'];

/**
 * Whether a worker of this process (of any engine) has loaded the installed library file. Only one ever does:
 * its instance is never initialised again after that worker ends (eSpeak is not terminated, see
 * EspeakSynthesizer.release, so re-initialising would restart its internal thread over the old one's state).
 */
let installedLibraryUsed = false;

interface VoiceDef {
  locale: string;
  espeak: string;
}

/** Locales Azure users commonly need, each as eSpeak's default (male) voice and its "f3" female variant. */
const VOICE_DEFS: readonly VoiceDef[] = [
  { locale: 'en-US', espeak: 'en-us' },
  // "en" is eSpeak's British English (gmw/en); "en-gb" is not accepted by espeak_SetVoiceByName.
  { locale: 'en-GB', espeak: 'en' },
  { locale: 'de-DE', espeak: 'de' },
  { locale: 'fr-FR', espeak: 'fr' },
  { locale: 'es-ES', espeak: 'es' },
  { locale: 'it-IT', espeak: 'it' },
  { locale: 'pt-BR', espeak: 'pt-br' },
  { locale: 'nl-NL', espeak: 'nl' },
  { locale: 'ja-JP', espeak: 'ja' },
  { locale: 'zh-CN', espeak: 'cmn' },
  { locale: 'ru-RU', espeak: 'ru' },
  { locale: 'pl-PL', espeak: 'pl' },
  { locale: 'sv-SE', espeak: 'sv' },
  { locale: 'hi-IN', espeak: 'hi' },
  { locale: 'ko-KR', espeak: 'ko' },
];

const FEMALE_VARIANT = '+f3';

function buildVoices(): TtsVoice[] {
  const voices: TtsVoice[] = [];
  for (const def of VOICE_DEFS) {
    for (const [suffix, gender] of [['', 'Male'], [FEMALE_VARIANT, 'Female']] as const satisfies ReadonlyArray<readonly [string, VoiceGender]>) {
      const name = `${def.espeak}${suffix}`;
      voices.push({ id: `${ENGINE_ID}:${name}`, engine: ENGINE_ID, name: gender, locale: def.locale, gender, sampleRate: SAMPLE_RATE, wordsPerMinute: WORDS_PER_MINUTE });
    }
  }
  return voices;
}

/** The eSpeak voice name in a voice id ("espeak-ng:en-us+f3" → "en-us+f3"). */
function espeakName(voiceId: string): string {
  return voiceId.slice(ENGINE_ID.length + 1);
}

/** Prosody rate multiplier → espeakRATE. eSpeak cannot go slower than 80 wpm (≈0.46 × normal). */
export function espeakRate(rate: number): number {
  const r = Number.isFinite(rate) ? Math.min(4, Math.max(0.25, rate)) : 1;
  return Math.min(RATE_MAX_WPM, Math.max(RATE_MIN_WPM, Math.round(RATE_NORMAL_WPM * r)));
}

/**
 * Prosody pitch multiplier → espeakPITCH (0..100, 50 = the voice's own). eSpeak scales the base pitch by
 * 2^((p − 50) / 50) (its pitch_adjust_tab), so 0.5..2 maps onto the whole range.
 */
export function espeakPitch(pitch: number): number {
  const p = Number.isFinite(pitch) && pitch > 0 ? pitch : 1;
  return Math.min(100, Math.max(0, Math.round(50 + 50 * Math.log2(p))));
}

/**
 * The library's full path (see the file comment for why loads go by path). A name not found in the usual
 * places is returned as it is: the dynamic loader may still know it, and then only one worker can run.
 */
function resolveLibrary(name: string): string {
  if (path.isAbsolute(name)) return name;
  const dirs = [...(process.env['LD_LIBRARY_PATH'] ?? '').split(':').filter((d) => d !== ''), ...LIBRARY_DIRS];
  return dirs.map((d) => path.join(d, name)).find((f) => fs.existsSync(f)) ?? name;
}

/**
 * Node flags for the workers: the parent's, minus `--input-type`, which only applies to the main script
 * (`node --input-type=module -e …`) and makes a worker fail to load its file.
 */
function abortedError(): EngineError {
  return new EngineError('Aborted', 'synthesis aborted');
}

/**
 * Events of one request, from the worker to the consumer. Unbounded: eSpeak runs ≈300× faster than real time,
 * and holding a request's audio (≈2.6 MB per minute) is cheaper than holding a worker for a slow reader.
 */
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

  /** Next event, or undefined at the end. @throws the failure, once the events before it are consumed. */
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

interface SynthJob {
  id: number;
  text: string;
  voice: string;
  rateWpm: number;
  pitch: number;
  sink: EventSink;
  slot: WorkerSlot | undefined;
}

/** One worker thread as the main side sees it; `worker` is replaced on respawn. */
class WorkerSlot {
  worker: Worker | undefined;
  state: 'starting' | 'ready' | 'failed' | 'respawning' | 'closed' = 'starting';
  job: SynthJob | undefined;
  consecutiveCrashes = 0;
  everReady = false;
  respawnTimer: NodeJS.Timeout | undefined;
  /** The private library copy this worker's current thread loads, deleted once it is loaded. */
  libraryCopy: string | undefined;
  /** Int32Array(1) shared with the worker: the id of a request it must stop. */
  readonly abortFlag = new Int32Array(new SharedArrayBuffer(4));
  readonly firstReady = deferred<void>();

  constructor(readonly index: number) {
    // ready() may never be called; the rejection is reported through it or through requests.
    this.firstReady.promise.catch(() => undefined);
  }
}

export class EspeakNgEngine implements TtsEngine {
  readonly id = ENGINE_ID;
  readonly phoneSet = 'espeak' as const;

  private readonly log: Logger;
  private readonly maxQueued: number;
  private readonly libraryPath: string;
  private readonly dataPath: string | undefined;
  private readonly allVoices: readonly TtsVoice[] = buildVoices();
  private readonly voiceIds: ReadonlySet<string> = new Set(this.allVoices.map((v) => v.id));
  private missingVoices: ReadonlySet<string> = new Set();
  private readonly slots: WorkerSlot[];
  private readonly queue: SynthJob[] = [];
  private readonly readyPromise: Promise<void>;
  private nextJobId = 1;
  private copyDir: string | undefined;
  private closing: Promise<void> | undefined;
  /** Set when no worker can start: requests fail fast with it. */
  private fatal: EngineError | undefined;

  constructor(options: EspeakNgEngineOptions = {}) {
    const workers = options.workers ?? 1;
    const maxQueued = options.maxQueued ?? 32;
    for (const [name, v, min] of [['workers', workers, 1], ['maxQueued', maxQueued, 0]] as const) {
      if (!Number.isInteger(v) || v < min) throw new RangeError(`EspeakNgEngine: ${name} must be an integer >= ${min}, got ${v}`);
    }
    this.log = (options.logger ?? silentLogger).child({ engine: ENGINE_ID });
    this.maxQueued = maxQueued;
    this.libraryPath = resolveLibrary(options.libraryPath ?? 'libespeak-ng.so.1');
    this.dataPath = options.dataPath;
    this.slots = Array.from({ length: workers }, (_, i) => new WorkerSlot(i));
    for (const slot of this.slots) this.spawn(slot);
    this.readyPromise = Promise.all(this.slots.map((s) => s.firstReady.promise)).then(() => undefined);
    this.readyPromise.catch(() => undefined);
  }

  /** The catalogue; after ready(), without voices whose eSpeak data turned out to be missing. */
  voices(): readonly TtsVoice[] {
    if (this.missingVoices.size === 0) return this.allVoices;
    return this.allVoices.filter((v) => !this.missingVoices.has(v.id));
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  /**
   * Errors (`UnsupportedLocale` for a voice id not in voices(), `Overloaded`, `Aborted`, `Internal`) surface from
   * the iteration; nothing is queued before the first next(). Stopping the iteration early stops the synthesis.
   */
  async *synthesize(input: SynthesisInput, signal?: AbortSignal): AsyncGenerator<SynthesisEvent, void, undefined> {
    if (!this.voiceIds.has(input.voiceId) || this.missingVoices.has(input.voiceId)) {
      throw new EngineError('UnsupportedLocale', `unknown eSpeak NG voice '${input.voiceId}'`);
    }
    yield* this.run(input, signal);
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
  // Requests
  // -------------------------------------------------------------------------------------------------------------

  private async *run(input: SynthesisInput, signal: AbortSignal | undefined): AsyncGenerator<SynthesisEvent> {
    if (signal?.aborted === true) throw abortedError();
    if (this.closing !== undefined) throw new EngineError('Aborted', 'engine closed');
    if (this.fatal !== undefined) throw this.fatal;
    // Nothing to say; eSpeak would produce no audio either.
    if (input.text.trim() === '') return;
    const idle = this.idleSlot();
    if (idle === undefined && this.queue.length >= this.maxQueued) {
      throw new EngineError('Overloaded', `eSpeak NG queue is full (${this.maxQueued} waiting)`);
    }
    const job: SynthJob = {
      id: this.nextJobId++,
      // eSpeak reads a NUL-terminated string; a NUL inside would cut the text (a space keeps offsets).
      text: input.text.replace(/\0/g, ' '),
      voice: espeakName(input.voiceId),
      rateWpm: espeakRate(input.prosody.rate),
      pitch: espeakPitch(input.prosody.pitch),
      sink: new EventSink(),
      slot: undefined,
    };
    const onAbort = (): void => {
      job.sink.fail(abortedError());
      this.cancel(job);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (idle !== undefined) this.start(idle, job);
      else this.queue.push(job);
      for (let event = await job.sink.next(); event !== undefined; event = await job.sink.next()) yield event;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // Reached early when the consumer stops iterating (or on an error): nothing more is wanted.
      if (!job.sink.finished) job.sink.fail(abortedError());
      this.cancel(job);
    }
  }

  /** Takes a job out of the queue, or asks its worker to stop it; no-op for a finished job. */
  private cancel(job: SynthJob): void {
    const i = this.queue.indexOf(job);
    if (i >= 0) this.queue.splice(i, 1);
    const slot = job.slot;
    if (slot !== undefined && slot.job === job) Atomics.store(slot.abortFlag, 0, job.id);
  }

  private idleSlot(): WorkerSlot | undefined {
    return this.slots.find((s) => s.state === 'ready' && s.job === undefined);
  }

  private pump(): void {
    for (let slot = this.idleSlot(); slot !== undefined && this.queue.length > 0; slot = this.idleSlot()) {
      const job = this.queue.shift();
      if (job !== undefined) this.start(slot, job);
    }
  }

  private start(slot: WorkerSlot, job: SynthJob): void {
    slot.job = job;
    job.slot = slot;
    slot.worker?.postMessage({ type: 'synth', id: job.id, text: job.text, voice: job.voice, rateWpm: job.rateWpm, pitch: job.pitch } satisfies ToWorker);
  }

  private finishJob(slot: WorkerSlot, id: number, outcome: { error?: EngineError }): void {
    const job = slot.job;
    if (job === undefined || job.id !== id) return;
    slot.job = undefined;
    if (outcome.error !== undefined) job.sink.fail(outcome.error);
    else job.sink.end();
    this.pump();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Worker lifecycle
  // -------------------------------------------------------------------------------------------------------------

  private spawn(slot: WorkerSlot): void {
    let libraryPath = this.libraryPath;
    if (!installedLibraryUsed) {
      installedLibraryUsed = true;
    } else {
      try {
        libraryPath = this.privateLibraryCopy(slot);
      } catch (err) {
        this.giveUp(slot, err instanceof EngineError ? err : new EngineError('ModelLoadFailed', `cannot copy ${this.libraryPath} for worker ${slot.index}`, { cause: err }));
        return;
      }
    }
    const init: WorkerInit = {
      libraryPath,
      dataPath: this.dataPath,
      bufferMs: BUFFER_MS,
      maxBatchMs: MAX_BATCH_MS,
      voiceNames: this.allVoices.map((v) => espeakName(v.id)),
      abortFlag: slot.abortFlag.buffer,
    };
    const worker = startWorker(WORKER_URL, init);
    slot.worker = worker;
    slot.state = 'starting';
    slot.job = undefined;
    worker.on('message', (msg: FromWorker) => {
      if (slot.worker === worker) this.onMessage(slot, msg);
    });
    worker.on('error', (err) => {
      // Followed by 'exit', which does the recovery.
      if (slot.worker === worker) this.log.error({ err, worker: slot.index }, 'eSpeak NG worker failed');
    });
    worker.on('exit', (code) => {
      if (slot.worker === worker) this.onExit(slot, code);
    });
  }

  /**
   * A private copy of the library for worker `slot` (see the file comment), in a directory under the system's
   * temporary directory (which must allow executable mappings). It is deleted as soon as the worker has loaded
   * it: the mapping outlives the directory entry.
   */
  private privateLibraryCopy(slot: WorkerSlot): string {
    const source = this.libraryPath;
    if (!path.isAbsolute(source)) {
      throw new EngineError('ModelLoadFailed', `cannot find ${source} to give worker ${slot.index} its own copy; set libraryPath to its full path`);
    }
    this.copyDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'parlance-espeak-'));
    const copy = path.join(this.copyDir, `libespeak-ng-worker${slot.index}-${Date.now()}.so`);
    fs.copyFileSync(source, copy);
    slot.libraryCopy = copy;
    return copy;
  }

  private removeLibraryCopy(slot: WorkerSlot): void {
    const copy = slot.libraryCopy;
    slot.libraryCopy = undefined;
    if (copy !== undefined) fs.rm(copy, { force: true }, () => undefined);
  }

  private onMessage(slot: WorkerSlot, msg: FromWorker): void {
    switch (msg.type) {
      case 'ready':
        this.removeLibraryCopy(slot);
        if (msg.sampleRate !== SAMPLE_RATE) {
          // voices() already promised 22 050 Hz; a library that disagrees cannot serve them.
          this.giveUp(slot, new EngineError('ModelLoadFailed', `eSpeak NG runs at ${msg.sampleRate} Hz, expected ${SAMPLE_RATE}`));
          void slot.worker?.terminate();
          return;
        }
        if (msg.missingVoices.length > 0) {
          this.missingVoices = new Set(msg.missingVoices.map((n) => `${ENGINE_ID}:${n}`));
          this.log.warn({ worker: slot.index, missingVoices: msg.missingVoices }, 'eSpeak NG voices not installed; left out of the catalogue');
        }
        slot.state = 'ready';
        slot.everReady = true;
        slot.consecutiveCrashes = 0;
        this.log.info({ worker: slot.index, loadMs: Math.round(msg.loadMs) }, 'eSpeak NG worker ready');
        slot.firstReady.resolve();
        this.pump();
        return;
      case 'init-failed': {
        this.removeLibraryCopy(slot);
        const err = engineErrorFrom(msg.error);
        this.log.error({ worker: slot.index, err }, 'eSpeak NG worker could not initialise');
        const worker = slot.worker;
        slot.worker = undefined;
        void worker?.terminate();
        this.giveUp(slot, err);
        return;
      }
      case 'events':
        if (slot.job?.id === msg.id) slot.job.sink.push(msg.events);
        return;
      case 'done':
        this.log.debug({ worker: slot.index, synthMs: Math.round(msg.synthMs), aborted: msg.aborted }, 'synthesized');
        // An aborted job's consumer already has its error; end() is then a no-op.
        this.finishJob(slot, msg.id, {});
        return;
      case 'failed':
        this.finishJob(slot, msg.id, { error: engineErrorFrom(msg.error) });
        return;
      case 'shut-down':
        return;
    }
  }

  /** A worker that cannot start: its slot stays empty; when no worker can start, requests fail fast. */
  private giveUp(slot: WorkerSlot, err: EngineError): void {
    slot.state = 'failed';
    slot.firstReady.reject(err);
    const job = slot.job;
    slot.job = undefined;
    job?.sink.fail(err);
    if (this.slots.every((s) => s.state === 'failed')) {
      this.fatal = err;
      for (const queued of this.queue.splice(0)) queued.sink.fail(err);
    }
  }

  private onExit(slot: WorkerSlot, code: number): void {
    slot.worker = undefined;
    this.removeLibraryCopy(slot);
    if (slot.state === 'closed' || slot.state === 'failed') return;
    const next = afterWorkerCrash(slot);
    if (next.action === 'giveUp') {
      this.log.error({ worker: slot.index, exitCode: code }, 'eSpeak NG worker keeps exiting during start-up; giving up');
      this.giveUp(slot, new EngineError('Internal', `eSpeak NG worker exited during start-up ${slot.consecutiveCrashes} times (last code ${code})`));
      return;
    }
    const delay = next.delayMs;
    this.log.error({ worker: slot.index, exitCode: code, respawnInMs: delay }, 'eSpeak NG worker exited unexpectedly; respawning');
    slot.state = 'respawning';
    const job = slot.job;
    slot.job = undefined;
    job?.sink.fail(new EngineError('Internal', `eSpeak NG worker exited (code ${code})`));
    slot.respawnTimer = setTimeout(() => {
      slot.respawnTimer = undefined;
      if (this.closing === undefined) this.spawn(slot);
    }, delay);
    this.pump();
  }

  private async shutdown(): Promise<void> {
    const closedErr = new EngineError('Aborted', 'engine closed');
    for (const job of this.queue.splice(0)) job.sink.fail(closedErr);
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.respawnTimer !== undefined) clearTimeout(slot.respawnTimer);
        slot.state = 'closed';
        slot.firstReady.reject(closedErr);
        const job = slot.job;
        slot.job = undefined;
        if (job !== undefined) {
          job.sink.fail(closedErr);
          Atomics.store(slot.abortFlag, 0, job.id);
        }
        const worker = slot.worker;
        if (worker === undefined) return;
        const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
        // Graceful first, so the worker unregisters its callback; it answers after the synthesis in progress
        // (stopped by the abort flag above).
        worker.postMessage({ type: 'shutdown' } satisfies ToWorker);
        const timer = setTimeout(() => void worker.terminate(), SHUTDOWN_GRACE_MS);
        // terminate() cannot stop a thread stuck inside C either; close() does not wait for one forever.
        let giveUp: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise<void>((resolve) => (giveUp = setTimeout(resolve, SHUTDOWN_GRACE_MS + 1_000)))]);
        clearTimeout(timer);
        clearTimeout(giveUp);
        this.removeLibraryCopy(slot);
      }),
    );
    if (this.copyDir !== undefined) fs.rmSync(this.copyDir, { recursive: true, force: true });
  }
}

