/**
 * Internal time unit is the millisecond (a plain number, fractions allowed).
 * The wire uses 100-ns ticks; convert only at the protocol edge.
 */
export const TICKS_PER_MS = 10_000;

export function msToTicks(ms: number): number {
  return Math.round(ms * TICKS_PER_MS);
}

export function ticksToMs(ticks: number): number {
  return ticks / TICKS_PER_MS;
}

/** Duration in ms of `samples` mono samples at `sampleRate`. */
export function samplesToMs(samples: number, sampleRate: number): number {
  return (samples * 1000) / sampleRate;
}

export function msToSamples(ms: number, sampleRate: number): number {
  return Math.round((ms * sampleRate) / 1000);
}

/** A clock the domain can be handed; tests substitute their own. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
