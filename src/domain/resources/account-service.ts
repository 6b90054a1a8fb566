import { randomBytes } from 'node:crypto';
import { secretDigest, secretsEqual } from '../../kernel/secrets.js';
import type { Clock } from '../../kernel/time.js';
import { parseCidr } from '../../kernel/net/ip.js';
import { ConflictError, VersionConflictError, type AccountRepository } from '../ports/repositories.js';
import { Errors } from '../errors.js';
import { OPEN_NETWORK_ACLS, type Account, type AccountSettings, type KeyName, type NetworkAcls } from './account.js';
import { newUuid } from '../../kernel/ids.js';
import { findSubnet, hasCognitiveServicesEndpoint, type NetworkSnapshot } from './network.js';

export const DEFAULT_ACCOUNT_NAME = 'default';
/** ARM coordinates of the default account (and of accounts created before resources had them). */
export const DEFAULT_SUBSCRIPTION = '00000000-0000-0000-0000-000000000000';
export const DEFAULT_RESOURCE_GROUP = 'parlance';

/** Azure keys are 32 hex characters (lower-case in the portal); ours look the same. */
export function generateKey(): string {
  return randomBytes(16).toString('hex');
}

const ACCOUNT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,63}$/;
/** A DNS label (ARM allows 2–64 characters, letters, digits and hyphens, not at the ends). */
const SUBDOMAIN = /^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$/;
const REGION = /^[a-z0-9]+$/;

export interface AccountSpec {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  region: string;
  settings: Partial<AccountSettings>;
}

/**
 * Speech resources: creation, the rules on their settings (custom subdomain set once, network rules
 * that need a custom domain and existing subnets), keys and their rotation. Lookups by key compare
 * in constant time.
 */
export class AccountService {
  constructor(
    private readonly repo: AccountRepository,
    private readonly clock: Clock,
    private readonly network: () => Promise<NetworkSnapshot>,
  ) {}

  /**
   * The resource that exists from the first start. `key1` (from --key) replaces the stored key1
   * when given; otherwise both keys are generated once and persisted.
   */
  async ensureDefaultAccount(region: string, key1?: string): Promise<Account> {
    const existing = await this.repo.getByName(DEFAULT_ACCOUNT_NAME);
    if (!existing) {
      return this.create(
        { subscriptionId: DEFAULT_SUBSCRIPTION, resourceGroup: DEFAULT_RESOURCE_GROUP, name: DEFAULT_ACCOUNT_NAME, region, settings: { sku: 'S0' } },
        key1,
      );
    }
    if (key1 !== undefined && !secretsEqual(existing.key1, key1)) {
      const version = await this.repo.setKey(existing.name, 'key1', key1, existing.version);
      return { ...existing, key1, version };
    }
    return existing;
  }

  async create(spec: AccountSpec, key1?: string): Promise<Account> {
    if (!ACCOUNT_NAME.test(spec.name)) throw Errors.invalidArgument(`Account name '${spec.name}' is invalid: 2-64 letters, digits, '_', '.', '-'.`, { armCode: 'InvalidAccountName' });
    if (!REGION.test(spec.region)) throw Errors.invalidArgument(`Location '${spec.region}' is invalid.`, { armCode: 'LocationRequired' });
    const account: Account = {
      id: newUuid(),
      name: spec.name,
      subscriptionId: spec.subscriptionId,
      resourceGroup: spec.resourceGroup,
      region: spec.region,
      sku: 'S0',
      kind: 'SpeechServices',
      tags: {},
      key1: key1 ?? generateKey(),
      key2: generateKey(),
      publicNetworkAccess: 'Enabled',
      networkAcls: OPEN_NETWORK_ACLS,
      disableLocalAuth: false,
      quotaOverrides: {},
      createdAt: new Date(this.clock.now()).toISOString(),
      version: 1,
    };
    const withSettings = await this.applySettings(account, spec.settings);
    if (withSettings.customSubDomainName !== undefined) await this.assertSubdomainFree(withSettings.customSubDomainName, withSettings.name);
    try {
      await this.repo.insert(withSettings);
    } catch (err) {
      if (err instanceof ConflictError) throw Errors.conflict(err.message, { armCode: 'Conflict' });
      throw err;
    }
    return withSettings;
  }

  /** Applies changed settings (PATCH semantics: absent means unchanged). */
  async update(name: string, settings: Partial<AccountSettings>): Promise<Account> {
    const current = await this.repo.getByName(name);
    if (!current) throw Errors.notFound(`The Resource 'Microsoft.CognitiveServices/accounts/${name}' was not found.`);
    const next = await this.applySettings(current, settings);
    if (next.customSubDomainName !== undefined && next.customSubDomainName !== current.customSubDomainName) {
      await this.assertSubdomainFree(next.customSubDomainName, name);
    }
    try {
      const version = await this.repo.update(next);
      return { ...next, version };
    } catch (err) {
      if (err instanceof ConflictError || err instanceof VersionConflictError) throw Errors.conflict(err.message, { armCode: 'Conflict' });
      throw err;
    }
  }

  async delete(name: string): Promise<boolean> {
    return this.repo.delete(name);
  }

  async get(name: string): Promise<Account | undefined> {
    return this.repo.getByName(name);
  }

  async getById(id: string): Promise<Account | undefined> {
    return this.repo.getById(id);
  }

  async getByCustomSubdomain(subdomain: string): Promise<Account | undefined> {
    return this.repo.getByCustomSubdomain(subdomain);
  }

  async list(): Promise<Account[]> {
    return this.repo.list();
  }

  /** checkDomainAvailability: free when no account holds it (case-insensitive) and it is a valid label. */
  async isSubdomainAvailable(subdomain: string): Promise<{ available: boolean; reason?: string }> {
    const s = subdomain.toLowerCase();
    if (!SUBDOMAIN.test(s)) return { available: false, reason: `Subdomain name '${subdomain}' is not valid.` };
    const holder = await this.repo.getByCustomSubdomain(s);
    return holder ? { available: false, reason: `Subdomain name '${s}' is not available.` } : { available: true };
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

  /** A new value for one key; the old value stops working at once (lookups go to the database). */
  async regenerateKey(name: string, which: KeyName): Promise<Account | undefined> {
    const account = await this.repo.getByName(name);
    if (!account) return undefined;
    const value = generateKey();
    try {
      const version = await this.repo.setKey(name, which, value, account.version);
      return { ...account, [which]: value, version };
    } catch (err) {
      if (err instanceof VersionConflictError) throw Errors.conflict(err.message, { armCode: 'Conflict' });
      throw err;
    }
  }

  private async assertSubdomainFree(subdomain: string, owner: string): Promise<void> {
    const holder = await this.repo.getByCustomSubdomain(subdomain);
    if (holder && holder.name !== owner) {
      throw Errors.conflict(`Custom subdomain name '${subdomain}' is already in use.`, { armCode: 'CustomDomainInUse' });
    }
  }

  private async applySettings(current: Account, s: Partial<AccountSettings>): Promise<Account> {
    const next: Account = { ...current };
    if (s.sku !== undefined) {
      if (s.sku !== 'F0' && s.sku !== 'S0') throw Errors.invalidArgument(`SKU '${String(s.sku)}' is not supported for kind SpeechServices: use F0 or S0.`, { armCode: 'InvalidSkuName' });
      next.sku = s.sku;
    }
    if (s.tags !== undefined) next.tags = { ...s.tags };
    if (s.customSubDomainName !== undefined) {
      const sub = s.customSubDomainName.toLowerCase();
      if (current.customSubDomainName !== undefined && current.customSubDomainName !== sub) {
        throw Errors.invalidArgument('The custom subdomain name of a resource cannot be changed or removed once set.', { armCode: 'CustomSubDomainNameCannotBeChanged' });
      }
      if (!SUBDOMAIN.test(sub)) throw Errors.invalidArgument(`Custom subdomain name '${s.customSubDomainName}' is not valid.`, { armCode: 'InvalidCustomSubDomainName' });
      next.customSubDomainName = sub;
    }
    if (s.publicNetworkAccess !== undefined) {
      if (s.publicNetworkAccess !== 'Enabled' && s.publicNetworkAccess !== 'Disabled') throw Errors.invalidArgument('publicNetworkAccess must be Enabled or Disabled.');
      next.publicNetworkAccess = s.publicNetworkAccess;
    }
    if (s.disableLocalAuth !== undefined) next.disableLocalAuth = s.disableLocalAuth;
    // Already validated by mergeOverrides (domain/quota/limits.ts).
    if (s.quotaOverrides !== undefined) next.quotaOverrides = { ...s.quotaOverrides };
    if (s.networkAcls !== undefined) next.networkAcls = await this.validateAcls(s.networkAcls, next);
    return next;
  }

  private async validateAcls(acls: NetworkAcls, account: Account): Promise<NetworkAcls> {
    if (acls.defaultAction !== 'Allow' && acls.defaultAction !== 'Deny') throw Errors.invalidArgument('networkAcls.defaultAction must be Allow or Deny.', { armCode: 'InvalidNetworkRuleSet' });
    if (acls.bypass !== 'None' && acls.bypass !== 'AzureServices') throw Errors.invalidArgument('networkAcls.bypass must be None or AzureServices.', { armCode: 'InvalidNetworkRuleSet' });
    for (const rule of acls.ipRules) {
      // Loopback and private ranges are accepted (Azure refuses them) so self-hosted networks can be modelled.
      if (!parseCidr(rule.value)) throw Errors.invalidArgument(`IP rule '${rule.value}' is not a valid address or CIDR range.`, { armCode: 'InvalidIpRule' });
    }
    if (acls.virtualNetworkRules.length > 0) {
      if (account.customSubDomainName === undefined) {
        throw Errors.invalidArgument('Virtual network rules require a custom subdomain name on the resource.', { armCode: 'CustomSubDomainNameRequired' });
      }
      const snapshot = await this.network();
      for (const rule of acls.virtualNetworkRules) {
        const found = findSubnet(snapshot, rule.id);
        if (!found) throw Errors.invalidArgument(`Subnet '${rule.id}' was not found.`, { armCode: 'SubnetNotFound' });
        if (!rule.ignoreMissingVnetServiceEndpoint && !hasCognitiveServicesEndpoint(found.subnet)) {
          throw Errors.invalidArgument(
            `Subnet '${rule.id}' does not have the Microsoft.CognitiveServices service endpoint enabled (or set ignoreMissingVnetServiceEndpoint).`,
            { armCode: 'VnetServiceEndpointMissing' },
          );
        }
      }
    }
    return {
      defaultAction: acls.defaultAction,
      bypass: acls.bypass,
      ipRules: acls.ipRules.map((r) => ({ value: r.value })),
      virtualNetworkRules: acls.virtualNetworkRules.map((r) => ({ id: r.id, ignoreMissingVnetServiceEndpoint: r.ignoreMissingVnetServiceEndpoint })),
    };
  }
}
