/**
 * Shared quota state, kept in the database so that several Parlance processes on one database
 * agree (issue #6 item 7; docs/adr/0002). Nothing here may be true only in one process's memory.
 */

/** One slot to take: `scope` names the counter (a resource, a custom endpoint), `limit` its size. */
export interface LeaseScope {
  scope: string;
  limit: number;
}

export type AcquireResult =
  | { granted: true }
  /** `retryAtMs`: when the earliest lease in the full scope expires (a lower bound for a retry). */
  | { granted: false; scope: string; retryAtMs: number };

/**
 * Leases with an expiry: a slot is taken while a row's `expiresAt` is in the future. Holders renew
 * (heartbeat) while they work, so the slots of a process that died come free after one TTL.
 */
export interface QuotaLedger {
  /** Takes one slot of `kind` in every scope, all or none, atomically across processes. */
  acquire(leaseId: string, kind: string, scopes: readonly LeaseScope[], expiresAtMs: number, nowMs: number): Promise<AcquireResult>;
  /** Moves the expiry of the given held leases (heartbeat). */
  renew(leaseIds: readonly string[], expiresAtMs: number): Promise<void>;
  /**
   * Frees a lease's slots at `notBeforeMs` (now or later: real-time pacing keeps a slot taken until
   * the audio's real-time duration has passed).
   */
  release(leaseId: string, notBeforeMs: number, nowMs: number): Promise<void>;
  /** Slots of `kind` taken in `scope` at `nowMs`. */
  count(scope: string, kind: string, nowMs: number): Promise<number>;
}

/** What one request used; added to the day's counters. */
export interface UsageDelta {
  accountId: string;
  /** Custom endpoint id, or '' for base-model traffic. */
  endpointId: string;
  /** UTC day, YYYY-MM-DD (of the service clock). */
  day: string;
  sttAudioMs?: number;
  sttRequests?: number;
  ttsCharacters?: number;
  ttsRequests?: number;
  throttled?: number;
}

export interface UsageTotals {
  sttAudioMs: number;
  sttRequests: number;
  ttsCharacters: number;
  ttsRequests: number;
  throttled: number;
}

export interface UsageRow extends UsageTotals {
  accountId: string;
  endpointId: string;
  day: string;
}

/** Per-day usage counters, added to in the database (never read-modify-written in memory). */
export interface UsageStore {
  add(delta: UsageDelta): Promise<void>;
  /** Totals of one resource over days `fromDay` … `toDay` inclusive (YYYY-MM-DD). */
  totals(accountId: string, fromDay: string, toDay: string): Promise<UsageTotals>;
  /** Totals per resource and endpoint over all days (for /metrics). */
  allTime(): Promise<UsageRow[]>;
  /** Rows of one resource, optionally from a day on. */
  rows(accountId: string, fromDay?: string): Promise<UsageRow[]>;
}
