import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, SDK_AUDIO, type TestServer } from '../helpers/server.js';
import { httpCall, type HttpResult, type Target } from '../helpers/net-client.js';
import { assertValidResponse } from '../helpers/openapi.js';
import { recognizeOnce, sdk } from '../helpers/sdk.js';

const WAV = readFileSync(join(SDK_AUDIO, 'whatstheweatherlike.wav'));

/** Endpoint content logging (seed 003 "View logging data"): kept only when enabled, downloadable, deletable, 30 days. */
describe('Speech-to-text REST API v3.2: endpoint content logs', () => {
  let server: TestServer;
  let api: Target;
  let stt: Target;
  let offsetMs = 0;
  const clock = { now: (): number => Date.now() + offsetMs };
  const json = (r: HttpResult): Record<string, unknown> => r.json() as Record<string, unknown>;
  const call = (method: string, path: string, body?: unknown): Promise<HttpResult> =>
    httpCall(api, method, `/speechtotext/v3.2${path}`, {
      headers: { 'Ocp-Apim-Subscription-Key': server.key, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  async function endpoint(logging: boolean): Promise<string> {
    const base = json(await call('GET', '/models/base'))['values'] as { self: string }[];
    const created = await call('POST', '/endpoints', { displayName: `logging ${logging}`, locale: 'en-US', model: { self: base[0]?.self }, properties: { loggingEnabled: logging } });
    assert.equal(created.status, 201);
    const id = (json(created)['self'] as string).split('/').pop() ?? '';
    for (let i = 0; i < 200; i++) {
      if (json(await call('GET', `/endpoints/${id}`))['status'] === 'Succeeded') return id;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('endpoint not deployed');
  }

  async function recognizeRest(cid: string): Promise<void> {
    const r = await httpCall(stt, 'POST', `/speech/recognition/conversation/cognitiveservices/v1?cid=${cid}`, {
      headers: { 'Ocp-Apim-Subscription-Key': server.key, 'content-type': 'audio/wav' },
      body: WAV,
    });
    assert.equal(r.status, 200);
  }

  async function logs(cid: string): Promise<{ values: { self: string; name: string; kind: string; links: { contentUrl: string } }[] }> {
    const r = await call('GET', `/endpoints/${cid}/files/logs`);
    assert.equal(r.status, 200);
    assertValidResponse('stt-v3.2', 'Endpoints_ListLogs', 200, r.json());
    return r.json() as { values: { self: string; name: string; kind: string; links: { contentUrl: string } }[] };
  }

  before(async () => {
    server = await startServer({ overrides: { clock } });
    api = { connect: '127.0.0.1', port: server.port, host: `westus.api.cognitive.microsoft.com:${server.port}`, from: '127.0.0.1' };
    stt = { ...api, host: `westus.stt.speech.microsoft.com:${server.port}` };
  });
  after(async () => {
    await server?.close();
  });

  it('logs audio and results of every recognition on a logging endpoint (REST and WebSocket); downloads need no key', async () => {
    const cid = await endpoint(true);
    await recognizeRest(cid);
    const config = sdk.SpeechConfig.fromHost(new URL(server.wsUrl), server.key);
    config.endpointId = cid;
    assert.equal((await recognizeOnce(config, WAV)).result.text, "What's the weather like?");
    // The log of the WebSocket turn is written when its turn ends; give it a moment.
    let listed = await logs(cid);
    for (let i = 0; i < 100 && listed.values.length < 4; i++) {
      await new Promise((r) => setTimeout(r, 20));
      listed = await logs(cid);
    }
    assert.equal(listed.values.length, 4);
    assert.deepEqual(listed.values.map((f) => f.kind).sort(), ['Audio', 'Audio', 'Transcription', 'Transcription']);
    const audio = listed.values.find((f) => f.kind === 'Audio');
    const transcript = listed.values.find((f) => f.kind === 'Transcription');
    assert.ok(audio && transcript);
    const url = new URL(audio.links.contentUrl);
    const wav = await httpCall({ ...api, host: url.host }, 'GET', url.pathname + url.search);
    assert.equal(wav.status, 200, `${audio.links.contentUrl} → ${wav.text}`);
    assert.equal(wav.body.subarray(0, 4).toString('latin1'), 'RIFF');
    assert.ok(wav.body.length > 40_000, 'the whole utterance is kept');
    const t = new URL(transcript.links.contentUrl);
    const result = await httpCall({ ...api, host: t.host }, 'GET', t.pathname + t.search);
    assert.match(result.text, /weather/);
    const one = await httpCall(api, 'GET', new URL(audio.self).pathname, { headers: { 'Ocp-Apim-Subscription-Key': server.key } });
    assertValidResponse('stt-v3.2', 'Endpoints_GetLog', 200, one.json());

    // Delete one log by id, then the rest by day.
    const logId = new URL(audio.self).pathname.split('/').pop() ?? '';
    assert.equal((await call('DELETE', `/endpoints/${cid}/files/logs/${logId}`)).status, 204);
    assert.equal((await logs(cid)).values.length, 2);
    const today = new Date(clock.now()).toISOString().slice(0, 10);
    assert.equal((await call('DELETE', `/endpoints/${cid}/files/logs?endDate=${today}`)).status, 202);
    assert.equal((await logs(cid)).values.length, 0);
    assert.equal((await call('DELETE', `/endpoints/${cid}/files/logs?endDate=tomorrow`)).status, 400);
  });

  it('nothing is stored without logging', async () => {
    const cid = await endpoint(false);
    await recognizeRest(cid);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await logs(cid)).values.length, 0);
  });

  it('logs are kept 30 days', async () => {
    const cid = await endpoint(true);
    await recognizeRest(cid);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await logs(cid)).values.length, 2);
    offsetMs = 29 * 24 * 3600_000;
    assert.equal((await logs(cid)).values.length, 2);
    offsetMs = 31 * 24 * 3600_000;
    assert.equal((await logs(cid)).values.length, 0);
    offsetMs = 0;
  });
});
