/**
 * The lock around libflite's process-wide, unsynchronised initialisation (voice registration, `cmu_lex_init`):
 * its "already initialised?" checks are not thread-safe, so two threads could both build a voice or lexicon, or
 * one could use it half-built. Shared by every flite worker (passed in WorkerInit) and the letter-to-sound
 * lookups (lts.ts) of this process.
 */

/** One Int32: 0 free, 1 held. Module-level so that every engine created from this module shares it. */
export const FLITE_INIT_LOCK = new SharedArrayBuffer(4);

/**
 * How long to wait for the lock before going ahead anyway. Registering all voices takes ≈50 ms, so only a holder
 * that died mid-registration (terminated from outside) can keep it this long.
 */
const INIT_LOCK_TIMEOUT_MS = 10_000;

/** Runs `work` holding the lock in `sab` (blocks the calling thread while another holds it). */
export function withFliteInitLock<T>(sab: SharedArrayBuffer, work: () => T): T {
  const lock = new Int32Array(sab);
  const deadline = Date.now() + INIT_LOCK_TIMEOUT_MS;
  while (Atomics.compareExchange(lock, 0, 0, 1) !== 0 && Date.now() < deadline) Atomics.wait(lock, 0, 1, 100);
  try {
    return work();
  } finally {
    Atomics.store(lock, 0, 0);
    Atomics.notify(lock, 0);
  }
}
