import { sql, type Kysely, type Migration } from 'kysely';

/** Where accounts created before resources had ARM coordinates (and the default account) live. */
export const DEFAULT_SUBSCRIPTION = '00000000-0000-0000-0000-000000000000';
export const DEFAULT_RESOURCE_GROUP = 'parlance';

/**
 * Numbered, forward-only migrations, applied at boot under Kysely's migration lock.
 * Never edit a released migration; add the next number.
 */
export const migrations: Record<string, Migration> = {
  '0001_accounts': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('sku', 'text', (c) => c.notNull())
        .addColumn('key1', 'text', (c) => c.notNull())
        .addColumn('key2', 'text', (c) => c.notNull())
        .addColumn('key1_digest', 'text', (c) => c.notNull())
        .addColumn('key2_digest', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(sql`1`))
        .execute();
      await db.schema.createIndex('accounts_key1_digest').on('accounts').column('key1_digest').execute();
      await db.schema.createIndex('accounts_key2_digest').on('accounts').column('key2_digest').execute();
    },
  },
  '0002_resources': {
    // Accounts become ARM resources (subscription, group, custom domain, network rules); the
    // Microsoft.Network resources the seeds need are kept as JSON documents keyed by ARM id.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('accounts').addColumn('subscription_id', 'text', (c) => c.notNull().defaultTo(DEFAULT_SUBSCRIPTION)).execute();
      await db.schema.alterTable('accounts').addColumn('resource_group', 'text', (c) => c.notNull().defaultTo(DEFAULT_RESOURCE_GROUP)).execute();
      await db.schema.alterTable('accounts').addColumn('kind', 'text', (c) => c.notNull().defaultTo('SpeechServices')).execute();
      await db.schema.alterTable('accounts').addColumn('custom_subdomain', 'text').execute();
      await db.schema.alterTable('accounts').addColumn('tags', 'text', (c) => c.notNull().defaultTo('{}')).execute();
      await db.schema.alterTable('accounts').addColumn('network', 'text', (c) => c.notNull().defaultTo('{}')).execute();
      await db.schema.createIndex('accounts_custom_subdomain').unique().on('accounts').column('custom_subdomain').execute();
      await db.schema
        .createTable('network_resources')
        .addColumn('arm_id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('subscription_id', 'text', (c) => c.notNull())
        .addColumn('resource_group', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(sql`1`))
        .execute();
      await db.schema.createIndex('network_resources_type').on('network_resources').column('type').execute();
    },
  },
  '0003_speech_entities': {
    // Custom Speech entities (projects, endpoints, models, datasets …) as JSON documents: their
    // shapes follow the v3.2 API and change with it; status is a column for restart recovery.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('speech_entities')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('status', 'text')
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(sql`1`))
        .execute();
      await db.schema.createIndex('speech_entities_account_kind').on('speech_entities').columns(['account_id', 'kind', 'created_at']).execute();
      await db.schema.createIndex('speech_entities_kind_status').on('speech_entities').columns(['kind', 'status']).execute();
    },
  },
  '0004_quotas': {
    // Pricing tiers (issue #6, docs/adr/0002): per-resource limit overrides, leases for concurrency
    // and call rates (shared by every process on the database), and per-day usage counters.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('accounts').addColumn('quota_overrides', 'text', (c) => c.notNull().defaultTo('{}')).execute();
      await db.schema
        .createTable('quota_leases')
        .addColumn('lease_id', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('held', 'integer', (c) => c.notNull().defaultTo(sql`1`))
        .addPrimaryKeyConstraint('quota_leases_pk', ['lease_id', 'scope'])
        .execute();
      await db.schema.createIndex('quota_leases_scope').on('quota_leases').columns(['scope', 'kind', 'expires_at']).execute();
      await db.schema
        .createTable('usage_daily')
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('endpoint_id', 'text', (c) => c.notNull())
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('stt_audio_ms', 'bigint', (c) => c.notNull().defaultTo(sql`0`))
        .addColumn('stt_requests', 'bigint', (c) => c.notNull().defaultTo(sql`0`))
        .addColumn('tts_characters', 'bigint', (c) => c.notNull().defaultTo(sql`0`))
        .addColumn('tts_requests', 'bigint', (c) => c.notNull().defaultTo(sql`0`))
        .addColumn('throttled', 'bigint', (c) => c.notNull().defaultTo(sql`0`))
        .addPrimaryKeyConstraint('usage_daily_pk', ['account_id', 'endpoint_id', 'day'])
        .execute();
    },
  },
};
