import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyOrigin, evaluateNetworkAccess, regionalHostRefusesKeys, usesPrivateLinkForm } from '../../src/domain/resources/access.js';
import { classifyHost, splitOfferingPrefix } from '../../src/domain/resources/hosts.js';
import { OPEN_NETWORK_ACLS, accountArmId, type Account } from '../../src/domain/resources/account.js';
import type { NetworkSnapshot, PrivateEndpoint } from '../../src/domain/resources/network.js';
import { cidrWithin, ipInCidr, isPrivateOrLoopback, normalizeIp, parseCidr } from '../../src/kernel/net/ip.js';

const SUFFIXES = { speechSuffix: 'speech.microsoft.com', apiSuffix: 'api.cognitive.microsoft.com', customDomainSuffix: 'cognitiveservices.azure.com' };
const VNET = '/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v';

function account(over: Partial<Account> = {}): Account {
  return {
    id: 'id-1',
    name: 'res',
    subscriptionId: 's',
    resourceGroup: 'g',
    region: 'westus',
    sku: 'S0',
    kind: 'SpeechServices',
    tags: {},
    key1: 'k1',
    key2: 'k2',
    customSubDomainName: 'res',
    publicNetworkAccess: 'Enabled',
    networkAcls: OPEN_NETWORK_ACLS,
    disableLocalAuth: false,
    quotaOverrides: {},
    createdAt: '2026-01-01T00:00:00.000Z',
    version: 1,
    ...over,
  };
}

function pe(target: Account, status: PrivateEndpoint['connection']['status'] = 'Approved', ip = '127.40.0.4'): PrivateEndpoint {
  return {
    id: '/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/privateEndpoints/pe',
    name: 'pe',
    subscriptionId: 's',
    resourceGroup: 'g',
    location: 'westus',
    tags: {},
    subnetId: `${VNET}/subnets/endpoints`,
    privateIp: ip,
    connection: { name: 'c', accountId: accountArmId(target).toUpperCase(), groupIds: ['account'], status, description: '', manual: false },
    version: 1,
  };
}

function snapshot(endpoints: PrivateEndpoint[] = []): NetworkSnapshot {
  return {
    virtualNetworks: [
      {
        id: VNET,
        name: 'v',
        subscriptionId: 's',
        resourceGroup: 'g',
        location: 'westus',
        tags: {},
        addressPrefixes: ['10.0.0.0/16'],
        subnets: [
          { id: `${VNET}/subnets/se`, name: 'se', addressPrefix: '10.0.1.0/24', serviceEndpoints: [{ service: 'Microsoft.CognitiveServices', locations: ['*'] }] },
          { id: `${VNET}/subnets/se-narrow`, name: 'se-narrow', addressPrefix: '10.0.1.128/25', serviceEndpoints: [{ service: 'microsoft.cognitiveservices', locations: ['*'] }] },
          { id: `${VNET}/subnets/plain`, name: 'plain', addressPrefix: '10.0.2.0/24', serviceEndpoints: [] },
        ],
        version: 1,
      },
    ],
    privateEndpoints: endpoints,
    privateDnsZones: [],
  };
}

describe('kernel/net/ip', () => {
  it('parses, normalises and matches addresses and ranges', () => {
    assert.equal(normalizeIp('::ffff:127.0.0.2'), '127.0.0.2');
    assert.deepEqual(parseCidr('10.0.0.0/8'), { address: '10.0.0.0', prefix: 8, family: 4 });
    assert.deepEqual(parseCidr('2001:db8::1'), { address: '2001:db8::1', prefix: 128, family: 6 });
    for (const bad of ['10.0.0.0/33', '10.0.0/8', 'x', '10.0.0.0/8/1', '10.0.0.0/-1']) assert.equal(parseCidr(bad), undefined, bad);
    assert.ok(ipInCidr('::ffff:10.1.2.3', '10.0.0.0/8'));
    assert.ok(!ipInCidr('11.0.0.1', '10.0.0.0/8'));
    assert.ok(ipInCidr('203.0.113.7', '203.0.113.7'));
    assert.ok(!ipInCidr('10.0.0.1', '2001:db8::/32'));
    assert.ok(cidrWithin('10.0.1.0/24', '10.0.0.0/16'));
    assert.ok(!cidrWithin('10.0.0.0/8', '10.0.0.0/16'));
    assert.ok(isPrivateOrLoopback('127.20.0.0/16') && isPrivateOrLoopback('192.168.1.1') && !isPrivateOrLoopback('8.8.8.8'));
  });
});

describe('hosts', () => {
  it('tells regional, custom-domain and container hosts apart', () => {
    assert.deepEqual(classifyHost('westus.stt.speech.microsoft.com', SUFFIXES), { kind: 'regional', region: 'westus', offering: 'stt' });
    assert.deepEqual(classifyHost('WestEurope.TTS.speech.microsoft.com:443', SUFFIXES), { kind: 'regional', region: 'westeurope', offering: 'tts' });
    assert.deepEqual(classifyHost('westus.api.cognitive.microsoft.com', SUFFIXES), { kind: 'regional', region: 'westus', offering: 'api' });
    assert.deepEqual(classifyHost('my-res.cognitiveservices.azure.com', SUFFIXES), { kind: 'customDomain', subdomain: 'my-res' });
    assert.deepEqual(classifyHost('my-res.privatelink.cognitiveservices.azure.com.', SUFFIXES), { kind: 'customDomain', subdomain: 'my-res' });
    for (const other of ['localhost:5000', '127.0.0.1', '[::1]:5000', 'westus.foo.speech.microsoft.com', 'a.b.cognitiveservices.azure.com', undefined]) {
      assert.deepEqual(classifyHost(other, SUFFIXES), { kind: 'container' }, String(other));
    }
  });

  it('splits the offering prefix of the private-endpoint URL form', () => {
    assert.deepEqual(splitOfferingPrefix('/stt/speech/recognition/conversation/cognitiveservices/v1'), { offering: 'stt', rest: '/speech/recognition/conversation/cognitiveservices/v1' });
    assert.deepEqual(splitOfferingPrefix('/tts/cognitiveservices/voices/list'), { offering: 'tts', rest: '/cognitiveservices/voices/list' });
    assert.deepEqual(splitOfferingPrefix('/speech/universal/v2'), { rest: '/speech/universal/v2' });
    assert.deepEqual(splitOfferingPrefix('/sts/v1.0/issueToken'), { rest: '/sts/v1.0/issueToken' });
  });
});

describe('network access evaluation', () => {
  it('classifies origins: private endpoint by local address, service-endpoint subnet (most specific), else public', () => {
    const a = account();
    const s = snapshot([pe(a)]);
    assert.equal(classifyOrigin(s, '10.0.2.9', '::ffff:127.40.0.4').kind, 'privateEndpoint');
    assert.deepEqual(classifyOrigin(s, '10.0.1.200', '127.0.0.1'), { kind: 'virtualNetwork', subnetId: `${VNET}/subnets/se-narrow` });
    assert.deepEqual(classifyOrigin(s, '10.0.1.5', '127.0.0.1'), { kind: 'virtualNetwork', subnetId: `${VNET}/subnets/se` });
    assert.deepEqual(classifyOrigin(s, '10.0.2.9', '127.0.0.1'), { kind: 'public', address: '10.0.2.9' });
  });

  it('applies public access, default action, IP rules and virtual-network rules', () => {
    const vnet = { kind: 'virtualNetwork' as const, subnetId: `${VNET}/subnets/se` };
    const pub = (address: string) => ({ kind: 'public' as const, address });
    const open = account();
    assert.deepEqual(evaluateNetworkAccess(open, pub('8.8.8.8')), { allowed: true, via: 'allNetworks' });
    assert.deepEqual(evaluateNetworkAccess(open, vnet), { allowed: true, via: 'allNetworks' });
    const disabled = account({ publicNetworkAccess: 'Disabled' });
    assert.equal(evaluateNetworkAccess(disabled, pub('8.8.8.8')).allowed, false);
    assert.equal(evaluateNetworkAccess(disabled, vnet).allowed, false);
    const selected = account({
      networkAcls: { defaultAction: 'Deny', bypass: 'AzureServices', ipRules: [{ value: '10.0.1.0/24' }, { value: '203.0.113.7' }], virtualNetworkRules: [] },
    });
    assert.deepEqual(evaluateNetworkAccess(selected, pub('203.0.113.7')), { allowed: true, via: 'ipRule' });
    assert.equal(evaluateNetworkAccess(selected, pub('203.0.113.8')).allowed, false);
    // Seed 000: service-endpoint traffic is not let in by an IP rule matching its address.
    assert.deepEqual(evaluateNetworkAccess(selected, vnet), { allowed: false, reason: 'subnet is not allowed' });
    const allowedSubnet = account({
      networkAcls: { ...selected.networkAcls, virtualNetworkRules: [{ id: `${VNET.toUpperCase()}/subnets/SE`, ignoreMissingVnetServiceEndpoint: false }] },
    });
    assert.deepEqual(evaluateNetworkAccess(allowedSubnet, vnet), { allowed: true, via: 'virtualNetworkRule' });
  });

  it('private endpoints let their own account in when Approved, whatever the public rules', () => {
    const a = account({ publicNetworkAccess: 'Disabled' });
    assert.deepEqual(evaluateNetworkAccess(a, { kind: 'privateEndpoint', endpoint: pe(a) }), { allowed: true, via: 'privateEndpoint' });
    assert.equal(evaluateNetworkAccess(a, { kind: 'privateEndpoint', endpoint: pe(a, 'Pending') }).allowed, false);
    assert.equal(evaluateNetworkAccess(a, { kind: 'privateEndpoint', endpoint: pe(a, 'Rejected') }).allowed, false);
    const other = account({ id: 'id-2', name: 'other' });
    assert.equal(evaluateNetworkAccess(other, { kind: 'privateEndpoint', endpoint: pe(a) }).allowed, false);
  });

  it('decides the custom domain URL form and the regional 401 from endpoints and rules', () => {
    const a = account();
    assert.equal(usesPrivateLinkForm(a, snapshot()), false);
    assert.equal(usesPrivateLinkForm(a, snapshot([pe(a, 'Pending')])), true);
    assert.equal(regionalHostRefusesKeys(a, snapshot([pe(a)])), true);
    assert.equal(regionalHostRefusesKeys(a, snapshot()), false);
    const vnetRules = account({ networkAcls: { defaultAction: 'Deny', bypass: 'None', ipRules: [], virtualNetworkRules: [{ id: `${VNET}/subnets/se`, ignoreMissingVnetServiceEndpoint: false }] } });
    assert.equal(usesPrivateLinkForm(vnetRules, snapshot()), true);
  });
});
