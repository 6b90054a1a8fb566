import { ipFamily, ipInCidr, normalizeIp } from '../../kernel/net/ip.js';
import { findSubnet, sameId, type NetworkSnapshot, type PrivateEndpoint } from './network.js';

/**
 * The answers Parlance's authoritative DNS server gives for Azure Speech names, as seed 001's
 * nslookup transcripts show them. Split-horizon: the same custom-domain name resolves to a private
 * endpoint's address from inside a virtual network linked to the `privatelink.` zone and to the
 * virtual-network proxy (or the regional endpoint) from everywhere else, so the answer depends on the
 * querying address as well as the name.
 */

export interface DnsView {
  accounts: readonly { name: string; region: string; armId: string; customSubDomainName?: string }[];
  snapshot: NetworkSnapshot;
  /** Defaults: speech.microsoft.com, api.cognitive.microsoft.com, cognitiveservices.azure.com. */
  suffixes: { speechSuffix: string; apiSuffix: string; customDomainSuffix: string };
  /** IPv4 address public names resolve to (Parlance's public listener). */
  publicAddress: string;
}

export interface DnsRecord {
  name: string;
  type: 'A' | 'CNAME';
  ttl: number;
  data: string;
}

export interface DnsAnswer {
  rcode: 'NOERROR' | 'NXDOMAIN' | 'REFUSED';
  answers: DnsRecord[];
}

/**
 * Private-zone A records change whenever an endpoint is created, approved or deleted, and a client
 * that cached the old answer would keep dialling a dead address; a short TTL bounds that window.
 * Everything else only changes with configuration (public address, suffixes), so it gets the
 * five minutes Azure's public records commonly carry.
 */
export const PRIVATE_ZONE_TTL = 60;
export const PUBLIC_TTL = 300;

const TRAFFIC_MANAGER_ZONE = 'prod.vnet.cog.trafficmanager.net';
const CLOUDAPP_ZONE = 'cloudapp.azure.com';
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

type Account = DnsView['accounts'][number];

/** What a name is, before the query type picks which of its records to return. */
type Resolution =
  | { kind: 'refused' }
  | { kind: 'nxdomain' }
  /** The name exists (a zone apex or an empty non-terminal) but owns no records we serve. */
  | { kind: 'empty' }
  /** CNAMEs from the queried name to the final owner, then that owner's A record. */
  | { kind: 'chain'; records: DnsRecord[] };

function canonical(name: string): string {
  return name.trim().replace(/\.+$/, '').toLowerCase();
}

function zone(suffix: string): string {
  return canonical(suffix).replace(/^\.+/, '');
}

/** ARM locations are already `westeurope`-shaped; the display form ("West Europe") is tolerated. */
function regionLabel(region: string): string {
  return region.toLowerCase().replace(/\s+/g, '');
}

/** The labels of `name` in front of `suffix`, or undefined when `name` is not inside it. */
function labelsUnder(name: string, suffix: string): string[] | undefined {
  if (name === suffix) return [];
  if (!name.endsWith(`.${suffix}`)) return undefined;
  return name.slice(0, -(suffix.length + 1)).split('.');
}

function cname(name: string, target: string): DnsRecord {
  return { name, type: 'CNAME', ttl: PUBLIC_TTL, data: target };
}

function a(name: string, address: string, ttl = PUBLIC_TTL): DnsRecord {
  return { name, type: 'A', ttl, data: address };
}

/**
 * Seed 001 shows `vnetproxyv1-weu-prod.westeurope.cloudapp.azure.com`: Azure abbreviates the region
 * in the proxy's host label with a code table we do not have. The full region name is used instead,
 * which keeps the name derivable from the account alone and still reads as the same proxy.
 */
function vnetProxyName(region: string): string {
  return `vnetproxyv1-${region}-prod.${region}.${CLOUDAPP_ZONE}`;
}

function vnetProxyTail(region: string, view: DnsView): DnsRecord[] {
  const tm = `${region}.${TRAFFIC_MANAGER_ZONE}`;
  const proxy = vnetProxyName(region);
  return [cname(tm, proxy), a(proxy, view.publicAddress)];
}

/**
 * The virtual networks the source address sits in whose address space the private zone is linked
 * to: from these, `privatelink.` names resolve through the zone instead of the public proxy.
 */
function linkedNetworksOf(sourceIp: string, privateZone: string, view: DnsView): string[] {
  const linkedIds = view.snapshot.privateDnsZones
    .filter((z) => canonical(z.name) === privateZone)
    .flatMap((z) => z.links.map((l) => l.virtualNetworkId));
  if (linkedIds.length === 0) return [];
  return view.snapshot.virtualNetworks
    .filter((v) => linkedIds.some((id) => sameId(id, v.id)) && v.addressPrefixes.some((p) => ipInCidr(sourceIp, p)))
    .map((v) => v.id);
}

/**
 * The approved endpoint whose address the private zone holds for this account, as seen from the
 * given networks: one in the querier's own network wins, since that is the address reachable
 * without peering; otherwise the first. A records carry IPv4 only, so IPv6 endpoints are skipped.
 */
function privateEndpointFor(account: Account, networkIds: string[], view: DnsView): PrivateEndpoint | undefined {
  const approved = view.snapshot.privateEndpoints.filter(
    (pe) => sameId(pe.connection.accountId, account.armId) && pe.connection.status === 'Approved' && ipFamily(pe.privateIp) === 4,
  );
  const local = approved.find((pe) => {
    const vnetId = findSubnet(view.snapshot, pe.subnetId)?.vnet.id;
    return vnetId !== undefined && networkIds.some((id) => sameId(id, vnetId));
  });
  return local ?? approved[0];
}

function hasAnyEndpoint(account: Account, view: DnsView): boolean {
  return view.snapshot.privateEndpoints.some((pe) => sameId(pe.connection.accountId, account.armId));
}

function accountBySubdomain(sub: string, view: DnsView): Account | undefined {
  return view.accounts.find((acc) => acc.customSubDomainName !== undefined && acc.customSubDomainName.toLowerCase() === sub);
}

function resolveCustomDomain(labels: string[], sourceIp: string, view: DnsView, cds: string): Resolution {
  const privateZone = `privatelink.${cds}`;
  if (labels.length === 0) return { kind: 'empty' };
  if (labels.length === 1 && labels[0] === 'privatelink') return { kind: 'empty' };
  const isPrivateName = labels.length === 2 && labels[1] === 'privatelink';
  if (labels.length !== 1 && !isPrivateName) return { kind: 'nxdomain' };
  const sub = labels[0] ?? '';
  const account = accountBySubdomain(sub, view);
  if (!account) return { kind: 'nxdomain' };

  const publicName = `${sub}.${cds}`;
  const privateName = `${sub}.${privateZone}`;
  const region = regionLabel(account.region);

  const inside = linkedNetworksOf(sourceIp, privateZone, view);
  const pe = inside.length > 0 ? privateEndpointFor(account, inside, view) : undefined;
  if (pe) {
    const records = [a(privateName, pe.privateIp, PRIVATE_ZONE_TTL)];
    return { kind: 'chain', records: isPrivateName ? records : [cname(publicName, privateName), ...records] };
  }

  if (hasAnyEndpoint(account, view)) {
    const fromPrivate = [cname(privateName, `${region}.${TRAFFIC_MANAGER_ZONE}`), ...vnetProxyTail(region, view)];
    return { kind: 'chain', records: isPrivateName ? fromPrivate : [cname(publicName, privateName), ...fromPrivate] };
  }

  if (isPrivateName) return { kind: 'nxdomain' };
  // Azure's chain here runs on through cognitive<region>prod.trafficmanager.net, azure-api.net and
  // apimgmt* hosts before the address (seed 001, "DNS configuration"); those names are internal to
  // API Management and nothing addresses them directly, so the chain stops at the regional name,
  // which is the one clients and docs do use.
  const regional = `${region}.${zone(view.suffixes.apiSuffix)}`;
  return { kind: 'chain', records: [cname(publicName, regional), a(regional, view.publicAddress)] };
}

interface ZoneHandler {
  zone: string;
  /** `labels` are those in front of the zone name (none for the apex). */
  resolve: (labels: string[]) => Resolution;
}

function resolveName(name: string, sourceIp: string, view: DnsView): Resolution {
  const cds = zone(view.suffixes.customDomainSuffix);
  const api = zone(view.suffixes.apiSuffix);
  const speech = zone(view.suffixes.speechSuffix);

  // Longest zone first, in case configured suffixes nest inside one another.
  const handlers: ZoneHandler[] = [
    { zone: cds, resolve: (labels) => resolveCustomDomain(labels, sourceIp, view, cds) },
    {
      zone: api,
      resolve: (labels) => {
        if (labels.length === 0) return { kind: 'empty' };
        if (labels.length === 1 && LABEL.test(labels[0] ?? '')) return { kind: 'chain', records: [a(name, view.publicAddress)] };
        return { kind: 'nxdomain' };
      },
    },
    {
      zone: speech,
      // `{region}.{offering}.{suffix}`, e.g. westeurope.stt.speech.microsoft.com; a bare
      // `{offering}.{suffix}` is an empty non-terminal on the way there, so it exists without data.
      resolve: (labels) => {
        if (labels.length === 0 || (labels.length === 1 && LABEL.test(labels[0] ?? ''))) return { kind: 'empty' };
        if (labels.length === 2 && labels.every((l) => LABEL.test(l))) return { kind: 'chain', records: [a(name, view.publicAddress)] };
        return { kind: 'nxdomain' };
      },
    },
    {
      zone: TRAFFIC_MANAGER_ZONE,
      // Answered so a resolver following the proxy chain one hop at a time gets the same tail.
      resolve: (labels) => {
        if (labels.length === 0) return { kind: 'empty' };
        const region = labels[0] ?? '';
        if (labels.length === 1 && LABEL.test(region)) return { kind: 'chain', records: vnetProxyTail(region, view) };
        return { kind: 'nxdomain' };
      },
    },
  ];
  const zones = handlers.sort((x, y) => y.zone.length - x.zone.length);

  for (const z of zones) {
    const labels = labelsUnder(name, z.zone);
    if (labels !== undefined) return z.resolve(labels);
  }

  // cloudapp.azure.com belongs to every Azure customer; only the proxy hosts are ours to answer.
  const proxy = /^vnetproxyv1-([a-z0-9-]+)-prod\.([a-z0-9-]+)\.cloudapp\.azure\.com$/.exec(name);
  if (proxy && proxy[1] === proxy[2] && LABEL.test(proxy[1] ?? '')) return { kind: 'chain', records: [a(name, view.publicAddress)] };

  return { kind: 'refused' };
}

/**
 * The answer to one question from `sourceIp`. Type A gets the whole chain; CNAME gets the record at
 * the name only; ANY gets whatever the name itself owns; AAAA and every other type get the CNAMEs and
 * nothing at the end (NODATA), because Parlance's addresses here are IPv4.
 */
export function answerQuery(q: { name: string; type: string }, sourceIp: string, view: DnsView): DnsAnswer {
  const name = canonical(q.name);
  const resolution = resolveName(name, normalizeIp(sourceIp), view);
  switch (resolution.kind) {
    case 'refused':
      return { rcode: 'REFUSED', answers: [] };
    case 'nxdomain':
      return { rcode: 'NXDOMAIN', answers: [] };
    case 'empty':
      return { rcode: 'NOERROR', answers: [] };
    case 'chain':
      break;
  }
  const chain = resolution.records;
  const type = q.type.toUpperCase();
  let picked: DnsRecord[];
  if (type === 'A') picked = chain;
  else if (type === 'CNAME') picked = chain[0]?.type === 'CNAME' ? [chain[0]] : [];
  else if (type === 'ANY') picked = chain.slice(0, 1);
  else picked = chain.filter((r) => r.type === 'CNAME');
  // Resolvers that randomise the query's letter case (DNS 0x20) expect the owner name spelled back.
  const spelled = q.name.trim().replace(/\.+$/, '');
  return { rcode: 'NOERROR', answers: picked.map((r, i) => (i === 0 ? { ...r, name: spelled } : { ...r })) };
}
