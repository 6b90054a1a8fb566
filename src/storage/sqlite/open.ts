import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../sql/schema.js';
import { migrateToLatest } from '../sql/migrate.js';

export const SQLITE_FILE = 'parlance.sqlite';

/** Opens (creating if needed) the embedded database in `dataDir` and applies migrations. */
export async function openSqlite(dataDir: string): Promise<Kysely<Database>> {
  mkdirSync(dataDir, { recursive: true });
  const raw = new BetterSqlite3(join(dataDir, SQLITE_FILE));
  // WAL lets readers proceed during writes; busy_timeout covers a second process on the same file.
  raw.pragma('journal_mode = WAL');
  raw.pragma('busy_timeout = 5000');
  raw.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) });
  await migrateToLatest(db as unknown as Kysely<unknown>);
  return db;
}
