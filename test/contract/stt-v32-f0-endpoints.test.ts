import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.js';
import { httpCall, type HttpResult, type Target } from '../helpers/net-client.js';
import { accountPath, armOk } from '../helpers/arm.js';

/** Seed 003: "Endpoints used by F0 Speech resources are deleted after seven days" — with a clock the test moves. */
describe('Speech-to-text REST API v3.2: F0 endpoints expire after seven days', () => {
  let server: TestServer;
  let api: Target;
  let offsetMs = 0;
  const clock = { now: (): number => Date.now() + offsetMs };
  const keys: Record<string, string> = {};
  const call = (key: string, method: string, path: string, body?: unknown): Promise<HttpResult> =>
    httpCall(api, method, `/speechtotext/v3.2${path}`, {
      headers: { 'Ocp-Apim-Subscription-Key': key, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  async function endpointOf(key: string): Promise<string> {
    const base = ((await call(key, 'GET', '/models/base')).json() as { values: { self: string }[] }).values[0]?.self;
    const r = await call(key, 'POST', '/endpoints', { displayName: 'tier test', locale: 'en-US', model: { self: base } });
    assert.equal(r.status, 201);
    return ((r.json() as { self: string }).self.split('/').pop() ?? '');
  }

  before(async () => {
    server = await startServer({ config: { engines: { stt: 'fake' }, tts: { engines: ['flite'] } }, overrides: { clock } });
    api = { connect: '127.0.0.1', port: server.port, host: `127.0.0.1:${server.port}`, from: '127.0.0.1' };
    for (const sku of ['F0', 'S0']) {
      const name = `tier-${sku.toLowerCase()}`;
      await armOk(server.port, server.adminToken, 'PUT', accountPath(name), { location: 'westus', kind: 'SpeechServices', sku: { name: sku } });
      keys[sku] = ((await armOk(server.port, server.adminToken, 'POST', `${accountPath(name)}/listKeys`)) as { key1: string }).key1;
    }
  });
  after(async () => {
    await server?.close();
  });

  it('an F0 endpoint is gone after seven days (GET 404, cid refused); an S0 endpoint stays', async () => {
    const f0 = await endpointOf(keys['F0'] ?? '');
    const s0 = await endpointOf(keys['S0'] ?? '');
    offsetMs = 6 * 24 * 3600_000;
    assert.equal((await call(keys['F0'] ?? '', 'GET', `/endpoints/${f0}`)).status, 200);
    offsetMs = 7 * 24 * 3600_000 + 60_000;
    const cid = await httpCall(api, 'POST', `/speech/recognition/conversation/cognitiveservices/v1?cid=${f0}`, {
      headers: { 'Ocp-Apim-Subscription-Key': keys['F0'] ?? '', 'content-type': 'audio/wav' },
      body: Buffer.alloc(44),
    });
    assert.equal(cid.status, 400);
    assert.equal((await call(keys['F0'] ?? '', 'GET', `/endpoints/${f0}`)).status, 404);
    assert.equal(((await call(keys['F0'] ?? '', 'GET', '/endpoints')).json() as { values: unknown[] }).values.length, 0);
    assert.equal((await call(keys['S0'] ?? '', 'GET', `/endpoints/${s0}`)).status, 200);
    offsetMs = 0;
  });
});
