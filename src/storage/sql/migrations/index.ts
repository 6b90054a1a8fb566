import { sql, type Kysely, type Migration } from 'kysely';

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
};
