import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Resolver } from 'node:dns/promises';
import { startServer, SDK_AUDIO, type TestServer } from '../helpers/server.js';
import { httpCall, wsUpgrade, type Target } from '../helpers/net-client.js';
import { accountPath, armOk, networkPath, RG, SUB } from '../helpers/arm.js';
import { assertValidResponse } from '../helpers/openapi.js';
import { resolveAzureNamesThrough } from '../helpers/dns-route.js';
import { recognizeOnce, sdk } from '../helpers/sdk.js';

/**
 * The seeds (000: service endpoints; 001: private endpoints, custom domains, DNS) replayed with
 * real TCP source addresses. Every client "machine" is a loopback address of its own:
 *
 *   clients-vnet 127.20.0.0/16 + 127.40.0.0/16, linked to privatelink.cognitiveservices.azure.com
 *     allowed   127.20.1.0/24  service endpoint Microsoft.CognitiveServices, allowed by vnet-res
 *     blocked   127.20.2.0/24  service endpoint, NOT allowed by vnet-res (its range is an IP rule there)
 *     plain     127.20.3.0/24  no service endpoint
 *     endpoints 127.40.0.0/24  private endpoints
 *   the internet: 127.30.0.5 (in vnet-res's IP rules) and 127.31.0.5 (in nobody's)
 */
const REGION = 'westus';
const STT = `${REGION}.stt.speech.microsoft.com`;
const TTS = `${REGION}.tts.speech.microsoft.com`;
const API_HOST = `${REGION}.api.cognitive.microsoft.com`;
const custom = (name: string): string => `${name}.cognitiveservices.azure.com`;

const FROM = { allowed: '127.20.1.5', blocked: '127.20.2.5', plain: '127.20.3.5', listed: '127.30.0.5', internet: '127.31.0.5' };
const SUBNET = (name: string): string => `${networkPath('virtualNetworks', 'clients-vnet')}/subnets/${name}`;

const WAV = readFileSync(join(SDK_AUDIO, 'whatstheweatherlike.wav'));
const SSML = '<speak version="1.0" xml:lang="en-US"><voice name="en-US-JennyNeural">Hello.</voice></speak>';
const STT_PATH = '/speech/recognition/conversation/cognitiveservices/v1?language=en-US';

interface Probe {
  wsStt: number;
  restStt: number;
  restTts: number;
}

describe('Network access scenarios from the seeds (real source addresses)', () => {
  let server: TestServer;
  const keys: Record<string, string> = {};
  let port = 0;
  let peIp = '';

  const at = (host: string, from: string, connect = '127.0.0.1'): Target => ({ connect, port, host, from });
  const keyHeader = (account: string): Record<string, string> => ({ 'Ocp-Apim-Subscription-Key': keys[account] ?? '' });
  const admin = (method: string, path: string, body?: unknown): Promise<unknown> => armOk(port, server.adminToken, method, path, body);

  /** STT over WS and REST on one host, TTS on another (the same host for a custom domain). */
  async function probe(sttHost: string, ttsHost: string, from: string, account: string, opts: { prefix?: boolean; connect?: string } = {}): Promise<Probe> {
    const p = opts.prefix ? { stt: '/stt', tts: '/tts' } : { stt: '', tts: '' };
    const ws = await wsUpgrade(at(sttHost, from, opts.connect), `${p.stt}${STT_PATH}`, keyHeader(account));
    const rest = await httpCall(at(sttHost, from, opts.connect), 'POST', `${p.stt}${STT_PATH}`, {
      headers: { ...keyHeader(account), 'content-type': 'audio/wav; codecs=audio/pcm; samplerate=16000' },
      body: WAV,
    });
    if (rest.status === 200) assert.equal((rest.json() as { DisplayText: string }).DisplayText, "What's the weather like?");
    const tts = await httpCall(at(ttsHost, from, opts.connect), 'POST', `${p.tts}/cognitiveservices/v1`, {
      headers: { ...keyHeader(account), 'content-type': 'application/ssml+xml', 'x-microsoft-outputformat': 'riff-16khz-16bit-mono-pcm' },
      body: SSML,
    });
    if (tts.status === 200) assert.equal(tts.body.subarray(0, 4).toString('latin1'), 'RIFF');
    return { wsStt: ws.status, restStt: rest.status, restTts: tts.status };
  }

  async function issueToken(host: string, from: string, account: string, connect?: string): Promise<{ status: number; text: string }> {
    const r = await httpCall(at(host, from, connect), 'POST', '/sts/v1.0/issueToken', { headers: { ...keyHeader(account), 'content-length': '0' } });
    return { status: r.status, text: r.text };
  }

  async function createAccount(name: string, properties: Record<string, unknown>): Promise<void> {
    const body = await admin('PUT', accountPath(name), { location: REGION, kind: 'SpeechServices', sku: { name: 'S0' }, properties });
    assertValidResponse('arm-2024-10-01', 'Accounts_Create', 201, body);
    const k = (await admin('POST', `${accountPath(name)}/listKeys`)) as { key1: string };
    keys[name] = k.key1;
  }

  before(async () => {
    server = await startServer({ config: { region: REGION, dns: { port: 0 } } });
    port = server.port;
    await admin('PUT', networkPath('virtualNetworks', 'clients-vnet'), {
      location: REGION,
      properties: {
        addressSpace: { addressPrefixes: ['127.20.0.0/16', '127.40.0.0/16', '127.0.0.0/24'] },
        subnets: [
          { name: 'allowed', properties: { addressPrefix: '127.20.1.0/24', serviceEndpoints: [{ service: 'Microsoft.CognitiveServices' }] } },
          { name: 'blocked', properties: { addressPrefix: '127.20.2.0/24', serviceEndpoints: [{ service: 'Microsoft.CognitiveServices' }] } },
          { name: 'plain', properties: { addressPrefix: '127.20.3.0/24' } },
          { name: 'endpoints', properties: { addressPrefix: '127.40.0.0/24' } },
          // The machine the Speech SDK runs on in this test process (it cannot choose its source address).
          { name: 'sdk-host', properties: { addressPrefix: '127.0.0.0/24' } },
        ],
      },
    });
    await admin('PUT', networkPath('privateDnsZones', 'privatelink.cognitiveservices.azure.com'), { location: 'global' });
    await admin('PUT', `${networkPath('privateDnsZones', 'privatelink.cognitiveservices.azure.com')}/virtualNetworkLinks/clients`, {
      location: 'global',
      properties: { virtualNetwork: { id: networkPath('virtualNetworks', 'clients-vnet') }, registrationEnabled: false },
    });
    await createAccount('open-res', {});
    await createAccount('vnet-res', {
      customSubDomainName: 'vnet-res',
      networkAcls: { defaultAction: 'Deny', ipRules: [{ value: '127.20.2.0/24' }, { value: '127.30.0.0/24' }], virtualNetworkRules: [{ id: SUBNET('allowed') }] },
    });
    await createAccount('pe-res', { customSubDomainName: 'pe-res', publicNetworkAccess: 'Disabled' });
    await createAccount('cd-res', { customSubDomainName: 'cd-res' });
    const pe = (await admin('PUT', networkPath('privateEndpoints', 'pe-res-pe'), {
      location: REGION,
      properties: {
        subnet: { id: SUBNET('endpoints') },
        privateLinkServiceConnections: [{ name: 'pe-res-conn', properties: { privateLinkServiceId: accountPath('pe-res'), groupIds: ['account'] } }],
      },
    })) as { properties: { customDnsConfigs: { fqdn: string; ipAddresses: string[] }[] } };
    peIp = pe.properties.customDnsConfigs[0]?.ipAddresses[0] ?? '';
    assert.equal(peIp, '127.40.0.4', 'the first free address after the four Azure reserves');
  });
  after(async () => {
    await server?.close();
  });

  it('all networks, no custom domain: everything regional works from anywhere; tokens are issued and accepted', async () => {
    for (const from of [FROM.internet, FROM.allowed, FROM.plain]) {
      assert.deepEqual(await probe(STT, TTS, from, 'open-res'), { wsStt: 101, restStt: 200, restTts: 200 }, from);
    }
    const token = await issueToken(API_HOST, FROM.internet, 'open-res');
    assert.equal(token.status, 200);
    assert.equal(token.text.split('.').length, 3, 'a JWT');
    const bearer = { authorization: `Bearer ${token.text}` };
    assert.equal((await wsUpgrade(at(STT, FROM.internet), STT_PATH, bearer)).status, 101);
    const voices = await httpCall(at(TTS, FROM.internet), 'GET', '/cognitiveservices/voices/list', { headers: bearer });
    assert.equal(voices.status, 200);
    // The key of a westus resource on another region's host: 401, as Azure's front door answers.
    assert.equal((await wsUpgrade(at('eastus.stt.speech.microsoft.com', FROM.internet), STT_PATH, keyHeader('open-res'))).status, 401);
  });

  it('selected networks with the subnet allowed (seed 000): the custom domain /stt and /tts forms work from that subnet only', async () => {
    assert.deepEqual(await probe(custom('vnet-res'), custom('vnet-res'), FROM.allowed, 'vnet-res', { prefix: true }), { wsStt: 101, restStt: 200, restTts: 200 });
    // The regional endpoint is refused for a resource with virtual-network rules (protocol §E.3).
    const regional = await probe(STT, TTS, FROM.allowed, 'vnet-res');
    assert.deepEqual(regional, { wsStt: 403, restStt: 403, restTts: 403 });
    // From the internet, outside the IP rules.
    const outside = await httpCall(at(custom('vnet-res'), FROM.internet), 'GET', '/tts/cognitiveservices/voices/list', { headers: keyHeader('vnet-res') });
    assert.equal(outside.status, 403);
    assert.deepEqual(outside.json(), { error: { code: '403', message: 'Access denied due to Virtual Network/Firewall rules.' } });
    // Tokens only under "All networks" (seed 001): BadRequest through the allowed subnet, Forbidden from a listed public address.
    assert.equal((await issueToken(custom('vnet-res'), FROM.allowed, 'vnet-res')).status, 400);
    assert.equal((await issueToken(custom('vnet-res'), FROM.listed, 'vnet-res')).status, 403);
  });

  it('service endpoint enabled but the subnet not allowed: refused even though its address matches an IP rule (seed 000)', async () => {
    const fromBlocked = await probe(custom('vnet-res'), custom('vnet-res'), FROM.blocked, 'vnet-res', { prefix: true });
    assert.deepEqual(fromBlocked, { wsStt: 403, restStt: 403, restTts: 403 });
    // A public address in the same IP rules is let in: the difference is the service endpoint.
    assert.deepEqual(await probe(custom('vnet-res'), custom('vnet-res'), FROM.listed, 'vnet-res', { prefix: true }), { wsStt: 101, restStt: 200, restTts: 200 });
    // Turning the service endpoint off makes the blocked subnet ordinary public traffic again, matched by the IP rule.
    await admin('PUT', `${networkPath('virtualNetworks', 'clients-vnet')}/subnets/blocked`, { properties: { addressPrefix: '127.20.2.0/24' } });
    assert.equal((await wsUpgrade(at(custom('vnet-res'), FROM.blocked), `/stt${STT_PATH}`, keyHeader('vnet-res'))).status, 101);
    await admin('PUT', `${networkPath('virtualNetworks', 'clients-vnet')}/subnets/blocked`, {
      properties: { addressPrefix: '127.20.2.0/24', serviceEndpoints: [{ service: 'Microsoft.CognitiveServices' }] },
    });
    assert.equal((await wsUpgrade(at(custom('vnet-res'), FROM.blocked), `/stt${STT_PATH}`, keyHeader('vnet-res'))).status, 403);
  });

  it('custom domain + private endpoint, public access disabled (seed 001): only the private endpoint serves, in the /stt and /tts forms', async () => {
    // Connections to the private endpoint's own address.
    assert.deepEqual(await probe(custom('pe-res'), custom('pe-res'), FROM.plain, 'pe-res', { prefix: true, connect: peIp }), { wsStt: 101, restStt: 200, restTts: 200 });
    // The standard (unprefixed) speech paths do not exist on the custom domain.
    assert.equal((await wsUpgrade(at(custom('pe-res'), FROM.plain, peIp), STT_PATH, keyHeader('pe-res'))).status, 404);
    // The same host reached over the public address: refused (public network access disabled).
    assert.equal((await wsUpgrade(at(custom('pe-res'), FROM.plain), `/stt${STT_PATH}`, keyHeader('pe-res'))).status, 403);
    // FromSubscription-style use of the key on the regional hosts: 401 (seed 001).
    assert.deepEqual(await probe(STT, TTS, FROM.plain, 'pe-res'), { wsStt: 401, restStt: 401, restTts: 401 });
    // Token through the private endpoint: not "All networks" → BadRequest; from outside → Forbidden.
    assert.equal((await issueToken(custom('pe-res'), FROM.plain, 'pe-res', peIp)).status, 400);
    assert.equal((await issueToken(custom('pe-res'), FROM.internet, 'pe-res')).status, 403);
    // Another resource's key on this custom domain is not this resource's key.
    assert.equal((await wsUpgrade(at(custom('pe-res'), FROM.plain, peIp), `/stt${STT_PATH}`, keyHeader('open-res'))).status, 401);
  });

  it('custom domain without private endpoints (seed 001): regional use as usual, /stt form 404, tokens on the custom domain', async () => {
    assert.deepEqual(await probe(STT, TTS, FROM.internet, 'cd-res'), { wsStt: 101, restStt: 200, restTts: 200 });
    assert.deepEqual(await probe(custom('cd-res'), custom('cd-res'), FROM.internet, 'cd-res', { prefix: true }), { wsStt: 404, restStt: 404, restTts: 404 });
    const token = await issueToken(custom('cd-res'), FROM.internet, 'cd-res');
    assert.equal(token.status, 200);
    // A custom-domain token is for that host only (protocol §2.2); a regional one works regionally.
    assert.equal((await wsUpgrade(at(STT, FROM.internet), STT_PATH, { authorization: `Bearer ${token.text}` })).status, 401);
    const regional = await issueToken(API_HOST, FROM.internet, 'cd-res');
    assert.equal((await wsUpgrade(at(STT, FROM.internet), STT_PATH, { authorization: `Bearer ${regional.text}` })).status, 101);
  });

  it('the Speech SDK (seed 001): FromEndpoint with the /stt form reaches the private endpoint through DNS; the regional host with the same key gets 401', async () => {
    // The SDK runs on 127.0.0.1, inside clients-vnet (sdk-host subnet), which is linked to the private zone.
    const restore = resolveAzureNamesThrough(server.dnsPort ?? 0, '127.0.0.1');
    try {
      const endpoint = new URL(`ws://${custom('pe-res')}:${port}/stt/speech/recognition/conversation/cognitiveservices/v1?language=en-US`);
      const viaEndpoint = await recognizeOnce(sdk.SpeechConfig.fromEndpoint(endpoint, keys['pe-res'] ?? ''), WAV);
      assert.equal(viaEndpoint.canceled?.errorDetails, undefined);
      assert.equal(viaEndpoint.result.text, "What's the weather like?");
      // FromSubscription(key, region) dials wss://westus.stt.speech.microsoft.com:443; fromHost with the
      // same regional name on Parlance's port is that call without TLS.
      const regional = await recognizeOnce(sdk.SpeechConfig.fromHost(new URL(`ws://${STT}:${port}`), keys['pe-res'] ?? ''), WAV);
      assert.equal(regional.result.reason, sdk.ResultReason.Canceled);
      assert.match(regional.canceled?.errorDetails ?? '', /401/);
    } finally {
      restore();
    }
  });

  it('DNS answers for the three seed cases, over the wire, by source address', async () => {
    const dnsPort = server.dnsPort;
    assert.ok(dnsPort);
    const resolverFrom = (from: string): Resolver => {
      const r = new Resolver();
      r.setLocalAddress(from);
      r.setServers([`127.0.0.1:${dnsPort}`]);
      return r;
    };
    const inside = resolverFrom(FROM.plain);
    const outside = resolverFrom(FROM.internet);
    // Inside the linked virtual network: the private zone's name and the endpoint's address.
    assert.deepEqual(await inside.resolveCname(custom('pe-res')), ['pe-res.privatelink.cognitiveservices.azure.com']);
    assert.deepEqual(await inside.resolve4(custom('pe-res')), [peIp]);
    // Elsewhere: the chain to the virtual-network proxy.
    assert.deepEqual(await outside.resolveCname(custom('pe-res')), ['pe-res.privatelink.cognitiveservices.azure.com']);
    assert.deepEqual(await outside.resolve4(custom('pe-res')), ['127.0.0.1']);
    // No private endpoints: straight to the regional API host.
    assert.deepEqual(await outside.resolveCname(custom('cd-res')), [API_HOST]);
    assert.deepEqual(await inside.resolveCname(custom('cd-res')), [API_HOST]);
    await assert.rejects(outside.resolve4(custom('nobody-has-this')), /ENOTFOUND/);
  });

  it('private endpoints removed afterwards (seed 001): /stt form 404, regional use with the key works again', async () => {
    await admin('DELETE', networkPath('privateEndpoints', 'pe-res-pe'));
    const patched = await admin('PATCH', accountPath('pe-res'), { properties: { publicNetworkAccess: 'Enabled' } });
    assertValidResponse('arm-2024-10-01', 'Accounts_Update', 200, patched);
    assert.deepEqual(await probe(custom('pe-res'), custom('pe-res'), FROM.plain, 'pe-res', { prefix: true }), { wsStt: 404, restStt: 404, restTts: 404 });
    assert.deepEqual(await probe(STT, TTS, FROM.plain, 'pe-res'), { wsStt: 101, restStt: 200, restTts: 200 });
    const dns = new Resolver();
    dns.setLocalAddress(FROM.plain);
    dns.setServers([`127.0.0.1:${server.dnsPort ?? 0}`]);
    assert.deepEqual(await dns.resolveCname(custom('pe-res')), [API_HOST]);
    // The application still built with FromEndpoint(/stt form) now fails with 404; FromSubscription-style works (seed 001).
    const restore = resolveAzureNamesThrough(server.dnsPort ?? 0, '127.0.0.1');
    try {
      const endpoint = new URL(`ws://${custom('pe-res')}:${port}/stt/speech/recognition/conversation/cognitiveservices/v1?language=en-US`);
      const stale = await recognizeOnce(sdk.SpeechConfig.fromEndpoint(endpoint, keys['pe-res'] ?? ''), WAV);
      assert.equal(stale.result.reason, sdk.ResultReason.Canceled);
      assert.match(stale.canceled?.errorDetails ?? '', /404/);
      const rolledBack = await recognizeOnce(sdk.SpeechConfig.fromHost(new URL(`ws://${STT}:${port}`), keys['pe-res'] ?? ''), WAV);
      assert.equal(rolledBack.result.text, "What's the weather like?");
    } finally {
      restore();
    }
    // The private endpoint's address no longer answers.
    await assert.rejects(httpCall(at(custom('pe-res'), FROM.plain, peIp), 'GET', '/tts/cognitiveservices/voices/list'), /ECONNREFUSED/);
    assert.ok(SUB && RG);
  });
});
