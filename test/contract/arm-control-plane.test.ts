import pino from 'pino';
import { QuotaService } from '../../src/domain/quota/quota-service.js';
import { SqlQuotaLedger, SqlUsageStore } from '../../src/storage/sql/quota-ledger.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { AccountService } from '../../src/domain/resources/account-service.js';
import { NetworkService } from '../../src/domain/resources/network-service.js';
import { systemClock } from '../../src/kernel/time.js';
import { adminRoutes } from '../../src/protocol/admin/routes.js';
import { openSqlite } from '../../src/storage/sqlite/open.js';
import { SqlAccountRepository } from '../../src/storage/sql/account-repository.js';
import { SqlNetworkRepository } from '../../src/storage/sql/network-repository.js';
import type { Database } from '../../src/storage/sql/schema.js';
import { assertValidResponse } from '../helpers/openapi.js';

const TOKEN = 'admin-token-0123456789abcdef';
const SUB = '11111111-2222-3333-4444-555555555555';
const RG = 'speech-rg';
const SUFFIXES = { speechSuffix: 'speech.microsoft.com', apiSuffix: 'api.cognitive.microsoft.com', customDomainSuffix: 'cognitiveservices.azure.com' };
const SPEC = 'arm-2024-10-01';

const CS = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.CognitiveServices`;
const NET = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Network`;
const account = (name: string, rg = RG, sub = SUB) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.CognitiveServices/accounts/${name}`;
const VNET = `${NET}/virtualNetworks/vnet1`;
const SUBNET = `${VNET}/subnets/default`;
const PE1 = `${NET}/privateEndpoints/pe1`;
const PE2 = `${NET}/privateEndpoints/pe2`;
const ZONE = `${NET}/privateDnsZones/privatelink.cognitiveservices.azure.com`;

// Response bodies are loose JSON, checked field by field here and as a whole against the spec.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Harness {
  app: FastifyInstance;
  db: Kysely<Database>;
  close(): Promise<void>;
}

/**
 * The control plane over real SQLite, beside a stand-in data plane that has its own error and 404
 * handling (as in the app), to show that the admin scope does not leak into it.
 */
async function open(dataDir: string): Promise<Harness> {
  const db = await openSqlite(dataDir);
  const accountRepo = new SqlAccountRepository(db);
  const network = new NetworkService(new SqlNetworkRepository(db, () => new Date().toISOString()), accountRepo, systemClock);
  const accounts = new AccountService(accountRepo, systemClock, () => network.snapshot());
  const app = Fastify({ logger: false });
  const quotas = new QuotaService({ ledger: new SqlQuotaLedger(db), usage: new SqlUsageStore(db), clock: systemClock, logger: pino({ level: 'silent' }) });
  await app.register(adminRoutes, { accounts, network, quotas, adminToken: TOKEN, suffixes: SUFFIXES });
  await app.register(async (scope) => {
    scope.setErrorHandler(async (_err, _req, reply) => reply.code(400).send({ error: { code: 'DataPlane', message: 'data plane handler' } }));
    scope.post('/cognitiveservices/v1', async () => {
      throw new Error('boom');
    });
  });
  await app.ready();
  return {
    app,
    db,
    async close() {
      await app.close();
      await quotas.close();
      await db.destroy();
    },
  };
}

describe('ARM control plane (Microsoft.CognitiveServices + Microsoft.Network)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parlance-arm-'));
  let h: Harness;

  before(async () => {
    h = await open(dataDir);
  });
  after(async () => {
    await h.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** One call with the admin token and an api-version; the body parsed when there is one. */
  async function call(method: string, url: string, payload?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Json; headers: Record<string, unknown> }> {
    const res = await h.app.inject({
      method: method as 'GET',
      url: `${url}${url.includes('?') ? '&' : '?'}api-version=2024-10-01`,
      headers: { authorization: `Bearer ${TOKEN}`, ...headers },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    return { status: res.statusCode, body: res.body === '' ? undefined : res.json(), headers: res.headers };
  }

  /** A call whose status must be `status`; the body is checked against the spec's operation when `op` is given. */
  async function expect(status: number, op: string | undefined, method: string, url: string, payload?: unknown): Promise<Json> {
    const res = await call(method, url, payload);
    assert.equal(res.status, status, `${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`);
    if (op) assertValidResponse(SPEC, op, status, res.body);
    return res.body;
  }

  const armError = (body: Json): { code: string; message: string } => {
    assert.equal(typeof body?.error?.code, 'string', JSON.stringify(body));
    assert.equal(typeof body.error.message, 'string');
    return body.error as { code: string; message: string };
  };

  let key1 = '';
  let key2 = '';

  it('creates an account: 201, the ARM Account shape, regional endpoints', async () => {
    const body = await expect(201, 'Accounts_Create', 'PUT', account('res1'), {
      location: 'West Europe',
      kind: 'SpeechServices',
      sku: { name: 'S0' },
      tags: { team: 'speech' },
    });
    assert.equal(body.id, account('res1'));
    assert.equal(body.name, 'res1');
    assert.equal(body.type, 'Microsoft.CognitiveServices/accounts');
    assert.equal(body.kind, 'SpeechServices');
    assert.equal(body.location, 'westeurope');
    assert.deepEqual(body.sku, { name: 'S0' });
    assert.deepEqual(body.tags, { team: 'speech' });
    assert.match(body.etag, /^".+"$/);
    const p = body.properties;
    assert.equal(p.provisioningState, 'Succeeded');
    assert.equal(p.endpoint, 'https://westeurope.api.cognitive.microsoft.com/');
    assert.deepEqual(p.endpoints, {
      'Speech Services Speech to Text': 'https://westeurope.stt.speech.microsoft.com',
      'Speech Services Text to Speech': 'https://westeurope.tts.speech.microsoft.com',
      Token: 'https://westeurope.api.cognitive.microsoft.com/sts/v1.0/issueToken',
      'Speech Services Custom Speech': 'https://westeurope.api.cognitive.microsoft.com/speechtotext',
    });
    assert.equal(p.customSubDomainName, undefined);
    assert.equal(p.publicNetworkAccess, 'Enabled');
    assert.deepEqual(p.networkAcls, { defaultAction: 'Allow', bypass: 'AzureServices', ipRules: [], virtualNetworkRules: [] });
    assert.equal(p.disableLocalAuth, false);
    assert.deepEqual(p.privateEndpointConnections, []);
    assert.equal(p.isMigrated, false);
    assert.deepEqual(p.capabilities, []);
    assert.ok(!Number.isNaN(Date.parse(p.dateCreated)));
  });

  it('401 AuthenticationFailed without the admin token, with a wrong one, and with a resource key', async () => {
    const keys = await expect(200, 'Accounts_ListKeys', 'POST', `${account('res1')}/listKeys`);
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer not-the-admin-token' },
      { authorization: `Bearer ${keys.key1 as string}` },
      { 'ocp-apim-subscription-key': keys.key1 as string },
      { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` },
    ];
    for (const headers of attempts) {
      const res = await h.app.inject({ method: 'GET', url: `${account('res1')}?api-version=2024-10-01`, headers });
      assert.equal(res.statusCode, 401, JSON.stringify(headers));
      assert.equal(armError(res.json()).code, 'AuthenticationFailed');
      assert.match(String(res.headers['www-authenticate']), /^Bearer/);
      assertValidResponse(SPEC, 'Accounts_Get', 401, res.json());
    }
    // Authentication comes first: an unauthenticated body is never read.
    const bad = await h.app.inject({ method: 'PUT', url: account('x'), headers: { 'content-type': 'application/json' }, payload: '{nope' });
    assert.equal(bad.statusCode, 401);
  });

  it('400 MissingApiVersionParameter without api-version (any value is accepted)', async () => {
    const res = await h.app.inject({ method: 'GET', url: account('res1'), headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.statusCode, 400);
    assert.equal(armError(res.json()).code, 'MissingApiVersionParameter');
    assertValidResponse(SPEC, 'Accounts_Get', 400, res.json());
    const other = await h.app.inject({ method: 'GET', url: `${account('res1')}?api-version=2023-05-01`, headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(other.statusCode, 200);
  });

  it('unknown control-plane paths get an ARM 404; the data plane beside it keeps its own handlers', async () => {
    const unknown = await call('GET', `/subscriptions/${SUB}/providers/Microsoft.Compute/virtualMachines`);
    assert.equal(unknown.status, 404);
    assert.equal(armError(unknown.body).code, 'NotFound');
    const lower = await call('GET', account('res1').replace('resourceGroups', 'resourcegroups'));
    assert.equal(lower.status, 404);
    assert.match(armError(lower.body).message, /casing/);
    const dataPlane = await h.app.inject({ method: 'POST', url: '/cognitiveservices/v1' });
    assert.equal(dataPlane.statusCode, 400);
    assert.equal(dataPlane.json().error.code, 'DataPlane');
    const rootMissing = await h.app.inject({ method: 'GET', url: '/nowhere' });
    assert.equal(rootMissing.statusCode, 404);
    assert.notEqual(rootMissing.json().error?.code, 'ResourceNotFound', 'Fastify default 404 outside /subscriptions');
  });

  it('request validation: kind, sku, body schema, JSON syntax', async () => {
    const wrongKind = await call('PUT', account('res9'), { location: 'westeurope', kind: 'TextAnalytics', sku: { name: 'S0' } });
    assert.equal(wrongKind.status, 400);
    assert.equal(armError(wrongKind.body).code, 'InvalidKind');
    assertValidResponse(SPEC, 'Accounts_Create', 400, wrongKind.body);
    const noSku = await call('PUT', account('res9'), { location: 'westeurope', kind: 'SpeechServices' });
    assert.equal(noSku.status, 400);
    assert.equal(armError(noSku.body).code, 'InvalidRequestContent');
    const badSku = await call('PUT', account('res9'), { location: 'westeurope', kind: 'SpeechServices', sku: { name: 'S9' } });
    assert.equal(badSku.status, 400);
    assert.equal(armError(badSku.body).code, 'InvalidSkuName');
    const syntax = await h.app.inject({
      method: 'PUT',
      url: `${account('res9')}?api-version=2024-10-01`,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: '{"location": ',
    });
    assert.equal(syntax.statusCode, 400);
    assert.equal(armError(syntax.json()).code, 'InvalidRequestContent');
    const badAction = await call('PATCH', account('res1'), { properties: { networkAcls: { defaultAction: 'Maybe' } } });
    assert.equal(badAction.status, 400);
    assert.equal(armError(badAction.body).code, 'InvalidRequestContent');
    await expect(404, 'Accounts_Get', 'GET', account('res9'));
  });

  it('GET: 200 by name (any case); 404 with ARM wording, also under another resource group', async () => {
    const got = await expect(200, 'Accounts_Get', 'GET', account('res1'));
    assert.equal(got.name, 'res1');
    const upper = await expect(200, 'Accounts_Get', 'GET', account('RES1'));
    assert.equal(upper.id, account('res1'));
    const missing = await expect(404, 'Accounts_Get', 'GET', account('nope'));
    assert.equal(armError(missing).code, 'ResourceNotFound');
    assert.match(missing.error.message, /The Resource 'Microsoft.CognitiveServices\/accounts\/nope' under resource group 'speech-rg' was not found/);
    const elsewhere = await expect(404, 'Accounts_Get', 'GET', account('res1', 'other-rg'));
    assert.equal(armError(elsewhere).code, 'ResourceNotFound');
  });

  it('lists accounts by subscription and by resource group', async () => {
    const bySub = await expect(200, 'Accounts_List', 'GET', `/subscriptions/${SUB}/providers/Microsoft.CognitiveServices/accounts`);
    assert.deepEqual(bySub.value.map((a: Json) => a.name), ['res1']);
    const byGroup = await expect(200, 'Accounts_ListByResourceGroup', 'GET', `${CS}/accounts`);
    assert.deepEqual(byGroup.value.map((a: Json) => a.name), ['res1']);
    const otherGroup = await expect(200, 'Accounts_ListByResourceGroup', 'GET', `/subscriptions/${SUB}/resourceGroups/empty/providers/Microsoft.CognitiveServices/accounts`);
    assert.deepEqual(otherGroup.value, []);
  });

  it('PATCH applies only the given fields (network rules: Deny + IP rules)', async () => {
    const body = await expect(200, 'Accounts_Update', 'PATCH', account('res1'), {
      properties: { networkAcls: { defaultAction: 'Deny', ipRules: [{ value: '127.0.0.1' }, { value: '10.1.0.0/16' }] } },
    });
    assert.deepEqual(body.properties.networkAcls, {
      defaultAction: 'Deny',
      bypass: 'AzureServices',
      ipRules: [{ value: '127.0.0.1' }, { value: '10.1.0.0/16' }],
      virtualNetworkRules: [],
    });
    assert.deepEqual(body.tags, { team: 'speech' }, 'tags untouched');
    assert.equal(body.location, 'westeurope');
    const badRule = await call('PATCH', account('res1'), { properties: { networkAcls: { defaultAction: 'Deny', ipRules: [{ value: 'not-an-ip' }] } } });
    assert.equal(badRule.status, 400);
    assert.equal(armError(badRule.body).code, 'InvalidIpRule');
    const moved = await call('PATCH', account('res1'), { location: 'eastus' });
    assert.equal(moved.status, 409);
    assert.equal(armError(moved.body).code, 'LocationCannotBeChanged');
    const missing = await call('PATCH', account('nope'), { tags: {} });
    assert.equal(missing.status, 404);
  });

  it('listKeys and regenerateKey (Key1 changes, Key2 stays; other names 400)', async () => {
    const keys = await expect(200, 'Accounts_ListKeys', 'POST', `${account('res1')}/listKeys`);
    assert.match(keys.key1, /^[0-9a-f]{32}$/);
    assert.match(keys.key2, /^[0-9a-f]{32}$/);
    const renewed = await expect(200, 'Accounts_RegenerateKey', 'POST', `${account('res1')}/regenerateKey`, { keyName: 'Key1' });
    assert.notEqual(renewed.key1, keys.key1);
    assert.equal(renewed.key2, keys.key2);
    assert.deepEqual(await expect(200, 'Accounts_ListKeys', 'POST', `${account('res1')}/listKeys`), renewed);
    const bad = await call('POST', `${account('res1')}/regenerateKey`, { keyName: 'Key3' });
    assert.equal(bad.status, 400);
    assertValidResponse(SPEC, 'Accounts_RegenerateKey', 400, bad.body);
    // ARM clients may send an empty JSON body on actions.
    const empty = await h.app.inject({
      method: 'POST',
      url: `${account('res1')}/listKeys?api-version=2024-10-01`,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: '',
    });
    assert.equal(empty.statusCode, 200);
    key1 = renewed.key1;
    key2 = renewed.key2;
  });

  it('PUT on an existing account is a 200 update; the location cannot change', async () => {
    const updated = await expect(200, 'Accounts_Create', 'PUT', account('res1'), {
      location: 'westeurope',
      kind: 'SpeechServices',
      sku: { name: 'S0' },
      tags: { team: 'speech', env: 'test' },
      properties: { networkAcls: { defaultAction: 'Deny', ipRules: [{ value: '127.0.0.1' }] } },
    });
    assert.deepEqual(updated.tags, { team: 'speech', env: 'test' });
    assert.deepEqual(updated.properties.networkAcls.ipRules, [{ value: '127.0.0.1' }]);
    const moved = await call('PUT', account('res1'), { location: 'eastus', kind: 'SpeechServices', sku: { name: 'S0' } });
    assert.equal(moved.status, 409);
    assert.equal(armError(moved.body).code, 'LocationCannotBeChanged');
    assertValidResponse(SPEC, 'Accounts_Create', 409, moved.body);
    const keys = await expect(200, 'Accounts_ListKeys', 'POST', `${account('res1')}/listKeys`);
    assert.deepEqual(keys, { key1, key2 }, 'an update keeps the keys');
  });

  it('checkDomainAvailability before and after the custom subdomain is set; the subdomain cannot change', async () => {
    const check = `/subscriptions/${SUB}/providers/Microsoft.CognitiveServices/checkDomainAvailability`;
    const request = { subdomainName: 'res1-speech', type: 'Microsoft.CognitiveServices/accounts', kind: 'SpeechServices' };
    const before = await expect(200, 'CheckDomainAvailability', 'POST', check, request);
    assert.equal(before.isSubdomainAvailable, true);
    assert.equal(before.subdomainName, 'res1-speech');
    assert.equal(before.type, 'Microsoft.CognitiveServices/accounts');
    assert.equal(before.kind, 'SpeechServices');

    const set = await expect(200, 'Accounts_Update', 'PATCH', account('res1'), { properties: { customSubDomainName: 'res1-speech' } });
    assert.equal(set.properties.customSubDomainName, 'res1-speech');
    assert.equal(set.properties.endpoint, 'https://res1-speech.cognitiveservices.azure.com/');

    const afterSet = await expect(200, 'CheckDomainAvailability', 'POST', check, request);
    assert.equal(afterSet.isSubdomainAvailable, false);
    assert.match(afterSet.reason, /not available/);
    const invalid = await expect(200, 'CheckDomainAvailability', 'POST', check, { subdomainName: '-bad-', type: 'Microsoft.CognitiveServices/accounts' });
    assert.equal(invalid.isSubdomainAvailable, false);

    const change = await call('PATCH', account('res1'), { properties: { customSubDomainName: 'something-else' } });
    assert.equal(change.status, 400);
    assert.equal(armError(change.body).code, 'CustomSubDomainNameCannotBeChanged');
    assertValidResponse(SPEC, 'Accounts_Update', 400, change.body);
    // A PUT that leaves the subdomain out keeps it (it cannot be removed).
    const put = await expect(200, 'Accounts_Create', 'PUT', account('res1'), {
      location: 'westeurope',
      kind: 'SpeechServices',
      sku: { name: 'S0' },
      properties: { networkAcls: { defaultAction: 'Deny', ipRules: [{ value: '127.0.0.1' }] } },
    });
    assert.equal(put.properties.customSubDomainName, 'res1-speech');
    assert.deepEqual(put.tags, {}, 'PUT replaces the tags');
  });

  it('409 for a second account with the same subdomain, and for a name taken in another resource group', async () => {
    const sameDomain = await call('PUT', account('res2'), { location: 'westeurope', kind: 'SpeechServices', sku: { name: 'F0' }, properties: { customSubDomainName: 'RES1-speech' } });
    assert.equal(sameDomain.status, 409);
    assert.equal(armError(sameDomain.body).code, 'CustomDomainInUse');
    assertValidResponse(SPEC, 'Accounts_Create', 409, sameDomain.body);
    await expect(404, 'Accounts_Get', 'GET', account('res2'));
    const sameName = await call('PUT', account('res1', 'other-rg'), { location: 'westeurope', kind: 'SpeechServices', sku: { name: 'S0' } });
    assert.equal(sameName.status, 409);
    assert.equal(armError(sameName.body).code, 'Conflict');
  });

  it('virtual network rules need the subnet to have the Microsoft.CognitiveServices service endpoint', async () => {
    const vnet = await expect(201, undefined, 'PUT', VNET, {
      location: 'westeurope',
      tags: { net: 'yes' },
      properties: { addressSpace: { addressPrefixes: ['127.10.0.0/16'] }, subnets: [{ name: 'default', properties: { addressPrefix: '127.10.0.0/24' } }] },
    });
    assert.equal(vnet.id, VNET);
    assert.equal(vnet.type, 'Microsoft.Network/virtualNetworks');
    assert.equal(vnet.location, 'westeurope');
    assert.equal(vnet.properties.provisioningState, 'Succeeded');
    assert.deepEqual(vnet.properties.addressSpace, { addressPrefixes: ['127.10.0.0/16'] });
    assert.deepEqual(vnet.properties.subnets, [
      {
        id: SUBNET,
        name: 'default',
        type: 'Microsoft.Network/virtualNetworks/subnets',
        properties: { provisioningState: 'Succeeded', addressPrefix: '127.10.0.0/24', serviceEndpoints: [], privateEndpoints: [] },
      },
    ]);
    const rule = { properties: { networkAcls: { defaultAction: 'Deny', ipRules: [{ value: '127.0.0.1' }], virtualNetworkRules: [{ id: SUBNET }] } } };
    const refused = await call('PATCH', account('res1'), rule);
    assert.equal(refused.status, 400);
    assert.equal(armError(refused.body).code, 'VnetServiceEndpointMissing');
    const unknownSubnet = await call('PATCH', account('res1'), { properties: { networkAcls: { defaultAction: 'Deny', virtualNetworkRules: [{ id: `${VNET}/subnets/none` }] } } });
    assert.equal(unknownSubnet.status, 400);
    assert.equal(armError(unknownSubnet.body).code, 'SubnetNotFound');

    const subnet = await expect(200, undefined, 'PUT', SUBNET, {
      properties: { addressPrefix: '127.10.0.0/24', serviceEndpoints: [{ service: 'Microsoft.CognitiveServices' }] },
    });
    assert.deepEqual(subnet.properties.serviceEndpoints, [{ service: 'Microsoft.CognitiveServices', locations: ['*'], provisioningState: 'Succeeded' }]);
    const fetched = await expect(200, undefined, 'GET', SUBNET);
    assert.deepEqual(fetched, subnet);
    const list = await expect(200, undefined, 'GET', `${NET}/virtualNetworks`);
    assert.deepEqual(list.value.map((v: Json) => v.name), ['vnet1']);
    assert.deepEqual(list.value[0].tags, { net: 'yes' });

    const accepted = await expect(200, 'Accounts_Update', 'PATCH', account('res1'), rule);
    assert.deepEqual(accepted.properties.networkAcls.virtualNetworkRules, [{ id: SUBNET, state: 'Succeeded', ignoreMissingVnetServiceEndpoint: false }]);
    const outside = await call('PUT', `${VNET}/subnets/outside`, { properties: { addressPrefix: '10.0.0.0/24' } });
    assert.equal(outside.status, 400);
    assert.equal(armError(outside.body).code, 'NetcfgSubnetRangeOutsideVnet');
  });

  let connection1 = '';
  it('a private endpoint to the account is approved at once, with an address inside the subnet', async () => {
    const pe = await expect(201, undefined, 'PUT', PE1, {
      location: 'westeurope',
      properties: {
        subnet: { id: SUBNET },
        privateLinkServiceConnections: [{ name: 'pe1-conn', properties: { privateLinkServiceId: account('res1'), groupIds: ['account'] } }],
      },
    });
    assert.equal(pe.id, PE1);
    assert.equal(pe.type, 'Microsoft.Network/privateEndpoints');
    assert.equal(pe.properties.provisioningState, 'Succeeded');
    assert.deepEqual(pe.properties.subnet, { id: SUBNET });
    assert.deepEqual(pe.properties.manualPrivateLinkServiceConnections, []);
    const [conn] = pe.properties.privateLinkServiceConnections;
    assert.equal(conn.id, `${PE1}/privateLinkServiceConnections/pe1-conn`);
    assert.equal(conn.name, 'pe1-conn');
    assert.equal(conn.properties.privateLinkServiceId, account('res1'));
    assert.deepEqual(conn.properties.groupIds, ['account']);
    assert.deepEqual(conn.properties.privateLinkServiceConnectionState, { status: 'Approved', description: 'Auto-Approved', actionsRequired: 'None' });
    assert.deepEqual(pe.properties.customDnsConfigs, [{ fqdn: 'res1-speech.cognitiveservices.azure.com', ipAddresses: ['127.10.0.4'] }]);
    assert.deepEqual(pe.properties.networkInterfaces, []);
    const again = await expect(200, undefined, 'PUT', PE1, {
      location: 'westeurope',
      tags: { again: '1' },
      properties: {
        subnet: { id: SUBNET },
        privateLinkServiceConnections: [{ name: 'pe1-conn', properties: { privateLinkServiceId: account('res1'), groupIds: ['account'] } }],
      },
    });
    assert.deepEqual(again.properties.customDnsConfigs[0].ipAddresses, ['127.10.0.4'], 'the address is kept');

    const two = await call('PUT', `${NET}/privateEndpoints/pe-bad`, {
      location: 'westeurope',
      properties: {
        subnet: { id: SUBNET },
        privateLinkServiceConnections: [{ name: 'a', properties: { privateLinkServiceId: account('res1'), groupIds: ['account'] } }],
        manualPrivateLinkServiceConnections: [{ name: 'b', properties: { privateLinkServiceId: account('res1'), groupIds: ['account'] } }],
      },
    });
    assert.equal(two.status, 400);
    const wrongGroup = await call('PUT', `${NET}/privateEndpoints/pe-bad`, {
      location: 'westeurope',
      properties: { subnet: { id: SUBNET }, privateLinkServiceConnections: [{ name: 'a', properties: { privateLinkServiceId: account('res1'), groupIds: ['blob'] } }] },
    });
    assert.equal(wrongGroup.status, 400);
    assert.equal(armError(wrongGroup.body).code, 'InvalidGroupId');

    const acc = await expect(200, 'Accounts_Get', 'GET', account('res1'));
    assert.equal(acc.properties.privateEndpointConnections.length, 1);
    const c = acc.properties.privateEndpointConnections[0];
    assert.equal(c.id, `${account('res1')}/privateEndpointConnections/pe1-conn`);
    assert.equal(c.type, 'Microsoft.CognitiveServices/accounts/privateEndpointConnections');
    assert.deepEqual(c.properties.privateEndpoint, { id: PE1 });
    assert.equal(c.properties.privateLinkServiceConnectionState.status, 'Approved');
    assert.deepEqual(c.properties.groupIds, ['account']);
    connection1 = c.name as string;

    const subnet = await expect(200, undefined, 'GET', SUBNET);
    assert.deepEqual(subnet.properties.privateEndpoints, [{ id: PE1 }]);

    const links = await expect(200, 'PrivateLinkResources_List', 'GET', `${account('res1')}/privateLinkResources`);
    assert.deepEqual(links.value, [
      {
        id: `${account('res1')}/privateLinkResources/account`,
        name: 'account',
        type: 'Microsoft.CognitiveServices/accounts/privateLinkResources',
        properties: { groupId: 'account', displayName: 'Account', requiredMembers: ['default'], requiredZoneNames: ['privatelink.cognitiveservices.azure.com'] },
      },
    ]);
  });

  it('a manual private endpoint waits (Pending) until the account approves it; deleting the connection disconnects it', async () => {
    const pe = await expect(201, undefined, 'PUT', PE2, {
      location: 'westeurope',
      properties: {
        subnet: { id: SUBNET },
        manualPrivateLinkServiceConnections: [
          { name: 'pe2-conn', properties: { privateLinkServiceId: account('res1'), groupIds: ['account'], requestMessage: 'please' } },
        ],
        ipConfigurations: [{ name: 'ipconfig1', properties: { privateIPAddress: '127.10.0.20', groupId: 'account', memberName: 'default' } }],
      },
    });
    assert.deepEqual(pe.properties.privateLinkServiceConnections, []);
    const conn = pe.properties.manualPrivateLinkServiceConnections[0];
    assert.equal(conn.id, `${PE2}/manualPrivateLinkServiceConnections/pe2-conn`);
    assert.deepEqual(conn.properties.privateLinkServiceConnectionState, { status: 'Pending', description: 'please', actionsRequired: 'None' });
    assert.deepEqual(pe.properties.customDnsConfigs[0].ipAddresses, ['127.10.0.20']);

    const taken = await call('PUT', `${NET}/privateEndpoints/pe3`, {
      location: 'westeurope',
      properties: {
        subnet: { id: SUBNET },
        privateLinkServiceConnections: [{ name: 'pe3-conn', properties: { privateLinkServiceId: account('res1'), groupIds: ['account'] } }],
        ipConfigurations: [{ name: 'ipconfig1', properties: { privateIPAddress: '127.10.0.20' } }],
      },
    });
    assert.equal(taken.status, 409);
    assert.equal(armError(taken.body).code, 'PrivateIPAddressInUse');

    const connections = `${account('res1')}/privateEndpointConnections`;
    const list = await expect(200, 'PrivateEndpointConnections_List', 'GET', connections);
    assert.deepEqual(list.value.map((c: Json) => [c.name, c.properties.privateLinkServiceConnectionState.status]).sort(), [
      [connection1, 'Approved'],
      ['pe2-conn', 'Pending'],
    ]);
    const pending = await expect(200, 'PrivateEndpointConnections_Get', 'GET', `${connections}/pe2-conn`);
    assert.deepEqual(pending.properties.privateEndpoint, { id: PE2 });

    const approved = await expect(200, 'PrivateEndpointConnections_CreateOrUpdate', 'PUT', `${connections}/pe2-conn`, {
      properties: { privateLinkServiceConnectionState: { status: 'Approved', description: 'ok by owner' } },
    });
    assert.deepEqual(approved.properties.privateLinkServiceConnectionState, { status: 'Approved', description: 'ok by owner', actionsRequired: 'None' });
    const peSide = await expect(200, undefined, 'GET', PE2);
    assert.equal(peSide.properties.manualPrivateLinkServiceConnections[0].properties.privateLinkServiceConnectionState.status, 'Approved');
    const badStatus = await call('PUT', `${connections}/pe2-conn`, { properties: { privateLinkServiceConnectionState: { status: 'Disconnected' } } });
    assert.equal(badStatus.status, 400);
    assert.equal(armError(badStatus.body).code, 'InvalidRequestContent');
    const unknown = await call('PUT', `${connections}/nope`, { properties: { privateLinkServiceConnectionState: { status: 'Approved' } } });
    assert.equal(unknown.status, 404);
    assertValidResponse(SPEC, 'PrivateEndpointConnections_CreateOrUpdate', 404, unknown.body);

    const deleted = await call('DELETE', `${connections}/pe2-conn`);
    assert.equal(deleted.status, 200);
    assertValidResponse(SPEC, 'PrivateEndpointConnections_Delete', 200, deleted.body);
    const gone = await call('DELETE', `${connections}/pe2-conn`);
    assert.equal(gone.status, 204);
    assertValidResponse(SPEC, 'PrivateEndpointConnections_Delete', 204, gone.body);
    await expect(404, 'PrivateEndpointConnections_Get', 'GET', `${connections}/pe2-conn`);
    const disconnected = await expect(200, undefined, 'GET', PE2);
    assert.equal(disconnected.properties.manualPrivateLinkServiceConnections[0].properties.privateLinkServiceConnectionState.status, 'Disconnected');
    const remaining = await expect(200, 'PrivateEndpointConnections_List', 'GET', connections);
    assert.deepEqual(remaining.value.map((c: Json) => c.name), [connection1]);
  });

  it('private DNS zone and its virtual network link', async () => {
    const zone = await expect(201, undefined, 'PUT', ZONE, { location: 'global' });
    assert.equal(zone.id, ZONE);
    assert.equal(zone.name, 'privatelink.cognitiveservices.azure.com');
    assert.equal(zone.type, 'Microsoft.Network/privateDnsZones');
    assert.equal(zone.location, 'global');
    assert.equal(zone.properties.numberOfVirtualNetworkLinks, 0);
    const notGlobal = await call('PUT', ZONE, { location: 'westeurope' });
    assert.equal(notGlobal.status, 400);

    const link = await expect(201, undefined, 'PUT', `${ZONE}/virtualNetworkLinks/link1`, {
      location: 'global',
      properties: { virtualNetwork: { id: VNET }, registrationEnabled: false },
    });
    assert.deepEqual(link, {
      id: `${ZONE}/virtualNetworkLinks/link1`,
      name: 'link1',
      type: 'Microsoft.Network/privateDnsZones/virtualNetworkLinks',
      location: 'global',
      etag: link.etag,
      properties: { provisioningState: 'Succeeded', virtualNetwork: { id: VNET }, registrationEnabled: false, virtualNetworkLinkState: 'Completed' },
    });
    await expect(200, undefined, 'PUT', `${ZONE}/virtualNetworkLinks/link1`, { location: 'global', properties: { virtualNetwork: { id: VNET } } });
    assert.deepEqual(await expect(200, undefined, 'GET', `${ZONE}/virtualNetworkLinks/link1`), { ...link, etag: (await call('GET', ZONE)).body.etag });
    assert.equal((await expect(200, undefined, 'GET', ZONE)).properties.numberOfVirtualNetworkLinks, 1);
    const badVnet = await call('PUT', `${ZONE}/virtualNetworkLinks/link2`, { location: 'global', properties: { virtualNetwork: { id: `${NET}/virtualNetworks/none` } } });
    assert.equal(badVnet.status, 400);
    const inUse = await call('DELETE', ZONE);
    assert.equal(inUse.status, 409);
    assert.equal((await call('DELETE', `${ZONE}/virtualNetworkLinks/link1`)).status, 200);
    assert.equal((await call('DELETE', `${ZONE}/virtualNetworkLinks/link1`)).status, 204);
    await expect(404, undefined, 'GET', `${ZONE}/virtualNetworkLinks/link1`);
  });

  it('a subnet (or virtual network) holding a private endpoint cannot be deleted', async () => {
    const subnet = await call('DELETE', SUBNET);
    assert.equal(subnet.status, 409);
    assert.equal(armError(subnet.body).code, 'InUseSubnetCannotBeDeleted');
    const vnet = await call('DELETE', VNET);
    assert.equal(vnet.status, 409);
    const dropping = await call('PUT', VNET, { location: 'westeurope', properties: { addressSpace: { addressPrefixes: ['127.10.0.0/16'] } } });
    assert.equal(dropping.status, 409, 'a PUT without the subnet would delete it');
  });

  it('deleting the account disconnects its private endpoints; DELETE is 200 then 204', async () => {
    await expect(201, 'Accounts_Create', 'PUT', account('res3'), {
      location: 'eastus',
      kind: 'SpeechServices',
      sku: { name: 'F0' },
      tags: { keep: 'me' },
      properties: { publicNetworkAccess: 'Disabled', disableLocalAuth: true, networkAcls: { defaultAction: 'Deny', bypass: 'None', ipRules: [{ value: '192.0.2.0/24' }] } },
    });
    const first = await call('DELETE', account('res1'));
    assert.equal(first.status, 200);
    assertValidResponse(SPEC, 'Accounts_Delete', 200, first.body);
    const second = await call('DELETE', account('res1'));
    assert.equal(second.status, 204);
    assertValidResponse(SPEC, 'Accounts_Delete', 204, second.body);
    await expect(404, 'Accounts_Get', 'GET', account('res1'));
    const pe = await expect(200, undefined, 'GET', PE1);
    assert.equal(pe.properties.privateLinkServiceConnections[0].properties.privateLinkServiceConnectionState.status, 'Disconnected');
    assert.deepEqual(pe.properties.customDnsConfigs, [], 'the target account is gone');
    // The subdomain is free again.
    const check = await expect(200, 'CheckDomainAvailability', 'POST', `/subscriptions/${SUB}/providers/Microsoft.CognitiveServices/checkDomainAvailability`, {
      subdomainName: 'res1-speech',
      type: 'Microsoft.CognitiveServices/accounts',
    });
    assert.equal(check.isSubdomainAvailable, true);
  });

  it('private endpoints, subnet and virtual network are deleted in order: 200, then 204', async () => {
    for (const url of [PE1, PE2, SUBNET]) {
      assert.equal((await call('DELETE', url)).status, 200, url);
      assert.equal((await call('DELETE', url)).status, 204, url);
    }
    await expect(404, undefined, 'GET', PE1);
    await expect(404, undefined, 'GET', SUBNET);
    const vnet = await expect(200, undefined, 'GET', VNET);
    assert.deepEqual(vnet.properties.subnets, []);
    assert.equal((await call('DELETE', VNET)).status, 200);
    assert.equal((await call('DELETE', VNET)).status, 204);
    await expect(404, undefined, 'GET', VNET);
    // Kept for the persistence check.
    await expect(201, undefined, 'PUT', `${NET}/virtualNetworks/kept`, {
      location: 'eastus',
      properties: { addressSpace: { addressPrefixes: ['127.20.0.0/16'] }, subnets: [{ name: 's1', properties: { addressPrefix: '127.20.1.0/24', serviceEndpoints: [{ service: 'Microsoft.CognitiveServices' }] } }] },
    });
  });

  it('everything persists across re-opening the database', async () => {
    const before = await expect(200, 'Accounts_Get', 'GET', account('res3'));
    const keys = await expect(200, 'Accounts_ListKeys', 'POST', `${account('res3')}/listKeys`);
    const zone = await expect(200, undefined, 'GET', ZONE);
    const vnet = await expect(200, undefined, 'GET', `${NET}/virtualNetworks/kept`);
    await h.close();
    h = await open(dataDir);
    assert.deepEqual(await expect(200, 'Accounts_Get', 'GET', account('res3')), before);
    assert.deepEqual(await expect(200, 'Accounts_ListKeys', 'POST', `${account('res3')}/listKeys`), keys);
    assert.equal(before.properties.publicNetworkAccess, 'Disabled');
    assert.equal(before.properties.disableLocalAuth, true);
    assert.deepEqual(before.properties.networkAcls, { defaultAction: 'Deny', bypass: 'None', ipRules: [{ value: '192.0.2.0/24' }], virtualNetworkRules: [] });
    assert.deepEqual(await expect(200, undefined, 'GET', ZONE), zone);
    assert.deepEqual(await expect(200, undefined, 'GET', `${NET}/virtualNetworks/kept`), vnet);
    await expect(404, 'Accounts_Get', 'GET', account('res1'));
    const list = await expect(200, 'Accounts_ListByResourceGroup', 'GET', `${CS}/accounts`);
    assert.deepEqual(list.value.map((a: Json) => a.name), ['res3']);
    assert.equal((await call('DELETE', ZONE)).status, 200);
  });
});
