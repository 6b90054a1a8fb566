import type { Kysely } from 'kysely';
import { ConflictError, VersionConflictError, type NetworkRepository, type NetworkResource } from '../../domain/ports/repositories.js';
import type { Database } from './schema.js';
import { isUniqueViolation } from './errors.js';

export class SqlNetworkRepository implements NetworkRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => string,
  ) {}

  async list(): Promise<NetworkResource[]> {
    const rows = await this.db.selectFrom('network_resources').select(['type', 'body', 'version']).orderBy('arm_id').execute();
    return rows.map((r) => revive(r.type, r.body, r.version));
  }

  async get(type: NetworkResource['type'], armId: string): Promise<NetworkResource | undefined> {
    const row = await this.db
      .selectFrom('network_resources')
      .select(['type', 'body', 'version'])
      .where('arm_id', '=', armId.toLowerCase())
      .where('type', '=', type)
      .executeTakeFirst();
    return row ? revive(row.type, row.body, row.version) : undefined;
  }

  async put(resource: NetworkResource, expectedVersion: number | undefined): Promise<number> {
    const v = resource.value;
    if (expectedVersion === undefined) {
      try {
        await this.db
          .insertInto('network_resources')
          .values({
            arm_id: v.id.toLowerCase(),
            type: resource.type,
            name: v.name,
            subscription_id: v.subscriptionId,
            resource_group: v.resourceGroup,
            body: JSON.stringify({ ...v, version: 1 }),
            created_at: this.now(),
            version: 1,
          })
          .execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw new ConflictError(`${v.id} already exists`);
        throw err;
      }
      return 1;
    }
    const next = expectedVersion + 1;
    const result = await this.db
      .updateTable('network_resources')
      .set({ body: JSON.stringify({ ...v, version: next }), version: next })
      .where('arm_id', '=', v.id.toLowerCase())
      .where('type', '=', resource.type)
      .where('version', '=', expectedVersion)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) throw new VersionConflictError(`${v.id} changed concurrently`);
    return next;
  }

  async delete(type: NetworkResource['type'], armId: string): Promise<boolean> {
    const result = await this.db.deleteFrom('network_resources').where('arm_id', '=', armId.toLowerCase()).where('type', '=', type).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}

function revive(type: string, body: string, version: number): NetworkResource {
  const value = { ...(JSON.parse(body) as object), version };
  if (type === 'virtualNetwork' || type === 'privateEndpoint' || type === 'privateDnsZone') return { type, value } as NetworkResource;
  throw new Error(`unknown network resource type ${type}`);
}
