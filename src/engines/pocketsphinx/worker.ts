/**
 * Worker thread that owns PocketSphinx decoders, so their blocking C calls never run on the main event loop.
 *
 * One worker handles one message at a time, in arrival order: a batch decode, a live open/feed/release, a custom
 * model load/unload. It holds one batch decoder per model (the default model's is loaded at start-up, before
 * `ready`) and a pool of live decoders, grown on demand up to `maxLiveDecoders` and addressed by numeric ids.
 * Custom models are searches inside these decoders (custom-models.ts): added to the batch decoder when loaded,
 * to a live decoder when it is first opened for the model; each decode selects its search.
 * The main thread (index.ts) decides what to send where; this side only executes and reports.
 */
import { parentPort, workerData } from 'node:worker_threads';

import { EngineError, type EngineHypothesis, serializeEngineError, type SerializedEngineError } from '../../domain/ports/engines.js';
import { DEFAULT_SEARCH, SphinxDecoder } from './bindings.js';
import { CustomModelHost, type CustomModelSpec } from './custom-models.js';
import type { SphinxModelPaths } from './model-catalog.js';

// ---------------------------------------------------------------------------------------------------------------
// Protocol (imported as types by index.ts)
// ---------------------------------------------------------------------------------------------------------------

export interface WorkerInit {
  /** Loaded before `ready`, so the first decode does not pay the ≈0.5 s model load. */
  defaultModel: SphinxModelPaths;
  /** Live decoders this worker may hold at once (each costs ≈100 MB). */
  maxLiveDecoders: number;
  /** A directory for temporary files (merged dictionaries of custom models), removed by the engine on close. */
  scratchDir: string;
}

export type { SerializedEngineError } from '../../domain/ports/engines.js';

export type ToWorker =
  /** `customModelId`: decode with that custom model's search (loaded in this worker by `custom-load`). */
  | { type: 'decode'; id: number; model: SphinxModelPaths; customModelId?: string; pcm: Int16Array }
  /** Starts an utterance on an idle live decoder of that model, creating one if needed. */
  | { type: 'live-open'; id: number; model: SphinxModelPaths; customModelId?: string }
  | { type: 'live-feed'; id: number; decoderId: number; pcm: Int16Array }
  /** Ends the utterance and marks the decoder idle. No reply: later messages are ordered after it anyway. */
  | { type: 'live-release'; decoderId: number }
  /** Loads (or replaces) a custom model, into the batch decoder at once and into live decoders on first use. */
  | { type: 'custom-load'; id: number; spec: CustomModelSpec }
  | { type: 'custom-unload'; id: number; modelId: string }
  /** Frees every decoder (C memory outlives a terminated thread) and exits. */
  | { type: 'shutdown' }
  /** Test hook: exit abruptly, as a crashed worker would. */
  | { type: 'crash' };

export type FromWorker =
  | { type: 'ready'; loadMs: number }
  | { type: 'init-failed'; error: SerializedEngineError }
  | { type: 'decoded'; id: number; hypothesis: EngineHypothesis; decodeMs: number }
  /** `created`: a decoder was loaded for this request (the pool grew, or an idle decoder of another model was replaced). */
  | { type: 'live-opened'; id: number; decoderId: number; created: boolean; evicted: boolean }
  | { type: 'live-partial'; id: number; text: string }
  | { type: 'custom-loaded'; id: number; loadMs: number }
  | { type: 'custom-unloaded'; id: number }
  | { type: 'failed'; id: number; error: SerializedEngineError }
  | { type: 'shut-down' };

// ---------------------------------------------------------------------------------------------------------------
// Worker body
// ---------------------------------------------------------------------------------------------------------------

function isWorkerInit(value: unknown): value is WorkerInit {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Record<keyof WorkerInit, unknown>>;
  return typeof v.maxLiveDecoders === 'number' && typeof v.defaultModel === 'object' && v.defaultModel !== null && typeof v.scratchDir === 'string';
}

interface LiveEntry {
  decoder: SphinxDecoder;
  inUse: boolean;
}

class DecoderHost {
  private readonly batch = new Map<string, SphinxDecoder>();
  private readonly live = new Map<number, LiveEntry>();
  private nextLiveId = 1;
  private readonly custom: CustomModelHost;

  constructor(
    private readonly init: WorkerInit,
    private readonly send: (msg: FromWorker) => void,
  ) {
    this.custom = new CustomModelHost(init.defaultModel, init.scratchDir);
  }

  start(): void {
    const t0 = performance.now();
    try {
      this.batch.set(this.init.defaultModel.key, SphinxDecoder.create(this.init.defaultModel));
    } catch (err) {
      this.send({ type: 'init-failed', error: serializeEngineError(err) });
      return;
    }
    this.send({ type: 'ready', loadMs: performance.now() - t0 });
  }

  handle(msg: ToWorker): void {
    switch (msg.type) {
      case 'decode':
        return this.reply(msg.id, () => {
          const t0 = performance.now();
          const decoder = this.batchDecoder(msg.model);
          const search = msg.customModelId === undefined ? DEFAULT_SEARCH : this.custom.apply(decoder, msg.customModelId);
          const hypothesis = decoder.decodeUtterance(msg.pcm, search);
          return { type: 'decoded', id: msg.id, hypothesis, decodeMs: performance.now() - t0 };
        });
      case 'live-open':
        return this.reply(msg.id, () => this.openLive(msg.id, msg.model, msg.customModelId));
      case 'live-feed':
        return this.reply(msg.id, () => ({ type: 'live-partial', id: msg.id, text: this.liveEntry(msg.decoderId).decoder.processLive(msg.pcm) }));
      case 'live-release':
        return this.releaseLive(msg.decoderId);
      case 'custom-load':
        return this.reply(msg.id, () => {
          const t0 = performance.now();
          this.custom.load(msg.spec, this.batchDecoder(this.init.defaultModel));
          return { type: 'custom-loaded', id: msg.id, loadMs: performance.now() - t0 };
        });
      case 'custom-unload':
        return this.reply(msg.id, () => {
          this.custom.unload(msg.modelId);
          return { type: 'custom-unloaded', id: msg.id };
        });
      case 'shutdown':
        return this.shutdown();
      case 'crash':
        process.exit(70);
    }
  }

  private reply(id: number, work: () => FromWorker): void {
    let out: FromWorker;
    try {
      out = work();
    } catch (err) {
      out = { type: 'failed', id, error: serializeEngineError(err) };
    }
    this.send(out);
  }

  private batchDecoder(model: SphinxModelPaths): SphinxDecoder {
    let decoder = this.batch.get(model.key);
    if (decoder === undefined) {
      // Non-default (custom) models load on first use; this worker is blocked meanwhile, which is the price of
      // not holding every model in every worker.
      decoder = SphinxDecoder.create(model);
      this.batch.set(model.key, decoder);
    }
    return decoder;
  }

  private openLive(id: number, model: SphinxModelPaths, customModelId: string | undefined): FromWorker {
    let created = false;
    let evicted = false;
    let entryId: number | undefined;
    for (const [eid, entry] of this.live) {
      if (!entry.inUse && entry.decoder.paths.key === model.key) {
        entryId = eid;
        break;
      }
    }
    if (entryId === undefined) {
      if (this.live.size >= this.init.maxLiveDecoders) {
        // Full: make room by dropping an idle decoder of another model, if there is one.
        const idleOther = [...this.live].find(([, e]) => !e.inUse);
        if (idleOther === undefined) throw new EngineError('Overloaded', 'no live decoder slot free in this worker');
        this.custom.forget(idleOther[1].decoder);
        idleOther[1].decoder.free();
        this.live.delete(idleOther[0]);
        evicted = true;
      }
      entryId = this.nextLiveId++;
      this.live.set(entryId, { decoder: SphinxDecoder.create(model, 'live'), inUse: false });
      created = true;
    }
    const entry = this.liveEntry(entryId);
    // Custom models reach live decoders on first use (≈0.5 s the first time: dictionary and search).
    const search = customModelId === undefined ? DEFAULT_SEARCH : this.custom.apply(entry.decoder, customModelId);
    entry.decoder.startLive(search);
    entry.inUse = true;
    return { type: 'live-opened', id, decoderId: entryId, created, evicted };
  }

  private liveEntry(decoderId: number): LiveEntry {
    const entry = this.live.get(decoderId);
    if (entry === undefined) throw new EngineError('Internal', `no live decoder ${decoderId}`);
    return entry;
  }

  private releaseLive(decoderId: number): void {
    const entry = this.live.get(decoderId);
    if (entry === undefined || !entry.inUse) return;
    entry.inUse = false;
    try {
      entry.decoder.endLive();
      this.custom.settle(entry.decoder);
    } catch {
      // A decoder that cannot end its utterance cannot be trusted with the next one.
      this.custom.forget(entry.decoder);
      entry.decoder.free();
      this.live.delete(decoderId);
    }
  }

  private shutdown(): void {
    for (const d of this.batch.values()) d.free();
    for (const e of this.live.values()) e.decoder.free();
    this.batch.clear();
    this.live.clear();
    // After the decoders: their searches hold references to the custom models.
    this.custom.dispose();
    this.send({ type: 'shut-down' });
  }
}

const port = parentPort;
if (port === null) throw new Error('pocketsphinx/worker.js must run in a worker thread');
if (!isWorkerInit(workerData)) throw new Error('pocketsphinx worker started without valid workerData');

const host = new DecoderHost(workerData, (msg) => port.postMessage(msg));
port.on('message', (msg: ToWorker) => {
  host.handle(msg);
  // Closing the port lets the thread end on its own once the decoders are freed.
  if (msg.type === 'shutdown') port.close();
});
host.start();
