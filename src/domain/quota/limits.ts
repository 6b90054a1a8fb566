import { Errors } from '../errors.js';

/**
 * What a resource may use (protocol §F.3, seed 004). Concurrency counts real-time recognitions:
 * WebSocket connections and short-audio REST requests alike.
 */
export interface QuotaLimits {
  /** Concurrent real-time recognitions per resource. */
  sttConcurrency: number;
  /** Concurrent real-time recognitions per custom endpoint (`cid`). */
  endpointSttConcurrency: number;
  /** Text-to-speech requests allowed per window … */
  ttsRequests: number;
  /** … of this many seconds (F0: 20 per 60 s; S0: 200 per second). */
  ttsWindowSeconds: number;
  /** Free monthly allowance of recognized audio; null = pay as you go (no allowance). */
  sttAudioSecondsPerMonth: number | null;
  /** Free monthly allowance of synthesized characters; null = pay as you go. */
  ttsCharactersPerMonth: number | null;
}

export type PricingTier = 'F0' | 'S0';

/** Azure's defaults per pricing tier (protocol §F.3). */
export const TIER_DEFAULTS: Readonly<Record<PricingTier, Readonly<QuotaLimits>>> = {
  F0: {
    sttConcurrency: 1,
    endpointSttConcurrency: 1,
    ttsRequests: 20,
    ttsWindowSeconds: 60,
    sttAudioSecondsPerMonth: 5 * 3600,
    ttsCharactersPerMonth: 500_000,
  },
  S0: {
    sttConcurrency: 100,
    endpointSttConcurrency: 100,
    ttsRequests: 200,
    ttsWindowSeconds: 1,
    sttAudioSecondsPerMonth: null,
    ttsCharactersPerMonth: null,
  },
};

/** Per-resource overrides set in the control plane; an absent field takes the tier's default. */
export type QuotaOverrides = Partial<QuotaLimits>;

export function effectiveLimits(tier: PricingTier, overrides: QuotaOverrides): QuotaLimits {
  return { ...TIER_DEFAULTS[tier], ...stripUndefined(overrides) };
}

/** Bounds on overrides: every count and duration has one. */
const BOUNDS: Record<keyof QuotaLimits, { min: number; max: number; nullable: boolean }> = {
  sttConcurrency: { min: 0, max: 100_000, nullable: false },
  endpointSttConcurrency: { min: 0, max: 100_000, nullable: false },
  ttsRequests: { min: 0, max: 1_000_000, nullable: false },
  ttsWindowSeconds: { min: 1, max: 86_400, nullable: false },
  sttAudioSecondsPerMonth: { min: 0, max: 10 * 366 * 24 * 3600, nullable: true },
  ttsCharactersPerMonth: { min: 0, max: 1e12, nullable: true },
};

export const QUOTA_FIELDS = Object.keys(BOUNDS) as (keyof QuotaLimits)[];

/**
 * Merges a change into the stored overrides: a number sets a field, `null` sets "no allowance" where
 * that means something (monthly allowances), and `undefined`-valued keys given as the string
 * "default" return the field to the tier default. Values are validated against BOUNDS.
 */
export function mergeOverrides(current: QuotaOverrides, change: Record<string, unknown>): QuotaOverrides {
  const next: Record<string, number | null> = { ...(current as Record<string, number | null>) };
  for (const [key, value] of Object.entries(change)) {
    if (!(key in BOUNDS)) throw Errors.invalidArgument(`Unknown limit '${key}'. Known limits: ${QUOTA_FIELDS.join(', ')}.`);
    const b = BOUNDS[key as keyof QuotaLimits];
    if (value === 'default') {
      delete next[key];
      continue;
    }
    if (value === null) {
      if (!b.nullable) throw Errors.invalidArgument(`Limit '${key}' cannot be null.`);
      next[key] = null;
      continue;
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < b.min || value > b.max) {
      throw Errors.invalidArgument(`Limit '${key}' must be an integer from ${b.min} to ${b.max}${b.nullable ? ', or null for no allowance' : ''}, or "default".`);
    }
    next[key] = value;
  }
  return next as QuotaOverrides;
}

function stripUndefined(o: QuotaOverrides): QuotaOverrides {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as QuotaOverrides;
}
