import type { Account, KeyName } from '../resources/account.js';
import type { SpeechEntity, SpeechEntityKind } from '../customspeech/entities.js';
import type { PrivateDnsZone, PrivateEndpoint, VirtualNetwork } from '../resources/network.js';

export interface AccountRepository {
  getByName(name: string): Promise<Account | undefined>;
  getById(id: string): Promise<Account | undefined>;
  getByCustomSubdomain(subdomain: string): Promise<Account | undefined>;
  /** Accounts owning a key whose SHA-256 digest is `keyDigest` (digests, so lookups never index secrets). */
  findByKeyDigest(keyDigest: string): Promise<Account[]>;
  list(): Promise<Account[]>;
  /** Fails with ConflictError when the name or the custom subdomain is taken. */
  insert(account: Account): Promise<void>;
  /** Replaces everything but keys and identity; VersionConflictError when `account.version` is stale. Returns the new version. */
  update(account: Account): Promise<number>;
  /** Replaces one key; fails with a conflict when `expectedVersion` is stale. Returns the new version. */
  setKey(name: string, which: KeyName, value: string, expectedVersion: number): Promise<number>;
  delete(name: string): Promise<boolean>;
}

/** The Microsoft.Network resources Parlance models, each stored whole by ARM id. */
export type NetworkResource =
  | { type: 'virtualNetwork'; value: VirtualNetwork }
  | { type: 'privateEndpoint'; value: PrivateEndpoint }
  | { type: 'privateDnsZone'; value: PrivateDnsZone };

export interface NetworkRepository {
  list(): Promise<NetworkResource[]>;
  get(type: NetworkResource['type'], armId: string): Promise<NetworkResource | undefined>;
  /**
   * Inserts (expectedVersion undefined: fails with ConflictError if it exists) or replaces
   * (VersionConflictError when stale). Returns the stored version.
   */
  put(resource: NetworkResource, expectedVersion: number | undefined): Promise<number>;
  delete(type: NetworkResource['type'], armId: string): Promise<boolean>;
}

export class VersionConflictError extends Error {
  override name = 'VersionConflictError';
}

/** A uniqueness constraint was violated (name, custom subdomain, ARM id). */
export class ConflictError extends Error {
  override name = 'ConflictError';
}

/** Custom Speech entities, stored whole per account and kind. */
export interface SpeechEntityRepository {
  list<K extends SpeechEntityKind>(accountId: string, kind: K): Promise<Extract<SpeechEntity, { kind: K }>[]>;
  get<K extends SpeechEntityKind>(accountId: string, kind: K, id: string): Promise<Versioned<Extract<SpeechEntity, { kind: K }>> | undefined>;
  /** Entities of a kind across accounts whose status is one of `statuses` (work to resume after a restart). */
  listByStatus<K extends SpeechEntityKind>(kind: K, statuses: readonly string[]): Promise<Extract<SpeechEntity, { kind: K }>[]>;
  /** Every entity of a kind, across accounts (boot-time reloading of deployed models). */
  listAll<K extends SpeechEntityKind>(kind: K): Promise<Extract<SpeechEntity, { kind: K }>[]>;
  insert(entity: SpeechEntity): Promise<void>;
  /** VersionConflictError when `expectedVersion` is stale. Returns the new version. */
  update(entity: SpeechEntity, expectedVersion: number): Promise<number>;
  delete(accountId: string, kind: SpeechEntityKind, id: string): Promise<boolean>;
}

export type Versioned<T> = { value: T; version: number };
