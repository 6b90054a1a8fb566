import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, SDK_AUDIO, type TestServer } from '../helpers/server.js';
import { httpCall, wsUpgrade, type HttpResult, type Target } from '../helpers/net-client.js';
import { assertValidResponse } from '../helpers/openapi.js';
import { recognizeOnce, sdk } from '../helpers/sdk.js';

const WAV = readFileSync(join(SDK_AUDIO, 'whatstheweatherlike.wav'));
const API_HOST = 'westus.api.cognitive.microsoft.com';

/** Seed 003's endpoint flow over HTTP, with the seed's JSON bodies, against the base model. */
describe('Speech-to-text REST API v3.2: projects, base models, endpoints (seed 003)', () => {
  let server: TestServer;
  let api: Target;
  const json = (r: HttpResult): Record<string, unknown> => r.json() as Record<string, unknown>;
  const call = (method: string, path: string, body?: unknown): Promise<HttpResult> =>
    httpCall(api, method, `/speechtotext/v3.2${path}`, {
      headers: { 'Ocp-Apim-Subscription-Key': server.key, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  before(async () => {
    server = await startServer();
    api = { connect: '127.0.0.1', port: server.port, host: `${API_HOST}:${server.port}`, from: '127.0.0.1' };
  });
  after(async () => {
    await server?.close();
  });

  let baseModelSelf = '';
  let projectSelf = '';
  let endpointId = '';

  it('lists the engine base model with its properties, and gets it by id', async () => {
    const list = await call('GET', '/models/base');
    assert.equal(list.status, 200);
    assertValidResponse('stt-v3.2', 'Models_ListBaseModels', 200, list.json());
    const values = json(list)['values'] as Record<string, unknown>[];
    const enUs = values.find((v) => v['locale'] === 'en-US');
    assert.ok(enUs);
    baseModelSelf = enUs['self'] as string;
    assert.match(baseModelSelf, new RegExp(`^http://${API_HOST}:${server.port}/speechtotext/v3.2/models/base/[0-9a-f-]{36}$`));
    const one = await httpCall(api, 'GET', new URL(baseModelSelf).pathname, { headers: { 'Ocp-Apim-Subscription-Key': server.key } });
    assertValidResponse('stt-v3.2', 'Models_GetBaseModel', 200, one.json());
    assert.deepEqual(one.json(), enUs);
    const missing = await call('GET', '/models/base/00000000-0000-0000-0000-000000000000');
    assert.equal(missing.status, 404);
    assertValidResponse('stt-v3.2', 'Models_GetBaseModel', 404, missing.json());
  });

  it('creates, gets, updates and lists projects with paging', async () => {
    const created = await call('POST', '/projects', { displayName: 'My Project', description: 'Seed 003', locale: 'en-US' });
    assert.equal(created.status, 201);
    assertValidResponse('stt-v3.2', 'Projects_Create', 201, created.json());
    projectSelf = json(created)['self'] as string;
    assert.equal(created.headers['location'], projectSelf);
    for (let i = 0; i < 3; i++) assert.equal((await call('POST', '/projects', { displayName: `Extra ${i}`, locale: 'en-US' })).status, 201);
    const first = await call('GET', '/projects?top=2');
    assertValidResponse('stt-v3.2', 'Projects_List', 200, first.json());
    assert.equal((json(first)['values'] as unknown[]).length, 2);
    const next = json(first)['@nextLink'] as string;
    assert.match(next, /skip=2&top=2/);
    const second = await httpCall(api, 'GET', new URL(next).pathname + new URL(next).search, { headers: { 'Ocp-Apim-Subscription-Key': server.key } });
    assert.equal((json(second)['values'] as unknown[]).length, 2);
    assert.equal(json(second)['@nextLink'], undefined);
    const filtered = await call('GET', `/projects?filter=${encodeURIComponent("displayName eq 'My Project'")}`);
    assert.deepEqual((json(filtered)['values'] as { self: string }[]).map((p) => p.self), [projectSelf]);
    const bad = await call('GET', `/projects?filter=${encodeURIComponent('color eq 1')}`);
    assert.equal(bad.status, 400);
    assertValidResponse('stt-v3.2', 'Projects_List', 400, bad.json());
    const patched = await call('PATCH', `/projects/${projectSelf.split('/').pop()}`, { description: 'Updated' });
    assertValidResponse('stt-v3.2', 'Projects_Update', 200, patched.json());
    assert.equal(json(patched)['description'], 'Updated');
  });

  it('creates an endpoint with the seed body: NotStarted, then Succeeded; links point back at this server with cid', async () => {
    const created = await call('POST', '/endpoints', {
      project: { self: projectSelf },
      properties: { loggingEnabled: true },
      displayName: 'My Endpoint',
      description: 'My Endpoint Description',
      model: { self: baseModelSelf },
      locale: 'en-US',
    });
    assert.equal(created.status, 201);
    const body = json(created);
    assertValidResponse('stt-v3.2', 'Endpoints_Create', 201, body);
    assert.equal(body['status'], 'NotStarted');
    endpointId = (body['self'] as string).split('/').pop() ?? '';
    const links = body['links'] as Record<string, string>;
    assert.equal(links['restInteractive'], `http://westus.stt.speech.microsoft.com:${server.port}/speech/recognition/interactive/cognitiveservices/v1?cid=${endpointId}`);
    assert.equal(links['webSocketConversation'], `ws://westus.stt.speech.microsoft.com:${server.port}/speech/recognition/conversation/cognitiveservices/v1?cid=${endpointId}`);
    assert.equal(links['logs'], `${body['self'] as string}/files/logs`);
    assert.deepEqual(body['properties'], { loggingEnabled: true });
    let status = '';
    for (let i = 0; i < 100 && status !== 'Succeeded'; i++) {
      const got = await call('GET', `/endpoints/${endpointId}`);
      assertValidResponse('stt-v3.2', 'Endpoints_Get', 200, got.json());
      status = json(got)['status'] as string;
      if (status !== 'Succeeded') await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(status, 'Succeeded');
    const listed = await call('GET', `/projects/${projectSelf.split('/').pop()}/endpoints`);
    assertValidResponse('stt-v3.2', 'Projects_ListEndpoints', 200, listed.json());
    assert.equal((json(listed)['values'] as unknown[]).length, 1);
  });

  it('the endpoint locale must match the model (400), and models must exist', async () => {
    const wrongLocale = await call('POST', '/endpoints', { displayName: 'x', locale: 'de-DE', model: { self: baseModelSelf } });
    assert.equal(wrongLocale.status, 400);
    assertValidResponse('stt-v3.2', 'Endpoints_Create', 400, wrongLocale.json());
    assert.equal((json(wrongLocale)['innerError'] as { code: string }).code, 'InvalidLocale');
    const noModel = await call('POST', '/endpoints', { displayName: 'x', locale: 'en-US', model: { self: 'https://x/speechtotext/v3.2/models/00000000-0000-0000-0000-000000000000' } });
    assert.equal(noModel.status, 400);
    assertValidResponse('stt-v3.2', 'Endpoints_Create', 400, noModel.json());
  });

  it('recognition with cid over REST and WebSocket (the SDK with endpointId) uses the endpoint; unknown or deleted cid is refused', async () => {
    const stt: Target = { ...api, host: `westus.stt.speech.microsoft.com:${server.port}` };
    const rest = await httpCall(stt, 'POST', `/speech/recognition/conversation/cognitiveservices/v1?cid=${endpointId}`, {
      headers: { 'Ocp-Apim-Subscription-Key': server.key, 'content-type': 'audio/wav' },
      body: WAV,
    });
    assert.equal(rest.status, 200);
    assert.equal(json(rest)['DisplayText'], "What's the weather like?");
    const config = sdk.SpeechConfig.fromHost(new URL(server.wsUrl), server.key);
    config.endpointId = endpointId;
    const { result } = await recognizeOnce(config, WAV);
    assert.equal(result.text, "What's the weather like?");

    const unknown = await httpCall(stt, 'POST', '/speech/recognition/conversation/cognitiveservices/v1?cid=0b8c2d4e-0000-4000-8000-000000000000&language=en-US', {
      headers: { 'Ocp-Apim-Subscription-Key': server.key, 'content-type': 'audio/wav' },
      body: WAV,
    });
    assert.equal(unknown.status, 400);
    assert.match(json(unknown)['error'] ? String((json(unknown)['error'] as { message: string }).message) : '', /cid/);

    const deleted = await call('DELETE', `/endpoints/${endpointId}`);
    assert.equal(deleted.status, 204);
    assert.equal((await call('DELETE', `/endpoints/${endpointId}`)).status, 204);
    assert.equal((await call('GET', `/endpoints/${endpointId}`)).status, 404);
    const after = await wsUpgrade({ ...stt }, `/speech/recognition/conversation/cognitiveservices/v1?cid=${endpointId}`, { 'Ocp-Apim-Subscription-Key': server.key });
    assert.equal(after.status, 101, 'the upgrade succeeds; the turn is refused with close 1007');
    const canceled = await recognizeOnce(config, WAV);
    assert.equal(canceled.result.reason, sdk.ResultReason.Canceled);
    assert.match(canceled.canceled?.errorDetails ?? '', /cid/);
  });

  it('another resource cannot see or use the endpoint; gateway errors keep the gateway envelope', async () => {
    const noKey = await httpCall(api, 'GET', '/speechtotext/v3.2/endpoints');
    assert.equal(noKey.status, 401);
    assert.ok((json(noKey)['error'] as { code: string }).code === '401');
  });
});
