import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.js';
import { httpCall } from '../helpers/net-client.js';
import { accountPath, armOk, networkPath } from '../helpers/arm.js';

/**
 * The same rules with clients in another network namespace joined by a veth pair: a separate
 * network stack whose packets really come from another address. Needs root and `ip netns`; skipped
 * where the machine does not allow it.
 */
const N = 100 + (process.pid % 150);
const NS = `parlance-${N}`;
const HOST_IF = `pl${N}h`;
const NS_IF = `pl${N}c`;
const NET = `10.231.${N}`;
const HOST_IP = `${NET}.1`;
const CLIENT_IP = `${NET}.2`;
const PE_IP = `${NET}.10`;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

function setUpNamespace(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  if (spawnSync('ip', ['netns', 'list']).status !== 0) return '`ip netns` unavailable';
  try {
    ip('netns', 'add', NS);
    ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF);
    ip('link', 'set', NS_IF, 'netns', NS);
    ip('addr', 'add', `${HOST_IP}/24`, 'dev', HOST_IF);
    ip('addr', 'add', `${PE_IP}/24`, 'dev', HOST_IF);
    ip('link', 'set', HOST_IF, 'up');
    ip('netns', 'exec', NS, 'ip', 'addr', 'add', `${CLIENT_IP}/24`, 'dev', NS_IF);
    ip('netns', 'exec', NS, 'ip', 'link', 'set', NS_IF, 'up');
    ip('netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up');
    return undefined;
  } catch (err) {
    tearDownNamespace();
    return `cannot create a network namespace: ${(err as Error).message.split('\n')[0] ?? ''}`;
  }
}

function tearDownNamespace(): void {
  spawnSync('ip', ['link', 'del', HOST_IF], { stdio: 'ignore' });
  spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
}

/** An HTTP request made by a process inside the namespace; returns the status (0 when the connection fails). */
async function fromNamespace(connect: string, port: number, host: string, path: string, headers: Record<string, string>): Promise<number> {
  const script = `
    const http = require('node:http');
    const req = http.request({ host: ${JSON.stringify(connect)}, port: ${port}, path: ${JSON.stringify(path)}, headers: ${JSON.stringify({ ...headers, host })} }, (res) => { res.resume(); res.on('end', () => { console.log(res.statusCode); }); });
    req.on('error', () => console.log(0));
    req.end();`;
  // Asynchronous: the server answering runs in this very process.
  const { stdout } = await run('ip', ['netns', 'exec', NS, process.execPath, '-e', script], { encoding: 'utf8', timeout: 20_000 });
  return Number(stdout.trim());
}

async function resolveFromNamespace(dnsPort: number, name: string): Promise<string> {
  const script = `
    const { Resolver } = require('node:dns').promises;
    const r = new Resolver(); r.setServers([${JSON.stringify(`${HOST_IP}:${dnsPort}`)}]);
    r.resolve4(${JSON.stringify(name)}).then((a) => console.log(a.join(',')), (e) => console.log(e.code));`;
  const { stdout } = await run('ip', ['netns', 'exec', NS, process.execPath, '-e', script], { encoding: 'utf8', timeout: 20_000 });
  return stdout.trim();
}

const skip = setUpNamespace();

describe('Network rules with clients in a network namespace (veth)', { skip }, () => {
  let server: TestServer;
  let key = '';
  const admin = (method: string, path: string, body?: unknown): Promise<unknown> => armOk(server.port, server.adminToken, method, path, body, HOST_IP);
  const VOICES = '/cognitiveservices/voices/list';

  before(async () => {
    server = await startServer({ host: HOST_IP, config: { dns: { port: 0, host: HOST_IP } } });
    await admin('PUT', accountPath('ns-res'), {
      location: 'westus',
      kind: 'SpeechServices',
      sku: { name: 'S0' },
      properties: { customSubDomainName: 'ns-res', networkAcls: { defaultAction: 'Deny', ipRules: [{ value: CLIENT_IP }] } },
    });
    key = ((await admin('POST', `${accountPath('ns-res')}/listKeys`)) as { key1: string }).key1;
  });
  after(async () => {
    await server?.close();
    tearDownNamespace();
  });

  it('an IP rule lets the namespace in; the host itself is refused', async () => {
    assert.equal(await fromNamespace(HOST_IP, server.port, 'westus.tts.speech.microsoft.com', VOICES, { 'Ocp-Apim-Subscription-Key': key }), 200);
    const fromHost = await httpCall({ connect: HOST_IP, port: server.port, host: 'westus.tts.speech.microsoft.com', from: HOST_IP }, 'GET', VOICES, {
      headers: { 'Ocp-Apim-Subscription-Key': key },
    });
    assert.equal(fromHost.status, 403);
  });

  it('once its subnet has the service endpoint, the namespace is refused despite the IP rule (seed 000)', async () => {
    await admin('PUT', networkPath('virtualNetworks', 'ns-vnet'), {
      location: 'westus',
      properties: {
        addressSpace: { addressPrefixes: [`${NET}.0/24`] },
        subnets: [
          { name: 'clients', properties: { addressPrefix: `${NET}.0/29`, serviceEndpoints: [{ service: 'Microsoft.CognitiveServices' }] } },
          { name: 'endpoints', properties: { addressPrefix: `${NET}.8/29` } },
        ],
      },
    });
    assert.equal(await fromNamespace(HOST_IP, server.port, 'westus.tts.speech.microsoft.com', VOICES, { 'Ocp-Apim-Subscription-Key': key }), 403);
  });

  it('a private endpoint on another address of this host serves the namespace with public access disabled; DNS from the namespace answers its IP', async () => {
    await admin('PATCH', accountPath('ns-res'), { properties: { publicNetworkAccess: 'Disabled' } });
    const pe = (await admin('PUT', networkPath('privateEndpoints', 'ns-pe'), {
      location: 'westus',
      properties: {
        subnet: { id: `${networkPath('virtualNetworks', 'ns-vnet')}/subnets/endpoints` },
        privateLinkServiceConnections: [{ name: 'ns-conn', properties: { privateLinkServiceId: accountPath('ns-res'), groupIds: ['account'] } }],
        ipConfigurations: [{ name: 'ip', properties: { privateIPAddress: PE_IP } }],
      },
    })) as { properties: { customDnsConfigs: { ipAddresses: string[] }[] } };
    assert.equal(pe.properties.customDnsConfigs[0]?.ipAddresses[0], PE_IP);
    await admin('PUT', networkPath('privateDnsZones', 'privatelink.cognitiveservices.azure.com'), { location: 'global' });
    await admin('PUT', `${networkPath('privateDnsZones', 'privatelink.cognitiveservices.azure.com')}/virtualNetworkLinks/ns`, {
      location: 'global',
      properties: { virtualNetwork: { id: networkPath('virtualNetworks', 'ns-vnet') } },
    });
    assert.equal(await resolveFromNamespace(server.dnsPort ?? 0, 'ns-res.cognitiveservices.azure.com'), PE_IP);
    const custom = 'ns-res.cognitiveservices.azure.com';
    assert.equal(await fromNamespace(PE_IP, server.port, custom, `/tts${VOICES}`, { 'Ocp-Apim-Subscription-Key': key }), 200);
    assert.equal(await fromNamespace(HOST_IP, server.port, custom, `/tts${VOICES}`, { 'Ocp-Apim-Subscription-Key': key }), 403);
  });
});
