import type { Account, KeyName } from '../resources/account.js';

export interface AccountRepository {
  getByName(name: string): Promise<Account | undefined>;
  /** Accounts owning a key whose SHA-256 digest is `keyDigest` (digests, so lookups never index secrets). */
  findByKeyDigest(keyDigest: string): Promise<Account[]>;
  list(): Promise<Account[]>;
  insert(account: Account): Promise<void>;
  /** Replaces one key; fails with a conflict when `expectedVersion` is stale. Returns the new version. */
  setKey(name: string, which: KeyName, value: string, expectedVersion: number): Promise<number>;
}

export class VersionConflictError extends Error {
  override name = 'VersionConflictError';
}
