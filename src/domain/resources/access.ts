import { ipInCidr, normalizeIp, parseCidr } from '../../kernel/net/ip.js';
import type { Account } from './account.js';
import { accountArmId } from './account.js';
import { endpointsOfAccount, hasCognitiveServicesEndpoint, sameId, type NetworkSnapshot, type PrivateEndpoint } from './network.js';

/**
 * Where a connection comes from, in Azure's terms, decided from the real TCP addresses:
 * - it arrived on a private endpoint's IP (the local address of the socket) → private endpoint;
 * - its source lies in a subnet with the Microsoft.CognitiveServices service endpoint → that
 *   subnet's traffic is virtual-network traffic, whatever its address (seed 000);
 * - otherwise it is public traffic from its source address.
 */
export type TrafficOrigin =
  | { kind: 'privateEndpoint'; endpoint: PrivateEndpoint }
  | { kind: 'virtualNetwork'; subnetId: string }
  | { kind: 'public'; address: string };

export function classifyOrigin(snapshot: NetworkSnapshot, sourceIp: string, localIp: string): TrafficOrigin {
  const local = normalizeIp(localIp);
  const pe = snapshot.privateEndpoints.find((e) => normalizeIp(e.privateIp) === local);
  if (pe) return { kind: 'privateEndpoint', endpoint: pe };
  const source = normalizeIp(sourceIp);
  // The most specific enabled subnet wins (subnets of different networks may overlap in Parlance).
  let best: { id: string; prefix: number } | undefined;
  for (const vnet of snapshot.virtualNetworks) {
    for (const subnet of vnet.subnets) {
      if (!hasCognitiveServicesEndpoint(subnet)) continue;
      const c = parseCidr(subnet.addressPrefix);
      if (c && ipInCidr(source, c) && (!best || c.prefix > best.prefix)) best = { id: subnet.id, prefix: c.prefix };
    }
  }
  if (best) return { kind: 'virtualNetwork', subnetId: best.id };
  return { kind: 'public', address: source };
}

export type NetworkDecision =
  | { allowed: true; via: 'privateEndpoint' | 'virtualNetworkRule' | 'ipRule' | 'allNetworks' }
  | { allowed: false; reason: string };

/** The account's firewall (publicNetworkAccess, networkAcls) applied to one origin (protocol §E.3). */
export function evaluateNetworkAccess(account: Account, origin: TrafficOrigin): NetworkDecision {
  const acls = account.networkAcls;
  switch (origin.kind) {
    case 'privateEndpoint': {
      const c = origin.endpoint.connection;
      if (!sameId(c.accountId, accountArmId(account))) return { allowed: false, reason: 'private endpoint belongs to another resource' };
      if (c.status !== 'Approved') return { allowed: false, reason: `private endpoint connection is ${c.status}` };
      return { allowed: true, via: 'privateEndpoint' };
    }
    case 'virtualNetwork': {
      if (account.publicNetworkAccess === 'Disabled') return { allowed: false, reason: 'public network access is disabled' };
      if (acls.defaultAction === 'Allow') return { allowed: true, via: 'allNetworks' };
      // Service-endpoint traffic is judged by subnet only: an IP rule matching its address does not help (seed 000).
      if (acls.virtualNetworkRules.some((r) => sameId(r.id, origin.subnetId))) return { allowed: true, via: 'virtualNetworkRule' };
      return { allowed: false, reason: 'subnet is not allowed' };
    }
    case 'public': {
      if (account.publicNetworkAccess === 'Disabled') return { allowed: false, reason: 'public network access is disabled' };
      if (acls.defaultAction === 'Allow') return { allowed: true, via: 'allNetworks' };
      if (acls.ipRules.some((r) => ipInCidr(origin.address, r.value))) return { allowed: true, via: 'ipRule' };
      return { allowed: false, reason: 'address is not allowed' };
    }
  }
}

/**
 * The custom domain's `/{offering}/…` form is served by the virtual-network proxy, which exists
 * while the account has private endpoints or allowed virtual networks (seeds 000, 001); without
 * them the domain points at the regional API host, where those paths are 404.
 */
export function usesPrivateLinkForm(account: Account, snapshot: NetworkSnapshot): boolean {
  if (endpointsOfAccount(snapshot, accountArmId(account)).length > 0) return true;
  return account.networkAcls.defaultAction === 'Deny' && account.networkAcls.virtualNetworkRules.length > 0;
}

/** Seed 001: a key of a custom-domain resource with private endpoints, used on the regional host, is refused with 401. */
export function regionalHostRefusesKeys(account: Account, snapshot: NetworkSnapshot): boolean {
  return account.customSubDomainName !== undefined && endpointsOfAccount(snapshot, accountArmId(account)).length > 0;
}
