/**
 * PocketSphinx 0.8 speech-to-text engine (en-US), decoding in a pool of worker threads.
 *
 * Scheduling, all on the main thread:
 * - Batch decodes (finals) wait in one FIFO here and are handed to a worker only when it has no batch decode
 *   running, choosing the least-loaded idle worker. Keeping the queue here (not in the workers' message
 *   queues) is what lets an aborted request leave the queue, lets the queue be bounded (`maxQueuedDecodes`,
 *   beyond which callers get `Overloaded`), and keeps live feeds from waiting behind more than one decode.
 * - Live decoders (partials) are slots reserved per worker (`liveDecodersPerWorker`); their feeds go straight
 *   to the owning worker, coalesced per decoder so a slow worker yields fewer, larger updates.
 * - A worker that dies has its requests rejected with `Internal` and is respawned. This covers JS-level
 *   failures of the thread; a segfault inside the C library still takes the whole process down (threads
 *   share the process), which only child processes could contain.
 */
import { Worker } from 'node:worker_threads';
import { deferred, startWorker } from '../../kernel/worker-threads.js';

import {
  EngineError,
  type EngineHypothesis,
  type LiveDecoder,
  type SttEngine,
  type SttEngineInfo,
  type SttModelRef, engineErrorFrom } from '../../domain/ports/engines.js';
import { ENGINE_SAMPLE_RATE } from '../../kernel/audio/format.js';
import { silentLogger, type Logger } from '../../kernel/logger.js';
import { PocketSphinxModelCatalog, SUPPORTED_LOCALES, type SphinxModelPaths } from './model-catalog.js';
import type { FromWorker, SerializedEngineError, ToWorker, WorkerInit } from './worker.js';

export { PocketSphinxModelCatalog, DEFAULT_MODEL_DIR, type CustomSphinxModel, type SphinxModelPaths } from './model-catalog.js';

export interface PocketSphinxEngineOptions {
  /** Worker threads, each with its own batch decoder (≈100 MB); about one per core. */
  workers: number;
  /** Live (partials) decoders each worker may hold; created on first use, ≈100 MB each. */
  liveDecodersPerWorker: number;
  /** Batch decodes allowed to wait for a worker; more are rejected with `Overloaded`. */
  maxQueuedDecodes: number;
  /** Base directory of the en-US model (default: Debian's /usr/share/pocketsphinx/model/en-us). */
  modelDir?: string;
  logger?: Logger;
}

const WORKER_URL = new URL('./worker.js', import.meta.url);

/**
 * How long close() lets a worker finish its current C call and free its decoders before terminating it.
 * terminate() cannot interrupt C either, so this only matters for a worker that is truly stuck; a long
 * decode (RTF ≈0.25, so ≈15 s for a minute of audio) is better waited for than leaked.
 */
const SHUTDOWN_GRACE_MS = 30_000;
const RESPAWN_DELAY_MS = 100;
const MAX_RESPAWN_DELAY_MS = 10_000;
/** A worker that dies this many times in a row before it was ever ready is given up (it would never start). */
const MAX_STARTUP_CRASHES = 3;

/**
 * Node flags for the workers: the parent's, minus `--input-type`, which only applies to the main script
 * (`node --input-type=module -e …`) and makes a worker fail to load its file.
 */
function abortedError(): EngineError {
  return new EngineError('Aborted', 'decode aborted');
}

interface DecodeJob {
  model: SphinxModelPaths;
  /** Owned by the job (a copy), so it can be transferred to the worker. */
  pcm: Int16Array<ArrayBuffer>;
  /** Both no-ops once the job has settled (abort and reply can race). */
  resolve(h: EngineHypothesis): void;
  reject(e: EngineError): void;
}

/** Replies a worker owes us, by request id. */
interface PendingReply {
  onReply(msg: FromWorker): void;
  onFailure(err: EngineError): void;
}

/** One worker thread as the main side sees it; `worker` is replaced on respawn, and `generation` counts that. */
class WorkerSlot {
  worker: Worker | undefined;
  generation = 0;
  state: 'starting' | 'ready' | 'failed' | 'respawning' | 'closed' = 'starting';
  /** The batch decode running in this worker, if any. */
  batchJob: DecodeJob | undefined;
  liveInUse = 0;
  /** Live decoders the worker has loaded (in use or idle); reusing one avoids a ≈0.5 s load. */
  liveLoaded = 0;
  /** Live feeds sent and not yet answered: the load measure for picking workers. */
  liveFeedsInFlight = 0;
  readonly pending = new Map<number, PendingReply>();
  consecutiveCrashes = 0;
  /** Ever sent 'ready' (a crash before that is a start-up failure). */
  everReady = false;
  respawnTimer: NodeJS.Timeout | undefined;
  /** Settles once: when the worker is first ready, or when it cannot be (model load failed, engine closed). */
  readonly firstReady = deferred<void>();

  constructor(readonly index: number) {
    // ready() may never be called; the rejection is reported through it or through requests.
    this.firstReady.promise.catch(() => undefined);
  }

  load(): number {
    return this.liveFeedsInFlight + this.liveInUse + (this.batchJob === undefined ? 0 : 1);
  }
}

export class PocketSphinxEngine implements SttEngine {
  readonly info: SttEngineInfo = { id: 'pocketsphinx', locales: SUPPORTED_LOCALES };

  private readonly options: PocketSphinxEngineOptions;
  private readonly log: Logger;
  private readonly catalog: PocketSphinxModelCatalog;
  private readonly defaultModel: SphinxModelPaths;
  private readonly slots: WorkerSlot[];
  private readonly queue: DecodeJob[] = [];
  private readonly readyPromise: Promise<void>;
  private nextRequestId = 1;
  private closing: Promise<void> | undefined;
  /** Set when a worker could not load the default model: nothing can be served, so requests fail fast. */
  private fatal: EngineError | undefined;

  constructor(options: PocketSphinxEngineOptions) {
    for (const [name, min] of [['workers', 1], ['liveDecodersPerWorker', 0], ['maxQueuedDecodes', 0]] as const) {
      const v = options[name];
      if (!Number.isInteger(v) || v < min) throw new RangeError(`PocketSphinxEngine: ${name} must be an integer >= ${min}, got ${v}`);
    }
    this.options = options;
    this.log = (options.logger ?? silentLogger).child({ engine: 'pocketsphinx' });
    this.catalog = new PocketSphinxModelCatalog(options.modelDir === undefined ? {} : { modelDir: options.modelDir });
    this.defaultModel = this.catalog.resolve({ locale: 'en-US' });
    this.slots = Array.from({ length: options.workers }, (_, i) => new WorkerSlot(i));
    for (const slot of this.slots) this.spawn(slot);
    this.readyPromise = Promise.all(this.slots.map((s) => s.firstReady.promise)).then(() => undefined);
    this.readyPromise.catch(() => undefined);
  }

  supportsLocale(locale: string): boolean {
    return this.catalog.supportsLocale(locale);
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  decodeUtterance(model: SttModelRef, pcm: Int16Array, signal?: AbortSignal): Promise<EngineHypothesis> {
    if (signal?.aborted === true) return Promise.reject(abortedError());
    let paths: SphinxModelPaths;
    try {
      paths = this.catalog.resolve(model);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.closing !== undefined) return Promise.reject(new EngineError('Aborted', 'engine closed'));
    if (this.fatal !== undefined) return Promise.reject(this.fatal);

    const idle = this.idleSlot();
    if (idle === undefined && this.queue.length >= this.options.maxQueuedDecodes) {
      return Promise.reject(new EngineError('Overloaded', `PocketSphinx decode queue is full (${this.options.maxQueuedDecodes} waiting)`));
    }

    return new Promise<EngineHypothesis>((resolve, reject) => {
      let settled = false;
      const onAbort = (): void => {
        const i = this.queue.indexOf(job);
        if (i >= 0) this.queue.splice(i, 1);
        // A decode already running in C cannot be stopped; its worker finishes it and the result is dropped.
        job.reject(abortedError());
      };
      const job: DecodeJob = {
        model: paths,
        // A copy: the caller keeps its buffer, and this one is transferred (not cloned) to the worker.
        pcm: pcm.slice(),
        resolve: (h) => {
          if (settled) return;
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          resolve(h);
        },
        reject: (e) => {
          if (settled) return;
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      if (idle !== undefined) this.startDecode(idle, job);
      else this.queue.push(job);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async openLiveDecoder(model: SttModelRef): Promise<LiveDecoder | undefined> {
    const paths = this.catalog.resolve(model);
    await this.readyPromise;
    if (this.closing !== undefined) return undefined;
    const slot = this.liveSlot();
    if (slot === undefined) return undefined;
    // Reserve before awaiting, so concurrent opens cannot overbook the worker.
    slot.liveInUse++;
    const generation = slot.generation;
    let opened: Extract<FromWorker, { type: 'live-opened' }>;
    try {
      opened = await this.request(slot, (id) => ({ type: 'live-open', id, model: paths }), 'live-opened');
    } catch (err) {
      if (slot.generation === generation) slot.liveInUse--;
      // Partials are best-effort: the caller goes on without them.
      this.log.warn({ err, worker: slot.index }, 'could not open a live decoder');
      return undefined;
    }
    if (opened.created && !opened.evicted) slot.liveLoaded++;
    return new PocketSphinxLiveDecoder(this, slot, generation, opened.decoderId);
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
  // Live decoder plumbing (called by PocketSphinxLiveDecoder)
  // -------------------------------------------------------------------------------------------------------------

  /** @internal */
  async liveFeed(slot: WorkerSlot, generation: number, decoderId: number, pcm: Int16Array<ArrayBuffer>): Promise<string> {
    if (slot.generation !== generation || slot.state !== 'ready') {
      throw new EngineError('Internal', 'the worker holding this live decoder has stopped');
    }
    slot.liveFeedsInFlight++;
    try {
      const msg = await this.request(slot, (id) => ({ type: 'live-feed', id, decoderId, pcm }), 'live-partial', [pcm.buffer]);
      return msg.text;
    } finally {
      if (slot.generation === generation) slot.liveFeedsInFlight--;
    }
  }

  /** @internal */
  liveRelease(slot: WorkerSlot, generation: number, decoderId: number): void {
    // After a respawn the decoder no longer exists and the slot counters were reset.
    if (slot.generation !== generation || slot.worker === undefined) return;
    slot.liveInUse--;
    slot.worker.postMessage({ type: 'live-release', decoderId } satisfies ToWorker);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Scheduling
  // -------------------------------------------------------------------------------------------------------------

  private idleSlot(): WorkerSlot | undefined {
    let best: WorkerSlot | undefined;
    for (const s of this.slots) {
      if (s.state !== 'ready' || s.batchJob !== undefined) continue;
      if (best === undefined || s.load() < best.load()) best = s;
    }
    return best;
  }

  private liveSlot(): WorkerSlot | undefined {
    let best: WorkerSlot | undefined;
    let bestScore = Infinity;
    for (const s of this.slots) {
      if (s.state !== 'ready' || s.liveInUse >= this.options.liveDecodersPerWorker) continue;
      // A worker with an idle, already-loaded decoder beats any load difference: loading blocks it ≈0.5 s.
      const score = s.load() + (s.liveInUse < s.liveLoaded ? 0 : 1000);
      if (score < bestScore) {
        best = s;
        bestScore = score;
      }
    }
    return best;
  }

  private pump(): void {
    for (let slot = this.idleSlot(); slot !== undefined && this.queue.length > 0; slot = this.idleSlot()) {
      const job = this.queue.shift();
      if (job !== undefined) this.startDecode(slot, job);
    }
  }

  private startDecode(slot: WorkerSlot, job: DecodeJob): void {
    slot.batchJob = job;
    const done = (): void => {
      if (slot.batchJob === job) slot.batchJob = undefined;
      this.pump();
    };
    const pcm = job.pcm;
    // Read before the buffer is transferred (and detached).
    const audioMs = (pcm.length * 1000) / ENGINE_SAMPLE_RATE;
    this.request(slot, (id) => ({ type: 'decode', id, model: job.model, pcm }), 'decoded', [pcm.buffer]).then(
      (msg) => {
        this.log.debug({ worker: slot.index, audioMs, decodeMs: Math.round(msg.decodeMs) }, 'decoded utterance');
        job.resolve(msg.hypothesis);
        done();
      },
      (err: EngineError) => {
        job.reject(err);
        done();
      },
    );
  }

  /** Sends one request to a worker and waits for its reply of the expected type. */
  private request<T extends FromWorker['type']>(
    slot: WorkerSlot,
    build: (id: number) => ToWorker,
    expect: T,
    transfer: ArrayBuffer[] = [],
  ): Promise<Extract<FromWorker, { type: T }>> {
    return new Promise((resolve, reject) => {
      const worker = slot.worker;
      if (worker === undefined || slot.state !== 'ready') {
        reject(new EngineError('Internal', 'PocketSphinx worker is not running'));
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
      worker.postMessage(build(id), transfer);
    });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Worker lifecycle
  // -------------------------------------------------------------------------------------------------------------

  private spawn(slot: WorkerSlot): void {
    const init: WorkerInit = { defaultModel: this.defaultModel, maxLiveDecoders: this.options.liveDecodersPerWorker };
    const worker = startWorker(WORKER_URL, init);
    slot.worker = worker;
    slot.generation++;
    slot.state = 'starting';
    slot.liveInUse = 0;
    slot.liveLoaded = 0;
    slot.liveFeedsInFlight = 0;
    worker.on('message', (msg: FromWorker) => {
      if (slot.worker === worker) this.onMessage(slot, msg);
    });
    worker.on('error', (err) => {
      // Followed by 'exit', which does the recovery.
      if (slot.worker === worker) this.log.error({ err, worker: slot.index }, 'PocketSphinx worker failed');
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
        this.log.info({ worker: slot.index, loadMs: Math.round(msg.loadMs) }, 'PocketSphinx worker ready');
        slot.firstReady.resolve();
        this.pump();
        return;
      case 'init-failed': {
        const err = engineErrorFrom(msg.error);
        this.log.error({ worker: slot.index, err }, 'PocketSphinx worker could not load its model');
        const worker = slot.worker;
        slot.worker = undefined;
        void worker?.terminate();
        this.giveUp(slot, err);
        return;
      }
      case 'shut-down':
        return;
      case 'decoded':
      case 'live-opened':
      case 'live-partial':
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
      // The same configuration failed everywhere: nothing queued can ever run.
      this.fatal = err;
      for (const job of this.queue.splice(0)) job.reject(err);
    }
  }

  private onExit(slot: WorkerSlot, code: number): void {
    slot.worker = undefined;
    if (slot.state === 'closed' || slot.state === 'failed') return;
    slot.consecutiveCrashes++;
    if (!slot.everReady && slot.consecutiveCrashes >= MAX_STARTUP_CRASHES) {
      this.log.error({ worker: slot.index, exitCode: code }, 'PocketSphinx worker keeps exiting during start-up; giving up');
      this.giveUp(slot, new EngineError('Internal', `PocketSphinx worker exited during start-up ${slot.consecutiveCrashes} times (last code ${code})`));
      return;
    }
    const delay = Math.min(MAX_RESPAWN_DELAY_MS, RESPAWN_DELAY_MS * 2 ** (slot.consecutiveCrashes - 1));
    this.log.error({ worker: slot.index, exitCode: code, respawnInMs: delay }, 'PocketSphinx worker exited unexpectedly; respawning');
    slot.state = 'respawning';
    this.failPending(slot, new EngineError('Internal', `PocketSphinx worker exited (code ${code})`));
    slot.respawnTimer = setTimeout(() => {
      slot.respawnTimer = undefined;
      if (this.closing === undefined) this.spawn(slot);
    }, delay);
    // Queued decodes may still fit on the other workers.
    this.pump();
  }

  private failPending(slot: WorkerSlot, err: EngineError): void {
    const pending = [...slot.pending.values()];
    slot.pending.clear();
    for (const p of pending) p.onFailure(err);
  }

  private async shutdown(): Promise<void> {
    const closedErr = new EngineError('Aborted', 'engine closed');
    for (const job of this.queue.splice(0)) job.reject(closedErr);
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.respawnTimer !== undefined) clearTimeout(slot.respawnTimer);
        slot.state = 'closed';
        // No-op if it was ready before; otherwise ready() must not hang forever.
        slot.firstReady.reject(closedErr);
        // Callers hear now, not after the C call in progress has finished.
        this.failPending(slot, closedErr);
        const worker = slot.worker;
        if (worker === undefined) return;
        const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
        // Graceful first: the worker frees its decoders' C memory, which terminate() would leak into the
        // process. It answers after whatever C call is running now, so a timer bounds the wait.
        worker.postMessage({ type: 'shutdown' } satisfies ToWorker);
        const timer = setTimeout(() => void worker.terminate(), SHUTDOWN_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}

/** A reserved live decoder in one worker; `feed` coalesces audio that arrives while a feed is in flight. */
class PocketSphinxLiveDecoder implements LiveDecoder {
  private released = false;
  private inFlight = false;
  private chunks: Array<Int16Array<ArrayBuffer>> = [];
  private waiters: Array<{ resolve(text: string): void; reject(err: unknown): void }> = [];

  constructor(
    private readonly engine: PocketSphinxEngine,
    private readonly slot: WorkerSlot,
    private readonly generation: number,
    private readonly decoderId: number,
  ) {}

  feed(pcm: Int16Array): Promise<string> {
    if (this.released) return Promise.reject(new EngineError('Aborted', 'live decoder released'));
    return new Promise<string>((resolve, reject) => {
      // Copied now: the caller may reuse its buffer before this chunk is sent.
      this.chunks.push(pcm.slice());
      this.waiters.push({ resolve, reject });
      if (!this.inFlight) this.flush();
    });
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    // Audio not yet sent will never be decoded; an in-flight feed still completes (the worker handles the
    // release after it).
    const orphans = this.waiters;
    this.chunks = [];
    this.waiters = [];
    for (const w of orphans) w.reject(new EngineError('Aborted', 'live decoder released'));
    this.engine.liveRelease(this.slot, this.generation, this.decoderId);
  }

  private flush(): void {
    if (this.chunks.length === 0 || this.released) return;
    const pcm = concat(this.chunks);
    const waiters = this.waiters;
    this.chunks = [];
    this.waiters = [];
    this.inFlight = true;
    this.engine.liveFeed(this.slot, this.generation, this.decoderId, pcm).then(
      (text) => {
        for (const w of waiters) w.resolve(text);
        this.inFlight = false;
        this.flush();
      },
      (err: unknown) => {
        for (const w of waiters) w.reject(err);
        this.inFlight = false;
        this.flush();
      },
    );
  }
}


function concat(chunks: ReadonlyArray<Int16Array<ArrayBuffer>>): Int16Array<ArrayBuffer> {
  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  const out = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
