import type { Generated } from 'kysely';

/** Table shapes as Kysely sees them (snake_case columns). */
export interface AccountsTable {
  id: string;
  name: string;
  region: string;
  sku: string;
  key1: string;
  key2: string;
  key1_digest: string;
  key2_digest: string;
  created_at: string;
  version: Generated<number>;
}

export interface Database {
  accounts: AccountsTable;
}
