import type { QuotaOverrides } from '../quota/limits.js';

/**
 * A Speech resource ("account" in ARM terms, kind SpeechServices): owns two keys, a region, an
 * optional custom subdomain, and the network rules that decide who may reach it (protocol §E).
 */
export interface Account {
  /** Internal id (a UUID); the ARM id is derived from subscription, group and name. */
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  /** ARM `location`; the data-plane region. */
  region: string;
  sku: 'F0' | 'S0';
  kind: 'SpeechServices';
  tags: Record<string, string>;
  key1: string;
  key2: string;
  /** Set once, never changed or removed (protocol §E.1). Stored lower-case. */
  customSubDomainName?: string;
  publicNetworkAccess: 'Enabled' | 'Disabled';
  networkAcls: NetworkAcls;
  /** True: keys, and tokens minted from keys, are refused on the data plane. */
  disableLocalAuth: boolean;
  /** Limits that differ from the pricing tier's defaults (a Parlance control-plane extension). */
  quotaOverrides: QuotaOverrides;
  createdAt: string;
  /** Optimistic-concurrency version, bumped on every update (also the ARM etag). */
  version: number;
}

export type KeyName = 'key1' | 'key2';

export interface NetworkAcls {
  defaultAction: 'Allow' | 'Deny';
  bypass: 'None' | 'AzureServices';
  /** IPv4 or IPv6 addresses or CIDR ranges. */
  ipRules: { value: string }[];
  /** Allowed subnets, by ARM subnet id. */
  virtualNetworkRules: { id: string; ignoreMissingVnetServiceEndpoint: boolean }[];
}

export const OPEN_NETWORK_ACLS: NetworkAcls = { defaultAction: 'Allow', bypass: 'AzureServices', ipRules: [], virtualNetworkRules: [] };

/** The mutable part of an account, as the control plane changes it. */
export type AccountSettings = Pick<
  Account,
  'sku' | 'tags' | 'customSubDomainName' | 'publicNetworkAccess' | 'networkAcls' | 'disableLocalAuth' | 'quotaOverrides'
>;

export function accountArmId(a: Pick<Account, 'subscriptionId' | 'resourceGroup' | 'name'>): string {
  return `/subscriptions/${a.subscriptionId}/resourceGroups/${a.resourceGroup}/providers/Microsoft.CognitiveServices/accounts/${a.name}`;
}

/** "All networks" in the portal's words: the only setting under which key-derived tokens are issued (seed 001). */
export function allowsAllNetworks(a: Account): boolean {
  return a.publicNetworkAccess === 'Enabled' && a.networkAcls.defaultAction === 'Allow';
}
