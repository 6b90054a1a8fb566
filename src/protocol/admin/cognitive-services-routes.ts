import type { FastifyInstance } from 'fastify';
import { Errors } from '../../domain/errors.js';
import { OPEN_NETWORK_ACLS, accountArmId, type Account, type AccountSettings, type KeyName, type NetworkAcls } from '../../domain/resources/account.js';
import { sameId } from '../../domain/resources/network.js';
import { accountNamed, inGroup, normalizeLocation, resourceNotFound, type AdminRoutesOptions, type ResourceGroupParams } from './arm.js';
import {
  AccountPatchBody,
  AccountPutBody,
  CheckDomainAvailabilityBody,
  PrivateEndpointConnectionBody,
  RegenerateKeyBody,
  type NetworkRuleSetBody,
} from './schemas.js';
import { ACCOUNT_TYPE, accountView, connectionView, connectionsOfAccount, privateLinkResourcesView } from './views.js';

interface AccountParams extends ResourceGroupParams {
  accountName: string;
}
interface ConnectionParams extends AccountParams {
  privateEndpointConnectionName: string;
}

const RG = '/:subscriptionId/resourceGroups/:resourceGroupName/providers/Microsoft.CognitiveServices';
const ACCOUNT = `${RG}/accounts/:accountName`;
const CONNECTION = `${ACCOUNT}/privateEndpointConnections/:privateEndpointConnectionName`;

const KIND = 'SpeechServices';

function toNetworkAcls(body: NetworkRuleSetBody): NetworkAcls {
  return {
    defaultAction: body.defaultAction,
    bypass: body.bypass ?? 'AzureServices',
    ipRules: (body.ipRules ?? []).map((r) => ({ value: r.value })),
    virtualNetworkRules: (body.virtualNetworkRules ?? []).map((r) => ({ id: r.id, ignoreMissingVnetServiceEndpoint: r.ignoreMissingVnetServiceEndpoint ?? false })),
  };
}

/** Only the fields present; the domain validates values (sku, publicNetworkAccess) with ARM codes. */
function givenSettings(body: AccountPatchBody): Partial<AccountSettings> {
  const s: Partial<AccountSettings> = {};
  const p = body.properties;
  if (body.sku !== undefined) s.sku = body.sku.name.toUpperCase() as Account['sku'];
  if (body.tags !== undefined) s.tags = body.tags;
  if (p?.customSubDomainName !== undefined) s.customSubDomainName = p.customSubDomainName;
  if (p?.publicNetworkAccess !== undefined) s.publicNetworkAccess = p.publicNetworkAccess as Account['publicNetworkAccess'];
  if (p?.networkAcls !== undefined) s.networkAcls = toNetworkAcls(p.networkAcls);
  if (p?.disableLocalAuth !== undefined) s.disableLocalAuth = p.disableLocalAuth;
  return s;
}

/**
 * PUT replaces the resource: what the body leaves out returns to its default, as when an ARM
 * template is redeployed. The custom subdomain is the exception: it cannot be removed, so leaving it
 * out keeps it.
 */
function replacementSettings(body: AccountPutBody): Partial<AccountSettings> {
  return {
    tags: {},
    publicNetworkAccess: 'Enabled',
    networkAcls: OPEN_NETWORK_ACLS,
    disableLocalAuth: false,
    ...givenSettings(body),
  };
}

function assertKind(kind: string | undefined): void {
  if (kind === undefined) throw Errors.invalidArgument(`The kind of the account is required; Parlance serves kind '${KIND}'.`, { armCode: 'InvalidKind' });
  if (kind.toLowerCase() !== KIND.toLowerCase()) {
    throw Errors.invalidArgument(`Kind '${kind}' is not supported: Parlance serves kind '${KIND}' only.`, { armCode: 'InvalidKind' });
  }
}

function assertSameLocation(account: Account, location: string | undefined): void {
  if (location !== undefined && normalizeLocation(location) !== account.region) {
    throw Errors.conflict(`The location of resource '${account.name}' cannot be changed from '${account.region}' to '${location}'.`, { armCode: 'LocationCannotBeChanged' });
  }
}

/**
 * Microsoft.CognitiveServices, paths and shapes as in the 2024-10-01 specification: accounts, their
 * keys, subdomain availability, private endpoint connections and private link resources.
 */
export async function cognitiveServicesRoutes(app: FastifyInstance, opts: AdminRoutesOptions): Promise<void> {
  const { accounts, network, suffixes } = opts;
  // Reads reload the network snapshot rather than use the cached one: another process sharing the
  // database may have changed it, and an ARM client expects to read its own writes.

  const view = async (a: Account) => accountView(a, await network.reload(), suffixes);

  /** The account the path names, or 404 (also when the name lives in another subscription or group). */
  const accountAt = async (p: AccountParams): Promise<Account> => {
    const a = await accountNamed(accounts, p.accountName);
    if (!a || !inGroup(a, p)) throw resourceNotFound(ACCOUNT_TYPE, p.accountName, p.resourceGroupName);
    return a;
  };

  app.put<{ Params: AccountParams; Body: AccountPutBody }>(ACCOUNT, { schema: { body: AccountPutBody } }, async (req, reply) => {
    const p = req.params;
    const body = req.body;
    assertKind(body.kind);
    const existing = await accountNamed(accounts, p.accountName);
    if (existing && !inGroup(existing, p)) {
      throw Errors.conflict(
        `An account named '${existing.name}' already exists in another subscription or resource group; account names are unique within a Parlance installation.`,
        { armCode: 'Conflict' },
      );
    }
    if (existing) {
      assertSameLocation(existing, body.location);
      const updated = await accounts.update(existing.name, replacementSettings(body));
      return reply.code(200).send(await view(updated));
    }
    const created = await accounts.create({
      subscriptionId: p.subscriptionId,
      resourceGroup: p.resourceGroupName,
      name: p.accountName,
      region: normalizeLocation(body.location),
      settings: replacementSettings(body),
    });
    return reply.code(201).send(await view(created));
  });

  app.patch<{ Params: AccountParams; Body: AccountPatchBody }>(ACCOUNT, { schema: { body: AccountPatchBody } }, async (req) => {
    const account = await accountAt(req.params);
    if (req.body.kind !== undefined) assertKind(req.body.kind);
    assertSameLocation(account, req.body.location);
    return view(await accounts.update(account.name, givenSettings(req.body)));
  });

  app.get<{ Params: AccountParams }>(ACCOUNT, async (req) => view(await accountAt(req.params)));

  app.delete<{ Params: AccountParams }>(ACCOUNT, async (req, reply) => {
    const account = await accountNamed(accounts, req.params.accountName);
    if (!account || !inGroup(account, req.params) || !(await accounts.delete(account.name))) return reply.code(204).send();
    // The endpoints stay (they belong to the network side) but lose their connection, as in Azure.
    const armId = accountArmId(account);
    for (const pe of connectionsOfAccount(account, await network.reload())) {
      await network.setConnectionStatus(armId, pe.connection.name, 'Disconnected', 'The private link service was deleted.');
    }
    return reply.code(200).send();
  });

  app.get<{ Params: ResourceGroupParams }>(`${RG}/accounts`, async (req) => {
    const snapshot = await network.reload();
    return { value: (await accounts.list()).filter((a) => inGroup(a, req.params)).map((a) => accountView(a, snapshot, suffixes)) };
  });

  app.get<{ Params: { subscriptionId: string } }>('/:subscriptionId/providers/Microsoft.CognitiveServices/accounts', async (req) => {
    const snapshot = await network.reload();
    const value = (await accounts.list()).filter((a) => sameId(a.subscriptionId, req.params.subscriptionId)).map((a) => accountView(a, snapshot, suffixes));
    return { value };
  });

  // --- keys -----------------------------------------------------------------------------------------

  app.post<{ Params: AccountParams }>(`${ACCOUNT}/listKeys`, async (req) => {
    const a = await accountAt(req.params);
    return { key1: a.key1, key2: a.key2 };
  });

  app.post<{ Params: AccountParams; Body: RegenerateKeyBody }>(`${ACCOUNT}/regenerateKey`, { schema: { body: RegenerateKeyBody } }, async (req) => {
    const a = await accountAt(req.params);
    const name = req.body.keyName.toLowerCase();
    if (name !== 'key1' && name !== 'key2') {
      throw Errors.invalidArgument(`Key name '${req.body.keyName}' is not valid: use Key1 or Key2.`, { armCode: 'InvalidKeyName' });
    }
    const updated = await accounts.regenerateKey(a.name, name as KeyName);
    if (!updated) throw resourceNotFound(ACCOUNT_TYPE, req.params.accountName, req.params.resourceGroupName);
    return { key1: updated.key1, key2: updated.key2 };
  });

  // --- custom subdomains ----------------------------------------------------------------------------

  // Subdomains are unique per installation, whatever the subscription in the path.
  app.post<{ Params: { subscriptionId: string }; Body: CheckDomainAvailabilityBody }>(
    '/:subscriptionId/providers/Microsoft.CognitiveServices/checkDomainAvailability',
    { schema: { body: CheckDomainAvailabilityBody } },
    async (req) => {
      const { subdomainName, type, kind } = req.body;
      const result = await accounts.isSubdomainAvailable(subdomainName);
      return {
        isSubdomainAvailable: result.available,
        ...(result.reason !== undefined ? { reason: result.reason } : {}),
        subdomainName,
        type,
        ...(kind !== undefined ? { kind } : {}),
      };
    },
  );

  // --- private endpoint connections and private link resources ----------------------------------------

  const connectionAt = async (p: ConnectionParams) => {
    const account = await accountAt(p);
    const lower = p.privateEndpointConnectionName.toLowerCase();
    const pe = connectionsOfAccount(account, await network.reload()).find((e) => e.connection.name.toLowerCase() === lower);
    return { account, pe };
  };
  const connectionNotFound = (p: ConnectionParams) =>
    resourceNotFound(`${ACCOUNT_TYPE}/privateEndpointConnections`, `${p.accountName}/${p.privateEndpointConnectionName}`, p.resourceGroupName);

  app.get<{ Params: AccountParams }>(`${ACCOUNT}/privateEndpointConnections`, async (req) => {
    const account = await accountAt(req.params);
    return { value: connectionsOfAccount(account, await network.reload()).map((pe) => connectionView(account, pe)) };
  });

  app.get<{ Params: ConnectionParams }>(CONNECTION, async (req) => {
    const { account, pe } = await connectionAt(req.params);
    if (!pe) throw connectionNotFound(req.params);
    return connectionView(account, pe);
  });

  // Connections are created by private endpoints (Microsoft.Network); the account side only decides on them.
  app.put<{ Params: ConnectionParams; Body: PrivateEndpointConnectionBody }>(CONNECTION, { schema: { body: PrivateEndpointConnectionBody } }, async (req) => {
    const { account, pe } = await connectionAt(req.params);
    if (!pe) throw connectionNotFound(req.params);
    const state = req.body.properties.privateLinkServiceConnectionState;
    const updated = await network.setConnectionStatus(accountArmId(account), pe.connection.name, state.status, state.description ?? '');
    if (!updated) throw connectionNotFound(req.params);
    return connectionView(account, updated);
  });

  app.delete<{ Params: ConnectionParams }>(CONNECTION, async (req, reply) => {
    const account = await accountNamed(accounts, req.params.accountName);
    if (!account || !inGroup(account, req.params)) return reply.code(204).send();
    const { pe } = await connectionAt(req.params);
    if (!pe) return reply.code(204).send();
    await network.setConnectionStatus(accountArmId(account), pe.connection.name, 'Disconnected', 'Removed by the owner of the private link service.');
    return reply.code(200).send();
  });

  app.get<{ Params: AccountParams }>(`${ACCOUNT}/privateLinkResources`, async (req) => privateLinkResourcesView(await accountAt(req.params), suffixes));
}
