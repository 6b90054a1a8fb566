import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import dnsPacket, { type Answer, type DecodedPacket, type Packet } from 'dns-packet';
import { dnsResolve } from '../../src/cli/dns.js';
import type { DnsView } from '../../src/domain/resources/dns-answers.js';
import { startDnsServer } from '../../src/protocol/dns/server.js';

const SUB = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg';
const VNET = `${SUB}/providers/Microsoft.Network/virtualNetworks/vnet1`;
const accountId = (name: string): string => `${SUB}/providers/Microsoft.CognitiveServices/accounts/${name}`;

/** Linux routes all of 127/8 to loopback, so each address stands for a host on a different network. */
const INSIDE = '127.0.10.5';
const OUTSIDE = '127.0.20.5';
const PRIVATE_IP = '127.0.10.10';
const NAME = 'my-private-link-speech.cognitiveservices.azure.com';
const PRIVATE_NAME = 'my-private-link-speech.privatelink.cognitiveservices.azure.com';

const view: DnsView = {
  accounts: [
    { name: 'my-private-link-speech', region: 'westeurope', armId: accountId('my-private-link-speech'), customSubDomainName: 'my-private-link-speech' },
    { name: 'plain-speech', region: 'westeurope', armId: accountId('plain-speech'), customSubDomainName: 'plain-speech' },
  ],
  snapshot: {
    virtualNetworks: [
      {
        id: VNET,
        name: 'vnet1',
        subscriptionId: 's',
        resourceGroup: 'rg',
        location: 'westeurope',
        tags: {},
        addressPrefixes: ['127.0.10.0/24'],
        subnets: [{ id: `${VNET}/subnets/default`, name: 'default', addressPrefix: '127.0.10.0/24', serviceEndpoints: [] }],
        version: 1,
      },
    ],
    privateEndpoints: [
      {
        id: `${SUB}/providers/Microsoft.Network/privateEndpoints/pe1`,
        name: 'pe1',
        subscriptionId: 's',
        resourceGroup: 'rg',
        location: 'westeurope',
        tags: {},
        subnetId: `${VNET}/subnets/default`,
        privateIp: PRIVATE_IP,
        connection: { name: 'pe1', accountId: accountId('my-private-link-speech'), groupIds: ['account'], status: 'Approved', description: '', manual: false },
        version: 1,
      },
    ],
    privateDnsZones: [
      {
        id: `${SUB}/providers/Microsoft.Network/privateDnsZones/privatelink.cognitiveservices.azure.com`,
        name: 'privatelink.cognitiveservices.azure.com',
        subscriptionId: 's',
        resourceGroup: 'rg',
        tags: {},
        links: [{ name: 'link1', id: 'link1', virtualNetworkId: VNET, registrationEnabled: false }],
        version: 1,
      },
    ],
  },
  suffixes: { speechSuffix: 'speech.microsoft.com', apiSuffix: 'api.cognitive.microsoft.com', customDomainSuffix: 'cognitiveservices.azure.com' },
  publicAddress: '127.0.0.1',
};

function resolverFrom(source: string, port: number): Resolver {
  const r = new Resolver({ timeout: 1_000, tries: 2 });
  r.setLocalAddress(source);
  r.setServers([`127.0.0.1:${port}`]);
  return r;
}

function query(name: string, type: string, extra: Partial<Packet> = {}): Packet {
  return { type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: type as 'A', class: 'IN' }], ...extra };
}

/** Sends raw bytes over UDP from `source` and waits for one datagram back (undefined after `waitMs`). */
function udpExchange(bytes: Buffer, source: string, port: number, waitMs = 1_000): Promise<DecodedPacket | undefined> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      resolve(undefined);
    }, waitMs);
    socket.on('error', reject);
    socket.on('message', (message) => {
      clearTimeout(timer);
      socket.close();
      resolve(dnsPacket.decode(message));
    });
    socket.bind({ address: source, port: 0 }, () => socket.send(bytes, port, '127.0.0.1'));
  });
}

/** Opens one TCP connection from `source`, sends the queries back to back, and reads as many replies. */
function tcpExchange(packets: Packet[], source: string, port: number): Promise<DecodedPacket[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: source });
    const replies: DecodedPacket[] = [];
    let pending: Buffer = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('connect', () => socket.write(Buffer.concat(packets.map((p) => dnsPacket.streamEncode(p)))));
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const length = pending.readUInt16BE(0);
        replies.push(dnsPacket.decode(pending.subarray(2, 2 + length)));
        pending = pending.subarray(2 + length);
      }
      if (replies.length === packets.length) {
        socket.end();
        resolve(replies);
      }
    });
  });
}

const rcodeOf = (p: DecodedPacket): number => (p.flags ?? 0) & 0xf;
const dataOf = (answers: Answer[] | undefined): unknown[] => (answers ?? []).map((r) => ('data' in r ? r.data : undefined));

describe('DNS server over the wire', () => {
  let server: Awaited<ReturnType<typeof startDnsServer>>;
  before(async () => {
    server = await startDnsServer({ host: '127.0.0.1', port: 0, view: () => view });
  });
  after(async () => {
    await server.close();
  });

  it('listens on one port for both UDP and TCP', () => {
    assert.ok(server.port > 0);
    assert.equal(server.address, '127.0.0.1');
  });

  it('from inside the linked virtual network (UDP): the private endpoint address via privatelink', async () => {
    const r = resolverFrom(INSIDE, server.port);
    assert.deepEqual(await r.resolve4(NAME), [PRIVATE_IP]);
    assert.deepEqual(await r.resolveCname(NAME), [PRIVATE_NAME]);
    assert.deepEqual(await r.resolve4(PRIVATE_NAME, { ttl: true }), [{ address: PRIVATE_IP, ttl: 60 }]);
  });

  it('from another network (UDP and TCP): the virtual-network proxy chain', async () => {
    const r = resolverFrom(OUTSIDE, server.port);
    assert.deepEqual(await r.resolve4(NAME), ['127.0.0.1']);
    assert.deepEqual(await r.resolveCname(NAME), [PRIVATE_NAME]);

    const [reply] = await tcpExchange([query(NAME, 'A')], OUTSIDE, server.port);
    assert.ok(reply);
    assert.equal(reply.id, 4242);
    assert.equal(rcodeOf(reply), 0);
    assert.equal(reply.flag_aa, true);
    assert.equal(reply.flag_rd, true);
    assert.equal(reply.flag_ra, false);
    assert.deepEqual(reply.questions, [{ name: NAME, type: 'A', class: 'IN' }]);
    assert.deepEqual(
      (reply.answers ?? []).map((a) => [a.name, a.type, 'data' in a ? a.data : undefined]),
      [
        [NAME, 'CNAME', PRIVATE_NAME],
        [PRIVATE_NAME, 'CNAME', 'westeurope.prod.vnet.cog.trafficmanager.net'],
        ['westeurope.prod.vnet.cog.trafficmanager.net', 'CNAME', 'vnetproxyv1-westeurope-prod.westeurope.cloudapp.azure.com'],
        ['vnetproxyv1-westeurope-prod.westeurope.cloudapp.azure.com', 'A', '127.0.0.1'],
      ],
    );
  });

  it('TCP from inside answers like UDP, several queries on one connection', async () => {
    const replies = await tcpExchange([query(NAME, 'A'), { ...query('westeurope.stt.speech.microsoft.com', 'A'), id: 7 }], INSIDE, server.port);
    assert.deepEqual(dataOf(replies[0]?.answers), [PRIVATE_NAME, PRIVATE_IP]);
    assert.equal(replies[1]?.id, 7);
    assert.deepEqual(dataOf(replies[1]?.answers), ['127.0.0.1']);
  });

  it('without private endpoints: the regional API name, from anywhere', async () => {
    for (const source of [INSIDE, OUTSIDE]) {
      const r = resolverFrom(source, server.port);
      assert.deepEqual(await r.resolveCname('plain-speech.cognitiveservices.azure.com'), ['westeurope.api.cognitive.microsoft.com']);
      assert.deepEqual(await r.resolve4('plain-speech.cognitiveservices.azure.com'), ['127.0.0.1']);
    }
  });

  it('unknown names: NXDOMAIN; foreign names: REFUSED; AAAA: NODATA', async () => {
    const r = resolverFrom(OUTSIDE, server.port);
    await assert.rejects(r.resolve4('nobody.cognitiveservices.azure.com'), { code: 'ENOTFOUND' });
    await assert.rejects(r.resolve4('example.com'), { code: 'EREFUSED' });
    // c-ares reports NODATA behind a CNAME chain as an empty list, and a bare NODATA as ENODATA.
    assert.deepEqual(await r.resolve6(NAME), []);
    await assert.rejects(r.resolve6('westeurope.stt.speech.microsoft.com'), { code: 'ENODATA' });
    const refused = await udpExchange(dnsPacket.encode(query('example.com', 'A')), OUTSIDE, server.port);
    assert.ok(refused);
    assert.equal(rcodeOf(refused), 5);
  });

  it('a malformed datagram is dropped and the next query still answered', async () => {
    const garbage = await udpExchange(Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0xff]), OUTSIDE, server.port, 300);
    assert.equal(garbage, undefined);
    const truncatedName = dnsPacket.encode(query(NAME, 'A')).subarray(0, 20);
    assert.equal(await udpExchange(truncatedName, OUTSIDE, server.port, 300), undefined);
    assert.deepEqual(await resolverFrom(INSIDE, server.port).resolve4(NAME), [PRIVATE_IP]);
  });

  it('two questions: FORMERR; a non-QUERY opcode: NOTIMP; a response is never answered', async () => {
    const two = query(NAME, 'A');
    two.questions = [...(two.questions ?? []), { name: 'plain-speech.cognitiveservices.azure.com', type: 'A', class: 'IN' }];
    const formerr = await udpExchange(dnsPacket.encode(two), OUTSIDE, server.port);
    assert.equal(formerr && rcodeOf(formerr), 1);

    const notify = await udpExchange(dnsPacket.encode(query(NAME, 'SOA', { flags: 4 << 11 })), OUTSIDE, server.port);
    assert.ok(notify);
    assert.equal(rcodeOf(notify), 4);
    assert.equal(((notify.flags ?? 0) >> 11) & 0xf, 4, 'opcode echoed');

    const response = await udpExchange(dnsPacket.encode({ ...query(NAME, 'A'), type: 'response' }), OUTSIDE, server.port, 300);
    assert.equal(response, undefined);
  });

  it('a malformed TCP message closes that connection only', async () => {
    const closed = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: server.port, localAddress: OUTSIDE });
      socket.on('connect', () => socket.write(Buffer.from([0x00, 0x03, 0xde, 0xad, 0xbe])));
      socket.on('data', () => resolve(false));
      socket.on('close', () => resolve(true));
      socket.on('error', () => resolve(true));
    });
    assert.equal(closed, true);
    const [ok] = await tcpExchange([query(NAME, 'A')], INSIDE, server.port);
    assert.deepEqual(dataOf(ok?.answers), [PRIVATE_NAME, PRIVATE_IP]);
  });

  it('the CLI prints the nslookup shape of seed 001', async () => {
    const run = async (from: string, name: string): Promise<{ code: number; out: string }> => {
      let out = '';
      const sink = { write: (s: string) => (out += s) };
      const code = await dnsResolve(name, { from, server: `127.0.0.1:${server.port}` }, sink, sink);
      return { code, out };
    };
    const inside = await run(INSIDE, NAME);
    assert.equal(inside.code, 0);
    assert.match(inside.out, new RegExp(`Name:    ${PRIVATE_NAME}\nAddress:  ${PRIVATE_IP}\nAliases:  ${NAME}\n$`));
    const outside = await run(OUTSIDE, NAME);
    assert.match(
      outside.out,
      new RegExp(
        `Name:    vnetproxyv1-westeurope-prod.westeurope.cloudapp.azure.com\nAddress:  127.0.0.1\nAliases:  ${NAME}\n {10}${PRIVATE_NAME}\n {10}westeurope.prod.vnet.cog.trafficmanager.net\n$`,
      ),
    );
    const missing = await run(OUTSIDE, 'nobody.cognitiveservices.azure.com');
    assert.equal(missing.code, 1);
    assert.match(missing.out, /NXDOMAIN/);
  });

  it('an async view: pipelined TCP queries are answered in order, past the in-flight bound', async () => {
    let calls = 0;
    const slow = await startDnsServer({
      host: '127.0.0.1',
      port: 0,
      // Later queries finish sooner, so ordering cannot come from the view's own timing.
      view: async () => {
        const wait = 20 - (calls++ % 20);
        await new Promise((resolve) => setTimeout(resolve, wait));
        return view;
      },
    });
    try {
      const packets = Array.from({ length: 50 }, (_, i) => ({ ...query(i % 2 ? NAME : 'plain-speech.cognitiveservices.azure.com', 'A'), id: 1000 + i }));
      const replies = await tcpExchange(packets, INSIDE, slow.port);
      assert.deepEqual(
        replies.map((r) => r.id),
        packets.map((p) => p.id),
      );
      assert.deepEqual(dataOf(replies[1]?.answers), [PRIVATE_NAME, PRIVATE_IP]);
      assert.deepEqual(await resolverFrom(OUTSIDE, slow.port).resolve4(NAME), ['127.0.0.1']);
    } finally {
      await slow.close();
    }
  });

  it('a view that fails: SERVFAIL, and the server keeps serving', async () => {
    let fail = true;
    const flaky = await startDnsServer({
      host: '127.0.0.1',
      port: 0,
      view: () => {
        if (fail) throw new Error('storage unavailable');
        return view;
      },
    });
    try {
      const reply = await udpExchange(dnsPacket.encode(query(NAME, 'A')), INSIDE, flaky.port);
      assert.equal(reply && rcodeOf(reply), 2);
      fail = false;
      assert.deepEqual(await resolverFrom(INSIDE, flaky.port).resolve4(NAME), [PRIVATE_IP]);
    } finally {
      await flaky.close();
    }
  });

  it('close() stops both listeners', async () => {
    const extra = await startDnsServer({ host: '127.0.0.1', port: 0, view: () => view });
    await extra.close();
    await extra.close();
    await assert.rejects(
      new Promise((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port: extra.port });
        socket.on('connect', () => {
          socket.destroy();
          resolve(undefined);
        });
        socket.on('error', reject);
      }),
      { code: 'ECONNREFUSED' },
    );
    assert.equal(await udpExchange(dnsPacket.encode(query(NAME, 'A')), OUTSIDE, extra.port, 300), undefined);
  });
});
