import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { AccountService, DEFAULT_ACCOUNT_NAME, generateKey } from '../../src/domain/resources/account-service.js';
import type { Account, KeyName } from '../../src/domain/resources/account.js';
import type { NetworkSnapshot } from '../../src/domain/resources/network.js';
import { VersionConflictError, type AccountRepository } from '../../src/domain/ports/repositories.js';
import { secretDigest } from '../../src/kernel/secrets.js';
import type { Clock } from '../../src/kernel/time.js';
import { openSqlite } from '../../src/storage/sqlite/open.js';
import { SqlAccountRepository } from '../../src/storage/sql/account-repository.js';
import type { Database } from '../../src/storage/sql/schema.js';

const HEX32 = /^[0-9a-f]{32}$/;
const clock: Clock = { now: () => Date.UTC(2025, 0, 2, 3, 4, 5) };
const noNetwork = async (): Promise<NetworkSnapshot> => ({ virtualNetworks: [], privateEndpoints: [], privateDnsZones: [] });

/** AccountRepository kept in a Map, with the same version rule as the SQL one. */
class MemoryAccountRepository implements AccountRepository {
  readonly rows = new Map<string, Account>();
  digestLookups: string[] = [];

  async getByName(name: string): Promise<Account | undefined> {
    const a = this.rows.get(name);
    return a ? { ...a } : undefined;
  }

  async getById(id: string): Promise<Account | undefined> {
    const a = [...this.rows.values()].find((r) => r.id === id);
    return a ? { ...a } : undefined;
  }

  async getByCustomSubdomain(subdomain: string): Promise<Account | undefined> {
    const a = [...this.rows.values()].find((r) => r.customSubDomainName === subdomain);
    return a ? { ...a } : undefined;
  }

  async update(account: Account): Promise<number> {
    const a = this.rows.get(account.name);
    if (!a || a.version !== account.version) throw new VersionConflictError(`account ${account.name} changed concurrently`);
    this.rows.set(account.name, { ...account, key1: a.key1, key2: a.key2, version: a.version + 1 });
    return a.version + 1;
  }

  async delete(name: string): Promise<boolean> {
    return this.rows.delete(name);
  }

  async findByKeyDigest(keyDigest: string): Promise<Account[]> {
    this.digestLookups.push(keyDigest);
    return [...this.rows.values()].filter((a) => secretDigest(a.key1) === keyDigest || secretDigest(a.key2) === keyDigest).map((a) => ({ ...a }));
  }

  async list(): Promise<Account[]> {
    return [...this.rows.values()].sort((a, b) => a.name.localeCompare(b.name)).map((a) => ({ ...a }));
  }

  async insert(account: Account): Promise<void> {
    if (this.rows.has(account.name)) throw new Error(`account ${account.name} exists`);
    this.rows.set(account.name, { ...account });
  }

  async setKey(name: string, which: KeyName, value: string, expectedVersion: number): Promise<number> {
    const a = this.rows.get(name);
    if (!a || a.version !== expectedVersion) throw new VersionConflictError(`account ${name} changed concurrently`);
    const next = { ...a, [which]: value, version: a.version + 1 };
    this.rows.set(name, next);
    return next.version;
  }
}

/** The checks both repositories must pass through AccountService. */
async function serviceContract(repo: AccountRepository): Promise<void> {
  const svc = new AccountService(repo, clock, noNetwork);

  // First start: both keys generated, 32 lower-case hex characters, different.
  const first = await svc.ensureDefaultAccount('westus');
  assert.equal(first.name, DEFAULT_ACCOUNT_NAME);
  assert.equal(first.region, 'westus');
  assert.equal(first.sku, 'S0');
  assert.match(first.key1, HEX32);
  assert.match(first.key2, HEX32);
  assert.notEqual(first.key1, first.key2);
  assert.equal(first.version, 1);
  assert.equal(first.createdAt, '2025-01-02T03:04:05.000Z');

  // Second start: the same account and keys.
  const second = await svc.ensureDefaultAccount('westus');
  assert.deepEqual(second, first);
  assert.deepEqual(await svc.get(DEFAULT_ACCOUNT_NAME), first);
  assert.equal((await repo.list()).length, 1);

  // findByKey: key1 and key2 match, anything else does not.
  const byKey1 = await svc.findByKey(first.key1);
  assert.equal(byKey1?.which, 'key1');
  assert.equal(byKey1?.account.id, first.id);
  const byKey2 = await svc.findByKey(first.key2);
  assert.equal(byKey2?.which, 'key2');
  assert.equal(byKey2?.account.id, first.id);
  for (const wrong of [generateKey(), '', first.key1.toUpperCase(), first.key1.slice(0, 31), `${first.key1} `, first.key1 + first.key2]) {
    assert.equal(await svc.findByKey(wrong), undefined, JSON.stringify(wrong));
  }

  // A configured key1 replaces the stored one; key2 stays.
  const configured = await svc.ensureDefaultAccount('westus', 'my-configured-key');
  assert.equal(configured.key1, 'my-configured-key');
  assert.equal(configured.key2, first.key2);
  assert.equal(configured.version, 2);
  assert.equal((await svc.findByKey('my-configured-key'))?.which, 'key1');
  assert.equal(await svc.findByKey(first.key1), undefined, 'the old key1 no longer works');
  assert.equal((await svc.findByKey(first.key2))?.which, 'key2');

  // The same configured key again changes nothing.
  const again = await svc.ensureDefaultAccount('westus', 'my-configured-key');
  assert.equal(again.version, 2);
  assert.deepEqual(await svc.get(DEFAULT_ACCOUNT_NAME), again);

  // Regenerating a key: the old value stops matching, the new one matches.
  const regen = await svc.regenerateKey(DEFAULT_ACCOUNT_NAME, 'key2');
  assert.ok(regen);
  assert.match(regen.key2, HEX32);
  assert.notEqual(regen.key2, first.key2);
  assert.equal(regen.key1, 'my-configured-key');
  assert.equal(regen.version, 3);
  assert.equal(await svc.findByKey(first.key2), undefined);
  assert.equal((await svc.findByKey(regen.key2))?.which, 'key2');
  assert.deepEqual(await svc.get(DEFAULT_ACCOUNT_NAME), regen);

  const regen1 = await svc.regenerateKey(DEFAULT_ACCOUNT_NAME, 'key1');
  assert.ok(regen1);
  assert.match(regen1.key1, HEX32);
  assert.equal(await svc.findByKey('my-configured-key'), undefined);
  assert.equal((await svc.findByKey(regen1.key1))?.which, 'key1');
  assert.equal((await svc.findByKey(regen.key2))?.which, 'key2');

  assert.equal(await svc.regenerateKey('no-such-account', 'key1'), undefined);
  assert.equal(await svc.get('no-such-account'), undefined);
}

describe('generateKey', () => {
  it('is 32 lower-case hex characters and random', () => {
    const keys = new Set(Array.from({ length: 50 }, () => generateKey()));
    assert.equal(keys.size, 50);
    for (const k of keys) assert.match(k, HEX32);
  });
});

describe('AccountService with an in-memory repository', () => {
  it('passes the account contract', async () => {
    await serviceContract(new MemoryAccountRepository());
  });

  it('a key given on the very first start becomes key1', async () => {
    const repo = new MemoryAccountRepository();
    const svc = new AccountService(repo, clock, noNetwork);
    const a = await svc.ensureDefaultAccount('eastus', 'initial-key');
    assert.equal(a.key1, 'initial-key');
    assert.match(a.key2, HEX32);
    assert.equal(a.version, 1);
    assert.equal((await svc.findByKey('initial-key'))?.which, 'key1');
  });

  it('looks keys up by digest, never by the key itself', async () => {
    const repo = new MemoryAccountRepository();
    const svc = new AccountService(repo, clock, noNetwork);
    const a = await svc.ensureDefaultAccount('westus');
    await svc.findByKey(a.key2);
    assert.deepEqual(repo.digestLookups, [secretDigest(a.key2)]);
    assert.ok(!repo.digestLookups.includes(a.key2));
  });

  it('finds the right account among several', async () => {
    const repo = new MemoryAccountRepository();
    const svc = new AccountService(repo, clock, noNetwork);
    const def = await svc.ensureDefaultAccount('westus');
    const other: Account = { ...def, id: 'other-id', name: 'other', key1: generateKey(), key2: generateKey() };
    await repo.insert(other);
    assert.equal((await svc.findByKey(other.key2))?.account.name, 'other');
    assert.equal((await svc.findByKey(def.key1))?.account.name, DEFAULT_ACCOUNT_NAME);
  });

  it('a stale version in setKey is a VersionConflictError', async () => {
    const repo = new MemoryAccountRepository();
    const a = await new AccountService(repo, clock, noNetwork).ensureDefaultAccount('westus');
    await repo.setKey(a.name, 'key1', 'x', a.version);
    await assert.rejects(repo.setKey(a.name, 'key1', 'y', a.version), VersionConflictError);
  });

  it('the default account keeps the region it was created in (an Azure resource cannot move)', async () => {
    const repo = new MemoryAccountRepository();
    const svc = new AccountService(repo, clock, noNetwork);
    await svc.ensureDefaultAccount('westus');
    const again = await svc.ensureDefaultAccount('eastus');
    assert.equal(again.region, 'westus');
  });
});

describe('AccountService with SQLite', () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'parlance-accounts-'));
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes the account contract, persists across reopen, and detects stale versions', async () => {
    let db: Kysely<Database> = await openSqlite(dir);
    let final: Account | undefined;
    try {
      await serviceContract(new SqlAccountRepository(db));
      final = await new AccountService(new SqlAccountRepository(db), clock, noNetwork).get(DEFAULT_ACCOUNT_NAME);
      assert.ok(final);
    } finally {
      await db.destroy();
    }

    // Reopen the same directory: migrations are idempotent and the keys persisted.
    db = await openSqlite(dir);
    try {
      const repo = new SqlAccountRepository(db);
      const svc = new AccountService(repo, clock, noNetwork);
      const reopened = await svc.ensureDefaultAccount('westus');
      assert.deepEqual(reopened, final);
      assert.equal((await svc.findByKey(final.key1))?.which, 'key1');
      assert.equal((await svc.findByKey(final.key2))?.which, 'key2');
      assert.equal((await repo.list()).length, 1);

      // Optimistic concurrency: a writer holding an old version loses.
      const stale = final.version - 1;
      await assert.rejects(repo.setKey(DEFAULT_ACCOUNT_NAME, 'key1', generateKey(), stale), VersionConflictError);
      await assert.rejects(repo.setKey('no-such-account', 'key1', generateKey(), 1), VersionConflictError);
      assert.deepEqual(await svc.get(DEFAULT_ACCOUNT_NAME), final, 'a rejected update changes nothing');

      const v = await repo.setKey(DEFAULT_ACCOUNT_NAME, 'key2', 'fresh-key', final.version);
      assert.equal(v, final.version + 1);
      await assert.rejects(repo.setKey(DEFAULT_ACCOUNT_NAME, 'key2', 'later', final.version), VersionConflictError);
      assert.equal((await svc.findByKey('fresh-key'))?.which, 'key2');

      // The stored digests are what lookups use: neither key's text is a digest column value.
      const row = await db.selectFrom('accounts').selectAll().where('name', '=', DEFAULT_ACCOUNT_NAME).executeTakeFirstOrThrow();
      assert.equal(row.key1_digest, secretDigest(row.key1));
      assert.equal(row.key2_digest, secretDigest('fresh-key'));
    } finally {
      await db.destroy();
    }
  });

  it('a fresh directory gets a fresh default account', async () => {
    const other = mkdtempSync(join(tmpdir(), 'parlance-accounts-'));
    const db = await openSqlite(join(other, 'nested', 'data'));
    try {
      const a = await new AccountService(new SqlAccountRepository(db), clock, noNetwork).ensureDefaultAccount('westeurope', 'k1');
      assert.equal(a.key1, 'k1');
      assert.equal(a.region, 'westeurope');
      assert.match(a.key2, HEX32);
    } finally {
      await db.destroy();
      rmSync(other, { recursive: true, force: true });
    }
  });
});
