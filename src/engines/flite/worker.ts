/**
 * Worker thread that runs flite, so its blocking C calls never run on the main event loop.
 *
 * One worker handles one message at a time, in arrival order; the main thread (index.ts) sends it one sentence
 * at a time and decides which request's sentence comes next. At start-up it registers its voices and
 * synthesizes a word with each (checking the sample rate the catalogue promises, and paying the first-call
 * cost before `ready`).
 */
import { parentPort, workerData } from 'node:worker_threads';

import { EngineError, serializeEngineError, type SerializedEngineError } from '../../domain/ports/engines.js';
import { FliteVoice, type FliteSegment, type FliteToken } from './bindings.js';
import { withFliteInitLock } from './init-lock.js';

// ---------------------------------------------------------------------------------------------------------------
// Protocol (imported as types by index.ts)
// ---------------------------------------------------------------------------------------------------------------

export interface WorkerInit {
  /** Flite voice names to register, with the sample rate each must produce. */
  voices: Array<{ fliteName: string; sampleRate: number }>;
  /**
   * One Int32 shared by every flite worker of the process: held while registering voices, because libflite's
   * "already registered?" check is not thread-safe (two threads could both build the voice, or see it half-built).
   */
  initLock: SharedArrayBuffer;
}

export type { SerializedEngineError } from '../../domain/ports/engines.js';

export type ToWorker =
  | { type: 'synthesize'; id: number; voice: string; text: string; rate: number; pitch: number }
  /** Answers `shut-down` and lets the thread end (there is no per-worker C state to free: see bindings.ts). */
  | { type: 'shutdown' }
  /** Test hook: exit abruptly, as a crashed worker would. */
  | { type: 'crash' };

export type FromWorker =
  | { type: 'ready'; loadMs: number }
  | { type: 'init-failed'; error: SerializedEngineError }
  | {
      type: 'synthesized';
      id: number;
      sampleRate: number;
      /** Transferred, not copied. */
      pcm: Int16Array;
      tokens: FliteToken[];
      segments: FliteSegment[];
      synthMs: number;
    }
  | { type: 'failed'; id: number; error: SerializedEngineError }
  | { type: 'shut-down' };

// ---------------------------------------------------------------------------------------------------------------
// Worker body
// ---------------------------------------------------------------------------------------------------------------

function isWorkerInit(value: unknown): value is WorkerInit {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Record<keyof WorkerInit, unknown>>;
  return Array.isArray(v.voices) && v.initLock instanceof SharedArrayBuffer;
}

class SynthesisHost {
  private readonly voices = new Map<string, FliteVoice>();

  constructor(
    private readonly init: WorkerInit,
    private readonly send: (msg: FromWorker, transfer?: ArrayBuffer[]) => void,
  ) {}

  start(): void {
    const t0 = performance.now();
    try {
      withFliteInitLock(this.init.initLock, () => {
        for (const { fliteName } of this.init.voices) this.voices.set(fliteName, FliteVoice.register(fliteName));
      });
      for (const { fliteName, sampleRate } of this.init.voices) {
        const probe = this.voice(fliteName).synthesize('a', { rate: 1, pitch: 1 });
        if (probe.sampleRate !== sampleRate) {
          throw new EngineError('ModelLoadFailed', `flite voice ${fliteName} speaks at ${probe.sampleRate} Hz, the catalogue says ${sampleRate} Hz`);
        }
      }
    } catch (err) {
      this.send({ type: 'init-failed', error: serializeEngineError(err) });
      return;
    }
    this.send({ type: 'ready', loadMs: performance.now() - t0 });
  }

  handle(msg: ToWorker): void {
    switch (msg.type) {
      case 'synthesize': {
        let out: FromWorker;
        const transfer: ArrayBuffer[] = [];
        try {
          const t0 = performance.now();
          const utt = this.voice(msg.voice).synthesize(msg.text, { rate: msg.rate, pitch: msg.pitch });
          out = { type: 'synthesized', id: msg.id, sampleRate: utt.sampleRate, pcm: utt.pcm, tokens: utt.tokens, segments: utt.segments, synthMs: performance.now() - t0 };
          transfer.push(utt.pcm.buffer);
        } catch (err) {
          out = { type: 'failed', id: msg.id, error: serializeEngineError(err) };
        }
        this.send(out, transfer);
        return;
      }
      case 'shutdown':
        this.send({ type: 'shut-down' });
        return;
      case 'crash':
        process.exit(70);
    }
  }

  private voice(name: string): FliteVoice {
    const v = this.voices.get(name);
    if (v === undefined) throw new EngineError('UnsupportedLocale', `flite voice '${name}' is not loaded in this worker`);
    return v;
  }
}

const port = parentPort;
if (port === null) throw new Error('flite/worker.js must run in a worker thread');
if (!isWorkerInit(workerData)) throw new Error('flite worker started without valid workerData');

const host = new SynthesisHost(workerData, (msg, transfer) => port.postMessage(msg, transfer));
port.on('message', (msg: ToWorker) => {
  host.handle(msg);
  // Closing the port lets the thread end on its own.
  if (msg.type === 'shutdown') port.close();
});
host.start();
