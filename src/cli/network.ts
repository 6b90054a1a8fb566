import type { Command } from 'commander';
import { API_VERSIONS, ArmError, UsageError, act, collect, usageExits, withAdminOptions, type AdminClient, type AdminFlags, type ApiVersion } from './admin-client.js';

const NET = API_VERSIONS.network;
const DNS = API_VERSIONS.privateDns;
const CS = API_VERSIONS.cognitiveServices;

interface VnetCreateFlags extends AdminFlags {
  location: string;
  addressPrefix: string[];
}

interface SubnetFlags extends AdminFlags {
  addressPrefix?: string;
  serviceEndpoint?: string[];
  clearServiceEndpoints?: boolean;
}

interface PeCreateFlags extends AdminFlags {
  location: string;
  subnet: string;
  account: string;
  accountResourceGroup?: string;
  connectionName?: string;
  manual?: boolean;
  requestMessage?: string;
  ip?: string;
}

interface DecideFlags extends AdminFlags {
  description?: string;
}

interface LinkFlags extends AdminFlags {
  vnet: string;
  registrationEnabled?: boolean;
}

interface SubnetResource {
  properties: { addressPrefix: string; serviceEndpoints?: { service: string; locations?: string[] }[] };
}

interface VnetResource {
  name: string;
  properties: { subnets?: ({ name: string } & SubnetResource)[] };
}

const endpointsOf = (services: string[]) => services.map((service) => ({ service }));

async function existing<T>(c: AdminClient, path: string, v: ApiVersion): Promise<T | undefined> {
  try {
    return (await c.get(path, v)) as T;
  } catch (e) {
    if (e instanceof ArmError && e.status === 404) return undefined;
    throw e;
  }
}

function registerVnetCommands(network: Command): void {
  const vnet = network.command('vnet').description('virtual networks and their subnets (Microsoft.Network/virtualNetworks)');

  withAdminOptions(vnet.command('create').description('create a virtual network, or change its address space (its subnets are kept)').argument('<name>', 'virtual network name'))
    .requiredOption('--location <region>', 'Azure region')
    .requiredOption('--address-prefix <cidr>', 'address space (repeatable)', collect)
    .action(async (name: string, f: VnetCreateFlags) =>
      act(f, async (c) => {
        // A PUT without a subnet deletes it, as in Azure: carry the current ones over.
        const current = await existing<VnetResource>(c, c.networkPath('virtualNetworks', name), NET);
        const subnets = (current?.properties.subnets ?? []).map((s) => ({
          name: s.name,
          properties: { addressPrefix: s.properties.addressPrefix, serviceEndpoints: endpointsOf((s.properties.serviceEndpoints ?? []).map((e) => e.service)) },
        }));
        return c.put(c.networkPath('virtualNetworks', name), NET, {
          location: f.location,
          properties: { addressSpace: { addressPrefixes: f.addressPrefix }, subnets },
        });
      }),
    );

  withAdminOptions(vnet.command('show').description('show a virtual network').argument('<name>', 'virtual network name')).action(async (name: string, f: AdminFlags) =>
    act(f, (c) => c.get(c.networkPath('virtualNetworks', name), NET)),
  );

  withAdminOptions(vnet.command('list').description('list the virtual networks of the resource group')).action(async (f: AdminFlags) =>
    act(f, (c) => c.get(c.networkPath('virtualNetworks'), NET)),
  );

  withAdminOptions(vnet.command('delete').description('delete a virtual network (refused while a private endpoint uses it)').argument('<name>', 'virtual network name')).action(
    async (name: string, f: AdminFlags) => act(f, (c) => c.delete(c.networkPath('virtualNetworks', name), NET)),
  );

  const subnet = vnet.command('subnet').description('subnets, and their service endpoints');

  withAdminOptions(
    subnet
      .command('create')
      .description('create (or replace) a subnet')
      .argument('<vnet>', 'virtual network name')
      .argument('<subnet>', 'subnet name'),
  )
    .requiredOption('--address-prefix <cidr>', 'address range, inside the address space of the virtual network')
    .option('--service-endpoint <service>', 'service endpoint to enable, e.g. Microsoft.CognitiveServices (repeatable)', collect)
    .action(async (vnetName: string, name: string, f: SubnetFlags) =>
      act(f, (c) =>
        c.put(c.subnetPath(vnetName, name), NET, { properties: { addressPrefix: f.addressPrefix, serviceEndpoints: endpointsOf(f.serviceEndpoint ?? []) } }),
      ),
    );

  withAdminOptions(
    subnet
      .command('update')
      .description('change a subnet: what is not given is kept; --service-endpoint replaces the list (enable), --clear-service-endpoints empties it (disable)')
      .argument('<vnet>', 'virtual network name')
      .argument('<subnet>', 'subnet name'),
  )
    .option('--address-prefix <cidr>', 'new address range')
    .option('--service-endpoint <service>', 'service endpoint, e.g. Microsoft.CognitiveServices (repeatable; replaces the list)', collect)
    .option('--clear-service-endpoints', 'disable every service endpoint')
    .action(async (vnetName: string, name: string, f: SubnetFlags) =>
      act(f, async (c) => {
        if (f.serviceEndpoint !== undefined && f.clearServiceEndpoints) throw new UsageError('give --service-endpoint or --clear-service-endpoints, not both');
        const current = (await c.get(c.subnetPath(vnetName, name), NET)) as SubnetResource;
        const services = f.clearServiceEndpoints ? [] : (f.serviceEndpoint ?? (current.properties.serviceEndpoints ?? []).map((e) => e.service));
        return c.put(c.subnetPath(vnetName, name), NET, {
          properties: { addressPrefix: f.addressPrefix ?? current.properties.addressPrefix, serviceEndpoints: endpointsOf(services) },
        });
      }),
    );

  withAdminOptions(subnet.command('show').description('show a subnet').argument('<vnet>', 'virtual network name').argument('<subnet>', 'subnet name')).action(
    async (vnetName: string, name: string, f: AdminFlags) => act(f, (c) => c.get(c.subnetPath(vnetName, name), NET)),
  );

  withAdminOptions(subnet.command('list').description('list the subnets of a virtual network').argument('<vnet>', 'virtual network name')).action(
    async (vnetName: string, f: AdminFlags) => act(f, (c) => c.get(c.subnetPath(vnetName), NET)),
  );

  withAdminOptions(
    subnet.command('delete').description('delete a subnet (refused while a private endpoint uses it)').argument('<vnet>', 'virtual network name').argument('<subnet>', 'subnet name'),
  ).action(async (vnetName: string, name: string, f: AdminFlags) => act(f, (c) => c.delete(c.subnetPath(vnetName, name), NET)));
}

function registerDnsZoneCommands(network: Command): void {
  const zone = network.command('dns-zone').description('private DNS zones and their links to virtual networks (Microsoft.Network/privateDnsZones)');

  withAdminOptions(zone.command('create').description('create a private DNS zone, e.g. privatelink.cognitiveservices.azure.com').argument('<zone>', 'zone name')).action(
    async (name: string, f: AdminFlags) => act(f, (c) => c.put(c.networkPath('privateDnsZones', name), DNS, { location: 'global' })),
  );

  withAdminOptions(zone.command('show').description('show a private DNS zone').argument('<zone>', 'zone name')).action(async (name: string, f: AdminFlags) =>
    act(f, (c) => c.get(c.networkPath('privateDnsZones', name), DNS)),
  );

  withAdminOptions(zone.command('list').description('list the private DNS zones of the resource group')).action(async (f: AdminFlags) =>
    act(f, (c) => c.get(c.networkPath('privateDnsZones'), DNS)),
  );

  withAdminOptions(zone.command('delete').description('delete a private DNS zone (unlink it first)').argument('<zone>', 'zone name')).action(
    async (name: string, f: AdminFlags) => act(f, (c) => c.delete(c.networkPath('privateDnsZones', name), DNS)),
  );

  withAdminOptions(
    zone.command('link').description('link a private DNS zone to a virtual network').argument('<zone>', 'zone name').argument('<link>', 'link name'),
  )
    .requiredOption('--vnet <vnet>', 'virtual network name (in this resource group) or id')
    .option('--registration-enabled', 'auto-registration of the virtual machines of the network')
    .action(async (name: string, link: string, f: LinkFlags) =>
      act(f, (c) =>
        c.put(`${c.networkPath('privateDnsZones', name)}/virtualNetworkLinks/${encodeURIComponent(link)}`, DNS, {
          location: 'global',
          properties: { virtualNetwork: { id: c.vnetId(f.vnet) }, registrationEnabled: f.registrationEnabled === true },
        }),
      ),
    );

  withAdminOptions(zone.command('links').description('list the virtual network links of a private DNS zone').argument('<zone>', 'zone name')).action(
    async (name: string, f: AdminFlags) => act(f, (c) => c.get(`${c.networkPath('privateDnsZones', name)}/virtualNetworkLinks`, DNS)),
  );

  withAdminOptions(zone.command('unlink').description('remove a virtual network link').argument('<zone>', 'zone name').argument('<link>', 'link name')).action(
    async (name: string, link: string, f: AdminFlags) =>
      act(f, (c) => c.delete(`${c.networkPath('privateDnsZones', name)}/virtualNetworkLinks/${encodeURIComponent(link)}`, DNS)),
  );
}

function registerPrivateEndpointCommands(program: Command): void {
  const pe = usageExits(program.command('private-endpoint').description('private endpoints to Speech resources, and the decisions on their connections'));

  withAdminOptions(pe.command('create').description('create a private endpoint to a Speech resource (it needs a custom domain)').argument('<name>', 'private endpoint name'))
    .requiredOption('--location <region>', 'Azure region')
    .requiredOption('--subnet <subnet>', '<vnet>/<subnet> (in this resource group) or a subnet id')
    .requiredOption('--account <account>', 'the Speech resource: account name or id')
    .option('--account-resource-group <name>', "the account's resource group (default: --resource-group)")
    .option('--connection-name <name>', 'name of the private link service connection (default: the endpoint name)')
    .option('--manual', 'ask for approval instead of connecting at once (status Pending until `private-endpoint approve`)')
    .option('--request-message <text>', 'message to the owner of the resource, with --manual')
    .option('--ip <address>', 'static private IP address in the subnet (default: the first free one)')
    .action(async (name: string, f: PeCreateFlags) =>
      act(f, (c) => {
        const connection = {
          name: f.connectionName ?? name,
          properties: {
            privateLinkServiceId: c.accountId(f.account, f.accountResourceGroup),
            groupIds: ['account'],
            ...(f.requestMessage !== undefined ? { requestMessage: f.requestMessage } : {}),
          },
        };
        return c.put(c.networkPath('privateEndpoints', name), NET, {
          location: f.location,
          properties: {
            subnet: { id: c.subnetId(f.subnet) },
            ...(f.manual ? { manualPrivateLinkServiceConnections: [connection] } : { privateLinkServiceConnections: [connection] }),
            ...(f.ip !== undefined ? { ipConfigurations: [{ name: 'ipconfig1', properties: { privateIPAddress: f.ip, groupId: 'account', memberName: 'default' } }] } : {}),
          },
        });
      }),
    );

  withAdminOptions(pe.command('show').description('show a private endpoint').argument('<name>', 'private endpoint name')).action(async (name: string, f: AdminFlags) =>
    act(f, (c) => c.get(c.networkPath('privateEndpoints', name), NET)),
  );

  withAdminOptions(pe.command('list').description('list the private endpoints of the resource group')).action(async (f: AdminFlags) =>
    act(f, (c) => c.get(c.networkPath('privateEndpoints'), NET)),
  );

  withAdminOptions(pe.command('delete').description('delete a private endpoint').argument('<name>', 'private endpoint name')).action(async (name: string, f: AdminFlags) =>
    act(f, (c) => c.delete(c.networkPath('privateEndpoints', name), NET)),
  );

  withAdminOptions(pe.command('connections').description('list the private endpoint connections of a Speech resource').argument('<account>', 'account name')).action(
    async (account: string, f: AdminFlags) => act(f, (c) => c.get(`${c.accountPath(account)}/privateEndpointConnections`, CS)),
  );

  for (const [verb, status] of [
    ['approve', 'Approved'],
    ['reject', 'Rejected'],
  ] as const) {
    withAdminOptions(
      pe
        .command(verb)
        .description(`${verb} a private endpoint connection of a Speech resource (as its owner)`)
        .argument('<account>', 'account name (in --resource-group)')
        .argument('<connection>', 'connection name'),
    )
      .option('--description <text>', 'reason, shown on the connection')
      .action(async (account: string, connection: string, f: DecideFlags) =>
        act(f, (c) =>
          c.put(`${c.accountPath(account)}/privateEndpointConnections/${encodeURIComponent(connection)}`, CS, {
            properties: { privateLinkServiceConnectionState: { status, description: f.description ?? `${status} with the Parlance CLI.` } },
          }),
        ),
      );
  }
}

/**
 * `parlance network …` (virtual networks, subnets and their service endpoints, private DNS zones)
 * and `parlance private-endpoint …`, through the control plane.
 */
export function registerNetworkCommands(program: Command): void {
  const network = usageExits(program.command('network').description('virtual networks, subnets and private DNS zones through the control plane'));
  registerVnetCommands(network);
  registerDnsZoneCommands(network);
  registerPrivateEndpointCommands(program);
}
