import { X509Certificate, createPrivateKey, generateKeyPair, randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { publishExclusively, readTextIfExists, replaceFile } from './data-files.js';

/**
 * A private certificate authority kept in the data directory, and the server certificate it issues
 * for the Azure host names (`*.stt.speech.microsoft.com`, `*.cognitiveservices.azure.com` …). With
 * DNS pointing those names at Parlance and the CA trusted by the client (NODE_EXTRA_CA_CERTS, the OS
 * store, `ca` options), unmodified applications reach Parlance over HTTPS/WSS.
 *
 * Files, all under `{dataDir}/tls/` (directory mode 0700):
 * - `ca.pem` / `ca-key.pem` (0600): created once, never replaced automatically;
 * - `server.pem` / `server-key.pem` (0600) / `server.json`: reissued when the names change, the CA
 *   changes or the certificate nears its end.
 */

export const TLS_DIR = 'tls';
export const CA_CERT_FILE = 'ca.pem';
export const CA_KEY_FILE = 'ca-key.pem';
export const SERVER_CERT_FILE = 'server.pem';
export const SERVER_KEY_FILE = 'server-key.pem';
export const SERVER_INFO_FILE = 'server.json';

export const CA_COMMON_NAME = 'Parlance Local CA';
const CA_VALIDITY_YEARS = 10;
/** The CA/Browser Forum and Apple ceiling for TLS server certificates issued by a private CA. */
export const SERVER_VALIDITY_DAYS = 825;
/** A cached server certificate with less than this left is reissued at start. */
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;
/** notBefore is backdated a little so a client whose clock lags does not see "not yet valid". */
const BACKDATE_MS = 3600 * 1000;
const RSA_BITS = 2048;
const DAY_MS = 24 * 3600 * 1000;

export const DEFAULT_TLS_IPS: readonly string[] = ['127.0.0.1', '::1'];

export interface PemPair {
  certPem: string;
  keyPem: string;
}

export interface TlsNames {
  /** DNS names; a wildcard (`*.stt.speech.microsoft.com`) covers exactly one leftmost label. */
  names: readonly string[];
  /** IP addresses (v4 or v6) clients may dial directly. */
  ips: readonly string[];
}

export interface NetworkSuffixes {
  speechSuffix: string;
  apiSuffix: string;
  customDomainSuffix: string;
}

/**
 * The names an Azure application dials: the regional data-plane hosts (`{region}.{offering}.{speechSuffix}`),
 * the token/management hosts (`{region}.{apiSuffix}`), custom domains and their private-link zone,
 * and localhost.
 */
export function defaultTlsNames(network: NetworkSuffixes): string[] {
  const s = network.speechSuffix;
  return [
    `*.stt.${s}`,
    `*.tts.${s}`,
    `*.voice.${s}`,
    `*.s2s.${s}`,
    `*.${network.apiSuffix}`,
    `*.${network.customDomainSuffix}`,
    `*.privatelink.${network.customDomainSuffix}`,
    'localhost',
  ];
}

// ------------------------------------------------------------------------------------------------
// CA

/**
 * Loads `{dataDir}/tls/ca.pem` and `ca-key.pem`, creating them on first use. Two processes starting
 * on one data directory end with the same CA: each file is written in full to a private temporary
 * file and published with link(2), which fails with EEXIST when another process got there first —
 * the loser reads the winner's file. The key is published first; a CA certificate missing beside an
 * existing key (a crash between the two steps) is simply made again from that key.
 */
export async function loadOrCreateCa(dataDir: string): Promise<PemPair> {
  const dir = await ensureTlsDir(dataDir);
  const keyFile = join(dir, CA_KEY_FILE);
  const certFile = join(dir, CA_CERT_FILE);

  let keyPem = await readTextIfExists(keyFile);
  if (keyPem === undefined) {
    const fresh = await generateRsaKeyPem();
    keyPem = (await publishExclusively(keyFile, fresh, 0o600)) ? fresh : await readTextIfExists(keyFile);
    if (keyPem === undefined) throw new Error(`${keyFile} vanished while the local CA was being created`);
  }
  let certPem = await readTextIfExists(certFile);
  if (certPem === undefined) {
    const fresh = createCaCertificatePem(keyPem);
    certPem = (await publishExclusively(certFile, fresh, 0o644)) ? fresh : await readTextIfExists(certFile);
    if (certPem === undefined) throw new Error(`${certFile} vanished while the local CA was being created`);
  }
  checkCa({ certPem, keyPem }, dir);
  return { certPem, keyPem };
}

function createCaCertificatePem(keyPem: string): string {
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = randomSerial();
  const now = Date.now();
  cert.validity.notBefore = new Date(now - BACKDATE_MS);
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  cert.validity.notAfter = notAfter;
  const subject = [
    { name: 'commonName', value: CA_COMMON_NAME },
    { name: 'organizationName', value: 'Parlance' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

function checkCa(ca: PemPair, dir: string): void {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(ca.certPem);
  } catch (err) {
    throw new Error(`${join(dir, CA_CERT_FILE)} is not a certificate (${(err as Error).message}); delete ${dir} to have a new CA made (clients must then trust the new one)`);
  }
  if (!x509.ca) throw new Error(`${join(dir, CA_CERT_FILE)} is not a CA certificate; delete ${dir} to have a new CA made`);
  if (!x509.checkPrivateKey(createPrivateKey(ca.keyPem))) {
    throw new Error(`${join(dir, CA_KEY_FILE)} does not belong to ${join(dir, CA_CERT_FILE)}; delete ${dir} to have a new CA made`);
  }
  if (Date.parse(x509.validTo) <= Date.now()) {
    throw new Error(`the local CA in ${dir} expired on ${x509.validTo}; delete ${dir} to have a new one made (clients must then trust the new one)`);
  }
}

// ------------------------------------------------------------------------------------------------
// Server certificate

/**
 * Issues a TLS server certificate (RSA 2048, SHA-256, serverAuth, 825 days at most and never past
 * the CA) for the given DNS names and IP addresses. Pure: nothing is written.
 */
export async function issueServerCertificate(ca: PemPair, names: readonly string[], ips: readonly string[]): Promise<PemPair> {
  const wanted = normalizeTlsNames({ names, ips });
  if (wanted.names.length + wanted.ips.length === 0) throw new RangeError('a server certificate needs at least one name or IP address');
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const keyPem = await generateRsaKeyPem();
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;

  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = randomSerial();
  const notBefore = Date.now() - BACKDATE_MS;
  cert.validity.notBefore = new Date(notBefore);
  cert.validity.notAfter = new Date(Math.min(notBefore + SERVER_VALIDITY_DAYS * DAY_MS, caCert.validity.notAfter.getTime()));
  cert.setSubject([
    { name: 'commonName', value: wanted.names[0] ?? wanted.ips[0] ?? 'parlance' },
    { name: 'organizationName', value: 'Parlance' },
  ]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [...wanted.names.map((value) => ({ type: 2, value })), ...wanted.ips.map((ip) => ({ type: 7, ip }))],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

/**
 * The server certificate cached in `{dataDir}/tls/server.pem` + `server-key.pem`, issued by `ca`
 * for exactly `wanted` (order and case do not matter). It is reissued when the cached one is
 * missing or unreadable, does not match its key, was not issued by `ca`, covers other names, or
 * has less than 30 days left. `server.json` beside it records what it covers.
 */
export async function loadOrIssueServerCertificate(dataDir: string, ca: PemPair, wanted: TlsNames): Promise<PemPair & { reissued: boolean }> {
  const dir = await ensureTlsDir(dataDir);
  const want = normalizeTlsNames(wanted);
  const certFile = join(dir, SERVER_CERT_FILE);
  const keyFile = join(dir, SERVER_KEY_FILE);
  const [certPem, keyPem] = await Promise.all([readTextIfExists(certFile), readTextIfExists(keyFile)]);
  if (certPem !== undefined && keyPem !== undefined && cachedIsUsable({ certPem, keyPem }, ca, want)) {
    return { certPem, keyPem, reissued: false };
  }
  const issued = await issueServerCertificate(ca, want.names, want.ips);
  // Each file is replaced atomically. Two processes reissuing at once may leave a mismatched pair on
  // disk, but each serves the pair it holds in memory, and the next start notices and reissues.
  await replaceFile(keyFile, issued.keyPem, 0o600);
  await replaceFile(certFile, issued.certPem, 0o600);
  const x509 = new X509Certificate(issued.certPem);
  const info = { names: want.names, ips: want.ips, notAfter: new Date(x509.validTo).toISOString(), sha256: x509.fingerprint256 };
  await replaceFile(join(dir, SERVER_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`, 0o644);
  return { ...issued, reissued: true };
}

/** Both steps at once: the CA (created on first use) and a server certificate for `wanted`. */
export async function loadTlsMaterial(dataDir: string, wanted: TlsNames): Promise<{ caPem: string; certPem: string; keyPem: string }> {
  const ca = await loadOrCreateCa(dataDir);
  const server = await loadOrIssueServerCertificate(dataDir, ca, wanted);
  return { caPem: ca.certPem, certPem: server.certPem, keyPem: server.keyPem };
}

function cachedIsUsable(pair: PemPair, ca: PemPair, want: TlsNames): boolean {
  try {
    const x509 = new X509Certificate(pair.certPem);
    const caX509 = new X509Certificate(ca.certPem);
    if (!x509.checkPrivateKey(createPrivateKey(pair.keyPem))) return false;
    if (!x509.checkIssued(caX509) || !x509.verify(caX509.publicKey)) return false;
    const now = Date.now();
    if (Date.parse(x509.validFrom) > now || Date.parse(x509.validTo) - now < RENEW_BEFORE_MS) return false;
    const has = certificateNames(pair.certPem);
    return sameSet(has.names, want.names) && sameSet(has.ips, want.ips);
  } catch {
    return false;
  }
}

/** The DNS names and IP addresses in a certificate's subjectAltName, normalised. */
export function certificateNames(certPem: string): TlsNames {
  const cert = forge.pki.certificateFromPem(certPem);
  const ext = cert.getExtension('subjectAltName') as { altNames?: { type: number; value?: string; ip?: string }[] } | undefined;
  const names: string[] = [];
  const ips: string[] = [];
  for (const n of ext?.altNames ?? []) {
    if (n.type === 2 && n.value !== undefined) names.push(n.value);
    if (n.type === 7 && n.ip !== undefined) ips.push(n.ip);
  }
  return normalizeTlsNames({ names, ips });
}

/**
 * Lower-cases, strips trailing dots, moves IP literals given as names to `ips`, canonicalises IPv6,
 * removes duplicates and sorts; throws RangeError on a name a certificate cannot carry (a wildcard
 * anywhere but as the whole leftmost label, or over fewer than two labels: `*.com`).
 */
export function normalizeTlsNames(input: TlsNames): { names: string[]; ips: string[] } {
  const names = new Set<string>();
  const ips = new Set<string>();
  for (const raw of input.names) {
    const name = raw.trim().toLowerCase().replace(/\.$/, '');
    if (isIP(name) || isIP(name.replace(/^\[|\]$/g, ''))) {
      ips.add(canonicalIp(name.replace(/^\[|\]$/g, '')));
      continue;
    }
    if (!DNS_NAME.test(name) || name.length > 253) throw new RangeError(`not a DNS name a certificate can carry: ${JSON.stringify(raw)}`);
    if (name.startsWith('*.') && name.split('.').length < 3) throw new RangeError(`a wildcard must cover a name of at least two labels, not ${JSON.stringify(raw)}`);
    names.add(name);
  }
  for (const raw of input.ips) {
    const ip = raw.trim().replace(/^\[|\]$/g, '');
    if (!isIP(ip)) throw new RangeError(`not an IP address: ${JSON.stringify(raw)}`);
    ips.add(canonicalIp(ip));
  }
  return { names: [...names].sort(), ips: [...ips].sort() };
}

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DNS_NAME = new RegExp(`^(?:\\*\\.)?(?:${LABEL}\\.)*${LABEL}$`);

/** One spelling per address: `0:0:0:0:0:0:0:1` and `::1` are the same entry; `::ffff:1.2.3.4` stays v6. */
function canonicalIp(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : new URL(`http://${ip}/`).hostname;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// ------------------------------------------------------------------------------------------------
// Files and keys

async function ensureTlsDir(dataDir: string): Promise<string> {
  const dir = join(dataDir, TLS_DIR);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

async function generateRsaKeyPem(): Promise<string> {
  // Node's native generator (off the event loop) rather than forge's JavaScript one.
  const { privateKey } = await promisify(generateKeyPair)('rsa', {
    modulusLength: RSA_BITS,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return privateKey;
}

/** 16 random bytes with the top bit clear: a positive INTEGER of at most 128 bits (RFC 5280 §4.1.2.2). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes.toString('hex');
}
