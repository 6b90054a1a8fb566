/**
 * Which resource a request is for is decided first by the Host it was sent to (protocol §1.1, §1.3):
 * a regional host names a region and an offering, a custom domain names an account, and anything
 * else (localhost:5000, an IP) is the container style where the key alone finds the account.
 */

export interface HostSuffixes {
  speechSuffix: string;
  apiSuffix: string;
  customDomainSuffix: string;
}

/** Seed 001's table of offerings: the second label of a regional host, the first path segment on a custom domain. */
export const OFFERINGS = ['stt', 'tts', 'voice', 's2s', 'commands', 'convai'] as const;
export type Offering = (typeof OFFERINGS)[number];

export type HostRoute =
  | { kind: 'regional'; region: string; offering: Offering | 'api' }
  | { kind: 'customDomain'; subdomain: string }
  | { kind: 'container' };

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function hostnameOf(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  let h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  if (colon > 0 && h.indexOf(':') === colon) h = h.slice(0, colon);
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

export function classifyHost(hostHeader: string | undefined, suffixes: HostSuffixes): HostRoute {
  const host = hostnameOf(hostHeader);
  const under = (suffix: string): string | undefined => {
    const s = `.${suffix.toLowerCase()}`;
    return host.endsWith(s) ? host.slice(0, -s.length) : undefined;
  };
  const custom = under(suffixes.customDomainSuffix);
  if (custom !== undefined) {
    // `{name}.privatelink.{suffix}` is the same account reached through the private zone's name.
    const parts = custom.split('.');
    const sub = parts.length === 2 && parts[1] === 'privatelink' ? parts[0] : parts.length === 1 ? parts[0] : undefined;
    if (sub !== undefined && LABEL.test(sub)) return { kind: 'customDomain', subdomain: sub };
    return { kind: 'container' };
  }
  const api = under(suffixes.apiSuffix);
  if (api !== undefined && LABEL.test(api)) return { kind: 'regional', region: api, offering: 'api' };
  const speech = under(suffixes.speechSuffix);
  if (speech !== undefined) {
    const [region, offering, ...rest] = speech.split('.');
    if (rest.length === 0 && region && LABEL.test(region) && (OFFERINGS as readonly string[]).includes(offering ?? '')) {
      return { kind: 'regional', region, offering: offering as Offering };
    }
  }
  return { kind: 'container' };
}

/** `/stt/speech/...` → { offering: 'stt', rest: '/speech/...' }; paths without a known prefix are returned whole. */
export function splitOfferingPrefix(path: string): { offering?: Offering; rest: string } {
  const m = /^\/([a-z0-9]+)(\/.*)?$/i.exec(path);
  const first = m?.[1]?.toLowerCase();
  if (first && (OFFERINGS as readonly string[]).includes(first)) return { offering: first as Offering, rest: m?.[2] ?? '/' };
  return { rest: path };
}
