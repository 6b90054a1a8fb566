import { effectiveLimits, type QuotaLimits } from '../../domain/quota/limits.js';
import { accountArmId, type Account } from '../../domain/resources/account.js';
import { endpointsOfAccount, sameId, type NetworkSnapshot, type PrivateDnsZone, type PrivateEndpoint, type Subnet, type VirtualNetwork } from '../../domain/resources/network.js';

/*
 * Domain objects rendered as ARM resources. Shapes follow the 2024-10-01 Microsoft.CognitiveServices
 * specification (the contract test validates them) and, for Microsoft.Network, the field names of
 * the real Network and Private DNS APIs.
 */

export interface HostSuffixes {
  /** e.g. stt.speech.microsoft.com's `speech.microsoft.com` */
  speechSuffix: string;
  /** e.g. `api.cognitive.microsoft.com` */
  apiSuffix: string;
  /** e.g. `cognitiveservices.azure.com` */
  customDomainSuffix: string;
}

export const ACCOUNT_TYPE = 'Microsoft.CognitiveServices/accounts';
export const CONNECTION_TYPE = 'Microsoft.CognitiveServices/accounts/privateEndpointConnections';
export const PRIVATE_LINK_RESOURCE_TYPE = 'Microsoft.CognitiveServices/accounts/privateLinkResources';

/** ARM etags are opaque quoted strings; the optimistic-concurrency version is one. */
export function etag(version: number): string {
  return `"${version}"`;
}

/**
 * The connections an account lists. A Disconnected connection is one the account side deleted (or
 * whose account was deleted): ARM no longer lists it under the account, only the private endpoint
 * still shows it, and the spec's status enum (Pending, Approved, Rejected) has no value for it.
 */
export function connectionsOfAccount(account: Account, snapshot: NetworkSnapshot): PrivateEndpoint[] {
  return endpointsOfAccount(snapshot, accountArmId(account)).filter((pe) => pe.connection.status !== 'Disconnected');
}

export function connectionView(account: Account, pe: PrivateEndpoint) {
  return {
    id: `${accountArmId(account)}/privateEndpointConnections/${pe.connection.name}`,
    name: pe.connection.name,
    type: CONNECTION_TYPE,
    location: pe.location,
    etag: etag(pe.version),
    properties: {
      privateEndpoint: { id: pe.id },
      privateLinkServiceConnectionState: { status: pe.connection.status, description: pe.connection.description, actionsRequired: 'None' },
      provisioningState: 'Succeeded',
      groupIds: [...pe.connection.groupIds],
    },
  };
}

export function accountView(a: Account, snapshot: NetworkSnapshot, s: HostSuffixes) {
  const regional = `https://${a.region}.${s.apiSuffix}`;
  return {
    id: accountArmId(a),
    name: a.name,
    type: ACCOUNT_TYPE,
    kind: a.kind,
    location: a.region,
    sku: { name: a.sku },
    tags: { ...a.tags },
    etag: etag(a.version),
    properties: {
      provisioningState: 'Succeeded',
      endpoint: a.customSubDomainName !== undefined ? `https://${a.customSubDomainName}.${s.customDomainSuffix}/` : `${regional}/`,
      endpoints: {
        'Speech Services Speech to Text': `https://${a.region}.stt.${s.speechSuffix}`,
        'Speech Services Text to Speech': `https://${a.region}.tts.${s.speechSuffix}`,
        Token: `${regional}/sts/v1.0/issueToken`,
        'Speech Services Custom Speech': `${regional}/speechtotext`,
      },
      ...(a.customSubDomainName !== undefined ? { customSubDomainName: a.customSubDomainName } : {}),
      publicNetworkAccess: a.publicNetworkAccess,
      networkAcls: {
        defaultAction: a.networkAcls.defaultAction,
        bypass: a.networkAcls.bypass,
        ipRules: a.networkAcls.ipRules.map((r) => ({ value: r.value })),
        virtualNetworkRules: a.networkAcls.virtualNetworkRules.map((r) => ({
          id: r.id,
          state: 'Succeeded',
          ignoreMissingVnetServiceEndpoint: r.ignoreMissingVnetServiceEndpoint,
        })),
      },
      disableLocalAuth: a.disableLocalAuth,
      privateEndpointConnections: connectionsOfAccount(a, snapshot).map((pe) => connectionView(a, pe)),
      // Read-only in ARM: the limits in force (tier defaults with Parlance's overrides).
      callRateLimit: callRateLimitView(effectiveLimits(a.sku, a.quotaOverrides)),
      dateCreated: a.createdAt,
      isMigrated: false,
      capabilities: [] as { name: string; value?: string }[],
    },
  };
}

function callRateLimitView(l: QuotaLimits) {
  return {
    count: l.ttsRequests,
    renewalPeriod: l.ttsWindowSeconds,
    rules: [
      {
        key: 'speech.synthesize',
        renewalPeriod: l.ttsWindowSeconds,
        count: l.ttsRequests,
        matchPatterns: [
          { path: 'cognitiveservices/v1', method: 'POST' },
          { path: 'cognitiveservices/websocket/v1', method: '*' },
        ],
      },
      {
        // Concurrent, not per period: renewalPeriod 0.
        key: 'speech.recognize.concurrent',
        renewalPeriod: 0,
        count: l.sttConcurrency,
        matchPatterns: [
          { path: 'speech/recognition/*', method: '*' },
          { path: 'speech/universal/v2', method: '*' },
        ],
      },
    ],
  };
}

export function privateLinkResourcesView(a: Account, s: HostSuffixes) {
  return {
    value: [
      {
        id: `${accountArmId(a)}/privateLinkResources/account`,
        name: 'account',
        type: PRIVATE_LINK_RESOURCE_TYPE,
        properties: {
          groupId: 'account',
          displayName: 'Account',
          requiredMembers: ['default'],
          requiredZoneNames: [`privatelink.${s.customDomainSuffix}`],
        },
      },
    ],
  };
}

// --- Microsoft.Network ----------------------------------------------------------------------------

export function subnetView(subnet: Subnet, snapshot: NetworkSnapshot) {
  return {
    id: subnet.id,
    name: subnet.name,
    type: 'Microsoft.Network/virtualNetworks/subnets',
    properties: {
      provisioningState: 'Succeeded',
      addressPrefix: subnet.addressPrefix,
      serviceEndpoints: subnet.serviceEndpoints.map((e) => ({ service: e.service, locations: [...e.locations], provisioningState: 'Succeeded' })),
      privateEndpoints: snapshot.privateEndpoints.filter((pe) => sameId(pe.subnetId, subnet.id)).map((pe) => ({ id: pe.id })),
    },
  };
}

export function virtualNetworkView(v: VirtualNetwork, snapshot: NetworkSnapshot) {
  return {
    id: v.id,
    name: v.name,
    type: 'Microsoft.Network/virtualNetworks',
    location: v.location,
    tags: { ...v.tags },
    etag: etag(v.version),
    properties: {
      provisioningState: 'Succeeded',
      addressSpace: { addressPrefixes: [...v.addressPrefixes] },
      subnets: v.subnets.map((s) => subnetView(s, snapshot)),
    },
  };
}

/**
 * A private endpoint. `target` is the account its connection points at (gone if it was deleted):
 * its custom subdomain is the FQDN the endpoint's address answers for. The allocated address is
 * reported in customDnsConfigs, as Azure does for dynamically allocated endpoints; ipConfigurations
 * stays empty because whether the address was requested statically is not stored.
 */
export function privateEndpointView(pe: PrivateEndpoint, target: Account | undefined, s: HostSuffixes) {
  const c = pe.connection;
  const collection = c.manual ? 'manualPrivateLinkServiceConnections' : 'privateLinkServiceConnections';
  const connection = {
    id: `${pe.id}/${collection}/${c.name}`,
    name: c.name,
    type: 'Microsoft.Network/privateEndpoints/privateLinkServiceConnections',
    properties: {
      provisioningState: 'Succeeded',
      privateLinkServiceId: c.accountId,
      groupIds: [...c.groupIds],
      privateLinkServiceConnectionState: { status: c.status, description: c.description, actionsRequired: 'None' },
    },
  };
  return {
    id: pe.id,
    name: pe.name,
    type: 'Microsoft.Network/privateEndpoints',
    location: pe.location,
    tags: { ...pe.tags },
    etag: etag(pe.version),
    properties: {
      provisioningState: 'Succeeded',
      subnet: { id: pe.subnetId },
      privateLinkServiceConnections: c.manual ? [] : [connection],
      manualPrivateLinkServiceConnections: c.manual ? [connection] : [],
      customDnsConfigs:
        target?.customSubDomainName !== undefined ? [{ fqdn: `${target.customSubDomainName}.${s.customDomainSuffix}`, ipAddresses: [pe.privateIp] }] : [],
      ipConfigurations: [] as unknown[],
      networkInterfaces: [] as unknown[],
    },
  };
}

export function privateDnsZoneView(z: PrivateDnsZone) {
  return {
    id: z.id,
    name: z.name,
    type: 'Microsoft.Network/privateDnsZones',
    location: 'global',
    tags: { ...z.tags },
    etag: etag(z.version),
    properties: {
      provisioningState: 'Succeeded',
      numberOfVirtualNetworkLinks: z.links.length,
      numberOfVirtualNetworkLinksWithRegistration: z.links.filter((l) => l.registrationEnabled).length,
    },
  };
}

export function virtualNetworkLinkView(z: PrivateDnsZone, link: PrivateDnsZone['links'][number]) {
  return {
    id: link.id,
    name: link.name,
    type: 'Microsoft.Network/privateDnsZones/virtualNetworkLinks',
    location: 'global',
    etag: etag(z.version),
    properties: {
      provisioningState: 'Succeeded',
      virtualNetwork: { id: link.virtualNetworkId },
      registrationEnabled: link.registrationEnabled,
      virtualNetworkLinkState: 'Completed',
    },
  };
}
