import type { Output } from './admin-client.js';
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import type { Command } from 'commander';
import dnsPacket, { type Answer, type DecodedPacket } from 'dns-packet';

export interface DnsResolveFlags {
  /** Source address of the query: it decides which side of the split horizon answers. */
  from: string;
  server?: string;
  type?: string;
}


const DEFAULT_SERVER = '127.0.0.1:5353';
const TIMEOUT_MS = 2_000;
const UDP_TRIES = 2;
const TYPES = new Set(['A', 'AAAA', 'CNAME', 'ANY', 'NS', 'SOA', 'TXT', 'MX', 'PTR', 'SRV']);

/** `host:port`, `[v6]:port`, or a bare host (port 53); an unbracketed IPv6 address has no port. */
export function parseServer(value: string): { host: string; port: number } | undefined {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (bracketed) return withPort(bracketed[1] ?? '', bracketed[2]);
  if (net.isIPv6(value)) return { host: value, port: 53 };
  const [host, port, ...rest] = value.split(':');
  if (rest.length > 0 || !host) return undefined;
  return withPort(host, port);
}

function withPort(host: string, port: string | undefined): { host: string; port: number } | undefined {
  if (port === undefined) return { host, port: 53 };
  const n = Number(port);
  return /^\d{1,5}$/.test(port) && n > 0 && n < 65536 ? { host, port: n } : undefined;
}

function sameQuestion(reply: DecodedPacket, id: number, name: string, type: string): boolean {
  const q = reply.questions?.[0];
  return reply.type === 'response' && reply.id === id && q !== undefined && q.name.toLowerCase() === name.toLowerCase() && q.type === type;
}

function queryUdp(query: Buffer, id: number, name: string, type: string, from: string, server: { host: string; port: number }): Promise<DecodedPacket | undefined> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(from) ? 'udp6' : 'udp4');
    let tries = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: DecodedPacket | undefined, err?: Error): void => {
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(result);
    };
    const send = (): void => {
      tries++;
      socket.send(query, server.port, server.host, (err) => {
        if (err) finish(undefined, err);
      });
      timer = setTimeout(() => (tries < UDP_TRIES ? send() : finish(undefined)), TIMEOUT_MS);
    };
    socket.on('error', (err) => finish(undefined, err));
    socket.on('message', (message) => {
      let reply: DecodedPacket;
      try {
        reply = dnsPacket.decode(message);
      } catch {
        return; // not ours to understand; keep waiting for the real reply
      }
      if (sameQuestion(reply, id, name, type)) finish(reply);
    });
    // Binding to --from is the point: the server answers according to the source address.
    socket.bind({ address: from, port: 0 }, send);
  });
}

function queryTcp(query: Buffer, from: string, server: { host: string; port: number }): Promise<DecodedPacket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server.host, port: server.port, localAddress: from });
    let pending: Buffer = Buffer.alloc(0);
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error('timed out')));
    socket.on('error', reject);
    socket.on('close', () => reject(new Error('connection closed without a reply')));
    socket.on('connect', () => socket.write(dnsPacket.streamEncode(dnsPacket.decode(query))));
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (pending.length < 2 || pending.length < 2 + pending.readUInt16BE(0)) return;
      try {
        resolve(dnsPacket.decode(pending.subarray(2, 2 + pending.readUInt16BE(0))));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
      socket.end();
    });
  });
}

function textData(r: Answer): string | undefined {
  return 'data' in r && typeof r.data === 'string' ? r.data : undefined;
}

/** Formats a reply the way nslookup does: the final name, its addresses, then the CNAMEs that led there. */
export function formatAnswer(name: string, type: string, reply: DecodedPacket): { text: string; ok: boolean } {
  const rcode = (reply.flags ?? 0) & 0xf;
  if (rcode === 3) return { text: `** server can't find ${name}: NXDOMAIN\n`, ok: false };
  if (rcode === 5) return { text: `** server can't find ${name}: REFUSED\n`, ok: false };
  if (rcode !== 0) return { text: `** server can't find ${name}: rcode ${rcode}\n`, ok: false };

  const answers: Answer[] = reply.answers ?? [];
  const aliases: string[] = [];
  let current = name.replace(/\.$/, '');
  for (let hops = 0; hops < 16; hops++) {
    const next = answers.find((r) => r.type === 'CNAME' && r.name.toLowerCase() === current.toLowerCase());
    const target = next && textData(next);
    if (target === undefined) break;
    aliases.push(current);
    current = target;
  }
  const addresses = answers.filter((r) => r.type === 'A' || r.type === 'AAAA').flatMap((r) => textData(r) ?? []);
  if (aliases.length === 0 && addresses.length === 0) return { text: `*** No ${type} records for ${name}\n`, ok: true };

  const lines = [`Name:    ${current}`, ...addresses.map((a) => `Address:  ${a}`)];
  aliases.forEach((alias, i) => lines.push(`${i === 0 ? 'Aliases:' : '        '}  ${alias}`));
  return { text: `${lines.join('\n')}\n`, ok: true };
}

/** `parlance dns resolve`: one query, sent from the given address, printed like nslookup. */
export async function dnsResolve(name: string, flags: DnsResolveFlags, out: Output = process.stdout, err: Output = process.stderr): Promise<number> {
  const server = parseServer(flags.server ?? DEFAULT_SERVER);
  if (!server) {
    err.write(`error: --server must be host:port, got ${flags.server}\n`);
    return 2;
  }
  if (!net.isIP(flags.from)) {
    err.write(`error: --from must be an IP address, got ${flags.from}\n`);
    return 2;
  }
  const type = (flags.type ?? 'A').toUpperCase();
  if (!TYPES.has(type)) {
    err.write(`error: --type must be one of ${[...TYPES].join(', ')}\n`);
    return 2;
  }
  const qname = name.replace(/\.$/, '');
  const id = randomInt(0, 65536);
  const query = dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: type as 'A', class: 'IN', name: qname }],
  });
  let reply: DecodedPacket | undefined;
  try {
    reply = await queryUdp(query, id, qname, type, flags.from, server);
    if (reply?.flag_tc) reply = await queryTcp(query, flags.from, server);
  } catch (e) {
    err.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  if (!reply) {
    err.write(`;; connection timed out; no servers could be reached at ${server.host}#${server.port}\n`);
    return 2;
  }
  out.write(`Server:  ${server.host}\nAddress:  ${server.host}#${server.port}\n\n`);
  const { text, ok } = formatAnswer(qname, type, reply);
  (ok ? out : err).write(text);
  return ok ? 0 : 1;
}

export function registerDnsCommands(program: Command): void {
  const dns = program.command('dns').description("query Parlance's DNS server");
  dns
    .command('resolve <name>')
    .description('resolve a name as a host with the given address would (nslookup-style output)')
    .requiredOption('--from <ip>', 'source address of the query, e.g. one inside a virtual network')
    .option('--server <host:port>', 'DNS server', DEFAULT_SERVER)
    .option('--type <type>', 'record type (A, AAAA, CNAME, ANY …)', 'A')
    .action(async (name: string, opts: DnsResolveFlags) => {
      process.exitCode = await dnsResolve(name, opts);
    });
}
