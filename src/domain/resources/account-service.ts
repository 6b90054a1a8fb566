import { randomBytes } from 'node:crypto';
import { secretDigest, secretsEqual } from '../../kernel/secrets.js';
import type { Clock } from '../../kernel/time.js';
import type { AccountRepository } from '../ports/repositories.js';
import type { Account, KeyName } from './account.js';
import { newUuid } from '../../kernel/ids.js';

export const DEFAULT_ACCOUNT_NAME = 'default';

/** Azure keys are 32 hex characters (lower-case in the portal); ours look the same. */
export function generateKey(): string {
  return randomBytes(16).toString('hex');
}

export class AccountService {
  constructor(
    private readonly repo: AccountRepository,
    private readonly clock: Clock,
  ) {}

  /**
   * The resource that exists from the first start. `key1` (from --key) replaces the stored key1
   * when given; otherwise both keys are generated once and persisted.
   */
  async ensureDefaultAccount(region: string, key1?: string): Promise<Account> {
    const existing = await this.repo.getByName(DEFAULT_ACCOUNT_NAME);
    if (!existing) {
      const account: Account = {
        id: newUuid(),
        name: DEFAULT_ACCOUNT_NAME,
        region,
        sku: 'S0',
        key1: key1 ?? generateKey(),
        key2: generateKey(),
        createdAt: new Date(this.clock.now()).toISOString(),
        version: 1,
      };
      await this.repo.insert(account);
      return account;
    }
    if (key1 !== undefined && !secretsEqual(existing.key1, key1)) {
      const version = await this.repo.setKey(existing.name, 'key1', key1, existing.version);
      return { ...existing, key1, version };
    }
    return existing;
  }

  async get(name: string): Promise<Account | undefined> {
    return this.repo.getByName(name);
  }

  /** The account (if any) whose key1 or key2 equals `key`, compared in constant time. */
  async findByKey(key: string): Promise<{ account: Account; which: KeyName } | undefined> {
    const candidates = await this.repo.findByKeyDigest(secretDigest(key));
    for (const account of candidates) {
      if (secretsEqual(account.key1, key)) return { account, which: 'key1' };
      if (secretsEqual(account.key2, key)) return { account, which: 'key2' };
    }
    return undefined;
  }

  async regenerateKey(name: string, which: KeyName): Promise<Account | undefined> {
    const account = await this.repo.getByName(name);
    if (!account) return undefined;
    const value = generateKey();
    const version = await this.repo.setKey(name, which, value, account.version);
    return { ...account, [which]: value, version };
  }
}
