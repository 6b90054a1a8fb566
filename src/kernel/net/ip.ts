import { BlockList, isIP } from 'node:net';

/**
 * IP address helpers for network rules and DNS views. Sockets on dual-stack listeners report IPv4
 * peers as IPv4-mapped IPv6 (`::ffff:127.0.0.2`); rules are written in plain IPv4, so addresses are
 * normalised first.
 */
export function normalizeIp(address: string): string {
  const a = address.trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped?.[1]) return mapped[1];
  return a.toLowerCase();
}

export function ipFamily(address: string): 4 | 6 | undefined {
  const f = isIP(normalizeIp(address));
  return f === 4 ? 4 : f === 6 ? 6 : undefined;
}

export interface Cidr {
  address: string;
  prefix: number;
  family: 4 | 6;
}

/** `10.0.0.0/16`, `2001:db8::/32` or a single address (a /32 or /128). Undefined when malformed. */
export function parseCidr(value: string): Cidr | undefined {
  const [addr, len, ...rest] = value.trim().split('/');
  if (addr === undefined || rest.length > 0) return undefined;
  const address = normalizeIp(addr);
  const family = ipFamily(address);
  if (family === undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  if (len === undefined) return { address, prefix: max, family };
  if (!/^\d{1,3}$/.test(len)) return undefined;
  const prefix = Number(len);
  if (prefix > max) return undefined;
  return { address, prefix, family };
}

/** True when `ip` lies inside `cidr` (both as strings; malformed input never matches). */
export function ipInCidr(ip: string, cidr: string | Cidr): boolean {
  const range = typeof cidr === 'string' ? parseCidr(cidr) : cidr;
  const address = normalizeIp(ip);
  const family = ipFamily(address);
  if (!range || family === undefined || family !== range.family) return false;
  const list = new BlockList();
  list.addSubnet(range.address, range.prefix, family === 4 ? 'ipv4' : 'ipv6');
  return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** True when `inner` is entirely inside `outer` (e.g. a subnet inside its virtual network's address space). */
export function cidrWithin(inner: string, outer: string): boolean {
  const i = parseCidr(inner);
  const o = parseCidr(outer);
  if (!i || !o || i.family !== o.family || i.prefix < o.prefix) return false;
  return ipInCidr(i.address, o);
}

/** Loopback and private ranges (RFC 1918, RFC 4193, link-local): Azure refuses them in IP rules; Parlance allows them. */
export function isPrivateOrLoopback(value: string): boolean {
  const c = parseCidr(value);
  if (!c) return false;
  const ranges = c.family === 4 ? ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16'] : ['::1/128', 'fc00::/7', 'fe80::/10'];
  return ranges.some((r) => ipInCidr(c.address, r));
}
