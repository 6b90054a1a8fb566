import { randomUUID } from 'node:crypto';
import type { Clock } from '../../kernel/time.js';
import type { Logger } from '../../kernel/logger.js';
import { Errors } from '../errors.js';
import type { Account } from '../resources/account.js';
import type { LeaseScope, QuotaLedger, UsageDelta, UsageRow, UsageStore, UsageTotals } from '../ports/quota.js';
import { effectiveLimits, type QuotaLimits } from './limits.js';

/** Lease kinds in the ledger. */
const STT = 'stt';
const TTS = 'tts';

/** A held recognition slot; finished once, by whoever ends the recognition. */
export interface RecognitionLease {
  readonly id: string;
  readonly accountId: string;
  /** Custom endpoint id (lower case), or '' for base-model traffic. */
  readonly endpointId: string;
  /** Wall-clock ms (Date.now) when the slot was taken: the pacing origin when no audio time is known. */
  readonly startedAtWallMs: number;
}

/** What a finished recognition used. */
export interface RecognitionUsage {
  /** Real-time duration of the audio received. */
  audioMs: number;
  /** Wall-clock ms (Date.now) when the first audio arrived; pacing counts from here. */
  audioStartedAtWallMs?: number;
  /** Recognition requests served (REST: 1; WebSocket: turns). */
  requests: number;
}

export interface QuotaServiceOptions {
  ledger: QuotaLedger;
  usage: UsageStore;
  clock: Clock;
  logger: Logger;
  /** A held lease not renewed for this long is free again (its process died). */
  leaseTtlMs?: number;
  /** How often held leases are renewed. */
  heartbeatMs?: number;
}

export function scopeOfAccount(kind: string, accountId: string): string {
  return `${kind}:account:${accountId}`;
}

export function scopeOfEndpoint(accountId: string, endpointId: string): string {
  // Endpoint ids are scoped by account: a cid of another resource must not take this one's slots.
  return `${STT}:endpoint:${accountId}:${endpointId.toLowerCase()}`;
}

/** The UTC day (YYYY-MM-DD) of an epoch-ms instant. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** First and last day of the UTC month of `ms`, and the instant the next month starts. */
export function monthOf(ms: number): { firstDay: string; lastDay: string; nextMonthMs: number } {
  const d = new Date(ms);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return { firstDay: dayOf(start), lastDay: dayOf(next - 1), nextMonthMs: next };
}

/**
 * Pricing-tier enforcement and usage metering (issue #6, docs/adr/0002):
 * - real-time recognition concurrency per resource and per custom endpoint, as leases in the shared
 *   ledger, held while the recognition runs and released no earlier than its audio's real-time
 *   duration after the audio started (seed 004: audio sent faster than real time keeps its request
 *   "running");
 * - text-to-speech call rate as a sliding window of leases that expire after the window;
 * - F0 monthly allowances from the per-day usage counters, by the service clock's month;
 * - usage counters added to per request.
 */
export class QuotaService {
  readonly #ledger: QuotaLedger;
  readonly #usage: UsageStore;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #ttlMs: number;
  readonly #held = new Map<string, RecognitionLease>();
  readonly #pending = new Set<Promise<unknown>>();
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(opts: QuotaServiceOptions) {
    this.#ledger = opts.ledger;
    this.#usage = opts.usage;
    this.#clock = opts.clock;
    this.#log = opts.logger;
    this.#ttlMs = opts.leaseTtlMs ?? 30_000;
    const heartbeatMs = opts.heartbeatMs ?? Math.floor(this.#ttlMs / 3);
    this.#heartbeat = setInterval(() => this.#renewHeld(), heartbeatMs);
    this.#heartbeat.unref();
  }

  limitsOf(account: Pick<Account, 'sku' | 'quotaOverrides'>): QuotaLimits {
    return effectiveLimits(account.sku, account.quotaOverrides);
  }

  /**
   * Admits one real-time recognition (a WebSocket connection or a short-audio REST request):
   * the monthly allowance first (403 QuotaExceeded), then a concurrency slot in the resource and,
   * with a `cid`, in the endpoint (429 with Retry-After).
   */
  async admitRecognition(account: Account, endpointId?: string): Promise<RecognitionLease> {
    const limits = this.limitsOf(account);
    const now = this.#clock.now();
    const endpoint = endpointId?.toLowerCase() ?? '';
    if (limits.sttAudioSecondsPerMonth !== null) {
      const used = await this.#monthTotals(account.id, now);
      if (used.sttAudioMs >= limits.sttAudioSecondsPerMonth * 1000) {
        await this.#throttled(account.id, endpoint, now);
        throw Errors.quotaExceeded(account.sku, daysUntil(monthOf(now).nextMonthMs, now));
      }
    }
    const scopes: LeaseScope[] = [{ scope: scopeOfAccount(STT, account.id), limit: limits.sttConcurrency }];
    if (endpoint) scopes.push({ scope: scopeOfEndpoint(account.id, endpoint), limit: limits.endpointSttConcurrency });
    const id = randomUUID();
    const result = await this.#ledger.acquire(id, STT, scopes, now + this.#ttlMs, now);
    if (!result.granted) {
      await this.#throttled(account.id, endpoint, now);
      const limit = result.scope === scopes[0]?.scope ? limits.sttConcurrency : limits.endpointSttConcurrency;
      throw Errors.concurrencyExceeded(retryAfterSeconds(result.retryAtMs, now), limit);
    }
    const lease: RecognitionLease = { id, accountId: account.id, endpointId: endpoint, startedAtWallMs: Date.now() };
    this.#held.set(id, lease);
    return lease;
  }

  /**
   * Ends a recognition: its slot stays taken until the real-time duration of the audio it received
   * has passed since that audio started (never before now), and its usage is counted. Idempotent.
   */
  finishRecognition(lease: RecognitionLease, used: RecognitionUsage): Promise<void> {
    if (!this.#held.delete(lease.id)) return Promise.resolve();
    const now = this.#clock.now();
    // Pacing in wall-clock terms (the service clock may be moved by tests and operators): how much of
    // the audio's real-time duration is still to run.
    const elapsed = Date.now() - (used.audioStartedAtWallMs ?? lease.startedAtWallMs);
    const remaining = Math.max(0, used.audioMs - elapsed);
    return this.#track(
      (async () => {
        await this.#ledger.release(lease.id, now + remaining, now);
        if (used.audioMs > 0 || used.requests > 0) {
          await this.#usage.add({ accountId: lease.accountId, endpointId: lease.endpointId, day: dayOf(now), sttAudioMs: Math.round(used.audioMs), sttRequests: used.requests });
        }
      })(),
    );
  }

  /**
   * Admits one text-to-speech request: the monthly character allowance (403), then the call rate
   * (429 with Retry-After): a lease per request that expires when it leaves the window.
   */
  async admitSynthesis(account: Account): Promise<void> {
    const limits = this.limitsOf(account);
    const now = this.#clock.now();
    if (limits.ttsCharactersPerMonth !== null) {
      const used = await this.#monthTotals(account.id, now);
      if (used.ttsCharacters >= limits.ttsCharactersPerMonth) {
        await this.#throttled(account.id, '', now);
        throw Errors.quotaExceeded(account.sku, daysUntil(monthOf(now).nextMonthMs, now));
      }
    }
    const windowMs = limits.ttsWindowSeconds * 1000;
    const result = await this.#ledger.acquire(randomUUID(), TTS, [{ scope: scopeOfAccount(TTS, account.id), limit: limits.ttsRequests }], now + windowMs, now);
    if (!result.granted) {
      await this.#throttled(account.id, '', now);
      throw Errors.rateExceeded(retryAfterSeconds(result.retryAtMs, now), limits.ttsRequests, limits.ttsWindowSeconds);
    }
  }

  /** Counts a synthesis that was served. */
  async recordSynthesis(accountId: string, characters: number): Promise<void> {
    await this.#usage.add({ accountId, endpointId: '', day: dayOf(this.#clock.now()), ttsCharacters: characters, ttsRequests: 1 });
  }

  /** This month's totals and the slots in use now, for the control plane's usages. */
  async report(account: Account): Promise<{ limits: QuotaLimits; month: UsageTotals; nextResetMs: number; sttInUse: number; ttsInWindow: number }> {
    const now = this.#clock.now();
    const [month, sttInUse, ttsInWindow] = await Promise.all([
      this.#monthTotals(account.id, now),
      this.#ledger.count(scopeOfAccount(STT, account.id), STT, now),
      this.#ledger.count(scopeOfAccount(TTS, account.id), TTS, now),
    ]);
    return { limits: this.limitsOf(account), month, nextResetMs: monthOf(now).nextMonthMs, sttInUse, ttsInWindow };
  }

  /** Counters of every resource and endpoint since the database was created (Prometheus). */
  allTimeUsage(): Promise<UsageRow[]> {
    return this.#usage.allTime();
  }

  /** Recognition slots taken in a resource now (metrics, tests). */
  recognitionsInUse(accountId: string): Promise<number> {
    return this.#ledger.count(scopeOfAccount(STT, accountId), STT, this.#clock.now());
  }

  /** Stops the heartbeat after pending releases and counters are written. */
  async close(): Promise<void> {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    await Promise.allSettled([...this.#pending]);
  }

  #monthTotals(accountId: string, now: number): Promise<UsageTotals> {
    const m = monthOf(now);
    return this.#usage.totals(accountId, m.firstDay, m.lastDay);
  }

  #throttled(accountId: string, endpointId: string, now: number): Promise<void> {
    const delta: UsageDelta = { accountId, endpointId, day: dayOf(now), throttled: 1 };
    return this.#track(this.#usage.add(delta));
  }

  #renewHeld(): void {
    if (this.#held.size === 0) return;
    void this.#track(this.#ledger.renew([...this.#held.keys()], this.#clock.now() + this.#ttlMs));
  }

  /** Keeps a write in flight visible to close(); a failed write is logged, never a request's failure. */
  #track(p: Promise<void>): Promise<void> {
    const tracked = p.catch((err: unknown) => this.#log.error({ err }, 'quota ledger write failed'));
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
    return tracked;
  }
}

function retryAfterSeconds(retryAtMs: number, now: number): number {
  return Math.max(1, Math.ceil((retryAtMs - now) / 1000));
}

function daysUntil(ms: number, now: number): number {
  return Math.max(1, Math.ceil((ms - now) / 86_400_000));
}
