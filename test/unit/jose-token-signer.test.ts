import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { JoseTokenSigner, loadOrCreateSigningSecret, SIGNING_SECRET_FILE } from '../../src/security/jose-token-signer.js';

const run = promisify(execFile);
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'parlance-signer-'));
  dirs.push(d);
  return d;
}
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5);

describe('loadOrCreateSigningSecret', () => {
  it('creates a 32-byte secret readable only by its owner', async () => {
    const dir = await tempDir();
    const secret = await loadOrCreateSigningSecret(dir);
    assert.equal(secret.byteLength, 32);
    const file = join(dir, SIGNING_SECRET_FILE);
    assert.deepEqual(new Uint8Array(await readFile(file)), secret);
    if (process.platform !== 'win32') assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir), [SIGNING_SECRET_FILE], 'no temporary file is left behind');
  });

  it('creates the data directory if needed', async () => {
    const dir = join(await tempDir(), 'nested', 'data');
    assert.equal((await loadOrCreateSigningSecret(dir)).byteLength, 32);
  });

  it('reuses the secret on the next load', async () => {
    const dir = await tempDir();
    const first = await loadOrCreateSigningSecret(dir);
    const second = await loadOrCreateSigningSecret(dir);
    assert.deepEqual(second, first);
  });

  it('gives concurrent loads in one process the same secret', async () => {
    const dir = await tempDir();
    const all = await Promise.all(Array.from({ length: 16 }, () => loadOrCreateSigningSecret(dir)));
    for (const s of all) assert.deepEqual(s, all[0]);
    assert.deepEqual(new Uint8Array(await readFile(join(dir, SIGNING_SECRET_FILE))), all[0]);
  });

  it('gives processes starting at once the same secret', async () => {
    const dir = await tempDir();
    const moduleUrl = pathToFileURL(fileURLToPath(new URL('../../src/security/jose-token-signer.js', import.meta.url))).href;
    const code =
      `const { loadOrCreateSigningSecret } = await import(${JSON.stringify(moduleUrl)});` +
      `process.stdout.write(Buffer.from(await loadOrCreateSigningSecret(${JSON.stringify(dir)})).toString('hex'));`;
    const outs = await Promise.all(
      Array.from({ length: 4 }, () => run(process.execPath, ['--input-type=module', '-e', code]).then((r) => r.stdout)),
    );
    assert.equal(new Set(outs).size, 1, outs.join('\n'));
    assert.equal(outs[0], (await readFile(join(dir, SIGNING_SECRET_FILE))).toString('hex'));
  });

  it('refuses a file of the wrong length', async () => {
    for (const size of [0, 16, 33]) {
      const dir = await tempDir();
      await writeFile(join(dir, SIGNING_SECRET_FILE), randomBytes(size), { mode: 0o600 });
      await assert.rejects(loadOrCreateSigningSecret(dir), (err: Error) => {
        assert.match(err.message, new RegExp(`holds ${size} bytes`));
        assert.match(err.message, /exactly 32/);
        assert.match(err.message, /delete the file/);
        return true;
      });
    }
  });
});

describe('JoseTokenSigner', () => {
  it('signs and verifies, setting the time claims itself', async () => {
    const signer = new JoseTokenSigner(randomBytes(32));
    const token = await signer.sign({ a: 1 }, { issuedAtMs: T0, expiresAtMs: T0 + 60_000 });
    const v = await signer.verify(token, T0 + 30_000);
    assert.ok(v.ok);
    assert.deepEqual(v.claims, { a: 1, iat: T0 / 1000, nbf: T0 / 1000, exp: T0 / 1000 + 60 });
  });

  it('reports the validity window by reason', async () => {
    const signer = new JoseTokenSigner(randomBytes(32));
    const token = await signer.sign({}, { issuedAtMs: T0, expiresAtMs: T0 + 60_000 });
    assert.deepEqual(await signer.verify(token, T0 + 60_000), { ok: false, reason: 'expired' });
    assert.deepEqual(await signer.verify(token, T0 - 1), { ok: false, reason: 'not-yet-valid' });
    assert.deepEqual(await signer.verify(token, T0), { ok: true, claims: { iat: T0 / 1000, nbf: T0 / 1000, exp: T0 / 1000 + 60 } });
  });

  it('applies a configured clock tolerance, and only 0..5 s', async () => {
    const secret = randomBytes(32);
    const lenient = new JoseTokenSigner(secret, { clockToleranceSec: 5 });
    const token = await lenient.sign({}, { issuedAtMs: T0, expiresAtMs: T0 + 60_000 });
    assert.equal((await lenient.verify(token, T0 + 64_999)).ok, true);
    assert.deepEqual(await lenient.verify(token, T0 + 65_000), { ok: false, reason: 'expired' });
    assert.equal((await lenient.verify(token, T0 - 5_000)).ok, true);
    assert.throws(() => new JoseTokenSigner(secret, { clockToleranceSec: 6 }), RangeError);
    assert.throws(() => new JoseTokenSigner(secret, { clockToleranceSec: -1 }), RangeError);
  });

  it('tells a bad signature from a malformed token', async () => {
    const a = new JoseTokenSigner(randomBytes(32));
    const b = new JoseTokenSigner(randomBytes(32));
    const token = await a.sign({}, { issuedAtMs: T0, expiresAtMs: T0 + 60_000 });
    assert.deepEqual(await b.verify(token, T0), { ok: false, reason: 'signature' });
    assert.deepEqual(await b.verify('not a jwt', T0), { ok: false, reason: 'malformed' });
  });

  it('refuses short secrets, caller-set time claims and empty windows', async () => {
    assert.throws(() => new JoseTokenSigner(randomBytes(16)), RangeError);
    const signer = new JoseTokenSigner(randomBytes(32));
    await assert.rejects(signer.sign({ exp: 1 }, { issuedAtMs: T0, expiresAtMs: T0 + 60_000 }), TypeError);
    await assert.rejects(signer.sign({}, { issuedAtMs: T0, expiresAtMs: T0 + 999 }), RangeError);
  });
});
