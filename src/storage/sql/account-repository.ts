import type { Kysely } from 'kysely';
import type { AccountRepository } from '../../domain/ports/repositories.js';
import { ConflictError, VersionConflictError } from '../../domain/ports/repositories.js';
import { OPEN_NETWORK_ACLS, type Account, type KeyName, type NetworkAcls } from '../../domain/resources/account.js';
import { secretDigest as keyDigest } from '../../kernel/secrets.js';
import type { QuotaOverrides } from '../../domain/quota/limits.js';
import type { AccountsTable, Database } from './schema.js';
import { isUniqueViolation } from './errors.js';

type Row = Omit<AccountsTable, 'version'> & { version: number };

interface NetworkColumn {
  publicNetworkAccess?: 'Enabled' | 'Disabled';
  networkAcls?: NetworkAcls;
  disableLocalAuth?: boolean;
}

function toAccount(row: Row): Account {
  const network = JSON.parse(row.network) as NetworkColumn;
  const account: Account = {
    id: row.id,
    name: row.name,
    subscriptionId: row.subscription_id,
    resourceGroup: row.resource_group,
    region: row.region,
    sku: row.sku === 'F0' ? 'F0' : 'S0',
    kind: 'SpeechServices',
    tags: JSON.parse(row.tags) as Record<string, string>,
    key1: row.key1,
    key2: row.key2,
    publicNetworkAccess: network.publicNetworkAccess ?? 'Enabled',
    networkAcls: network.networkAcls ?? OPEN_NETWORK_ACLS,
    disableLocalAuth: network.disableLocalAuth ?? false,
    quotaOverrides: JSON.parse(row.quota_overrides) as QuotaOverrides,
    createdAt: row.created_at,
    version: row.version,
  };
  if (row.custom_subdomain !== null) account.customSubDomainName = row.custom_subdomain;
  return account;
}

function mutableColumns(a: Account) {
  const network: NetworkColumn = { publicNetworkAccess: a.publicNetworkAccess, networkAcls: a.networkAcls, disableLocalAuth: a.disableLocalAuth };
  return {
    region: a.region,
    sku: a.sku,
    kind: a.kind,
    custom_subdomain: a.customSubDomainName ?? null,
    tags: JSON.stringify(a.tags),
    network: JSON.stringify(network),
    quota_overrides: JSON.stringify(a.quotaOverrides),
  };
}

export class SqlAccountRepository implements AccountRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async getByName(name: string): Promise<Account | undefined> {
    const row = await this.db.selectFrom('accounts').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? toAccount(row) : undefined;
  }

  async getById(id: string): Promise<Account | undefined> {
    const row = await this.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toAccount(row) : undefined;
  }

  async getByCustomSubdomain(subdomain: string): Promise<Account | undefined> {
    const row = await this.db.selectFrom('accounts').selectAll().where('custom_subdomain', '=', subdomain.toLowerCase()).executeTakeFirst();
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
    try {
      await this.db
        .insertInto('accounts')
        .values({
          id: a.id,
          name: a.name,
          subscription_id: a.subscriptionId,
          resource_group: a.resourceGroup,
          key1: a.key1,
          key2: a.key2,
          key1_digest: keyDigest(a.key1),
          key2_digest: keyDigest(a.key2),
          created_at: a.createdAt,
          version: a.version,
          ...mutableColumns(a),
        })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`account ${a.name} or its custom subdomain already exists`);
      throw err;
    }
  }

  async update(a: Account): Promise<number> {
    let result;
    try {
      result = await this.db
        .updateTable('accounts')
        .set({ ...mutableColumns(a), version: a.version + 1 })
        .where('name', '=', a.name)
        .where('version', '=', a.version)
        .executeTakeFirst();
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`custom subdomain ${a.customSubDomainName ?? ''} is taken`);
      throw err;
    }
    if (Number(result.numUpdatedRows) !== 1) throw new VersionConflictError(`account ${a.name} changed concurrently`);
    return a.version + 1;
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

  async delete(name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('accounts').where('name', '=', name).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}
