import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type OptAnswer, type Packet } from 'dns-packet';
import { answerQuery, type DnsAnswer, type DnsView } from '../../domain/resources/dns-answers.js';
import { normalizeIp } from '../../kernel/net/ip.js';

/**
 * Parlance's authoritative DNS server: the split-horizon answers of dns-answers.ts over UDP and TCP
 * on one port, as a virtual network's resolver (168.63.129.16 in seed 001) would give them. The
 * querying socket's source address stands in for "which network the VM is in".
 */

export interface DnsServerLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface DnsServerOptions {
  host: string;
  port: number;
  /** Called per query, so control-plane changes show up in the next answer; may read storage. */
  view: () => DnsView | Promise<DnsView>;
  logger?: DnsServerLogger;
}

export interface DnsServer {
  port: number;
  address: string;
  close(): Promise<void>;
}

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
type Rcode = keyof typeof RCODE;

const CLASSIC_UDP_LIMIT = 512;
/** The EDNS buffer size DNS Flag Day 2020 settled on: fits any path MTU without fragmenting. */
const EDNS_UDP_LIMIT = 1232;
const MAX_TCP_CONNECTIONS = 100;
const TCP_IDLE_MS = 10_000;
/** Replies queued to a TCP client that sends without reading stop us reading more from it. */
const TCP_WRITE_HIGH_WATER = 256 * 1024;
/** Queries of one TCP connection being answered at once; past this the connection is not read. */
const TCP_MAX_IN_FLIGHT = 32;
/** UDP queries awaiting a (possibly slow) view; past this datagrams are dropped and clients retry. */
const UDP_MAX_IN_FLIGHT = 1_000;
const BIND_ATTEMPTS = 5;

const silent: DnsServerLogger = { debug() {}, warn() {} };

type Transport = 'udp' | 'tcp';

interface Reply {
  packet: Packet;
  /** Largest reply the client accepts over UDP. */
  udpLimit: number;
}

/** Undefined for bytes that are not a DNS message: the caller drops the datagram or closes the stream. */
function decodeQuery(message: Buffer): DecodedPacket | undefined {
  try {
    return dnsPacket.decode(message);
  } catch {
    return undefined;
  }
}

async function buildReply(query: DecodedPacket, source: string, transport: Transport, opts: DnsServerOptions, log: DnsServerLogger): Promise<Reply | undefined> {
  // Never answer a response: two servers pointed at each other would otherwise loop forever.
  if (query.flag_qr) return undefined;

  const opcode = ((query.flags ?? 0) >> 11) & 0xf;
  const questions = query.questions ?? [];
  const opt = (query.additionals ?? []).find((r): r is OptAnswer => r.type === 'OPT');
  const udpLimit = opt ? Math.min(Math.max(opt.udpPayloadSize, CLASSIC_UDP_LIMIT), EDNS_UDP_LIMIT) : CLASSIC_UDP_LIMIT;

  const reply = (rcode: Rcode, answers: Answer[] = []): Reply => ({
    packet: {
      type: 'response',
      id: query.id ?? 0,
      flags: (opcode << 11) | dnsPacket.AUTHORITATIVE_ANSWER | (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0) | RCODE[rcode],
      questions,
      answers,
      // RFC 6891 §7: a responder that understands EDNS puts an OPT in its reply to an EDNS query.
      additionals: opt ? [{ name: '.', type: 'OPT', udpPayloadSize: EDNS_UDP_LIMIT, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
    },
    udpLimit,
  });

  if (opcode !== 0) return reply('NOTIMP');
  const question = questions[0];
  if (questions.length !== 1 || !question) return reply('FORMERR');
  const qclass = String(question.class ?? 'IN');
  if (qclass !== 'IN' && qclass !== 'ANY') return reply('REFUSED');

  let answer: DnsAnswer;
  try {
    answer = answerQuery({ name: question.name, type: String(question.type) }, source, await opts.view());
  } catch (err) {
    // A view that cannot be built right now (storage hiccup) is the server's failure, not the client's.
    log.warn({ err: err instanceof Error ? err.message : String(err) }, 'dns answer failed');
    return reply('SERVFAIL');
  }
  log.debug({ transport, source, name: question.name, type: question.type, rcode: answer.rcode, answers: answer.answers.length }, 'dns query');
  return reply(
    answer.rcode,
    answer.answers.map((r) => ({ name: r.name, type: r.type, class: 'IN', ttl: r.ttl, data: r.data })),
  );
}

function encodeReply(reply: Reply, transport: Transport, log: DnsServerLogger): Buffer | undefined {
  try {
    const wire = dnsPacket.encode(reply.packet);
    if (transport === 'tcp' || wire.length <= reply.udpLimit) return wire;
    // RFC 2181 §9: drop the records rather than send a partial RRset; TC sends the client to TCP.
    return dnsPacket.encode({ ...reply.packet, flags: (reply.packet.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: [] });
  } catch (err) {
    // A record the view made unencodable (say, a non-IPv4 address) must not take the server down.
    log.warn({ err: err instanceof Error ? err.message : String(err) }, 'dns reply not encodable');
    try {
      const flags = ((reply.packet.flags ?? 0) & ~0xf) | RCODE.SERVFAIL;
      return dnsPacket.encode({ ...reply.packet, flags, answers: [] });
    } catch {
      return undefined;
    }
  }
}

/** The wire reply to a decoded query, or undefined when none is due; never rejects. */
async function respond(query: DecodedPacket, source: string, transport: Transport, opts: DnsServerOptions, log: DnsServerLogger): Promise<Buffer | undefined> {
  try {
    const reply = await buildReply(query, source, transport, opts, log);
    return reply ? encodeReply(reply, transport, log) : undefined;
  } catch (err) {
    log.warn({ transport, source, err: err instanceof Error ? err.message : String(err) }, 'dns query not answered');
    return undefined;
  }
}

function listenUdp(host: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4' });
    const onError = (err: Error): void => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

function listenTcp(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeUdp(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const log = opts.logger ?? silent;
  const connections = new Set<net.Socket>();

  const tcp = net.createServer((socket) => serveTcp(socket));
  tcp.maxConnections = MAX_TCP_CONNECTIONS;
  tcp.on('error', (err) => log.warn({ err: err.message }, 'dns tcp server error'));

  function serveTcp(socket: net.Socket): void {
    connections.add(socket);
    const source = normalizeIp(socket.remoteAddress ?? '');
    let pending: Buffer = Buffer.alloc(0);
    let inFlight = 0;
    // Replies go out in the order queries came in, whatever the view's latency.
    let order: Promise<void> = Promise.resolve();

    const congested = (): boolean => inFlight >= TCP_MAX_IN_FLIGHT || socket.writableLength > TCP_WRITE_HIGH_WATER;

    // Only whole messages are taken off `pending`, and none while congested, so at most one
    // message (2 + 65535 bytes) plus one read chunk is ever held per connection.
    const takeMessages = (): void => {
      while (pending.length >= 2 && !congested() && !socket.destroyed) {
        const length = pending.readUInt16BE(0);
        if (pending.length < 2 + length) break;
        const query = decodeQuery(pending.subarray(2, 2 + length));
        pending = pending.subarray(2 + length);
        if (!query) {
          log.debug({ transport: 'tcp', source }, 'dns message malformed; connection closed');
          socket.destroy();
          return;
        }
        inFlight++;
        const wire = respond(query, source, 'tcp', opts, log);
        order = order
          .then(async () => {
            const reply = await wire;
            if (!reply || socket.destroyed) return;
            const prefix = Buffer.alloc(2);
            prefix.writeUInt16BE(reply.length);
            socket.write(Buffer.concat([prefix, reply]));
          })
          .catch(() => {
            socket.destroy();
          })
          .finally(() => {
            inFlight--;
            unblock();
          });
      }
      if (congested()) socket.pause();
    };

    const unblock = (): void => {
      if (socket.destroyed || congested()) return;
      takeMessages();
      if (!congested()) socket.resume();
    };

    socket.setNoDelay(true);
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => connections.delete(socket));
    socket.on('drain', unblock);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      takeMessages();
    });
  }

  let udpInFlight = 0;
  function onDatagram(udp: dgram.Socket, message: Buffer, rinfo: dgram.RemoteInfo): void {
    const source = normalizeIp(rinfo.address);
    const query = decodeQuery(message);
    if (!query) {
      log.debug({ transport: 'udp', source }, 'dns datagram malformed; dropped');
      return;
    }
    if (udpInFlight >= UDP_MAX_IN_FLIGHT) {
      log.warn({ transport: 'udp', source }, 'dns server busy; datagram dropped');
      return;
    }
    udpInFlight++;
    void respond(query, source, 'udp', opts, log).then((wire) => {
      udpInFlight--;
      if (!wire) return;
      try {
        udp.send(wire, rinfo.port, rinfo.address, (err) => {
          if (err) log.warn({ source, err: err.message }, 'dns reply not sent');
        });
      } catch {
        // The socket closed while the view was being read: the server is shutting down.
      }
    });
  }

  // UDP picks the port first when asked for any port; TCP then needs that same port, which another
  // process may hold, so the pair is retried on a fresh port.
  let udp: dgram.Socket | undefined;
  for (let attempt = 1; ; attempt++) {
    const candidate = await listenUdp(opts.host, opts.port);
    const port = candidate.address().port;
    try {
      await listenTcp(tcp, opts.host, port);
      udp = candidate;
      break;
    } catch (err) {
      await closeUdp(candidate);
      const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (opts.port !== 0 || !inUse || attempt >= BIND_ATTEMPTS) throw err;
    }
  }

  const udpSocket = udp;
  udpSocket.on('message', (message, rinfo) => onDatagram(udpSocket, message, rinfo));
  udpSocket.on('error', (err) => log.warn({ err: err.message }, 'dns udp socket error'));

  const bound = udpSocket.address();
  let closing: Promise<void> | undefined;
  return {
    port: bound.port,
    address: bound.address,
    close(): Promise<void> {
      closing ??= (async () => {
        const tcpClosed = new Promise<void>((resolve) => tcp.close(() => resolve()));
        for (const socket of connections) socket.destroy();
        await Promise.all([tcpClosed, closeUdp(udpSocket)]);
      })();
      return closing;
    },
  };
}
