import { Worker } from 'node:worker_threads';

/**
 * Starts a worker with the parent's Node flags, minus `--input-type` (which stops a worker file from
 * loading when the parent ran `node --input-type=module -e …`); flags a worker may not take (e.g.
 * `--expose-gc`) fall back to none rather than failing the engine.
 */
export function startWorker(url: URL, workerData: unknown): Worker {
  const argv = process.execArgv;
  if (!argv.some((a) => a === '--input-type' || a.startsWith('--input-type='))) return new Worker(url, { workerData });
  const execArgv: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--input-type') i++;
    else if (!arg.startsWith('--input-type=')) execArgv.push(arg);
  }
  try {
    return new Worker(url, { workerData, execArgv });
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw err;
    return new Worker(url, { workerData, execArgv: [] });
  }
}

/** A promise with its settle functions, for replies that arrive by message. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (err: unknown) => void } {
  let resolve: (value: T) => void = () => undefined;
  let reject: (err: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * What an engine pool does when one of its workers (or child processes) exits unexpectedly: respawn
 * with exponential backoff (100 ms doubling to 10 s), or give the slot up when it died three times
 * in a row before it was ever ready (it would never start). Counts the crash on `slot`.
 */
export function afterWorkerCrash(slot: { consecutiveCrashes: number; everReady: boolean }): { action: 'giveUp' } | { action: 'respawn'; delayMs: number } {
  slot.consecutiveCrashes++;
  if (!slot.everReady && slot.consecutiveCrashes >= 3) return { action: 'giveUp' };
  return { action: 'respawn', delayMs: Math.min(10_000, 100 * 2 ** (slot.consecutiveCrashes - 1)) };
}
