/**
 * The minimum of Microsoft.Network the seeds need: virtual networks with subnets (and their service
 * endpoints), private endpoints connected to accounts, and private DNS zones linked to virtual
 * networks. Ids are ARM ids; comparisons on ids are case-insensitive, as in ARM.
 */

export const COGNITIVE_SERVICES_ENDPOINT = 'Microsoft.CognitiveServices';

export interface Subnet {
  id: string;
  name: string;
  addressPrefix: string;
  serviceEndpoints: { service: string; locations: string[] }[];
}

/** What every tracked Microsoft.Network resource has. */
export interface NetworkResourceBase {
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  tags: Record<string, string>;
  /** Optimistic-concurrency version (the ARM etag). */
  version: number;
}

export interface VirtualNetwork extends NetworkResourceBase {
  location: string;
  addressPrefixes: string[];
  subnets: Subnet[];
}

export type ConnectionStatus = 'Approved' | 'Pending' | 'Rejected' | 'Disconnected';

export interface PrivateEndpoint extends NetworkResourceBase {
  location: string;
  subnetId: string;
  /** An address of this host (tests use 127.x.y.z); Parlance listens on it too. */
  privateIp: string;
  /** The connection to an account (group id `account`); the account side sees it as a privateEndpointConnection. */
  connection: {
    name: string;
    /** ARM id of the target account. */
    accountId: string;
    groupIds: string[];
    status: ConnectionStatus;
    description: string;
    /** Created through manualPrivateLinkServiceConnections: starts Pending. */
    manual: boolean;
  };
}

export interface PrivateDnsZone extends NetworkResourceBase {
  /** Linked virtual networks, by link name. */
  links: { name: string; id: string; virtualNetworkId: string; registrationEnabled: boolean }[];
}

/** What the data plane and the DNS server consult; reloaded after every control-plane change. */
export interface NetworkSnapshot {
  virtualNetworks: readonly VirtualNetwork[];
  privateEndpoints: readonly PrivateEndpoint[];
  privateDnsZones: readonly PrivateDnsZone[];
}

export function sameId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

export function hasCognitiveServicesEndpoint(subnet: Subnet): boolean {
  return subnet.serviceEndpoints.some((e) => e.service.toLowerCase() === COGNITIVE_SERVICES_ENDPOINT.toLowerCase());
}

export function findSubnet(snapshot: NetworkSnapshot, subnetId: string): { vnet: VirtualNetwork; subnet: Subnet } | undefined {
  for (const vnet of snapshot.virtualNetworks) {
    for (const subnet of vnet.subnets) if (sameId(subnet.id, subnetId)) return { vnet, subnet };
  }
  return undefined;
}

export function endpointsOfAccount(snapshot: NetworkSnapshot, accountArmId: string): PrivateEndpoint[] {
  return snapshot.privateEndpoints.filter((pe) => sameId(pe.connection.accountId, accountArmId));
}
