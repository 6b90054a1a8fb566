import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, startServer, type TestServer } from '../helpers/server.js';

const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');
const SUB = '00000000-0000-0000-0000-000000000000';
const RG = 'parlance';

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** The CLI with no admin token in its environment, so each test says where the token comes from. */
function runCli(args: string[]): Promise<Run> {
  const env = { ...process.env };
  delete env['PARLANCE_ADMIN_TOKEN'];
  delete env['PARLANCE_DATA_DIR'];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { env });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => resolve({ code, out, err }));
  });
}

interface Keys {
  key1: string;
  key2: string;
}
interface AccountJson {
  id: string;
  name: string;
  kind: string;
  location: string;
  sku: { name: string };
  properties: {
    customSubDomainName?: string;
    endpoint: string;
    publicNetworkAccess: string;
    networkAcls: { defaultAction: string; ipRules: { value: string }[]; virtualNetworkRules: { id: string }[] };
    privateEndpointConnections: { name: string; properties: { privateLinkServiceConnectionState: { status: string } } }[];
  };
}
interface PeJson {
  id: string;
  name: string;
  properties: {
    subnet: { id: string };
    privateLinkServiceConnections: { name: string; properties: { privateLinkServiceConnectionState: { status: string } } }[];
    manualPrivateLinkServiceConnections: { name: string; properties: { privateLinkServiceConnectionState: { status: string } } }[];
    customDnsConfigs: { fqdn: string; ipAddresses: string[] }[];
  };
}

describe('parlance account / network / private-endpoint (control-plane CLI)', () => {
  let server: TestServer;
  let common: string[] = [];

  /** Runs a command that must succeed; returns its JSON output (undefined when it printed nothing). */
  async function ok<T = unknown>(args: string[]): Promise<T> {
    const r = await runCli([...args, ...common]);
    assert.equal(r.code, 0, `parlance ${args.join(' ')} → ${r.code}\nstdout: ${r.out}\nstderr: ${r.err}`);
    return (r.out.trim() === '' ? undefined : JSON.parse(r.out)) as T;
  }

  before(async () => {
    server = await startServer({ config: { region: 'westus' } });
    common = ['--url', `http://127.0.0.1:${server.port}`, '--admin-token', server.adminToken];
  });
  after(async () => {
    await server?.close();
  });

  it('shows and changes pricing-tier limits, and lists usages', async () => {
    await ok(['account', 'create', 'cli-tier', '--location', 'westus', '--sku', 'F0']);
    const before = await ok<{ properties: { tier: string; effective: Record<string, number | null> } }>(['account', 'limits', 'cli-tier']);
    assert.equal(before.properties.tier, 'F0');
    assert.equal(before.properties.effective['sttConcurrency'], 1);
    const changed = await ok<{ properties: { overrides: Record<string, number | null>; effective: Record<string, number | null> } }>([
      'account', 'limits', 'cli-tier', '--set', 'sttConcurrency=3', '--set', 'ttsCharactersPerMonth=none',
    ]);
    assert.deepEqual(changed.properties.overrides, { sttConcurrency: 3, ttsCharactersPerMonth: null });
    assert.equal(changed.properties.effective['sttAudioSecondsPerMonth'], 18_000);
    const bad = await runCli(['account', 'limits', 'cli-tier', '--set', 'sttConcurrency=lots', ...common]);
    assert.equal(bad.code, 2, bad.err);
    const usages = await ok<{ value: { name: { value: string }; limit?: number; currentValue: number }[] }>(['account', 'usages', 'cli-tier']);
    const concurrent = usages.value.find((u) => u.name.value === 'SpeechServices.SpeechToText.ConcurrentRequests');
    assert.equal(concurrent?.limit, 3);
    assert.equal(concurrent?.currentValue, 0);
    await ok(['account', 'delete', 'cli-tier']);
  });

  it('manages a resource, its network rules and a private endpoint end to end, then deletes everything', async () => {
    const subnetId = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Network/virtualNetworks/cli-vnet/subnets/apps`;

    // Create: custom domain, Deny with one IP rule.
    const created = await ok<AccountJson>([
      'account', 'create', 'cli-res', '--location', 'West US', '--sku', 'S0',
      '--custom-domain', 'cli-res', '--default-action', 'Deny', '--ip-rule', '203.0.113.0/24',
    ]);
    assert.equal(created.name, 'cli-res');
    assert.equal(created.kind, 'SpeechServices');
    assert.equal(created.location, 'westus');
    assert.equal(created.id, `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.CognitiveServices/accounts/cli-res`);
    assert.equal(created.properties.customSubDomainName, 'cli-res');
    assert.equal(created.properties.endpoint, 'https://cli-res.cognitiveservices.azure.com/');
    assert.deepEqual(created.properties.networkAcls.defaultAction, 'Deny');
    assert.deepEqual(created.properties.networkAcls.ipRules, [{ value: '203.0.113.0/24' }]);

    // Show, this time with the token read from the data directory instead of --admin-token.
    const byFile = await runCli(['account', 'show', 'cli-res', '--url', `http://127.0.0.1:${server.port}`, '--data-dir', server.dataDir]);
    assert.equal(byFile.code, 0, byFile.err);
    const shown = JSON.parse(byFile.out) as AccountJson;
    assert.equal(shown.name, 'cli-res');
    assert.equal(shown.properties.networkAcls.defaultAction, 'Deny');

    const list = await ok<{ value: AccountJson[] }>(['account', 'list']);
    assert.deepEqual(list.value.map((a) => a.name).sort(), ['cli-res', 'default']);

    // Keys, then a new key2 (key1 unchanged).
    const keys = await ok<Keys>(['account', 'keys', 'cli-res']);
    assert.match(keys.key1, /^[0-9a-f]{32}$/);
    assert.match(keys.key2, /^[0-9a-f]{32}$/);
    const regenerated = await ok<Keys>(['account', 'regenerate-key', 'cli-res', '--key', 'key2']);
    assert.equal(regenerated.key1, keys.key1);
    assert.notEqual(regenerated.key2, keys.key2);
    assert.deepEqual(await ok<Keys>(['account', 'keys', 'cli-res']), regenerated);

    // A virtual network with a subnet that has the Cognitive Services service endpoint.
    const vnet = await ok<{ name: string; properties: { addressSpace: { addressPrefixes: string[] } } }>([
      'network', 'vnet', 'create', 'cli-vnet', '--location', 'westus', '--address-prefix', '10.10.0.0/16',
    ]);
    assert.equal(vnet.name, 'cli-vnet');
    assert.deepEqual(vnet.properties.addressSpace.addressPrefixes, ['10.10.0.0/16']);
    const subnet = await ok<{ id: string; properties: { addressPrefix: string; serviceEndpoints: { service: string }[] } }>([
      'network', 'vnet', 'subnet', 'create', 'cli-vnet', 'apps', '--address-prefix', '10.10.1.0/24', '--service-endpoint', 'Microsoft.CognitiveServices',
    ]);
    assert.equal(subnet.id, subnetId);
    assert.deepEqual(subnet.properties.serviceEndpoints.map((e) => e.service), ['Microsoft.CognitiveServices']);
    // vnet create again (new address space) keeps the subnet.
    const grown = await ok<{ properties: { subnets: { name: string }[] } }>([
      'network', 'vnet', 'create', 'cli-vnet', '--location', 'westus', '--address-prefix', '10.10.0.0/16', '--address-prefix', '10.20.0.0/16',
    ]);
    assert.deepEqual(grown.properties.subnets.map((s) => s.name), ['apps']);
    assert.equal((await ok<{ value: unknown[] }>(['network', 'vnet', 'list'])).value.length, 1);

    // PATCH with a virtual network rule: the IP rule and default action stay.
    const updated = await ok<AccountJson>(['account', 'update', 'cli-res', '--vnet-rule', 'cli-vnet/apps']);
    assert.deepEqual(updated.properties.networkAcls.virtualNetworkRules.map((r) => r.id), [subnetId]);
    assert.deepEqual(updated.properties.networkAcls.ipRules, [{ value: '203.0.113.0/24' }]);
    assert.equal(updated.properties.networkAcls.defaultAction, 'Deny');
    assert.equal(updated.properties.customSubDomainName, 'cli-res');
    const cleared = await ok<AccountJson>(['account', 'update', 'cli-res', '--clear-ip-rules', '--public-access', 'Enabled']);
    assert.deepEqual(cleared.properties.networkAcls.ipRules, []);
    assert.deepEqual(cleared.properties.networkAcls.virtualNetworkRules.map((r) => r.id), [subnetId]);

    // subnet update: disable the service endpoint and enable it again; the address prefix is kept.
    type SubnetJson = { properties: { addressPrefix: string; serviceEndpoints: { service: string }[] } };
    const disabled = await ok<SubnetJson>(['network', 'vnet', 'subnet', 'update', 'cli-vnet', 'apps', '--clear-service-endpoints']);
    assert.deepEqual(disabled.properties.serviceEndpoints, []);
    assert.equal(disabled.properties.addressPrefix, '10.10.1.0/24');
    const enabled = await ok<SubnetJson>(['network', 'vnet', 'subnet', 'update', 'cli-vnet', 'apps', '--service-endpoint', 'Microsoft.CognitiveServices']);
    assert.deepEqual(enabled.properties.serviceEndpoints.map((e) => e.service), ['Microsoft.CognitiveServices']);
    assert.equal(enabled.properties.addressPrefix, '10.10.1.0/24');

    // A private endpoint, connected at once: Approved, with an address in the subnet.
    const pe = await ok<PeJson>(['private-endpoint', 'create', 'cli-pe', '--location', 'westus', '--subnet', 'cli-vnet/apps', '--account', 'cli-res']);
    assert.equal(pe.properties.subnet.id, subnetId);
    assert.equal(pe.properties.privateLinkServiceConnections[0]?.properties.privateLinkServiceConnectionState.status, 'Approved');
    const dns = pe.properties.customDnsConfigs[0];
    assert.equal(dns?.fqdn, 'cli-res.cognitiveservices.azure.com');
    assert.match(dns?.ipAddresses[0] ?? '', /^10\.10\.1\.\d+$/);

    // A manual one with a static address: Pending until the owner approves it.
    const manual = await ok<PeJson>([
      'private-endpoint', 'create', 'cli-pe-manual', '--location', 'westus', '--subnet', subnetId, '--account', 'cli-res', '--manual', '--ip', '10.10.1.50',
    ]);
    assert.equal(manual.properties.manualPrivateLinkServiceConnections[0]?.properties.privateLinkServiceConnectionState.status, 'Pending');
    assert.deepEqual(manual.properties.customDnsConfigs[0]?.ipAddresses, ['10.10.1.50']);
    const approved = await ok<{ properties: { privateLinkServiceConnectionState: { status: string } } }>(['private-endpoint', 'approve', 'cli-res', 'cli-pe-manual']);
    assert.equal(approved.properties.privateLinkServiceConnectionState.status, 'Approved');

    const pes = await ok<{ value: PeJson[] }>(['private-endpoint', 'list']);
    assert.deepEqual(pes.value.map((p) => p.name).sort(), ['cli-pe', 'cli-pe-manual']);
    const shownPe = await ok<PeJson>(['private-endpoint', 'show', 'cli-pe-manual']);
    assert.equal(shownPe.properties.manualPrivateLinkServiceConnections[0]?.properties.privateLinkServiceConnectionState.status, 'Approved');
    const withConnections = await ok<AccountJson>(['account', 'show', 'cli-res']);
    assert.deepEqual(
      withConnections.properties.privateEndpointConnections.map((c) => [c.name, c.properties.privateLinkServiceConnectionState.status]).sort(),
      [['cli-pe', 'Approved'], ['cli-pe-manual', 'Approved']],
    );

    // Private DNS zone linked to the virtual network.
    const zone = await ok<{ name: string }>(['network', 'dns-zone', 'create', 'privatelink.cognitiveservices.azure.com']);
    assert.equal(zone.name, 'privatelink.cognitiveservices.azure.com');
    const link = await ok<{ properties: { virtualNetwork: { id: string } } }>([
      'network', 'dns-zone', 'link', 'privatelink.cognitiveservices.azure.com', 'cli-link', '--vnet', 'cli-vnet',
    ]);
    assert.equal(link.properties.virtualNetwork.id, `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Network/virtualNetworks/cli-vnet`);

    // Delete everything; deletes print nothing.
    assert.equal(await ok(['private-endpoint', 'delete', 'cli-pe']), undefined);
    await ok(['private-endpoint', 'delete', 'cli-pe-manual']);
    assert.deepEqual((await ok<{ value: unknown[] }>(['private-endpoint', 'list'])).value, []);
    await ok(['network', 'dns-zone', 'unlink', 'privatelink.cognitiveservices.azure.com', 'cli-link']);
    await ok(['network', 'dns-zone', 'delete', 'privatelink.cognitiveservices.azure.com']);
    await ok(['account', 'delete', 'cli-res']);
    await ok(['network', 'vnet', 'subnet', 'delete', 'cli-vnet', 'apps']);
    await ok(['network', 'vnet', 'delete', 'cli-vnet']);
    assert.deepEqual((await ok<{ value: AccountJson[] }>(['account', 'list'])).value.map((a) => a.name), ['default']);
    assert.deepEqual((await ok<{ value: unknown[] }>(['network', 'vnet', 'list'])).value, []);
  });

  it('reports ARM errors with their code on stderr and exit 1', async () => {
    const missing = await runCli(['account', 'show', 'no-such-account', ...common]);
    assert.equal(missing.code, 1);
    assert.equal(missing.out, '');
    assert.match(missing.err, /^parlance: ResourceNotFound: .*no-such-account/);

    const keys = await runCli(['account', 'keys', 'no-such-account', ...common]);
    assert.equal(keys.code, 1);
    assert.match(keys.err, /ResourceNotFound/);

    const wrongToken = await runCli(['account', 'list', '--url', `http://127.0.0.1:${server.port}`, '--admin-token', 'not-the-token']);
    assert.equal(wrongToken.code, 1);
    assert.match(wrongToken.err, /^parlance: AuthenticationFailed: /);
  });

  it('exits 2 on usage errors, before any request', async () => {
    const noLocation = await runCli(['account', 'create', 'x', ...common]);
    assert.equal(noLocation.code, 2);
    assert.match(noLocation.err, /--location/);

    const badKey = await runCli(['account', 'regenerate-key', 'default', '--key', 'key3', ...common]);
    assert.equal(badKey.code, 2);

    const badSubnet = await runCli(['private-endpoint', 'create', 'p', '--location', 'westus', '--subnet', 'just-a-name', '--account', 'default', ...common]);
    assert.equal(badSubnet.code, 2);
    assert.match(badSubnet.err, /--subnet/);

    const nothing = await runCli(['account', 'update', 'default', ...common]);
    assert.equal(nothing.code, 2);
    assert.match(nothing.err, /nothing to update/);

    const noToken = await runCli(['account', 'list', '--url', `http://127.0.0.1:${server.port}`, '--data-dir', join(server.dataDir, 'nowhere')]);
    assert.equal(noToken.code, 2);
    assert.match(noToken.err, /no admin token/);

    const unknown = await runCli(['network', 'frobnicate']);
    assert.equal(unknown.code, 2);
  });
});
