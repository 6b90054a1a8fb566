import { cidrWithin, ipInCidr, normalizeIp, parseCidr } from '../../kernel/net/ip.js';
import type { Clock } from '../../kernel/time.js';
import { Errors } from '../errors.js';
import { ConflictError, VersionConflictError, type AccountRepository, type NetworkRepository, type NetworkResource } from '../ports/repositories.js';
import { accountArmId } from './account.js';
import {
  findSubnet,
  sameId,
  type ConnectionStatus,
  type NetworkSnapshot,
  type PrivateDnsZone,
  type PrivateEndpoint,
  type Subnet,
  type VirtualNetwork,
} from './network.js';

export interface ArmCoordinates {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

export function networkArmId(c: ArmCoordinates, type: string): string {
  return `/subscriptions/${c.subscriptionId}/resourceGroups/${c.resourceGroup}/providers/Microsoft.Network/${type}/${c.name}`;
}

export interface VirtualNetworkSpec {
  location: string;
  tags?: Record<string, string>;
  addressPrefixes: string[];
  subnets: { name: string; addressPrefix: string; serviceEndpoints: { service: string; locations?: string[] }[] }[];
}

export interface PrivateEndpointSpec {
  location: string;
  tags?: Record<string, string>;
  subnetId: string;
  accountId: string;
  connectionName: string;
  groupIds: string[];
  manual: boolean;
  requestMessage?: string;
  privateIp?: string;
}

/** How long another process's control-plane change may take to reach this one (the snapshot is reloaded). */
const SNAPSHOT_TTL_MS = 2_000;

/**
 * Virtual networks, private endpoints and private DNS zones, and the snapshot of them that the
 * data plane and the DNS server read on every request (cached, reloaded after each change here
 * and at least every two seconds so several processes sharing a database converge).
 */
export class NetworkService {
  private cached: { at: number; snapshot: NetworkSnapshot } | undefined;
  private readonly listeners = new Set<(s: NetworkSnapshot) => void>();

  constructor(
    private readonly repo: NetworkRepository,
    private readonly accounts: AccountRepository,
    private readonly clock: Clock,
  ) {}

  async snapshot(): Promise<NetworkSnapshot> {
    const now = this.clock.now();
    if (this.cached && now - this.cached.at < SNAPSHOT_TTL_MS) return this.cached.snapshot;
    return this.reload();
  }

  /** The last loaded snapshot without I/O (for the DNS server's hot path); empty before the first load. */
  current(): NetworkSnapshot {
    return this.cached?.snapshot ?? { virtualNetworks: [], privateEndpoints: [], privateDnsZones: [] };
  }

  /** Called with each new snapshot (private-endpoint listeners follow it). */
  onChange(listener: (s: NetworkSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async reload(): Promise<NetworkSnapshot> {
    const all = await this.repo.list();
    const snapshot: NetworkSnapshot = {
      virtualNetworks: all.flatMap((r) => (r.type === 'virtualNetwork' ? [r.value] : [])),
      privateEndpoints: all.flatMap((r) => (r.type === 'privateEndpoint' ? [r.value] : [])),
      privateDnsZones: all.flatMap((r) => (r.type === 'privateDnsZone' ? [r.value] : [])),
    };
    const previous = this.cached?.snapshot;
    this.cached = { at: this.clock.now(), snapshot };
    if (!previous || JSON.stringify(previous) !== JSON.stringify(snapshot)) for (const l of this.listeners) l(snapshot);
    return snapshot;
  }

  // --- virtual networks and subnets -------------------------------------------------------------

  async getVirtualNetwork(id: string): Promise<VirtualNetwork | undefined> {
    const r = await this.repo.get('virtualNetwork', id);
    return r?.type === 'virtualNetwork' ? r.value : undefined;
  }

  async listVirtualNetworks(): Promise<VirtualNetwork[]> {
    return [...(await this.reload()).virtualNetworks];
  }

  async putVirtualNetwork(c: ArmCoordinates, spec: VirtualNetworkSpec): Promise<{ value: VirtualNetwork; created: boolean }> {
    const id = networkArmId(c, 'virtualNetworks');
    if (spec.addressPrefixes.length === 0) throw Errors.invalidArgument('addressSpace.addressPrefixes must not be empty.', { armCode: 'InvalidAddressSpace' });
    for (const p of spec.addressPrefixes) {
      if (!parseCidr(p)) throw Errors.invalidArgument(`Address prefix '${p}' is not a valid CIDR range.`, { armCode: 'InvalidAddressPrefixFormat' });
    }
    const names = new Set<string>();
    const subnets: Subnet[] = spec.subnets.map((s) => {
      if (names.has(s.name.toLowerCase())) throw Errors.invalidArgument(`Subnet '${s.name}' appears twice.`, { armCode: 'DuplicateResourceName' });
      names.add(s.name.toLowerCase());
      return this.validSubnet(id, spec.addressPrefixes, s);
    });
    const existing = await this.getVirtualNetwork(id);
    if (existing) {
      // Subnets holding private endpoints cannot disappear from under them.
      const snapshot = await this.reload();
      for (const old of existing.subnets) {
        if (!subnets.some((s) => sameId(s.id, old.id))) this.assertSubnetUnused(snapshot, old.id);
      }
      for (const s of subnets) this.assertPrefixKeepsEndpoints(snapshot, s);
    }
    const value: VirtualNetwork = {
      id,
      name: c.name,
      subscriptionId: c.subscriptionId,
      resourceGroup: c.resourceGroup,
      location: spec.location,
      tags: spec.tags ?? existing?.tags ?? {},
      addressPrefixes: [...spec.addressPrefixes],
      subnets,
      version: existing?.version ?? 0,
    };
    value.version = await this.store({ type: 'virtualNetwork', value }, existing?.version);
    await this.reload();
    return { value, created: !existing };
  }

  async putSubnet(vnetId: string, spec: VirtualNetworkSpec['subnets'][number]): Promise<{ value: Subnet; created: boolean }> {
    const vnet = await this.getVirtualNetwork(vnetId);
    if (!vnet) throw Errors.notFound(`Virtual network '${vnetId}' was not found.`);
    const subnet = this.validSubnet(vnet.id, vnet.addressPrefixes, spec);
    this.assertPrefixKeepsEndpoints(await this.reload(), subnet);
    const { list: subnets, created } = upsert(vnet.subnets, subnet, (s) => sameId(s.id, subnet.id));
    await this.store({ type: 'virtualNetwork', value: { ...vnet, subnets } }, vnet.version);
    await this.reload();
    return { value: subnet, created };
  }

  async deleteSubnet(vnetId: string, name: string): Promise<boolean> {
    const vnet = await this.getVirtualNetwork(vnetId);
    const subnet = vnet?.subnets.find((s) => s.name.toLowerCase() === name.toLowerCase());
    if (!vnet || !subnet) return false;
    this.assertSubnetUnused(await this.reload(), subnet.id);
    await this.store({ type: 'virtualNetwork', value: { ...vnet, subnets: vnet.subnets.filter((s) => s !== subnet) } }, vnet.version);
    await this.reload();
    return true;
  }

  async deleteVirtualNetwork(id: string): Promise<boolean> {
    const vnet = await this.getVirtualNetwork(id);
    if (!vnet) return false;
    const snapshot = await this.reload();
    for (const s of vnet.subnets) this.assertSubnetUnused(snapshot, s.id);
    const deleted = await this.repo.delete('virtualNetwork', id);
    await this.reload();
    return deleted;
  }

  // --- private endpoints --------------------------------------------------------------------------

  async getPrivateEndpoint(id: string): Promise<PrivateEndpoint | undefined> {
    const r = await this.repo.get('privateEndpoint', id);
    return r?.type === 'privateEndpoint' ? r.value : undefined;
  }

  async putPrivateEndpoint(c: ArmCoordinates, spec: PrivateEndpointSpec): Promise<{ value: PrivateEndpoint; created: boolean }> {
    const id = networkArmId(c, 'privateEndpoints');
    const snapshot = await this.reload();
    const found = findSubnet(snapshot, spec.subnetId);
    if (!found) throw Errors.invalidArgument(`Subnet '${spec.subnetId}' was not found.`, { armCode: 'InvalidResourceReference' });
    const account = (await this.accounts.list()).find((a) => sameId(accountArmId(a), spec.accountId));
    if (!account) throw Errors.invalidArgument(`Private link service '${spec.accountId}' was not found.`, { armCode: 'PrivateLinkServiceNotFound' });
    if (account.customSubDomainName === undefined) {
      throw Errors.invalidArgument('Private endpoints require a custom subdomain name on the Speech resource.', { armCode: 'CustomSubDomainNameRequired' });
    }
    if (spec.groupIds.length !== 1 || spec.groupIds[0]?.toLowerCase() !== 'account') {
      throw Errors.invalidArgument("The only group id (target sub-resource) of a Speech resource is 'account'.", { armCode: 'InvalidGroupId' });
    }
    const existing = await this.getPrivateEndpoint(id);
    const clash = snapshot.privateEndpoints.find(
      (e) => !sameId(e.id, id) && sameId(e.connection.accountId, accountArmId(account)) && e.connection.name.toLowerCase() === spec.connectionName.toLowerCase(),
    );
    if (clash) throw Errors.conflict(`The resource already has a private endpoint connection named '${spec.connectionName}'.`, { armCode: 'PrivateEndpointConnectionNameInUse' });
    if (existing && !sameId(existing.subnetId, found.subnet.id)) {
      throw Errors.invalidArgument('The subnet of a private endpoint cannot be changed.', { armCode: 'CannotChangeSubnet' });
    }
    const privateIp = existing?.privateIp ?? this.allocateIp(snapshot, found.subnet, spec.privateIp);
    const value: PrivateEndpoint = {
      id,
      name: c.name,
      subscriptionId: c.subscriptionId,
      resourceGroup: c.resourceGroup,
      location: spec.location,
      tags: spec.tags ?? existing?.tags ?? {},
      subnetId: found.subnet.id,
      privateIp,
      connection: existing?.connection ?? {
        name: spec.connectionName,
        accountId: accountArmId(account),
        groupIds: ['account'],
        // Automatic connections to a resource the caller owns are approved at once; manual ones wait.
        status: spec.manual ? 'Pending' : 'Approved',
        description: spec.manual ? (spec.requestMessage ?? '') : 'Auto-Approved',
        manual: spec.manual,
      },
      version: existing?.version ?? 0,
    };
    value.version = await this.store({ type: 'privateEndpoint', value }, existing?.version);
    await this.reload();
    return { value, created: !existing };
  }

  async deletePrivateEndpoint(id: string): Promise<boolean> {
    const deleted = await this.repo.delete('privateEndpoint', id);
    await this.reload();
    return deleted;
  }

  /** The account side of a connection: approve, reject, or (delete) disconnect. */
  async setConnectionStatus(accountArmIdValue: string, connectionName: string, status: ConnectionStatus, description: string): Promise<PrivateEndpoint | undefined> {
    const snapshot = await this.reload();
    const pe = snapshot.privateEndpoints.find((e) => sameId(e.connection.accountId, accountArmIdValue) && e.connection.name.toLowerCase() === connectionName.toLowerCase());
    if (!pe) return undefined;
    // Azure: a rejected or disconnected connection cannot come back; the endpoint must be recreated.
    if ((pe.connection.status === 'Rejected' || pe.connection.status === 'Disconnected') && status !== pe.connection.status && status !== 'Disconnected') {
      throw Errors.invalidArgument(`A ${pe.connection.status} private endpoint connection cannot be changed; recreate the private endpoint.`, { armCode: 'PrivateEndpointConnectionStateChangeNotAllowed' });
    }
    const value: PrivateEndpoint = { ...pe, connection: { ...pe.connection, status, description } };
    value.version = await this.store({ type: 'privateEndpoint', value }, pe.version);
    await this.reload();
    return value;
  }

  // --- private DNS zones ----------------------------------------------------------------------------

  async getDnsZone(id: string): Promise<PrivateDnsZone | undefined> {
    const r = await this.repo.get('privateDnsZone', id);
    return r?.type === 'privateDnsZone' ? r.value : undefined;
  }

  async putDnsZone(c: ArmCoordinates, tags?: Record<string, string>): Promise<{ value: PrivateDnsZone; created: boolean }> {
    const id = networkArmId(c, 'privateDnsZones');
    const existing = await this.getDnsZone(id);
    const value: PrivateDnsZone = existing
      ? { ...existing, tags: tags ?? existing.tags }
      : { id, name: c.name.toLowerCase(), subscriptionId: c.subscriptionId, resourceGroup: c.resourceGroup, tags: tags ?? {}, links: [], version: 0 };
    value.version = await this.store({ type: 'privateDnsZone', value }, existing?.version);
    await this.reload();
    return { value, created: !existing };
  }

  async deleteDnsZone(id: string): Promise<boolean> {
    const zone = await this.getDnsZone(id);
    if (zone && zone.links.length > 0) throw Errors.conflict('Remove the virtual network links of the zone first.', { armCode: 'CannotDeleteResource' });
    const deleted = await this.repo.delete('privateDnsZone', id);
    await this.reload();
    return deleted;
  }

  async putZoneLink(zoneId: string, name: string, virtualNetworkId: string, registrationEnabled: boolean): Promise<{ value: PrivateDnsZone['links'][number]; created: boolean }> {
    const zone = await this.getDnsZone(zoneId);
    if (!zone) throw Errors.notFound(`Private DNS zone '${zoneId}' was not found.`);
    if (!(await this.getVirtualNetwork(virtualNetworkId))) throw Errors.invalidArgument(`Virtual network '${virtualNetworkId}' was not found.`, { armCode: 'InvalidResourceReference' });
    const link = { name, id: `${zone.id}/virtualNetworkLinks/${name}`, virtualNetworkId, registrationEnabled };
    const { list: links, created } = upsert(zone.links, link, (l) => l.name.toLowerCase() === name.toLowerCase());
    await this.store({ type: 'privateDnsZone', value: { ...zone, links } }, zone.version);
    await this.reload();
    return { value: link, created };
  }

  async deleteZoneLink(zoneId: string, name: string): Promise<boolean> {
    const zone = await this.getDnsZone(zoneId);
    if (!zone) return false;
    const links = zone.links.filter((l) => l.name.toLowerCase() !== name.toLowerCase());
    if (links.length === zone.links.length) return false;
    await this.store({ type: 'privateDnsZone', value: { ...zone, links } }, zone.version);
    await this.reload();
    return true;
  }

  // --- helpers ----------------------------------------------------------------------------------

  private validSubnet(vnetId: string, addressPrefixes: string[], s: VirtualNetworkSpec['subnets'][number]): Subnet {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,79}$/.test(s.name)) throw Errors.invalidArgument(`Subnet name '${s.name}' is invalid.`, { armCode: 'InvalidResourceName' });
    if (!parseCidr(s.addressPrefix)) throw Errors.invalidArgument(`Address prefix '${s.addressPrefix}' is not a valid CIDR range.`, { armCode: 'InvalidAddressPrefixFormat' });
    if (!addressPrefixes.some((p) => cidrWithin(s.addressPrefix, p))) {
      throw Errors.invalidArgument(`Subnet '${s.name}' (${s.addressPrefix}) is not within the virtual network's address space.`, { armCode: 'NetcfgSubnetRangeOutsideVnet' });
    }
    return {
      id: `${vnetId}/subnets/${s.name}`,
      name: s.name,
      addressPrefix: s.addressPrefix,
      serviceEndpoints: s.serviceEndpoints.map((e) => ({ service: e.service, locations: e.locations ?? ['*'] })),
    };
  }

  /** A subnet's range cannot change under the private endpoints it holds. */
  private assertPrefixKeepsEndpoints(snapshot: NetworkSnapshot, subnet: Subnet): void {
    const outside = snapshot.privateEndpoints.find((pe) => sameId(pe.subnetId, subnet.id) && !ipInCidr(pe.privateIp, subnet.addressPrefix));
    if (outside) {
      throw Errors.conflict(`Subnet '${subnet.id}' holds private endpoint ${outside.name} (${outside.privateIp}); its address prefix cannot exclude it.`, { armCode: 'InUseSubnetCannotBeUpdated' });
    }
  }

  private assertSubnetUnused(snapshot: NetworkSnapshot, subnetId: string): void {
    if (snapshot.privateEndpoints.some((pe) => sameId(pe.subnetId, subnetId))) {
      throw Errors.conflict(`Subnet '${subnetId}' is in use by a private endpoint and cannot be deleted.`, { armCode: 'InUseSubnetCannotBeDeleted' });
    }
  }

  /** A requested static address must be inside the subnet and free; otherwise the first free host address after Azure's four reserved ones. */
  private allocateIp(snapshot: NetworkSnapshot, subnet: Subnet, requested: string | undefined): string {
    const taken = new Set(snapshot.privateEndpoints.map((e) => normalizeIp(e.privateIp)));
    if (requested !== undefined) {
      const ip = normalizeIp(requested);
      if (!ipInCidr(ip, subnet.addressPrefix)) throw Errors.invalidArgument(`Private IP ${requested} is not in subnet ${subnet.addressPrefix}.`, { armCode: 'PrivateIPAddressNotInSubnet' });
      if (taken.has(ip)) throw Errors.conflict(`Private IP ${requested} is already in use.`, { armCode: 'PrivateIPAddressInUse' });
      return ip;
    }
    const c = parseCidr(subnet.addressPrefix);
    if (!c || c.family !== 4) throw Errors.invalidArgument('Private endpoints need an IPv4 subnet.', { armCode: 'InvalidSubnet' });
    const base = c.address.split('.').reduce((n, o) => n * 256 + Number(o), 0);
    const size = 2 ** (32 - c.prefix);
    const start = base - (base % size);
    for (let i = 4; i < size - 1; i++) {
      const n = start + i;
      const ip = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
      if (!taken.has(ip)) return ip;
    }
    throw Errors.conflict(`Subnet ${subnet.addressPrefix} has no free address.`, { armCode: 'SubnetIsFull' });
  }

  private async store(resource: NetworkResource, expectedVersion: number | undefined): Promise<number> {
    try {
      return await this.repo.put(resource, expectedVersion);
    } catch (err) {
      if (err instanceof ConflictError || err instanceof VersionConflictError) throw Errors.conflict(err.message, { armCode: 'Conflict' });
      throw err;
    }
  }
}

/** Replaces the first element `matches` selects, or appends: a child resource's PUT. */
function upsert<T>(list: readonly T[], item: T, matches: (existing: T) => boolean): { list: T[]; created: boolean } {
  const index = list.findIndex(matches);
  if (index < 0) return { list: [...list, item], created: true };
  return { list: list.map((e, i) => (i === index ? item : e)), created: false };
}
