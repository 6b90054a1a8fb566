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
  subscription_id: string;
  resource_group: string;
  kind: string;
  custom_subdomain: string | null;
  /** JSON object of tag → value. */
  tags: string;
  /** JSON: publicNetworkAccess, networkAcls, disableLocalAuth. */
  network: string;
}

export interface NetworkResourcesTable {
  /** Lower-cased ARM id (ARM ids compare case-insensitively). */
  arm_id: string;
  type: string;
  name: string;
  subscription_id: string;
  resource_group: string;
  /** JSON of the domain entity. */
  body: string;
  created_at: string;
  version: Generated<number>;
}

export interface SpeechEntitiesTable {
  id: string;
  account_id: string;
  kind: string;
  status: string | null;
  /** JSON of the domain entity. */
  body: string;
  created_at: string;
  version: Generated<number>;
}

export interface Database {
  accounts: AccountsTable;
  network_resources: NetworkResourcesTable;
  speech_entities: SpeechEntitiesTable;
}
