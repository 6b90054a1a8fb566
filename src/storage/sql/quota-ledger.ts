import { sql, type Kysely } from 'kysely';
import type { AcquireResult, LeaseScope, QuotaLedger, UsageDelta, UsageRow, UsageStore, UsageTotals } from '../../domain/ports/quota.js';
import type { Database, UsageDailyTable } from './schema.js';

/** When every slot is held by a running recognition, nobody knows when one frees: ask again soon. */
const UNKNOWN_RETRY_MS = 1_000;

/**
 * The quota ledger in SQL. `acquire` counts and inserts under `BEGIN IMMEDIATE`, SQLite's write
 * lock across processes (other processes wait up to busy_timeout), so two processes can never both
 * take the last slot. A PostgreSQL adapter would take `pg_advisory_xact_lock` on each scope instead.
 */
export class SqlQuotaLedger implements QuotaLedger {
  constructor(private readonly db: Kysely<Database>) {}

  async acquire(leaseId: string, kind: string, scopes: readonly LeaseScope[], expiresAtMs: number, nowMs: number): Promise<AcquireResult> {
    return this.db.connection().execute(async (conn) => {
      await sql`BEGIN IMMEDIATE`.execute(conn);
      try {
        for (const { scope, limit } of scopes) {
          // Expired rows of this scope go now, so the table stays as small as what is in use.
          await conn.deleteFrom('quota_leases').where('scope', '=', scope).where('expires_at', '<=', nowMs).execute();
          const { n } = await conn
            .selectFrom('quota_leases')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('scope', '=', scope)
            .where('kind', '=', kind)
            .executeTakeFirstOrThrow();
          if (Number(n) >= limit) {
            const paced = await conn
              .selectFrom('quota_leases')
              .select((eb) => eb.fn.min<number>('expires_at').as('at'))
              .where('scope', '=', scope)
              .where('kind', '=', kind)
              .where('held', '=', 0)
              .executeTakeFirst();
            await sql`ROLLBACK`.execute(conn);
            const at = paced?.at;
            return { granted: false, scope, retryAtMs: at !== null && at !== undefined ? Number(at) : nowMs + UNKNOWN_RETRY_MS };
          }
        }
        if (scopes.length > 0) {
          await conn
            .insertInto('quota_leases')
            .values(scopes.map(({ scope }) => ({ lease_id: leaseId, scope, kind, expires_at: expiresAtMs, held: 1 })))
            .execute();
        }
        await sql`COMMIT`.execute(conn);
        return { granted: true };
      } catch (err) {
        await sql`ROLLBACK`.execute(conn).catch(() => undefined);
        throw err;
      }
    });
  }

  async renew(leaseIds: readonly string[], expiresAtMs: number): Promise<void> {
    // Bounded statements: SQLite limits bound parameters per statement.
    for (let i = 0; i < leaseIds.length; i += 500) {
      const batch = leaseIds.slice(i, i + 500);
      await this.db.updateTable('quota_leases').set({ expires_at: expiresAtMs }).where('lease_id', 'in', batch).where('held', '=', 1).execute();
    }
  }

  async release(leaseId: string, notBeforeMs: number, nowMs: number): Promise<void> {
    if (notBeforeMs <= nowMs) {
      await this.db.deleteFrom('quota_leases').where('lease_id', '=', leaseId).execute();
      return;
    }
    await this.db.updateTable('quota_leases').set({ expires_at: notBeforeMs, held: 0 }).where('lease_id', '=', leaseId).execute();
  }

  async count(scope: string, kind: string, nowMs: number): Promise<number> {
    const { n } = await this.db
      .selectFrom('quota_leases')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('scope', '=', scope)
      .where('kind', '=', kind)
      .where('expires_at', '>', nowMs)
      .executeTakeFirstOrThrow();
    return Number(n);
  }
}

/** Per-day usage counters; every write is an upsert that adds, so concurrent processes never lose counts. */
export class SqlUsageStore implements UsageStore {
  constructor(private readonly db: Kysely<Database>) {}

  async add(d: UsageDelta): Promise<void> {
    const row = {
      account_id: d.accountId,
      endpoint_id: d.endpointId,
      day: d.day,
      stt_audio_ms: d.sttAudioMs ?? 0,
      stt_requests: d.sttRequests ?? 0,
      tts_characters: d.ttsCharacters ?? 0,
      tts_requests: d.ttsRequests ?? 0,
      throttled: d.throttled ?? 0,
    };
    await this.db
      .insertInto('usage_daily')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['account_id', 'endpoint_id', 'day']).doUpdateSet({
          stt_audio_ms: sql`usage_daily.stt_audio_ms + excluded.stt_audio_ms`,
          stt_requests: sql`usage_daily.stt_requests + excluded.stt_requests`,
          tts_characters: sql`usage_daily.tts_characters + excluded.tts_characters`,
          tts_requests: sql`usage_daily.tts_requests + excluded.tts_requests`,
          throttled: sql`usage_daily.throttled + excluded.throttled`,
        }),
      )
      .execute();
  }

  async totals(accountId: string, fromDay: string, toDay: string): Promise<UsageTotals> {
    const r = await this.db
      .selectFrom('usage_daily')
      .select((eb) => [
        eb.fn.sum<number>('stt_audio_ms').as('stt_audio_ms'),
        eb.fn.sum<number>('stt_requests').as('stt_requests'),
        eb.fn.sum<number>('tts_characters').as('tts_characters'),
        eb.fn.sum<number>('tts_requests').as('tts_requests'),
        eb.fn.sum<number>('throttled').as('throttled'),
      ])
      .where('account_id', '=', accountId)
      .where('day', '>=', fromDay)
      .where('day', '<=', toDay)
      .executeTakeFirst();
    return {
      sttAudioMs: Number(r?.stt_audio_ms ?? 0),
      sttRequests: Number(r?.stt_requests ?? 0),
      ttsCharacters: Number(r?.tts_characters ?? 0),
      ttsRequests: Number(r?.tts_requests ?? 0),
      throttled: Number(r?.throttled ?? 0),
    };
  }

  async allTime(): Promise<UsageRow[]> {
    const rows = await this.db
      .selectFrom('usage_daily')
      .select((eb) => [
        'account_id',
        'endpoint_id',
        eb.fn.max<string>('day').as('day'),
        eb.fn.sum<number>('stt_audio_ms').as('stt_audio_ms'),
        eb.fn.sum<number>('stt_requests').as('stt_requests'),
        eb.fn.sum<number>('tts_characters').as('tts_characters'),
        eb.fn.sum<number>('tts_requests').as('tts_requests'),
        eb.fn.sum<number>('throttled').as('throttled'),
      ])
      .groupBy(['account_id', 'endpoint_id'])
      .orderBy('account_id')
      .orderBy('endpoint_id')
      .execute();
    return rows.map(toUsageRow);
  }

  async rows(accountId: string, fromDay?: string): Promise<UsageRow[]> {
    let q = this.db.selectFrom('usage_daily').selectAll().where('account_id', '=', accountId);
    if (fromDay !== undefined) q = q.where('day', '>=', fromDay);
    return (await q.orderBy('day').orderBy('endpoint_id').execute()).map(toUsageRow);
  }
}

function toUsageRow(r: UsageDailyTable): UsageRow {
  return {
    accountId: r.account_id,
    endpointId: r.endpoint_id,
    day: r.day,
    sttAudioMs: Number(r.stt_audio_ms),
    sttRequests: Number(r.stt_requests),
    ttsCharacters: Number(r.tts_characters),
    ttsRequests: Number(r.tts_requests),
    throttled: Number(r.throttled),
  };
}
