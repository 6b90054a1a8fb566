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
 *
 * Custom models (Custom Speech): `buildCustomModel` trains a trigram language model of the domain text plus
 * pronunciations of its new words (custom-build.ts, in a one-shot worker); `loadCustomModel` makes every
 * worker add a search for it to its decoders, interpolating the custom and the base language model
 * (custom-models.ts). Every worker, including one respawned later, loads every loaded model; decodes are
 * ordered after the load in each worker's message queue, so a decode sent once the load is registered uses it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { deferred, startWorker, afterWorkerCrash } from '../../kernel/worker-threads.js';

import {
  EngineError,
  type CustomModelBuild,
  type CustomModelInput,
  type EngineHypothesis,
  type LetterToSound,
  type LiveDecoder,
  type SttEngine,
  type SttEngineInfo,
  type SttModelRef, engineErrorFrom } from '../../domain/ports/engines.js';
import { ENGINE_SAMPLE_RATE } from '../../kernel/audio/format.js';
import { silentLogger, type Logger } from '../../kernel/logger.js';
import { buildCustomModel, DEFAULT_CUSTOM_MODEL_LIMITS, readCustomModelManifest, type CustomModelLimits } from './custom-build.js';
import type { CustomModelSpec } from './custom-models.js';
import { PocketSphinxModelCatalog, SUPPORTED_LOCALES, type SphinxModelPaths } from './model-catalog.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker.js';

export { PocketSphinxModelCatalog, DEFAULT_MODEL_DIR, type SphinxModelPaths } from './model-catalog.js';
export { DEFAULT_CUSTOM_MODEL_LIMITS, type CustomModelLimits } from './custom-build.js';

export interface PocketSphinxEngineOptions {
  /** Worker threads, each with its own batch decoder (≈100 MB); about one per core. */
  workers: number;
  /** Live (partials) decoders each worker may hold; created on first use, ≈100 MB each. */
  liveDecodersPerWorker: number;
  /** Batch decodes allowed to wait for a worker; more are rejected with `Overloaded`. */
  maxQueuedDecodes: number;
  /** Base directory of the en-US model (default: Debian's /usr/share/pocketsphinx/model/en-us). */
  modelDir?: string;
  /**
   * Pronunciations for words of custom-model training text that the base dictionary lacks and the dataset gives
   * none for. Without it such words are left out of custom models.
   */
  letterToSound?: LetterToSound;
  /**
   * Weight of a custom model's language model in its interpolation with the base model, in (0, 1). Default
   * `DEFAULT_CUSTOM_LM_WEIGHT`.
   */
  customLanguageModelWeight?: number;
  /** Bounds on custom-model training input (default `DEFAULT_CUSTOM_MODEL_LIMITS`). */
  customModelLimits?: CustomModelLimits;
  /**
   * Custom models loaded at once (each costs ≈40 MB in every decoder of every worker); loading one more is
   * refused with ModelLoadFailed. Default `DEFAULT_MAX_CUSTOM_MODELS`.
   */
  maxCustomModels?: number;
  logger?: Logger;
}

export const DEFAULT_MAX_CUSTOM_MODELS = 16;

/**
 * Interpolation weight of a custom language model (the base model gets the rest). PocketSphinx interpolates
 * language-model *scores* (log probabilities already scaled by the language weight, 6.5), so the weights act far
 * less than in a linear mixture of probabilities: the set behaves almost like the better of the two models for
 * each word, and the weight mostly decides how much general English suffers. Measured with the domain of
 * test/engines/custom-model.test.ts (18 synthesized domain sentences, 149 words) and 12 general sentences
 * (136 words), WER base → custom:
 *
 * | weight | domain, festival slt | domain, flite kal16 | general, festival | general, kal16 |
 * |---|---|---|---|---|
 * | 0.1 | 78.5 → 19.5 % | 70.5 → 10.1 % | 7.4 → 8.1 % | 4.4 → 5.9 % |
 * | 0.3 | 78.5 → 18.8 % | 70.5 → 10.1 % | 7.4 → 8.8 % | 4.4 → 5.9 % |
 * | 0.5 | 78.5 → 18.1 % | 70.5 → 10.1 % | 7.4 → 12.5 % | 4.4 → 7.4 % |
 * | 0.7 | 78.5 → 18.1 % | 70.5 → 10.1 % | 7.4 → 14.0 % | 4.4 → 7.4 % |
 * | 0.9 | 78.5 → 16.8 % | – | 7.4 → 11.8 % | – |
 *
 * The domain gain is flat in the weight; general English degrades from 0.5 up. 0.3 keeps nearly all of both.
 */
export const DEFAULT_CUSTOM_LM_WEIGHT = 0.3;

/** Loaded custom models, as the workers must have them. */
interface CustomModelEntry {
  dir: string;
  locale: string;
  spec: CustomModelSpec;
  /** Settles when every worker that was ready has loaded it. */
  loaded: Promise<void>;
}

const WORKER_URL = new URL('./worker.js', import.meta.url);

/**
 * How long close() lets a worker finish its current C call and free its decoders before terminating it.
 * terminate() cannot interrupt C either, so this only matters for a worker that is truly stuck; a long
 * decode (RTF ≈0.25, so ≈15 s for a minute of audio) is better waited for than leaked.
 */
const SHUTDOWN_GRACE_MS = 30_000;

/**
 * Node flags for the workers: the parent's, minus `--input-type`, which only applies to the main script
 * (`node --input-type=module -e …`) and makes a worker fail to load its file.
 */
function abortedError(): EngineError {
  return new EngineError('Aborted', 'decode aborted');
}

interface DecodeJob {
  model: SphinxModelPaths;
  customModelId: string | undefined;
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
  private readonly customModels = new Map<string, CustomModelEntry>();
  private readonly customWeight: number;
  /** Fires on close(): stops custom-model builds in progress. */
  private readonly closeController = new AbortController();
  /** The workers' temporary files (custom-model dictionaries); removed on close, crashed workers' included. */
  private readonly scratchDir: string;

  constructor(options: PocketSphinxEngineOptions) {
    for (const [name, min] of [['workers', 1], ['liveDecodersPerWorker', 0], ['maxQueuedDecodes', 0]] as const) {
      const v = options[name];
      if (!Number.isInteger(v) || v < min) throw new RangeError(`PocketSphinxEngine: ${name} must be an integer >= ${min}, got ${v}`);
    }
    this.customWeight = options.customLanguageModelWeight ?? DEFAULT_CUSTOM_LM_WEIGHT;
    if (!(this.customWeight > 0 && this.customWeight < 1)) {
      throw new RangeError(`PocketSphinxEngine: customLanguageModelWeight must be in (0, 1), got ${this.customWeight}`);
    }
    this.options = options;
    this.log = (options.logger ?? silentLogger).child({ engine: 'pocketsphinx' });
    this.catalog = new PocketSphinxModelCatalog(options.modelDir === undefined ? {} : { modelDir: options.modelDir });
    this.defaultModel = this.catalog.baseModel;
    this.scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parlance-pocketsphinx-'));
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

  // -------------------------------------------------------------------------------------------------------------
  // Custom models
  // -------------------------------------------------------------------------------------------------------------

  buildCustomModel(input: CustomModelInput, outDir: string, signal?: AbortSignal): Promise<CustomModelBuild> {
    if (!this.supportsLocale(input.locale)) {
      return Promise.reject(new EngineError('UnsupportedLocale', `PocketSphinx cannot build a model for locale '${input.locale}'`));
    }
    if (this.closing !== undefined) return Promise.reject(new EngineError('Aborted', 'engine closed'));
    const closed = this.closeController.signal;
    return buildCustomModel(input, outDir, {
      baseDict: this.defaultModel.dict,
      letterToSound: this.options.letterToSound,
      limits: this.options.customModelLimits ?? DEFAULT_CUSTOM_MODEL_LIMITS,
      log: this.log,
    }, signal === undefined ? closed : AbortSignal.any([signal, closed]));
  }

  async loadCustomModel(modelId: string, dir: string): Promise<void> {
    if (typeof modelId !== 'string' || modelId === '' || modelId.length > 256 || modelId.includes('\0')) {
      throw new EngineError('ModelLoadFailed', 'invalid custom model id');
    }
    const absDir = path.resolve(dir);
    const existing = this.customModels.get(modelId);
    if (existing !== undefined && existing.dir === absDir) return existing.loaded;
    const manifest = await readCustomModelManifest(absDir);
    if (!this.supportsLocale(manifest.locale)) throw new EngineError('ModelLoadFailed', `custom model ${modelId} is for unsupported locale '${manifest.locale}'`);
    await this.readyPromise;
    if (this.closing !== undefined) throw new EngineError('Aborted', 'engine closed');
    // Another load of this id may have won the race while we read the manifest.
    const raced = this.customModels.get(modelId);
    if (raced !== undefined && raced.dir === absDir) return raced.loaded;

    const max = this.options.maxCustomModels ?? DEFAULT_MAX_CUSTOM_MODELS;
    if (raced === undefined && this.customModels.size >= max) {
      // Memory is what bounds them: every decoder holds every loaded model.
      throw new EngineError('ModelLoadFailed', `custom model ${modelId} cannot be loaded: ${max} custom models are loaded already (engines.pocketsphinx.maxCustomModels); delete a model or raise the limit`);
    }
    const spec: CustomModelSpec = { modelId, lm: manifest.lm, dict: manifest.dict, weight: this.customWeight };
    const t0 = performance.now();
    // Registered before the workers confirm: decodes sent from now on are queued behind the load in each worker.
    // Workers not ready now (respawning) load it when they are (see onMessage 'ready').
    const loaded = Promise.all(this.slots.filter((s) => s.state === 'ready').map((s) => this.loadInWorker(s, spec))).then(() => undefined);
    const entry: CustomModelEntry = { dir: absDir, locale: manifest.locale, spec, loaded };
    this.customModels.set(modelId, entry);
    this.catalog.addCustomModel({ modelId, locale: manifest.locale });
    try {
      await loaded;
    } catch (err) {
      // Unless an unload or another load replaced it meanwhile, take it back everywhere.
      if (this.customModels.get(modelId) === entry) await this.unloadCustomModel(modelId);
      if (err instanceof EngineError && err.kind === 'ModelLoadFailed') throw err;
      throw new EngineError('ModelLoadFailed', `custom model ${modelId} could not be loaded: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    this.log.info({ modelId, dir: absDir, loadMs: Math.round(performance.now() - t0) }, 'custom model loaded');
  }

  async unloadCustomModel(modelId: string): Promise<void> {
    const entry = this.customModels.get(modelId);
    if (entry === undefined) return;
    this.customModels.delete(modelId);
    this.catalog.removeCustomModel(modelId);
    // Decodes still waiting here would find it gone in the worker; they fail now instead.
    for (const job of this.queue.filter((j) => j.customModelId === modelId)) {
      this.queue.splice(this.queue.indexOf(job), 1);
      job.reject(new EngineError('ModelLoadFailed', `custom model '${modelId}' was unloaded`));
    }
    await Promise.all(
      this.slots
        .filter((s) => s.state === 'ready')
        .map((s) => this.request(s, (id) => ({ type: 'custom-unload', id, modelId }), 'custom-unloaded').catch((err: unknown) => {
          // A worker that died meanwhile comes back without it anyway.
          this.log.warn({ err, worker: s.index, modelId }, 'PocketSphinx worker could not unload a custom model');
        })),
    );
  }

  private async loadInWorker(slot: WorkerSlot, spec: CustomModelSpec): Promise<void> {
    const msg = await this.request(slot, (id) => ({ type: 'custom-load', id, spec }), 'custom-loaded');
    this.log.debug({ worker: slot.index, modelId: spec.modelId, loadMs: Math.round(msg.loadMs) }, 'custom model loaded in worker');
  }

  decodeUtterance(model: SttModelRef, pcm: Int16Array, signal?: AbortSignal): Promise<EngineHypothesis> {
    if (signal?.aborted === true) return Promise.reject(abortedError());
    let paths: SphinxModelPaths;
    let customModelId: string | undefined;
    try {
      ({ paths, customModelId } = this.catalog.resolve(model));
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
        customModelId,
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
    const { paths, customModelId } = this.catalog.resolve(model);
    await this.readyPromise;
    if (this.closing !== undefined) return undefined;
    const slot = this.liveSlot();
    if (slot === undefined) return undefined;
    // Reserve before awaiting, so concurrent opens cannot overbook the worker.
    slot.liveInUse++;
    const generation = slot.generation;
    let opened: Extract<FromWorker, { type: 'live-opened' }>;
    try {
      opened = await this.request(slot, (id) => ({ type: 'live-open', id, model: paths, ...(customModelId === undefined ? {} : { customModelId }) }), 'live-opened');
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
    const customModelId = job.customModelId;
    this.request(slot, (id) => ({ type: 'decode', id, model: job.model, ...(customModelId === undefined ? {} : { customModelId }), pcm }), 'decoded', [pcm.buffer]).then(
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
    const init: WorkerInit = { defaultModel: this.defaultModel, maxLiveDecoders: this.options.liveDecodersPerWorker, scratchDir: this.scratchDir };
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
        // Before any decode is sent: a (re)started worker gets every loaded custom model first.
        for (const [modelId, entry] of this.customModels) {
          this.loadInWorker(slot, entry.spec).catch((err: unknown) => this.log.error({ err, worker: slot.index, modelId }, 'PocketSphinx worker could not load a custom model'));
        }
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
      case 'custom-loaded':
      case 'custom-unloaded':
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
    const next = afterWorkerCrash(slot);
    if (next.action === 'giveUp') {
      this.log.error({ worker: slot.index, exitCode: code }, 'PocketSphinx worker keeps exiting during start-up; giving up');
      this.giveUp(slot, new EngineError('Internal', `PocketSphinx worker exited during start-up ${slot.consecutiveCrashes} times (last code ${code})`));
      return;
    }
    const delay = next.delayMs;
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
    this.closeController.abort();
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
    // After every worker has exited: nothing writes there any more.
    fs.rmSync(this.scratchDir, { recursive: true, force: true });
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
