import type { FastifyInstance } from 'fastify';
import { Errors } from '../../domain/errors.js';
import { accountArmId, type Account } from '../../domain/resources/account.js';
import { networkArmId, type ArmCoordinates } from '../../domain/resources/network-service.js';
import { sameId, type PrivateEndpoint } from '../../domain/resources/network.js';
import { inGroup, normalizeLocation, resourceNotFound, type AdminRoutesOptions, type ResourceGroupParams } from './arm.js';
import { PrivateDnsZoneBody, PrivateEndpointBody, SubnetBody, VirtualNetworkBody, VirtualNetworkLinkBody } from './schemas.js';
import { privateDnsZoneView, privateEndpointView, subnetView, virtualNetworkLinkView, virtualNetworkView } from './views.js';

interface VnetParams extends ResourceGroupParams {
  virtualNetworkName: string;
}
interface SubnetParams extends VnetParams {
  subnetName: string;
}
interface PeParams extends ResourceGroupParams {
  privateEndpointName: string;
}
interface ZoneParams extends ResourceGroupParams {
  privateZoneName: string;
}
interface LinkParams extends ZoneParams {
  virtualNetworkLinkName: string;
}

const RG = '/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.Network';
const VNET = `${RG}/virtualNetworks/:virtualNetworkName`;
const SUBNET = `${VNET}/subnets/:subnetName`;
const PE = `${RG}/privateEndpoints/:privateEndpointName`;
const ZONE = `${RG}/privateDnsZones/:privateZoneName`;
const LINK = `${ZONE}/virtualNetworkLinks/:virtualNetworkLinkName`;

const VNET_TYPE = 'Microsoft.Network/virtualNetworks';
const PE_TYPE = 'Microsoft.Network/privateEndpoints';
const ZONE_TYPE = 'Microsoft.Network/privateDnsZones';

function coordinates(p: ResourceGroupParams, name: string): ArmCoordinates {
  return { subscriptionId: p.subscriptionId, resourceGroup: p.resourceGroupName, name };
}

function assertGlobal(location: string | undefined): void {
  if (location !== undefined && location.toLowerCase() !== 'global') {
    throw Errors.invalidArgument(`Private DNS resources live in location 'global', not '${location}'.`, { armCode: 'InvalidLocation' });
  }
}

/**
 * The part of Microsoft.Network that Speech networking needs: virtual networks and subnets (with
 * service endpoints), private endpoints to accounts, private DNS zones and their links to virtual
 * networks. Field names as in the real Network and Private DNS APIs. PUT creates (201) or
 * replaces (200); DELETE answers 200, or 204 when there was nothing to delete.
 */
export async function networkRoutes(app: FastifyInstance, opts: AdminRoutesOptions): Promise<void> {
  const { network, accounts, suffixes } = opts;

  // --- virtual networks and subnets -----------------------------------------------------------------

  const vnetId = (p: VnetParams) => networkArmId(coordinates(p, p.virtualNetworkName), 'virtualNetworks');
  const vnetAt = async (p: VnetParams) => {
    const vnet = await network.getVirtualNetwork(vnetId(p));
    if (!vnet) throw resourceNotFound(VNET_TYPE, p.virtualNetworkName, p.resourceGroupName);
    return vnet;
  };

  app.get<{ Params: ResourceGroupParams }>(`${RG}/virtualNetworks`, async (req) => {
    const snapshot = await network.reload();
    return { value: snapshot.virtualNetworks.filter((v) => inGroup(v, req.params)).map((v) => virtualNetworkView(v, snapshot)) };
  });

  app.put<{ Params: VnetParams; Body: VirtualNetworkBody }>(VNET, { schema: { body: VirtualNetworkBody } }, async (req, reply) => {
    const p = req.params;
    const body = req.body;
    const { value, created } = await network.putVirtualNetwork(coordinates(p, p.virtualNetworkName), {
      location: normalizeLocation(body.location),
      ...(body.tags !== undefined ? { tags: body.tags } : {}),
      addressPrefixes: body.properties.addressSpace.addressPrefixes,
      // As in Azure, a PUT without a subnet removes it (refused while a private endpoint uses it).
      subnets: (body.properties.subnets ?? []).map((s) => ({
        name: s.name,
        addressPrefix: s.properties.addressPrefix,
        serviceEndpoints: s.properties.serviceEndpoints ?? [],
      })),
    });
    return reply.code(created ? 201 : 200).send(virtualNetworkView(value, await network.reload()));
  });

  app.get<{ Params: VnetParams }>(VNET, async (req) => virtualNetworkView(await vnetAt(req.params), await network.reload()));

  app.delete<{ Params: VnetParams }>(VNET, async (req, reply) => reply.code((await network.deleteVirtualNetwork(vnetId(req.params))) ? 200 : 204).send());

  app.get<{ Params: VnetParams }>(`${VNET}/subnets`, async (req) => {
    const vnet = await vnetAt(req.params);
    const snapshot = await network.reload();
    return { value: vnet.subnets.map((s) => subnetView(s, snapshot)) };
  });

  // The way to enable or disable a service endpoint: PUT the subnet with or without it.
  app.put<{ Params: SubnetParams; Body: SubnetBody }>(SUBNET, { schema: { body: SubnetBody } }, async (req, reply) => {
    const p = req.params;
    await vnetAt(p);
    const { value, created } = await network.putSubnet(vnetId(p), {
      name: p.subnetName,
      addressPrefix: req.body.properties.addressPrefix,
      serviceEndpoints: req.body.properties.serviceEndpoints ?? [],
    });
    return reply.code(created ? 201 : 200).send(subnetView(value, await network.reload()));
  });

  app.get<{ Params: SubnetParams }>(SUBNET, async (req) => {
    const p = req.params;
    const vnet = await vnetAt(p);
    const subnet = vnet.subnets.find((s) => s.name.toLowerCase() === p.subnetName.toLowerCase());
    if (!subnet) throw resourceNotFound(`${VNET_TYPE}/subnets`, `${p.virtualNetworkName}/${p.subnetName}`, p.resourceGroupName);
    return subnetView(subnet, await network.reload());
  });

  app.delete<{ Params: SubnetParams }>(SUBNET, async (req, reply) =>
    reply.code((await network.deleteSubnet(vnetId(req.params), req.params.subnetName)) ? 200 : 204).send(),
  );

  // --- private endpoints ------------------------------------------------------------------------------

  const peId = (p: PeParams) => networkArmId(coordinates(p, p.privateEndpointName), 'privateEndpoints');
  const targetOf = async (pe: PrivateEndpoint): Promise<Account | undefined> =>
    (await accounts.list()).find((a) => sameId(accountArmId(a), pe.connection.accountId));
  const peView = async (pe: PrivateEndpoint) => privateEndpointView(pe, await targetOf(pe), suffixes);

  app.get<{ Params: ResourceGroupParams }>(`${RG}/privateEndpoints`, async (req) => {
    const snapshot = await network.reload();
    const all = await accounts.list();
    const value = snapshot.privateEndpoints
      .filter((pe) => inGroup(pe, req.params))
      .map((pe) => privateEndpointView(pe, all.find((a) => sameId(accountArmId(a), pe.connection.accountId)), suffixes));
    return { value };
  });

  app.put<{ Params: PeParams; Body: PrivateEndpointBody }>(PE, { schema: { body: PrivateEndpointBody } }, async (req, reply) => {
    const p = req.params;
    const props = req.body.properties;
    const auto = props.privateLinkServiceConnections ?? [];
    const manual = props.manualPrivateLinkServiceConnections ?? [];
    const connection = auto[0] ?? manual[0];
    if (auto.length + manual.length !== 1 || !connection) {
      throw Errors.invalidArgument(
        'A private endpoint needs exactly one connection, in privateLinkServiceConnections (approved at once) or manualPrivateLinkServiceConnections (pending approval).',
      );
    }
    const ipConfigurations = props.ipConfigurations ?? [];
    if (ipConfigurations.length > 1) throw Errors.invalidArgument('A private endpoint to a Speech resource has one IP configuration (member default).');
    const privateIp = ipConfigurations[0]?.properties.privateIPAddress;
    const { value, created } = await network.putPrivateEndpoint(coordinates(p, p.privateEndpointName), {
      location: normalizeLocation(req.body.location),
      ...(req.body.tags !== undefined ? { tags: req.body.tags } : {}),
      subnetId: props.subnet.id,
      accountId: connection.properties.privateLinkServiceId,
      connectionName: connection.name,
      groupIds: connection.properties.groupIds ?? [],
      manual: manual.length === 1,
      ...(connection.properties.requestMessage !== undefined ? { requestMessage: connection.properties.requestMessage } : {}),
      ...(privateIp !== undefined ? { privateIp } : {}),
    });
    return reply.code(created ? 201 : 200).send(await peView(value));
  });

  app.get<{ Params: PeParams }>(PE, async (req) => {
    const pe = await network.getPrivateEndpoint(peId(req.params));
    if (!pe) throw resourceNotFound(PE_TYPE, req.params.privateEndpointName, req.params.resourceGroupName);
    return peView(pe);
  });

  app.delete<{ Params: PeParams }>(PE, async (req, reply) => reply.code((await network.deletePrivateEndpoint(peId(req.params))) ? 200 : 204).send());

  // --- private DNS zones and virtual network links ------------------------------------------------------

  const zoneId = (p: ZoneParams) => networkArmId(coordinates(p, p.privateZoneName), 'privateDnsZones');
  const zoneAt = async (p: ZoneParams) => {
    const zone = await network.getDnsZone(zoneId(p));
    if (!zone) throw resourceNotFound(ZONE_TYPE, p.privateZoneName, p.resourceGroupName);
    return zone;
  };

  app.get<{ Params: ResourceGroupParams }>(`${RG}/privateDnsZones`, async (req) => {
    const snapshot = await network.reload();
    return { value: snapshot.privateDnsZones.filter((z) => inGroup(z, req.params)).map(privateDnsZoneView) };
  });

  app.put<{ Params: ZoneParams; Body: PrivateDnsZoneBody }>(ZONE, { schema: { body: PrivateDnsZoneBody } }, async (req, reply) => {
    assertGlobal(req.body.location);
    const { value, created } = await network.putDnsZone(coordinates(req.params, req.params.privateZoneName), req.body.tags);
    return reply.code(created ? 201 : 200).send(privateDnsZoneView(value));
  });

  app.get<{ Params: ZoneParams }>(ZONE, async (req) => privateDnsZoneView(await zoneAt(req.params)));

  app.delete<{ Params: ZoneParams }>(ZONE, async (req, reply) => reply.code((await network.deleteDnsZone(zoneId(req.params))) ? 200 : 204).send());

  app.get<{ Params: ZoneParams }>(`${ZONE}/virtualNetworkLinks`, async (req) => {
    const zone = await zoneAt(req.params);
    return { value: zone.links.map((l) => virtualNetworkLinkView(zone, l)) };
  });

  app.put<{ Params: LinkParams; Body: VirtualNetworkLinkBody }>(LINK, { schema: { body: VirtualNetworkLinkBody } }, async (req, reply) => {
    const p = req.params;
    assertGlobal(req.body.location);
    const { value, created } = await network.putZoneLink(
      zoneId(p),
      p.virtualNetworkLinkName,
      req.body.properties.virtualNetwork.id,
      req.body.properties.registrationEnabled ?? false,
    );
    return reply.code(created ? 201 : 200).send(virtualNetworkLinkView(await zoneAt(p), value));
  });

  app.get<{ Params: LinkParams }>(LINK, async (req) => {
    const p = req.params;
    const zone = await zoneAt(p);
    const link = zone.links.find((l) => l.name.toLowerCase() === p.virtualNetworkLinkName.toLowerCase());
    if (!link) throw resourceNotFound(`${ZONE_TYPE}/virtualNetworkLinks`, `${p.privateZoneName}/${p.virtualNetworkLinkName}`, p.resourceGroupName);
    return virtualNetworkLinkView(zone, link);
  });

  app.delete<{ Params: LinkParams }>(LINK, async (req, reply) =>
    reply.code((await network.deleteZoneLink(zoneId(req.params), req.params.virtualNetworkLinkName)) ? 200 : 204).send(),
  );
}
