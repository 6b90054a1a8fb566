import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, SDK_AUDIO, type TestServer } from '../helpers/server.js';
import { httpCall, wsUpgrade, type Target } from '../helpers/net-client.js';
import { accountPath, armOk } from '../helpers/arm.js';
import { recognizeOnce, sdk } from '../helpers/sdk.js';
import { DEFAULT_RESOURCE_GROUP, DEFAULT_SUBSCRIPTION } from '../../src/domain/resources/account-service.js';

const WAV = readFileSync(join(SDK_AUDIO, 'whatstheweatherlike.wav'));
const STT_PATH = '/speech/recognition/conversation/cognitiveservices/v1?language=en-US';

/** Key rotation and token expiry over REST and WebSocket, with a clock the test moves. */
describe('Keys and tokens: rotation and expiry', () => {
  let server: TestServer;
  let offsetMs = 0;
  const clock = { now: (): number => Date.now() + offsetMs };
  let target: Target;
  const defaultAccount = accountPath('default', DEFAULT_SUBSCRIPTION, DEFAULT_RESOURCE_GROUP);

  before(async () => {
    server = await startServer({ overrides: { clock } });
    target = { connect: '127.0.0.1', port: server.port, host: `127.0.0.1:${server.port}`, from: '127.0.0.1' };
  });
  after(async () => {
    await server?.close();
  });

  const restStt = async (headers: Record<string, string>): Promise<number> =>
    (await httpCall(target, 'POST', STT_PATH, { headers: { ...headers, 'content-type': 'audio/wav' }, body: WAV })).status;
  const ws = async (headers: Record<string, string>): Promise<number> => (await wsUpgrade(target, STT_PATH, headers)).status;

  it('regenerating key1 stops the old key1 at once on REST and WebSocket; key2 keeps working', async () => {
    const oldKey1 = server.key;
    assert.equal(await restStt({ 'Ocp-Apim-Subscription-Key': oldKey1 }), 200);
    const keys = (await armOk(server.port, server.adminToken, 'POST', `${defaultAccount}/regenerateKey`, { keyName: 'Key1' })) as { key1: string; key2: string };
    assert.notEqual(keys.key1, oldKey1);
    assert.equal(keys.key2, server.key2);
    assert.equal(await restStt({ 'Ocp-Apim-Subscription-Key': oldKey1 }), 401);
    assert.equal(await ws({ 'Ocp-Apim-Subscription-Key': oldKey1 }), 401);
    assert.equal(await restStt({ 'Ocp-Apim-Subscription-Key': server.key2 }), 200);
    assert.equal(await ws({ 'Ocp-Apim-Subscription-Key': keys.key1 }), 101);
    // The published SDK with the new key.
    const { result } = await recognizeOnce(sdk.SpeechConfig.fromHost(new URL(server.wsUrl), keys.key1), WAV);
    assert.equal(result.text, "What's the weather like?");
  });

  it('a token works for 10 minutes on REST and WebSocket (header and query), then is refused', async () => {
    const issued = await httpCall(target, 'POST', '/sts/v1.0/issueToken', { headers: { 'Ocp-Apim-Subscription-Key': server.key2 } });
    assert.equal(issued.status, 200);
    assert.match(String(issued.headers['content-type']), /^text\/plain/);
    const token = issued.text;
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    assert.equal(payload['region'], 'westus');
    assert.equal(payload['aud'], 'urn:ms.speechservices.westus');
    assert.equal(Number(payload['exp']) - Number(payload['iat']), 600);

    assert.equal(await restStt({ Authorization: `Bearer ${token}` }), 200);
    assert.equal(await ws({ Authorization: `Bearer ${token}` }), 101);
    // The JS SDK's query-string form (and the old form without "Bearer ").
    assert.equal((await wsUpgrade(target, `${STT_PATH}&Authorization=${encodeURIComponent(`Bearer ${token}`)}`)).status, 101);
    assert.equal((await wsUpgrade(target, `${STT_PATH}&Authorization=${encodeURIComponent(token)}`)).status, 101);
    // The SDK with an authorization token.
    const { result } = await recognizeOnce(withToken(server, token), WAV);
    assert.equal(result.text, "What's the weather like?");

    // Text-to-speech over WebSocket with the token, through the SDK.
    const ttsConfig = sdk.SpeechConfig.fromHost(new URL(server.httpUrl));
    ttsConfig.authorizationToken = token;
    const synthesizer = new sdk.SpeechSynthesizer(ttsConfig, null as unknown as sdk.AudioConfig);
    try {
      const spoken = await new Promise<sdk.SpeechSynthesisResult>((resolve, reject) => synthesizer.speakTextAsync('Hello.', resolve, (e) => reject(new Error(e))));
      assert.equal(spoken.reason, sdk.ResultReason.SynthesizingAudioCompleted);
      assert.ok(spoken.audioData.byteLength > 1000);
    } finally {
      synthesizer.close();
    }

    offsetMs = 9 * 60_000 + 50_000;
    assert.equal(await restStt({ Authorization: `Bearer ${token}` }), 200);
    offsetMs = 10 * 60_000 + 1_000;
    assert.equal(await restStt({ Authorization: `Bearer ${token}` }), 401);
    assert.equal(await ws({ Authorization: `Bearer ${token}` }), 401);
    offsetMs = 0;
  });

  it('forged and tampered tokens are refused; a token cannot mint a token', async () => {
    const issued = (await httpCall(target, 'POST', '/sts/v1.0/issueToken', { headers: { 'Ocp-Apim-Subscription-Key': server.key2 } })).text;
    const [h, p, s] = issued.split('.');
    const claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, exp: Number(claims['exp']) + 3600 })).toString('base64url')}.${s}`;
    assert.equal(await restStt({ Authorization: `Bearer ${tampered}` }), 401);
    assert.equal(await ws({ Authorization: `Bearer ${h}.${p}.${'A'.repeat(43)}` }), 401);
    assert.equal(await ws({ Authorization: 'Bearer not-a-jwt' }), 401);
    const again = await httpCall(target, 'POST', '/sts/v1.0/issueToken', { headers: { Authorization: `Bearer ${issued}` } });
    assert.equal(again.status, 401);
    // A deleted account's tokens die with it.
    await armOk(server.port, server.adminToken, 'PUT', accountPath('short-lived'), { location: 'westus', kind: 'SpeechServices', sku: { name: 'S0' } });
    const k = (await armOk(server.port, server.adminToken, 'POST', `${accountPath('short-lived')}/listKeys`)) as { key1: string };
    const t = (await httpCall(target, 'POST', '/sts/v1.0/issueToken', { headers: { 'Ocp-Apim-Subscription-Key': k.key1 } })).text;
    assert.equal(await ws({ Authorization: `Bearer ${t}` }), 101);
    await armOk(server.port, server.adminToken, 'DELETE', accountPath('short-lived'));
    assert.equal(await ws({ Authorization: `Bearer ${t}` }), 401);
    assert.equal(await ws({ 'Ocp-Apim-Subscription-Key': k.key1 }), 401);
  });

  it('disableLocalAuth refuses keys and key-derived tokens with 403; listKeys still works', async () => {
    await armOk(server.port, server.adminToken, 'PUT', accountPath('entra-only'), { location: 'westus', kind: 'SpeechServices', sku: { name: 'S0' } });
    const k = (await armOk(server.port, server.adminToken, 'POST', `${accountPath('entra-only')}/listKeys`)) as { key1: string };
    const t = (await httpCall(target, 'POST', '/sts/v1.0/issueToken', { headers: { 'Ocp-Apim-Subscription-Key': k.key1 } })).text;
    await armOk(server.port, server.adminToken, 'PATCH', accountPath('entra-only'), { properties: { disableLocalAuth: true } });
    assert.equal(await ws({ 'Ocp-Apim-Subscription-Key': k.key1 }), 403);
    assert.equal(await restStt({ Authorization: `Bearer ${t}` }), 403);
    const again = (await armOk(server.port, server.adminToken, 'POST', `${accountPath('entra-only')}/listKeys`)) as { key1: string };
    assert.equal(again.key1, k.key1);
  });
});

function withToken(server: TestServer, token: string): sdk.SpeechConfig {
  const config = sdk.SpeechConfig.fromHost(new URL(server.wsUrl));
  config.authorizationToken = token;
  return config;
}
