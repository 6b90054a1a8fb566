import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { TokenService, type TokenAudience } from '../../src/domain/auth/token-service.js';
import type { TokenSigner } from '../../src/domain/ports/token-signer.js';
import { OPEN_NETWORK_ACLS, type Account } from '../../src/domain/resources/account.js';
import type { Clock } from '../../src/kernel/time.js';
import { JoseTokenSigner } from '../../src/security/jose-token-signer.js';

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5);
const TEN_MIN = 10 * 60_000;

class FakeClock implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
}

function account(over: Partial<Account> = {}): Account {
  return {
    id: '6f1c2f7e-2a61-4d0e-9d7b-1b8e7b0c8a11',
    name: 'speech-1',
    subscriptionId: '00000000-0000-0000-0000-000000000001',
    resourceGroup: 'rg',
    region: 'westeurope',
    sku: 'S0',
    kind: 'SpeechServices',
    tags: {},
    key1: 'a'.repeat(32),
    key2: 'b'.repeat(32),
    customSubDomainName: 'my-res',
    publicNetworkAccess: 'Enabled',
    networkAcls: OPEN_NETWORK_ACLS,
    disableLocalAuth: false,
    quotaOverrides: {},
    createdAt: new Date(T0).toISOString(),
    version: 1,
    ...over,
  };
}

const REGIONAL: TokenAudience = { kind: 'regional', region: 'westeurope' };
const CUSTOM: TokenAudience = { kind: 'customDomain', subdomain: 'my-res' };

function setup(secret: Uint8Array = randomBytes(32)) {
  const clock = new FakeClock(T0);
  const signer = new JoseTokenSigner(secret);
  return { clock, signer, tokens: new TokenService(signer, clock) };
}

function b64url(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64url');
}

describe('TokenService', () => {
  it('round-trips a regional token into the identity it was issued for', async () => {
    const { tokens } = setup();
    const a = account();
    const issued = await tokens.issue(a, REGIONAL);
    assert.equal(issued.expiresAtMs, T0 + TEN_MIN);
    const v = await tokens.verify(issued.token, REGIONAL);
    assert.deepEqual(v, {
      ok: true,
      identity: {
        accountId: a.id,
        accountArmId: '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/speech-1',
        region: 'westeurope',
        fromKey: true,
        scope: 'speechservices',
      },
    });
  });

  it('carries the requested scope', async () => {
    const { tokens } = setup();
    const issued = await tokens.issue(account(), REGIONAL, { scope: 'speechservicesmanagement' });
    const v = await tokens.verify(issued.token, REGIONAL);
    assert.ok(v.ok);
    assert.equal(v.identity.scope, 'speechservicesmanagement');
  });

  it('mints Azure-shaped claims', async () => {
    const { tokens } = setup();
    const a = account();
    const { token } = await tokens.issue(a, REGIONAL);
    assert.deepEqual(decodeProtectedHeader(token), { alg: 'HS256', typ: 'JWT' });
    const c = decodeJwt(token);
    assert.equal(c['region'], 'westeurope');
    assert.equal(c['subscription-id'], a.subscriptionId);
    assert.equal(c['product-id'], 'SpeechServices.S0');
    assert.equal(c['azure-resource-id'], '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/speech-1');
    assert.equal(c['scope'], 'speechservices');
    assert.equal(c.aud, 'urn:ms.speechservices.westeurope');
    assert.equal(c.iss, 'urn:ms.cognitiveservices');
    assert.equal(c.sub, a.id);
    assert.equal(c['parlance:from-key'], true);
    assert.equal(c['custom-domain'], undefined);
    assert.equal(c.iat, T0 / 1000);
    assert.equal(c.nbf, T0 / 1000);
    assert.equal(c.exp, T0 / 1000 + 600);
    assert.match(String(c.jti), /^[0-9a-f-]{36}$/);
    const again = decodeJwt((await tokens.issue(a, REGIONAL)).token);
    assert.notEqual(again.jti, c.jti);
  });

  it('names the custom domain in a custom-domain token', async () => {
    const { tokens } = setup();
    const c = decodeJwt((await tokens.issue(account({ sku: 'F0' }), CUSTOM)).token);
    assert.equal(c['custom-domain'], 'my-res');
    assert.equal(c.aud, 'urn:ms.speechservices.westeurope');
    assert.equal(c['product-id'], 'SpeechServices.F0');
  });

  it('expires at exactly ten minutes', async () => {
    const { clock, tokens } = setup();
    const { token, expiresAtMs } = await tokens.issue(account(), REGIONAL);
    clock.t = expiresAtMs - 1;
    assert.equal((await tokens.verify(token, REGIONAL)).ok, true);
    clock.t = T0 + TEN_MIN;
    assert.deepEqual(await tokens.verify(token, REGIONAL), { ok: false, reason: 'expired' });
    clock.t = T0 + 2 * TEN_MIN;
    assert.deepEqual(await tokens.verify(token, REGIONAL), { ok: false, reason: 'expired' });
  });

  it('never reports an expiry later than the token really has, whatever the milliseconds', async () => {
    const { clock, tokens } = setup();
    clock.t = T0 + 999;
    const { token, expiresAtMs } = await tokens.issue(account(), REGIONAL);
    assert.equal(expiresAtMs, T0 + TEN_MIN);
    assert.equal(decodeJwt(token).exp, expiresAtMs / 1000);
    clock.t = expiresAtMs;
    assert.deepEqual(await tokens.verify(token, REGIONAL), { ok: false, reason: 'expired' });
  });

  it('refuses a token from before its issue time (a clock that went back)', async () => {
    const { clock, tokens } = setup();
    const { token } = await tokens.issue(account(), REGIONAL);
    clock.t = T0 - 1000;
    assert.deepEqual(await tokens.verify(token, REGIONAL), { ok: false, reason: 'not yet valid' });
  });

  it('refuses a token signed with another secret', async () => {
    const ours = setup();
    const theirs = setup();
    const { token } = await theirs.tokens.issue(account(), REGIONAL);
    assert.deepEqual(await ours.tokens.verify(token, REGIONAL), { ok: false, reason: 'invalid signature' });
  });

  it('refuses a tampered payload', async () => {
    const { tokens } = setup();
    const { token } = await tokens.issue(account(), REGIONAL);
    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = decodeJwt(token);
    const forged = b64url(JSON.stringify({ ...claims, 'azure-resource-id': '/subscriptions/x/resourceGroups/y/providers/Microsoft.CognitiveServices/accounts/z' }));
    assert.notEqual(forged, p);
    assert.deepEqual(await tokens.verify(`${h}.${forged}.${s}`, REGIONAL), { ok: false, reason: 'invalid signature' });
  });

  it('refuses an unsigned (alg none) token', async () => {
    const { tokens } = setup();
    const claims = decodeJwt((await tokens.issue(account(), REGIONAL)).token);
    const none = `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}.`;
    assert.deepEqual(await tokens.verify(none, REGIONAL), { ok: false, reason: 'invalid signature' });
  });

  it('calls garbage malformed', async () => {
    const { tokens } = setup();
    for (const junk of ['', 'abc', 'a.b.c', 'Bearer x.y.z', `${b64url('not json')}.${b64url('{}')}.sig`]) {
      assert.deepEqual(await tokens.verify(junk, REGIONAL), { ok: false, reason: 'malformed' }, junk);
    }
  });

  it('refuses a signed token that lacks the claims the service puts in', async () => {
    const clock = new FakeClock(T0);
    const signer = new JoseTokenSigner(randomBytes(32));
    const tokens = new TokenService(signer, clock);
    const bare = await signer.sign({ region: 'westeurope', aud: 'urn:ms.speechservices.westeurope' }, { issuedAtMs: T0, expiresAtMs: T0 + TEN_MIN });
    assert.deepEqual(await tokens.verify(bare, REGIONAL), { ok: false, reason: 'malformed' });
  });

  it('refuses a regional token on a custom domain and a custom-domain token on a regional host', async () => {
    const { tokens } = setup();
    const a = account();
    const regional = (await tokens.issue(a, REGIONAL)).token;
    const custom = (await tokens.issue(a, CUSTOM)).token;
    assert.deepEqual(await tokens.verify(regional, CUSTOM), { ok: false, reason: 'issued for another endpoint' });
    assert.deepEqual(await tokens.verify(custom, REGIONAL), { ok: false, reason: 'issued for another endpoint' });
    assert.equal((await tokens.verify(custom, CUSTOM)).ok, true);
    assert.deepEqual(await tokens.verify(custom, { kind: 'customDomain', subdomain: 'other-res' }), {
      ok: false,
      reason: 'issued for another endpoint',
    });
  });

  it('refuses a token on another region', async () => {
    const { tokens } = setup();
    const { token } = await tokens.issue(account(), REGIONAL);
    assert.deepEqual(await tokens.verify(token, { kind: 'regional', region: 'eastus' }), { ok: false, reason: 'issued for another endpoint' });
  });

  it('compares regions and subdomains case-insensitively, as host names are', async () => {
    const { tokens } = setup();
    const a = account();
    const r = (await tokens.issue(a, { kind: 'regional', region: 'WestEurope' })).token;
    assert.equal((await tokens.verify(r, REGIONAL)).ok, true);
    const c = (await tokens.issue(a, CUSTOM)).token;
    assert.equal((await tokens.verify(c, { kind: 'customDomain', subdomain: 'MY-RES' })).ok, true);
  });

  it('will not mint a token for a host the account does not own', async () => {
    const { tokens } = setup();
    await assert.rejects(tokens.issue(account(), { kind: 'regional', region: 'eastus' }), /region eastus/);
    await assert.rejects(tokens.issue(account(), { kind: 'customDomain', subdomain: 'someone-else' }), /custom domain someone-else/);
    await assert.rejects(tokens.issue(account({ customSubDomainName: undefined }), CUSTOM), /custom domain my-res/);
  });

  it('asks the signer for the configured lifetime', async () => {
    const seen: { issuedAtMs: number; expiresAtMs: number }[] = [];
    const signer: TokenSigner = {
      sign: async (_claims, opts) => {
        seen.push(opts);
        return 'x';
      },
      verify: async () => ({ ok: false, reason: 'malformed' }),
    };
    const tokens = new TokenService(signer, new FakeClock(T0), 60_000);
    const issued = await tokens.issue(account(), REGIONAL);
    assert.deepEqual(seen, [{ issuedAtMs: T0, expiresAtMs: T0 + 60_000 }]);
    assert.equal(issued.expiresAtMs, T0 + 60_000);
    assert.throws(() => new TokenService(signer, new FakeClock(T0), 0), RangeError);
  });
});
