import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Kysely } from 'kysely';
import { openSqlite } from '../../src/storage/sqlite/open.js';
import { SqlQuotaLedger, SqlUsageStore } from '../../src/storage/sql/quota-ledger.js';
import type { Database } from '../../src/storage/sql/schema.js';
import { monthOf } from '../../src/domain/quota/quota-service.js';
import { effectiveLimits, mergeOverrides } from '../../src/domain/quota/limits.js';
import { REPO_ROOT } from '../helpers/paths.js';

const run = promisify(execFile);

describe('SQL quota ledger and usage counters', () => {
  let dir: string;
  let db: Kysely<Database>;
  let ledger: SqlQuotaLedger;
  let usage: SqlUsageStore;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'parlance-ledger-'));
    db = await openSqlite(dir);
    ledger = new SqlQuotaLedger(db);
    usage = new SqlUsageStore(db);
  });
  after(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('grants up to the limit, then refuses with the earliest paced release as retry time', async () => {
    const now = 1_000_000;
    const s = [{ scope: 'a', limit: 2 }];
    assert.deepEqual(await ledger.acquire('l1', 'stt', s, now + 30_000, now), { granted: true });
    assert.deepEqual(await ledger.acquire('l2', 'stt', s, now + 30_000, now), { granted: true });
    // Both held by running work: nobody knows when one frees.
    assert.deepEqual(await ledger.acquire('l3', 'stt', s, now + 30_000, now), { granted: false, scope: 'a', retryAtMs: now + 1_000 });
    // l1 ends, paced until now + 5 s: still taken, and that is when to retry.
    await ledger.release('l1', now + 5_000, now);
    assert.equal(await ledger.count('a', 'stt', now + 4_999), 2);
    assert.deepEqual(await ledger.acquire('l3', 'stt', s, now + 30_000, now + 100), { granted: false, scope: 'a', retryAtMs: now + 5_000 });
    assert.deepEqual(await ledger.acquire('l3', 'stt', s, now + 30_000, now + 5_000), { granted: true });
  });

  it('a lease that is not renewed expires after its TTL (its process died); renewed leases stay', async () => {
    const now = 2_000_000;
    const s = [{ scope: 'b', limit: 1 }];
    assert.equal((await ledger.acquire('dead', 'stt', s, now + 30_000, now)).granted, true);
    assert.equal((await ledger.acquire('x', 'stt', s, now + 60_000, now + 29_000)).granted, false);
    assert.equal((await ledger.acquire('x', 'stt', s, now + 60_000, now + 30_000)).granted, true);
    await ledger.renew(['x'], now + 90_000);
    assert.equal(await ledger.count('b', 'stt', now + 80_000), 1);
  });

  it('takes every scope or none (resource + custom endpoint)', async () => {
    const now = 3_000_000;
    const both = [
      { scope: 'acct', limit: 5 },
      { scope: 'ep', limit: 1 },
    ];
    assert.equal((await ledger.acquire('e1', 'stt', both, now + 30_000, now)).granted, true);
    const refused = await ledger.acquire('e2', 'stt', both, now + 30_000, now);
    assert.equal(refused.granted, false);
    assert.equal(!refused.granted && refused.scope, 'ep');
    assert.equal(await ledger.count('acct', 'stt', now), 1, 'no partial slot left in the resource scope');
  });

  it('usage counters add (never overwrite) and sum by month', async () => {
    await Promise.all(Array.from({ length: 50 }, () => usage.add({ accountId: 'u', endpointId: '', day: '2026-02-28', sttAudioMs: 10, sttRequests: 1 })));
    await usage.add({ accountId: 'u', endpointId: 'ep', day: '2026-03-01', ttsCharacters: 7, ttsRequests: 1, throttled: 2 });
    const feb = monthOf(Date.parse('2026-02-10T00:00:00Z'));
    assert.deepEqual(feb, { firstDay: '2026-02-01', lastDay: '2026-02-28', nextMonthMs: Date.parse('2026-03-01T00:00:00Z') });
    assert.deepEqual(await usage.totals('u', feb.firstDay, feb.lastDay), { sttAudioMs: 500, sttRequests: 50, ttsCharacters: 0, ttsRequests: 0, throttled: 0 });
    const all = await usage.allTime();
    assert.deepEqual(
      all.filter((r) => r.accountId === 'u').map((r) => [r.endpointId, r.sttAudioMs, r.ttsCharacters, r.throttled]),
      [
        ['', 500, 0, 0],
        ['ep', 0, 7, 2],
      ],
    );
  });

  it('several processes on one database never take more slots than the limit', async () => {
    const shared = mkdtempSync(join(tmpdir(), 'parlance-ledger-mp-'));
    try {
      // Create the schema once, so the children do not race on migrations.
      const first = await openSqlite(shared);
      await first.destroy();
      const ledgerUrl = pathToFileURL(join(REPO_ROOT, 'dist/src/storage/sql/quota-ledger.js')).href;
      const openUrl = pathToFileURL(join(REPO_ROOT, 'dist/src/storage/sqlite/open.js')).href;
      const script = `
        const { SqlQuotaLedger } = await import(${JSON.stringify(ledgerUrl)});
        const { openSqlite } = await import(${JSON.stringify(openUrl)});
        const db = await openSqlite(process.argv[1]);
        // Every statement answers a few ms late, so the processes' count-then-insert sequences overlap
        // in time: without the ledger's cross-process lock they would take more slots than the limit.
        const ledger = new SqlQuotaLedger(db.withPlugin({
          transformQuery: (a) => a.node,
          transformResult: async (a) => { await new Promise((r) => setTimeout(r, 1 + Math.random() * 4)); return a.result; },
        }));
        let granted = 0;
        // All processes start together (node start-up times differ by more than the work takes).
        await new Promise((r) => setTimeout(r, Math.max(0, Number(process.argv[2]) - Date.now())));
        const now = Date.now();
        await Promise.all(Array.from({ length: 25 }, async (_, i) => {
          await new Promise((r) => setTimeout(r, Math.random() * 20));
          const r = await ledger.acquire(process.pid + '-' + i, 'stt', [{ scope: 'mp', limit: 5 }], now + 600000, now);
          if (r.granted) granted++;
        }));
        await db.destroy();
        process.stdout.write(String(granted));
      `;
      const startAt = String(Date.now() + 2_000);
      const results = await Promise.all(Array.from({ length: 4 }, () => run(process.execPath, ['--input-type=module', '-e', script, shared, startAt])));
      const total = results.reduce((n, r) => n + Number(r.stdout), 0);
      assert.equal(total, 5, `granted per process: ${results.map((r) => r.stdout).join(', ')}`);
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });
});

describe('tier limits', () => {
  it('F0 and S0 defaults follow protocol §F.3; overrides merge, validate and reset', () => {
    assert.deepEqual(effectiveLimits('F0', {}), {
      sttConcurrency: 1,
      endpointSttConcurrency: 1,
      ttsRequests: 20,
      ttsWindowSeconds: 60,
      sttAudioSecondsPerMonth: 18_000,
      ttsCharactersPerMonth: 500_000,
    });
    assert.equal(effectiveLimits('S0', {}).sttConcurrency, 100);
    assert.equal(effectiveLimits('S0', {}).ttsWindowSeconds, 1);
    const o = mergeOverrides({}, { sttConcurrency: 3, sttAudioSecondsPerMonth: null });
    assert.deepEqual(effectiveLimits('F0', o).sttConcurrency, 3);
    assert.equal(effectiveLimits('F0', o).sttAudioSecondsPerMonth, null);
    assert.deepEqual(mergeOverrides(o, { sttConcurrency: 'default' }), { sttAudioSecondsPerMonth: null });
    assert.throws(() => mergeOverrides({}, { sttConcurrency: null }), /cannot be null/);
    assert.throws(() => mergeOverrides({}, { ttsWindowSeconds: 0 }), /integer from 1/);
    assert.throws(() => mergeOverrides({}, { nope: 1 }), /Unknown limit/);
  });
});
