import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import forge from 'node-forge';
import {
  CA_CERT_FILE,
  CA_COMMON_NAME,
  CA_KEY_FILE,
  SERVER_CERT_FILE,
  SERVER_INFO_FILE,
  SERVER_KEY_FILE,
  TLS_DIR,
  DEFAULT_TLS_IPS,
  certificateNames,
  defaultTlsNames,
  issueServerCertificate,
  loadOrCreateCa,
  loadOrIssueServerCertificate,
  loadTlsMaterial,
  normalizeTlsNames,
} from '../../src/security/local-ca.js';

const run = promisify(execFile);
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'parlance-ca-'));
  dirs.push(d);
  return d;
}
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const SUFFIXES = { speechSuffix: 'speech.microsoft.com', apiSuffix: 'api.cognitive.microsoft.com', customDomainSuffix: 'cognitiveservices.azure.com' };
const DEFAULTS = { names: defaultTlsNames(SUFFIXES), ips: DEFAULT_TLS_IPS };
const DAY = 24 * 3600 * 1000;
const posix = process.platform !== 'win32';

describe('loadOrCreateCa', () => {
  it('creates a 10-year CA once (key 0600) and reuses it', async () => {
    const dir = await tempDir();
    const ca = await loadOrCreateCa(dir);
    const x509 = new X509Certificate(ca.certPem);
    assert.equal(x509.ca, true);
    assert.match(x509.subject, new RegExp(`CN=${CA_COMMON_NAME}`));
    assert.equal(x509.subject, x509.issuer);
    assert.ok(x509.verify(x509.publicKey), 'self-signed');
    assert.ok(x509.checkPrivateKey(createPrivateKey(ca.keyPem)));
    const years = (Date.parse(x509.validTo) - Date.now()) / (365.25 * DAY);
    assert.ok(years > 9.9 && years < 10.1, `${years} years`);
    assert.equal(createPrivateKey(ca.keyPem).asymmetricKeyDetails?.modulusLength, 2048);
    const forgeCa = forge.pki.certificateFromPem(ca.certPem);
    assert.equal((forgeCa.getExtension('keyUsage') as { keyCertSign?: boolean; critical?: boolean }).keyCertSign, true);
    assert.equal((forgeCa.getExtension('basicConstraints') as { cA?: boolean; critical?: boolean }).critical, true);
    assert.equal(await readFile(join(dir, TLS_DIR, CA_CERT_FILE), 'utf8'), ca.certPem);
    assert.equal(await readFile(join(dir, TLS_DIR, CA_KEY_FILE), 'utf8'), ca.keyPem);
    if (posix) {
      assert.equal((await stat(join(dir, TLS_DIR, CA_KEY_FILE))).mode & 0o777, 0o600);
      assert.equal((await stat(join(dir, TLS_DIR))).mode & 0o077, 0, 'tls directory private');
    }
    assert.deepEqual(await loadOrCreateCa(dir), ca);
  });

  it('gives concurrent loads, in one process and across processes, the same CA', async () => {
    const dir = await tempDir();
    const all = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateCa(dir)));
    for (const c of all) assert.deepEqual(c, all[0]);

    const dir2 = await tempDir();
    const moduleUrl = pathToFileURL(fileURLToPath(new URL('../../src/security/local-ca.js', import.meta.url))).href;
    const code =
      `const { loadOrCreateCa } = await import(${JSON.stringify(moduleUrl)});` +
      `const ca = await loadOrCreateCa(${JSON.stringify(dir2)}); process.stdout.write(ca.certPem + ca.keyPem);`;
    const outs = await Promise.all(Array.from({ length: 4 }, () => run(process.execPath, ['--input-type=module', '-e', code]).then((r) => r.stdout)));
    assert.equal(new Set(outs).size, 1);
    const ca = await loadOrCreateCa(dir2);
    assert.equal(outs[0], ca.certPem + ca.keyPem);
  });

  it('remakes a missing CA certificate from the existing key', async () => {
    const dir = await tempDir();
    const ca = await loadOrCreateCa(dir);
    await unlink(join(dir, TLS_DIR, CA_CERT_FILE));
    const again = await loadOrCreateCa(dir);
    assert.equal(again.keyPem, ca.keyPem);
    assert.ok(new X509Certificate(again.certPem).checkPrivateKey(createPrivateKey(ca.keyPem)));
  });

  it('refuses a CA certificate that does not match its key', async () => {
    const dir = await tempDir();
    const other = await loadOrCreateCa(await tempDir());
    await loadOrCreateCa(dir);
    await writeFile(join(dir, TLS_DIR, CA_CERT_FILE), other.certPem);
    await assert.rejects(loadOrCreateCa(dir), /does not belong/);
  });
});

describe('issueServerCertificate', () => {
  it('issues a leaf for the Azure names that verifies against the CA', async () => {
    const dir = await tempDir();
    const ca = await loadOrCreateCa(dir);
    const leaf = await issueServerCertificate(ca, DEFAULTS.names, DEFAULTS.ips);
    const x509 = new X509Certificate(leaf.certPem);
    const caX509 = new X509Certificate(ca.certPem);
    assert.equal(x509.ca, false);
    assert.ok(x509.checkIssued(caX509));
    assert.ok(x509.verify(caX509.publicKey));
    assert.ok(x509.checkPrivateKey(createPrivateKey(leaf.keyPem)));
    assert.deepEqual(x509.keyUsage, ['1.3.6.1.5.5.7.3.1'], 'serverAuth only');
    const days = (Date.parse(x509.validTo) - Date.parse(x509.validFrom)) / DAY;
    assert.ok(days <= 825, `${days} days`);

    for (const host of [
      'westus.stt.speech.microsoft.com',
      'eastus2.tts.speech.microsoft.com',
      'westus.voice.speech.microsoft.com',
      'westus.s2s.speech.microsoft.com',
      'westus.api.cognitive.microsoft.com',
      'my-res.cognitiveservices.azure.com',
      'my-res.privatelink.cognitiveservices.azure.com',
      'localhost',
    ]) {
      // checkHost answers with the subject name that matched (the wildcard pattern).
      assert.notEqual(x509.checkHost(host), undefined, host);
    }
    // A wildcard covers one label only.
    assert.equal(x509.checkHost('a.westus.stt.speech.microsoft.com'), undefined);
    assert.equal(x509.checkHost('speech.microsoft.com'), undefined);
    assert.equal(x509.checkHost('example.com'), undefined);
    assert.equal(x509.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(x509.checkIP('::1'), '::1');
    assert.equal(x509.checkIP('10.0.0.1'), undefined);
  });

  it('signs with SHA-256 and names what it covers', async () => {
    const ca = await loadOrCreateCa(await tempDir());
    const leaf = await issueServerCertificate(ca, ['Foo.Example.TEST.', '10.1.2.3'], ['0:0:0:0:0:0:0:1']);
    assert.deepEqual(certificateNames(leaf.certPem), { names: ['foo.example.test'], ips: ['10.1.2.3', '::1'] });
    // The signature algorithm, read from the DER: sha256WithRSAEncryption = 1.2.840.113549.1.1.11.
    const der = new X509Certificate(leaf.certPem).raw;
    assert.ok(der.includes(Buffer.from('06092a864886f70d01010b', 'hex')), 'sha256WithRSAEncryption');
  });

  it('rejects names a certificate cannot carry', async () => {
    const ca = await loadOrCreateCa(await tempDir());
    await assert.rejects(issueServerCertificate(ca, ['*.com'], []), RangeError);
    await assert.rejects(issueServerCertificate(ca, ['a.*.example.com'], []), RangeError);
    await assert.rejects(issueServerCertificate(ca, ['bad name.example.com'], []), RangeError);
    await assert.rejects(issueServerCertificate(ca, [], ['999.1.1.1']), RangeError);
    await assert.rejects(issueServerCertificate(ca, [], []), RangeError);
  });
});

describe('loadOrIssueServerCertificate', () => {
  it('caches the certificate (key 0600), reuses it, and reissues when the names change', async () => {
    const dir = await tempDir();
    const ca = await loadOrCreateCa(dir);
    const first = await loadOrIssueServerCertificate(dir, ca, DEFAULTS);
    assert.equal(first.reissued, true);
    assert.equal(await readFile(join(dir, TLS_DIR, SERVER_CERT_FILE), 'utf8'), first.certPem);
    assert.equal(await readFile(join(dir, TLS_DIR, SERVER_KEY_FILE), 'utf8'), first.keyPem);
    if (posix) assert.equal((await stat(join(dir, TLS_DIR, SERVER_KEY_FILE))).mode & 0o777, 0o600);
    const info = JSON.parse(await readFile(join(dir, TLS_DIR, SERVER_INFO_FILE), 'utf8')) as { names: string[]; ips: string[] };
    assert.deepEqual(info.names, normalizeTlsNames(DEFAULTS).names);
    assert.deepEqual(info.ips, ['127.0.0.1', '::1']);

    // Same names in another order and case: the cached one.
    const reordered = { names: [...DEFAULTS.names].reverse().map((n) => n.toUpperCase()), ips: ['::1', '127.0.0.1'] };
    const second = await loadOrIssueServerCertificate(dir, ca, reordered);
    assert.equal(second.reissued, false);
    assert.equal(second.certPem, first.certPem);
    assert.equal(second.keyPem, first.keyPem);

    // Another name: reissued and cached.
    const more = { names: [...DEFAULTS.names, 'speech.example.test'], ips: DEFAULTS.ips };
    const third = await loadOrIssueServerCertificate(dir, ca, more);
    assert.equal(third.reissued, true);
    assert.notEqual(third.certPem, first.certPem);
    assert.equal(new X509Certificate(third.certPem).checkHost('speech.example.test'), 'speech.example.test');
    assert.equal(new X509Certificate(first.certPem).checkHost('speech.example.test'), undefined);
    assert.equal((await loadOrIssueServerCertificate(dir, ca, more)).reissued, false);
    // Another address: reissued too.
    assert.equal((await loadOrIssueServerCertificate(dir, ca, { names: more.names, ips: ['127.0.0.1'] })).reissued, true);
  });

  it('reissues when the CA changed or the cached pair is broken', async () => {
    const dir = await tempDir();
    const ca = await loadOrCreateCa(dir);
    const first = await loadOrIssueServerCertificate(dir, ca, DEFAULTS);
    const otherCa = await loadOrCreateCa(await tempDir());
    const byOther = await loadOrIssueServerCertificate(dir, otherCa, DEFAULTS);
    assert.equal(byOther.reissued, true);
    assert.ok(new X509Certificate(byOther.certPem).verify(new X509Certificate(otherCa.certPem).publicKey));

    await writeFile(join(dir, TLS_DIR, SERVER_KEY_FILE), first.keyPem);
    assert.equal((await loadOrIssueServerCertificate(dir, otherCa, DEFAULTS)).reissued, true, 'key does not match');
    await writeFile(join(dir, TLS_DIR, SERVER_CERT_FILE), 'garbage');
    assert.equal((await loadOrIssueServerCertificate(dir, otherCa, DEFAULTS)).reissued, true, 'unreadable');
  });

  it('loadTlsMaterial returns the CA and a server certificate it issued', async () => {
    const dir = await tempDir();
    const tls = await loadTlsMaterial(dir, DEFAULTS);
    assert.ok(new X509Certificate(tls.certPem).verify(new X509Certificate(tls.caPem).publicKey));
    assert.equal(tls.caPem, (await loadOrCreateCa(dir)).certPem);
  });
});

describe('defaultTlsNames / normalizeTlsNames', () => {
  it('follows the configured suffixes', () => {
    assert.deepEqual(defaultTlsNames({ speechSuffix: 'speech.azure.cn', apiSuffix: 'api.cognitive.azure.cn', customDomainSuffix: 'cognitiveservices.azure.cn' }), [
      '*.stt.speech.azure.cn',
      '*.tts.speech.azure.cn',
      '*.voice.speech.azure.cn',
      '*.s2s.speech.azure.cn',
      '*.api.cognitive.azure.cn',
      '*.cognitiveservices.azure.cn',
      '*.privatelink.cognitiveservices.azure.cn',
      'localhost',
    ]);
  });

  it('canonicalises, deduplicates and sorts', () => {
    assert.deepEqual(normalizeTlsNames({ names: ['B.example.com', 'a.example.com.', 'b.example.com', '[::1]'], ips: ['0000::1', '127.0.0.1'] }), {
      names: ['a.example.com', 'b.example.com'],
      ips: ['127.0.0.1', '::1'],
    });
  });
});
