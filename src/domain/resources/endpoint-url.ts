/**
 * The "Construct endpoint URL" rule of Azure's private-endpoint guide (seed 001, protocol §1.3):
 *
 *   {region}.{offering}.speech.microsoft.com/{path}  ⇄  {custom}.cognitiveservices.azure.com/{offering}/{path}
 *   {region}.api.cognitive.microsoft.com/{path}      ⇄  {custom}.cognitiveservices.azure.com/{path}
 *
 * Scheme, port, query and fragment are kept as they are. Pure: no DNS, no I/O.
 */

export interface HostSuffixes {
  /** `{region}.{offering}.{speechSuffix}`: the SDK and short-audio/TTS REST hosts. */
  speechSuffix: string;
  /** `{region}.{apiSuffix}`: token service, batch transcription, custom speech. */
  apiSuffix: string;
  /** `{customSubDomainName}.{customDomainSuffix}`. */
  customDomainSuffix: string;
}

export const AZURE_SUFFIXES: HostSuffixes = {
  speechSuffix: 'speech.microsoft.com',
  apiSuffix: 'api.cognitive.microsoft.com',
  customDomainSuffix: 'cognitiveservices.azure.com',
};

/** Second DNS label of a regional speech host; becomes the first path segment on a custom domain (seed 001's table). */
export const SPEECH_OFFERINGS = ['stt', 'tts', 'voice', 's2s', 'commands', 'convai'] as const;
export type SpeechOffering = (typeof SPEECH_OFFERINGS)[number];

const SCHEMES = new Set(['http:', 'https:', 'ws:', 'wss:']);
const REGION = /^[a-z0-9]+$/;
/** Azure's rule for customSubDomainName: letters, digits and inner hyphens, 2–64 characters. */
const SUBDOMAIN = /^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$/;

type ParsedHost =
  | { kind: 'speech'; region: string; offering: SpeechOffering }
  | { kind: 'api'; region: string }
  | { kind: 'customDomain'; subdomain: string };

/** Rewrites a regional URL into the private-endpoint (custom domain) form. */
export function toCustomDomainUrl(url: string, customSubDomainName: string, suffixes: HostSuffixes = AZURE_SUFFIXES): string {
  const subdomain = normaliseSubdomain(customSubDomainName, suffixes);
  const u = parseUrl(url);
  const host = parseHost(u.hostname, suffixes);
  switch (host?.kind) {
    case 'customDomain':
      if (host.subdomain === subdomain) return url;
      throw new Error(`${url} already uses custom domain ${host.subdomain}, not ${subdomain}`);
    case 'speech':
      u.hostname = `${subdomain}.${suffixes.customDomainSuffix}`;
      // Since JS SDK 1.44 regional URLs may already carry the prefix (/tts/cognitiveservices/websocket/v1,
      // /stt/speech/universal/v2); the custom-domain form has it once, not twice.
      if (offeringPrefix(u.pathname) !== host.offering) u.pathname = `/${host.offering}${u.pathname}`;
      return u.toString();
    case 'api':
      u.hostname = `${subdomain}.${suffixes.customDomainSuffix}`;
      return u.toString();
    case undefined:
      throw new Error(unrecognised(url, suffixes));
  }
}

/**
 * The inverse: a custom-domain URL back to the regional host of `region` (a custom domain does not
 * say which region it is in, so the caller must). A path starting with an offering goes to that
 * offering's speech host without the prefix; any other path goes to the api host unchanged.
 */
export function toRegionalUrl(url: string, region: string, suffixes: HostSuffixes = AZURE_SUFFIXES): string {
  const r = region.trim().toLowerCase();
  if (!REGION.test(r)) throw new Error(`"${region}" is not an Azure region name (letters and digits only, e.g. westeurope)`);
  const u = parseUrl(url);
  const host = parseHost(u.hostname, suffixes);
  switch (host?.kind) {
    case 'speech':
    case 'api':
      if (host.region === r) return url;
      throw new Error(`${url} is already a regional URL, for ${host.region} rather than ${r}`);
    case 'customDomain': {
      const offering = offeringPrefix(u.pathname);
      if (offering === undefined) {
        u.hostname = `${r}.${suffixes.apiSuffix}`;
      } else {
        u.hostname = `${r}.${offering}.${suffixes.speechSuffix}`;
        u.pathname = u.pathname.slice(offering.length + 1) || '/';
      }
      return u.toString();
    }
    case undefined:
      throw new Error(unrecognised(url, suffixes));
  }
}

function parseUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`"${url}" is not an absolute URL`);
  }
  if (!SCHEMES.has(u.protocol)) throw new Error(`${url}: scheme ${u.protocol} is not one the Speech service uses (http, https, ws, wss)`);
  return u;
}

function parseHost(hostname: string, s: HostSuffixes): ParsedHost | undefined {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  const speech = labelsBefore(h, s.speechSuffix);
  if (speech?.length === 2) {
    const [region, offering] = speech as [string, string];
    if (REGION.test(region) && isOffering(offering)) return { kind: 'speech', region, offering };
    return undefined;
  }
  const api = labelsBefore(h, s.apiSuffix);
  if (api?.length === 1 && REGION.test(api[0]!)) return { kind: 'api', region: api[0]! };
  const custom = labelsBefore(h, s.customDomainSuffix);
  if (custom?.length === 1 && SUBDOMAIN.test(custom[0]!)) return { kind: 'customDomain', subdomain: custom[0]! };
  return undefined;
}

function labelsBefore(host: string, suffix: string): string[] | undefined {
  const tail = `.${suffix.toLowerCase()}`;
  if (!host.endsWith(tail) || host.length === tail.length) return undefined;
  return host.slice(0, -tail.length).split('.');
}

function offeringPrefix(pathname: string): SpeechOffering | undefined {
  const first = pathname.split('/')[1];
  return first !== undefined && isOffering(first) ? first : undefined;
}

function isOffering(s: string): s is SpeechOffering {
  return (SPEECH_OFFERINGS as readonly string[]).includes(s);
}

/** Accepts the bare name or the whole host, as the docs use both ("my-res" and "my-res.cognitiveservices.azure.com"). */
function normaliseSubdomain(name: string, s: HostSuffixes): string {
  let n = name.trim().toLowerCase();
  const tail = `.${s.customDomainSuffix.toLowerCase()}`;
  if (n.endsWith(tail)) n = n.slice(0, -tail.length);
  if (!SUBDOMAIN.test(n)) {
    throw new Error(`"${name}" is not a custom subdomain name (2–64 letters, digits or hyphens, not starting or ending with a hyphen)`);
  }
  return n;
}

function unrecognised(url: string, s: HostSuffixes): string {
  return (
    `${url} is not a Speech endpoint URL: expected {region}.{offering}.${s.speechSuffix} ` +
    `(offering one of ${SPEECH_OFFERINGS.join(', ')}), {region}.${s.apiSuffix} or {name}.${s.customDomainSuffix}`
  );
}
