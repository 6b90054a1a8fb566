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
  /** JSON: limits that differ from the pricing tier's (domain/quota/limits.ts). */
  quota_overrides: string;
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

/** Concurrency and rate leases (domain/ports/quota.ts): a slot is taken while expires_at > now. */
export interface QuotaLeasesTable {
  lease_id: string;
  scope: string;
  kind: string;
  /** Epoch milliseconds (service clock). */
  expires_at: number;
  /** 1 while the holder renews it; 0 once released (it then only waits out its pacing time). */
  held: number;
}

/** Usage counters per resource, custom endpoint ('' = base models) and UTC day. */
export interface UsageDailyTable {
  account_id: string;
  endpoint_id: string;
  day: string;
  stt_audio_ms: number;
  stt_requests: number;
  tts_characters: number;
  tts_requests: number;
  throttled: number;
}

export interface Database {
  accounts: AccountsTable;
  network_resources: NetworkResourcesTable;
  speech_entities: SpeechEntitiesTable;
  quota_leases: QuotaLeasesTable;
  usage_daily: UsageDailyTable;
}
