import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { answerQuery, PRIVATE_ZONE_TTL, PUBLIC_TTL, type DnsView } from '../../src/domain/resources/dns-answers.js';
import type { PrivateEndpoint, Subnet, VirtualNetwork } from '../../src/domain/resources/network.js';

const SUB = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg';
const accountId = (name: string): string => `${SUB}/providers/Microsoft.CognitiveServices/accounts/${name}`;
const vnetId = (name: string): string => `${SUB}/providers/Microsoft.Network/virtualNetworks/${name}`;

function vnet(name: string, prefix: string): VirtualNetwork {
  const subnet: Subnet = { id: `${vnetId(name)}/subnets/default`, name: 'default', addressPrefix: prefix, serviceEndpoints: [] };
  return { id: vnetId(name), name, subscriptionId: 's', resourceGroup: 'rg', location: 'westeurope', tags: {}, addressPrefixes: [prefix], subnets: [subnet], version: 1 };
}

function endpoint(name: string, network: string, privateIp: string, account: string, status: PrivateEndpoint['connection']['status'] = 'Approved'): PrivateEndpoint {
  return {
    id: `${SUB}/providers/Microsoft.Network/privateEndpoints/${name}`,
    name,
    subscriptionId: 's',
    resourceGroup: 'rg',
    location: 'westeurope',
    tags: {},
    subnetId: `${vnetId(network)}/subnets/default`,
    privateIp,
    connection: { name, accountId: accountId(account), groupIds: ['account'], status, description: '', manual: status !== 'Approved' },
    version: 1,
  };
}

const view: DnsView = {
  accounts: [
    { name: 'my-private-link-speech', region: 'westeurope', armId: accountId('my-private-link-speech'), customSubDomainName: 'my-private-link-speech' },
    { name: 'plain-speech', region: 'eastus', armId: accountId('plain-speech'), customSubDomainName: 'plain-speech' },
    { name: 'pending-speech', region: 'westeurope', armId: accountId('pending-speech'), customSubDomainName: 'pending-speech' },
    { name: 'regional-only', region: 'westeurope', armId: accountId('regional-only') },
  ],
  snapshot: {
    virtualNetworks: [vnet('vnet1', '172.28.0.0/16'), vnet('vnet2', '10.1.0.0/16'), vnet('vnet3', '172.29.0.0/16')],
    privateEndpoints: [
      endpoint('pe1', 'vnet1', '172.28.0.10', 'my-private-link-speech'),
      endpoint('pe3', 'vnet3', '172.29.0.7', 'my-private-link-speech'),
      endpoint('pe-pending', 'vnet1', '172.28.0.11', 'pending-speech', 'Pending'),
    ],
    privateDnsZones: [
      {
        id: `${SUB}/providers/Microsoft.Network/privateDnsZones/privatelink.cognitiveservices.azure.com`,
        name: 'privatelink.cognitiveservices.azure.com',
        subscriptionId: 's',
        resourceGroup: 'rg',
        tags: {},
        links: [
          // Ids as ARM hands them back may differ in case from the network's own.
          { name: 'l1', id: 'l1', virtualNetworkId: vnetId('vnet1').toUpperCase(), registrationEnabled: false },
          { name: 'l3', id: 'l3', virtualNetworkId: vnetId('vnet3'), registrationEnabled: false },
        ],
        version: 1,
      },
    ],
  },
  suffixes: { speechSuffix: 'speech.microsoft.com', apiSuffix: 'api.cognitive.microsoft.com', customDomainSuffix: 'cognitiveservices.azure.com' },
  publicAddress: '127.0.0.1',
};

const NAME = 'my-private-link-speech.cognitiveservices.azure.com';
const PRIVATE_NAME = 'my-private-link-speech.privatelink.cognitiveservices.azure.com';
const INSIDE = '172.28.1.4';
const OUTSIDE = '203.0.113.9';
const PROXY_CHAIN = [
  { name: NAME, type: 'CNAME', ttl: PUBLIC_TTL, data: PRIVATE_NAME },
  { name: PRIVATE_NAME, type: 'CNAME', ttl: PUBLIC_TTL, data: 'westeurope.prod.vnet.cog.trafficmanager.net' },
  { name: 'westeurope.prod.vnet.cog.trafficmanager.net', type: 'CNAME', ttl: PUBLIC_TTL, data: 'vnetproxyv1-westeurope-prod.westeurope.cloudapp.azure.com' },
  { name: 'vnetproxyv1-westeurope-prod.westeurope.cloudapp.azure.com', type: 'A', ttl: PUBLIC_TTL, data: '127.0.0.1' },
];

describe('DNS answers for Azure Speech names (seed 001)', () => {
  it('from the linked virtual network: CNAME into privatelink, then the private endpoint address', () => {
    assert.deepEqual(answerQuery({ name: NAME, type: 'A' }, INSIDE, view), {
      rcode: 'NOERROR',
      answers: [
        { name: NAME, type: 'CNAME', ttl: PUBLIC_TTL, data: PRIVATE_NAME },
        { name: PRIVATE_NAME, type: 'A', ttl: PRIVATE_ZONE_TTL, data: '172.28.0.10' },
      ],
    });
  });

  it('from other networks, with a private endpoint: the virtual-network proxy chain', () => {
    assert.deepEqual(answerQuery({ name: NAME, type: 'A' }, OUTSIDE, view), { rcode: 'NOERROR', answers: PROXY_CHAIN });
  });

  it('without private endpoints: CNAME to the regional endpoint, then its address', () => {
    assert.deepEqual(answerQuery({ name: 'plain-speech.cognitiveservices.azure.com', type: 'A' }, INSIDE, view), {
      rcode: 'NOERROR',
      answers: [
        { name: 'plain-speech.cognitiveservices.azure.com', type: 'CNAME', ttl: PUBLIC_TTL, data: 'eastus.api.cognitive.microsoft.com' },
        { name: 'eastus.api.cognitive.microsoft.com', type: 'A', ttl: PUBLIC_TTL, data: '127.0.0.1' },
      ],
    });
  });

  it('inside means a network linked to the zone: an unlinked one sees the proxy', () => {
    assert.deepEqual(answerQuery({ name: NAME, type: 'A' }, '10.1.2.3', view).answers, PROXY_CHAIN);
  });

  it('prefers the endpoint in the querying network, and accepts IPv4-mapped sources', () => {
    const fromVnet3 = answerQuery({ name: NAME, type: 'A' }, '172.29.5.5', view);
    assert.equal(fromVnet3.answers.at(-1)?.data, '172.29.0.7');
    const mapped = answerQuery({ name: NAME, type: 'A' }, `::ffff:${INSIDE}`, view);
    assert.equal(mapped.answers.at(-1)?.data, '172.28.0.10');
  });

  it('an endpoint that is not approved yet keeps the name on the proxy, even inside', () => {
    const r = answerQuery({ name: 'pending-speech.cognitiveservices.azure.com', type: 'A' }, INSIDE, view);
    assert.equal(r.rcode, 'NOERROR');
    assert.deepEqual(
      r.answers.map((x) => x.data),
      ['pending-speech.privatelink.cognitiveservices.azure.com', 'westeurope.prod.vnet.cog.trafficmanager.net', 'vnetproxyv1-westeurope-prod.westeurope.cloudapp.azure.com', '127.0.0.1'],
    );
  });

  it('the privatelink name itself: private A inside, proxy chain outside, NXDOMAIN without endpoints', () => {
    assert.deepEqual(answerQuery({ name: PRIVATE_NAME, type: 'A' }, INSIDE, view).answers, [{ name: PRIVATE_NAME, type: 'A', ttl: PRIVATE_ZONE_TTL, data: '172.28.0.10' }]);
    assert.deepEqual(answerQuery({ name: PRIVATE_NAME, type: 'A' }, OUTSIDE, view).answers, PROXY_CHAIN.slice(1));
    assert.equal(answerQuery({ name: 'plain-speech.privatelink.cognitiveservices.azure.com', type: 'A' }, INSIDE, view).rcode, 'NXDOMAIN');
  });

  it('unknown names inside our zones: NXDOMAIN; the zone apex exists without data', () => {
    for (const name of ['nobody.cognitiveservices.azure.com', 'a.b.cognitiveservices.azure.com', 'nobody.privatelink.cognitiveservices.azure.com', 'x.y.api.cognitive.microsoft.com', 'a.b.c.speech.microsoft.com']) {
      assert.deepEqual(answerQuery({ name, type: 'A' }, INSIDE, view), { rcode: 'NXDOMAIN', answers: [] }, name);
    }
    assert.deepEqual(answerQuery({ name: 'cognitiveservices.azure.com', type: 'A' }, INSIDE, view), { rcode: 'NOERROR', answers: [] });
    assert.deepEqual(answerQuery({ name: 'stt.speech.microsoft.com', type: 'A' }, INSIDE, view), { rcode: 'NOERROR', answers: [] });
  });

  it('names outside every zone we serve: REFUSED', () => {
    for (const name of ['example.com', 'microsoft.com', 'someone-else.westeurope.cloudapp.azure.com', 'vnetproxyv1-westeurope-prod.eastus.cloudapp.azure.com', '']) {
      assert.deepEqual(answerQuery({ name, type: 'A' }, INSIDE, view), { rcode: 'REFUSED', answers: [] }, name);
    }
  });

  it('regional Speech and API names and the proxy chain helpers resolve to the public address', () => {
    assert.deepEqual(answerQuery({ name: 'westeurope.stt.speech.microsoft.com', type: 'A' }, OUTSIDE, view).answers, [
      { name: 'westeurope.stt.speech.microsoft.com', type: 'A', ttl: PUBLIC_TTL, data: '127.0.0.1' },
    ]);
    assert.deepEqual(answerQuery({ name: 'eastus.tts.speech.microsoft.com', type: 'A' }, OUTSIDE, view).answers.map((r) => r.data), ['127.0.0.1']);
    assert.deepEqual(answerQuery({ name: 'westeurope.api.cognitive.microsoft.com', type: 'A' }, OUTSIDE, view).answers.map((r) => r.data), ['127.0.0.1']);
    assert.deepEqual(answerQuery({ name: 'westeurope.prod.vnet.cog.trafficmanager.net', type: 'A' }, OUTSIDE, view).answers, PROXY_CHAIN.slice(2));
    assert.deepEqual(answerQuery({ name: 'vnetproxyv1-westeurope-prod.westeurope.cloudapp.azure.com', type: 'A' }, OUTSIDE, view).answers, PROXY_CHAIN.slice(3));
  });

  it('AAAA gets the CNAMEs and no address (NODATA at the end of the chain); CNAME gets the first hop only', () => {
    assert.deepEqual(answerQuery({ name: NAME, type: 'AAAA' }, OUTSIDE, view), { rcode: 'NOERROR', answers: PROXY_CHAIN.slice(0, 3) });
    assert.deepEqual(answerQuery({ name: NAME, type: 'AAAA' }, INSIDE, view).answers.map((r) => r.type), ['CNAME']);
    assert.deepEqual(answerQuery({ name: 'westeurope.stt.speech.microsoft.com', type: 'AAAA' }, OUTSIDE, view), { rcode: 'NOERROR', answers: [] });
    assert.deepEqual(answerQuery({ name: 'westeurope.stt.speech.microsoft.com', type: 'TXT' }, OUTSIDE, view), { rcode: 'NOERROR', answers: [] });
    assert.deepEqual(answerQuery({ name: NAME, type: 'CNAME' }, OUTSIDE, view), { rcode: 'NOERROR', answers: PROXY_CHAIN.slice(0, 1) });
    assert.deepEqual(answerQuery({ name: NAME, type: 'CNAME' }, INSIDE, view).answers, [{ name: NAME, type: 'CNAME', ttl: PUBLIC_TTL, data: PRIVATE_NAME }]);
    assert.deepEqual(answerQuery({ name: 'westeurope.stt.speech.microsoft.com', type: 'CNAME' }, OUTSIDE, view), { rcode: 'NOERROR', answers: [] });
    assert.equal(answerQuery({ name: 'nobody.cognitiveservices.azure.com', type: 'AAAA' }, OUTSIDE, view).rcode, 'NXDOMAIN');
  });

  it('names are case-insensitive and a trailing dot is tolerated; the owner is spelled back as asked', () => {
    const asked = 'My-Private-Link-Speech.CognitiveServices.Azure.COM.';
    const r = answerQuery({ name: asked, type: 'a' }, INSIDE, view);
    assert.equal(r.rcode, 'NOERROR');
    assert.equal(r.answers[0]?.name, 'My-Private-Link-Speech.CognitiveServices.Azure.COM');
    assert.deepEqual(r.answers.slice(1), [{ name: PRIVATE_NAME, type: 'A', ttl: PRIVATE_ZONE_TTL, data: '172.28.0.10' }]);
    const upperSub: DnsView = { ...view, accounts: [{ ...view.accounts[1]!, customSubDomainName: 'Plain-Speech' }] };
    assert.equal(answerQuery({ name: 'plain-speech.cognitiveservices.azure.com', type: 'A' }, INSIDE, upperSub).rcode, 'NOERROR');
    const zoneCase: DnsView = { ...view, suffixes: { ...view.suffixes, customDomainSuffix: 'CognitiveServices.Azure.com.' } };
    assert.equal(answerQuery({ name: NAME, type: 'A' }, INSIDE, zoneCase).answers.at(-1)?.data, '172.28.0.10');
  });

  it('configured suffixes are honoured', () => {
    const sovereign: DnsView = {
      ...view,
      snapshot: { virtualNetworks: [], privateEndpoints: [], privateDnsZones: [] },
      suffixes: { speechSuffix: 'speech.azure.cn', apiSuffix: 'api.cognitive.azure.cn', customDomainSuffix: 'cognitiveservices.azure.cn' },
    };
    assert.deepEqual(answerQuery({ name: 'plain-speech.cognitiveservices.azure.cn', type: 'A' }, INSIDE, sovereign).answers.map((r) => r.data), [
      'eastus.api.cognitive.azure.cn',
      '127.0.0.1',
    ]);
    assert.equal(answerQuery({ name: 'plain-speech.cognitiveservices.azure.com', type: 'A' }, INSIDE, sovereign).rcode, 'REFUSED');
    assert.equal(answerQuery({ name: 'chinaeast2.stt.speech.azure.cn', type: 'A' }, INSIDE, sovereign).answers[0]?.data, '127.0.0.1');
  });
});
