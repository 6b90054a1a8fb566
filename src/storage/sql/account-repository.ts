import type { Kysely } from 'kysely';
import type { AccountRepository } from '../../domain/ports/repositories.js';
import { VersionConflictError } from '../../domain/ports/repositories.js';
import type { Account, KeyName } from '../../domain/resources/account.js';
import { secretDigest as keyDigest } from '../../kernel/secrets.js';
import type { AccountsTable, Database } from './schema.js';

type Row = Omit<AccountsTable, 'version'> & { version: number };

function toAccount(row: Row): Account {
  return {
    id: row.id,
    name: row.name,
    region: row.region,
    sku: row.sku === 'F0' ? 'F0' : 'S0',
    key1: row.key1,
    key2: row.key2,
    createdAt: row.created_at,
    version: row.version,
  };
}

export class SqlAccountRepository implements AccountRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async getByName(name: string): Promise<Account | undefined> {
    const row = await this.db.selectFrom('accounts').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? toAccount(row) : undefined;
  }

  async findByKeyDigest(digest: string): Promise<Account[]> {
    const rows = await this.db
      .selectFrom('accounts')
      .selectAll()
      .where((eb) => eb.or([eb('key1_digest', '=', digest), eb('key2_digest', '=', digest)]))
      .execute();
    return rows.map(toAccount);
  }

  async list(): Promise<Account[]> {
    const rows = await this.db.selectFrom('accounts').selectAll().orderBy('name').execute();
    return rows.map(toAccount);
  }

  async insert(a: Account): Promise<void> {
    await this.db
      .insertInto('accounts')
      .values({
        id: a.id,
        name: a.name,
        region: a.region,
        sku: a.sku,
        key1: a.key1,
        key2: a.key2,
        key1_digest: keyDigest(a.key1),
        key2_digest: keyDigest(a.key2),
        created_at: a.createdAt,
        version: a.version,
      })
      .execute();
  }

  async setKey(name: string, which: KeyName, value: string, expectedVersion: number): Promise<number> {
    const digest = keyDigest(value);
    const update = which === 'key1' ? { key1: value, key1_digest: digest } : { key2: value, key2_digest: digest };
    const result = await this.db
      .updateTable('accounts')
      .set({ ...update, version: expectedVersion + 1 })
      .where('name', '=', name)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) throw new VersionConflictError(`account ${name} changed concurrently`);
    return expectedVersion + 1;
  }
}
