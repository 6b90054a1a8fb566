import type { Kysely } from 'kysely';
import type { SpeechEntity, SpeechEntityKind } from '../../domain/customspeech/entities.js';
import { ConflictError, VersionConflictError, type SpeechEntityRepository, type Versioned } from '../../domain/ports/repositories.js';
import type { Database } from './schema.js';
import { isUniqueViolation } from './errors.js';

type Of<K extends SpeechEntityKind> = Extract<SpeechEntity, { kind: K }>;

function statusOf(e: SpeechEntity): string | null {
  return 'status' in e ? e.status : null;
}

export class SqlSpeechEntityRepository implements SpeechEntityRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async list<K extends SpeechEntityKind>(accountId: string, kind: K): Promise<Of<K>[]> {
    const rows = await this.db
      .selectFrom('speech_entities')
      .select('body')
      .where('account_id', '=', accountId)
      .where('kind', '=', kind)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map((r) => JSON.parse(r.body) as Of<K>);
  }

  async get<K extends SpeechEntityKind>(accountId: string, kind: K, id: string): Promise<Versioned<Of<K>> | undefined> {
    const row = await this.db
      .selectFrom('speech_entities')
      .select(['body', 'version'])
      .where('id', '=', id.toLowerCase())
      .where('account_id', '=', accountId)
      .where('kind', '=', kind)
      .executeTakeFirst();
    return row ? { value: JSON.parse(row.body) as Of<K>, version: row.version } : undefined;
  }

  async listByStatus<K extends SpeechEntityKind>(kind: K, statuses: readonly string[]): Promise<Of<K>[]> {
    if (statuses.length === 0) return [];
    const rows = await this.db.selectFrom('speech_entities').select('body').where('kind', '=', kind).where('status', 'in', [...statuses]).orderBy('created_at').execute();
    return rows.map((r) => JSON.parse(r.body) as Of<K>);
  }

  async listAll<K extends SpeechEntityKind>(kind: K): Promise<Of<K>[]> {
    const rows = await this.db.selectFrom('speech_entities').select('body').where('kind', '=', kind).orderBy('created_at').execute();
    return rows.map((r) => JSON.parse(r.body) as Of<K>);
  }

  async insert(e: SpeechEntity): Promise<void> {
    try {
      await this.db
        .insertInto('speech_entities')
        .values({ id: e.id.toLowerCase(), account_id: e.accountId, kind: e.kind, status: statusOf(e), body: JSON.stringify(e), created_at: e.createdAt, version: 1 })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`${e.kind} ${e.id} already exists`);
      throw err;
    }
  }

  async update(e: SpeechEntity, expectedVersion: number): Promise<number> {
    const result = await this.db
      .updateTable('speech_entities')
      .set({ body: JSON.stringify(e), status: statusOf(e), version: expectedVersion + 1 })
      .where('id', '=', e.id.toLowerCase())
      .where('account_id', '=', e.accountId)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) throw new VersionConflictError(`${e.kind} ${e.id} changed concurrently`);
    return expectedVersion + 1;
  }

  async delete(accountId: string, kind: SpeechEntityKind, id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('speech_entities').where('id', '=', id.toLowerCase()).where('account_id', '=', accountId).where('kind', '=', kind).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}
