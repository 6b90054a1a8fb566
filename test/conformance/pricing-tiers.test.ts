import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.js';
import { accountPath, arm, armOk } from '../helpers/arm.js';
import { assertValidResponse } from '../helpers/openapi.js';
import { httpCall } from '../helpers/net-client.js';
import { MovableClock, createResource, openRecognitionSocket, paddedWeatherWav, restRecognize, restSynthesize, sendTurn, silentWav } from '../helpers/tiers.js';
import { recognizeContinuous, recognizeOnce, sdk } from '../helpers/sdk.js';
import { SDK_AUDIO } from '../helpers/paths.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Usage {
  name: { value: string };
  currentValue: number;
  limit?: number;
  status: string;
  nextResetTime?: string;
}

async function usages(server: TestServer, name: string): Promise<Map<string, Usage>> {
  const res = await arm(server.port, server.adminToken, 'GET', `${accountPath(name)}/usages`);
  assert.equal(res.status, 200, res.text);
  const body = res.json() as { value: Usage[] };
  assertValidResponse('arm-2024-10-01', 'Accounts_ListUsages', 200, body);
  return new Map(body.value.map((u) => [u.name.value, u]));
}

function usageValue(all: Map<string, Usage>, name: string): number {
  const u = all.get(name);
  assert.ok(u, `usage ${name} listed`);
  return u.currentValue;
}

describe('Pricing tiers over REST: concurrency with real-time pacing, call rate, monthly allowances, usage', () => {
  let server: TestServer;
  const clock = new MovableClock();
  before(async () => {
    server = await startServer({ overrides: { clock } });
  });
  after(async () => {
    await server.close();
  });

  it('F0: a second concurrent recognition gets 429 + Retry-After; after the first, not before its audio duration has passed, a new one succeeds', async () => {
    const key = await createResource(server, 'tier-f0-rest', 'F0');
    const { wav, audioMs } = paddedWeatherWav(8_000);
    const t0 = Date.now();
    const first = restRecognize(server, key, wav);
    // While the first is being recognized.
    await sleep(150);
    const concurrent = await restRecognize(server, key, wav);
    assert.equal(concurrent.status, 429, concurrent.text);
    assert.equal((concurrent.json() as Json).error.code, '429');
    assert.match((concurrent.json() as Json).error.message, /concurrent request limit/);
    assert.ok(Number(concurrent.headers['retry-after']) >= 1, 'Retry-After in seconds');

    const done = await first;
    assert.equal(done.status, 200, done.text);
    assert.equal((done.json() as Json).DisplayText, "What's the weather like?");
    // The first answered well before its 8 s of audio would have played: its slot is still taken.
    const answeredAfter = Date.now() - t0;
    assert.ok(answeredAfter < audioMs - 2_000, `recognized in ${answeredAfter} ms, faster than real time`);
    const early = await restRecognize(server, key, wav);
    assert.equal(early.status, 429, 'paced: refused until the audio duration has passed');
    const retryAfter = Number(early.headers['retry-after']);
    assert.ok(retryAfter >= 1 && retryAfter <= Math.ceil(audioMs / 1000), `Retry-After ${retryAfter} s within the audio's remaining duration`);
    assert.ok(Date.now() - t0 < audioMs, 'the refusal happened inside the audio duration');

    await sleep(Math.max(0, t0 + audioMs + 300 - Date.now()));
    const later = await restRecognize(server, key, wav);
    assert.equal(later.status, 200, later.text);
  });

  it('S0 with an overridden concurrency limit of 2: two concurrent recognitions succeed, the third is refused', async () => {
    const key = await createResource(server, 'tier-s0-rest', 'S0', { sttConcurrency: 2 });
    const { wav } = paddedWeatherWav(4_000);
    const a = restRecognize(server, key, wav);
    const b = restRecognize(server, key, wav);
    await sleep(150);
    const c = await restRecognize(server, key, wav);
    assert.equal(c.status, 429);
    assert.equal((await a).status, 200);
    assert.equal((await b).status, 200);
  });

  it('a custom endpoint has its own concurrency limit: with cid the second is refused, traffic without cid still flows', async () => {
    const key = await createResource(server, 'tier-s0-endpoint', 'S0', { endpointSttConcurrency: 1 });
    const api = { connect: '127.0.0.1', port: server.port, host: `westus.api.cognitive.microsoft.com:${server.port}`, from: '127.0.0.1' };
    const call = async (method: string, path: string, body?: unknown): Promise<Json> => {
      const res = await httpCall(api, method, `/speechtotext/v3.2${path}`, {
        headers: { 'Ocp-Apim-Subscription-Key': key, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      assert.ok(res.status < 300, `${method} ${path} → ${res.status} ${res.text}`);
      return res.json();
    };
    const base = ((await call('GET', '/models/base')).values as Json[]).find((m) => m.locale === 'en-US');
    const endpoint = await call('POST', '/endpoints', { displayName: 'tiers', locale: 'en-US', model: { self: base.self } });
    const id = (endpoint.self as string).split('/').pop() ?? '';
    for (let i = 0; i < 100 && (await call('GET', `/endpoints/${id}`)).status !== 'Succeeded'; i++) await sleep(100);

    const { wav } = paddedWeatherWav(4_000);
    const first = restRecognize(server, key, wav, `cid=${id}`);
    await sleep(150);
    const second = await restRecognize(server, key, wav, `cid=${id}`);
    assert.equal(second.status, 429, 'the endpoint limit');
    const other = await restRecognize(server, key, wav);
    assert.equal(other.status, 200, 'the resource limit (100) is not reached');
    assert.equal((await first).status, 200);
  });

  it('F0 text-to-speech: 20 requests per 60 s, the 21st gets 429 with Retry-After', async () => {
    const key = await createResource(server, 'tier-f0-tts', 'F0');
    for (let i = 0; i < 20; i++) {
      const res = await restSynthesize(server, key, 'Hi.');
      assert.equal(res.status, 200, `request ${i + 1}: ${res.text}`);
    }
    const refused = await restSynthesize(server, key, 'Hi.');
    assert.equal(refused.status, 429);
    assert.equal((refused.json() as Json).error.code, '429');
    const retry = Number(refused.headers['retry-after']);
    assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
  });

  it('F0 monthly allowances: exhausted → 403 quota error until the month turns; usage numbers match what was sent', async () => {
    clock.setTo('2026-03-30T12:00:00Z');
    // Small allowances so the test can use them up; concurrency raised so pacing does not interfere.
    const key = await createResource(server, 'tier-f0-allowance', 'F0', { sttConcurrency: 10, sttAudioSecondsPerMonth: 10, ttsCharactersPerMonth: 30 });
    const { wav, audioMs } = paddedWeatherWav(6_000);
    let sentMs = 0;
    let recognitions = 0;
    for (let i = 0; i < 2; i++) {
      const res = await restRecognize(server, key, wav);
      assert.equal(res.status, 200, res.text);
      sentMs += audioMs;
      recognitions++;
    }
    const refused = await restRecognize(server, key, wav);
    assert.equal(refused.status, 403, refused.text);
    assert.match((refused.json() as Json).error.message, /^Out of call volume quota for SpeechServices F0 pricing tier\. Please retry after 2 days\./);

    let characters = 0;
    for (const text of ['Hello world.', 'Good morning!', 'Bye now.']) {
      const res = await restSynthesize(server, key, text);
      assert.equal(res.status, 200, res.text);
      characters += text.length;
    }
    const ttsRefused = await restSynthesize(server, key, 'One more.');
    assert.equal(ttsRefused.status, 403);

    let u = await usages(server, 'tier-f0-allowance');
    assert.equal(usageValue(u, 'SpeechServices.SpeechToText.AudioSeconds'), sentMs / 1000);
    assert.equal(u.get('SpeechServices.SpeechToText.AudioSeconds')?.limit, 10);
    assert.equal(u.get('SpeechServices.SpeechToText.AudioSeconds')?.status, 'Blocked');
    assert.equal(u.get('SpeechServices.SpeechToText.AudioSeconds')?.nextResetTime, '2026-04-01T00:00:00.000Z');
    assert.equal(usageValue(u, 'SpeechServices.SpeechToText.Requests'), recognitions);
    assert.equal(usageValue(u, 'SpeechServices.TextToSpeech.Characters'), characters);
    assert.equal(usageValue(u, 'SpeechServices.TextToSpeech.Requests'), 3);
    assert.equal(usageValue(u, 'SpeechServices.ThrottledRequests'), 2);

    // The month turns: allowances are whole again, the old month's usage stays in the counters.
    clock.setTo('2026-04-01T00:00:05Z');
    const fresh = await restRecognize(server, key, wav);
    assert.equal(fresh.status, 200, fresh.text);
    assert.equal((await restSynthesize(server, key, 'Hello world.')).status, 200);
    u = await usages(server, 'tier-f0-allowance');
    assert.equal(usageValue(u, 'SpeechServices.SpeechToText.AudioSeconds'), audioMs / 1000);
    assert.equal(u.get('SpeechServices.SpeechToText.AudioSeconds')?.status, 'Included');
    assert.equal(usageValue(u, 'SpeechServices.TextToSpeech.Characters'), 'Hello world.'.length);
    assert.equal(usageValue(u, 'SpeechServices.ThrottledRequests'), 0);

    // Prometheus: all-time counters per resource, the same numbers.
    const metrics = await httpCall({ connect: '127.0.0.1', port: server.port, host: 'localhost', from: '127.0.0.1' }, 'GET', '/metrics', {
      headers: { authorization: `Bearer ${server.adminToken}` },
    });
    assert.equal(metrics.status, 200);
    assert.match(String(metrics.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const sample = (name: string): number => {
      const m = new RegExp(`^${name}\\{account="tier-f0-allowance",endpoint=""\\} (\\S+)$`, 'm').exec(metrics.text);
      assert.ok(m?.[1], `${name} for the resource in:\n${metrics.text}`);
      return Number(m[1]);
    };
    assert.equal(sample('parlance_stt_audio_seconds_total'), (sentMs + audioMs) / 1000);
    assert.equal(sample('parlance_stt_requests_total'), recognitions + 1);
    assert.equal(sample('parlance_tts_characters_total'), characters + 'Hello world.'.length);
    assert.equal(sample('parlance_tts_requests_total'), 4);
    assert.equal(sample('parlance_throttled_requests_total'), 2);
    assert.doesNotMatch(metrics.text, new RegExp(key), 'no key in metrics');
    clock.offsetMs = 0;
  });

  it('metrics and limits need the admin token; limits are validated', async () => {
    const anon = await httpCall({ connect: '127.0.0.1', port: server.port, host: 'localhost', from: '127.0.0.1' }, 'GET', '/metrics');
    assert.equal(anon.status, 401);
    const bad = await arm(server.port, server.adminToken, 'PATCH', `${accountPath('tier-s0-rest')}/limits`, { sttConcurrency: -1 });
    assert.equal(bad.status, 400);
    const unknown = await arm(server.port, server.adminToken, 'PATCH', `${accountPath('tier-s0-rest')}/limits`, { speed: 3 });
    assert.equal(unknown.status, 400);
    const view = (await armOk(server.port, server.adminToken, 'PATCH', `${accountPath('tier-s0-rest')}/limits`, { sttConcurrency: 'default', ttsRequests: 50 })) as Json;
    assert.equal(view.properties.effective.sttConcurrency, 100);
    assert.equal(view.properties.effective.ttsRequests, 50);
    assert.deepEqual(view.properties.overrides, { ttsRequests: 50 });
  });
});

/** Polls until `pred` holds (state written asynchronously when sockets close). */
async function eventually(pred: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await sleep(50);
  }
}

describe('Pricing tiers over WebSocket, with the published SDK', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.close();
  });

  const sdkConfig = (key: string): sdk.SpeechConfig => sdk.SpeechConfig.fromHost(new URL(server.wsUrl), key);
  const weather = (): Buffer => readFileSync(join(SDK_AUDIO, 'whatstheweatherlike.wav'));
  const inUse = async (name: string): Promise<number> => usageValue(await usages(server, name), 'SpeechServices.SpeechToText.ConcurrentRequests');

  it('F0: a second concurrent recognition is refused (SDK cancellation carrying 429); after the first, not before its audio duration, a new one succeeds', async () => {
    const key = await createResource(server, 'tier-f0-ws', 'F0');
    // The first recognition: 6 s of audio sent at once over a raw connection, which stays open.
    const first = await openRecognitionSocket(server, key);
    assert.ok('ws' in first, 'first connection admitted');
    const { wav, audioMs } = paddedWeatherWav(6_000);
    const t0 = Date.now();
    sendTurn(first.ws, 'a'.repeat(32), wav, false);

    const refused = await recognizeOnce(sdkConfig(key), weather());
    assert.equal(refused.result.reason, sdk.ResultReason.Canceled);
    assert.equal(refused.canceled?.reason, sdk.CancellationReason.Error);
    assert.equal(refused.canceled?.ErrorCode, sdk.CancellationErrorCode.ConnectionFailure);
    assert.match(refused.canceled?.errorDetails ?? '', /429/);
    const raw = await openRecognitionSocket(server, key);
    assert.ok('status' in raw && raw.status === 429, 'the upgrade itself is refused with 429');
    assert.ok('status' in raw && Number(raw.retryAfter) >= 1);
    assert.equal('status' in raw && (JSON.parse(raw.body) as Json).error.code, '429');

    // The first connection ends well before its 6 s of audio would have played: still paced.
    first.ws.close();
    await eventually(async () => (await inUse('tier-f0-ws')) === 1, 'the closed connection paced, not freed');
    const early = await recognizeOnce(sdkConfig(key), weather());
    assert.ok(Date.now() - t0 < audioMs, 'this attempt was inside the first audio duration');
    assert.equal(early.result.reason, sdk.ResultReason.Canceled, 'refused until the audio duration has passed');

    await sleep(Math.max(0, t0 + audioMs + 300 - Date.now()));
    const later = await recognizeOnce(sdkConfig(key), weather());
    assert.equal(later.canceled?.errorDetails, undefined);
    assert.equal(later.result.text, "What's the weather like?");
  });

  it('S0 with a limit of 3: 3 sessions succeed, the 4th is refused, and 200 abruptly killed connections leak no slot', async () => {
    const key = await createResource(server, 'tier-s0-ws', 'S0', { sttConcurrency: 3 });
    const open3 = await Promise.all([0, 1, 2].map(() => openRecognitionSocket(server, key)));
    const sockets = open3.map((o) => {
      assert.ok('ws' in o, 'admitted');
      return o.ws;
    });
    const fourth = await openRecognitionSocket(server, key);
    assert.ok('status' in fourth && fourth.status === 429, 'the 4th is refused');
    for (const ws of sockets) ws.terminate();

    // 200 connections killed without a close frame, some after sending audio, three at a time.
    const wav = silentWav(200);
    let killed = 0;
    let refusals = 0;
    const worker = async (): Promise<void> => {
      while (killed < 200) {
        const o = await openRecognitionSocket(server, key);
        if ('status' in o) {
          assert.equal(o.status, 429);
          refusals++;
          await sleep(20);
          continue;
        }
        killed++;
        if (killed % 2 === 0) sendTurn(o.ws, 'b'.repeat(32), wav, false);
        o.ws.terminate();
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    await eventually(async () => (await inUse('tier-s0-ws')) === 0, 'every slot free again');

    // Afterwards the limit is exactly what it was: three admitted, the fourth refused …
    const again = await Promise.all([0, 1, 2].map(() => openRecognitionSocket(server, key)));
    for (const o of again) assert.ok('ws' in o, 'admitted after the kills');
    const fourthAgain = await openRecognitionSocket(server, key);
    assert.ok('status' in fourthAgain && fourthAgain.status === 429);
    for (const o of again) if ('ws' in o) o.ws.close();
    await eventually(async () => (await inUse('tier-s0-ws')) === 0, 'closed sessions without audio free their slots at once');
    // … and three real recognitions at once succeed.
    for (const text of await Promise.all([0, 1, 2].map(() => recognizeContinuousOnce(sdkConfig(key))))) assert.equal(text, "What's the weather like?");
    process.stdout.write(`# 200 killed connections, ${refusals} upgrade refusals while slots were released\n`);
  });

  it('F0 allowance on WebSocket: close 1007 "Quota exceeded." (SDK: BadRequestParameters); usage counts the audio of each turn', async () => {
    const key = await createResource(server, 'tier-f0-ws-allowance', 'F0', { sttConcurrency: 10, sttAudioSecondsPerMonth: 3 });
    for (let i = 0; i < 2; i++) {
      const ok = await recognizeOnce(sdkConfig(key), weather());
      assert.equal(ok.result.text, "What's the weather like?");
      // Usage is counted when the connection ends.
      await eventually(async () => usageValue(await usages(server, 'tier-f0-ws-allowance'), 'SpeechServices.SpeechToText.Requests') === i + 1, 'turn counted');
    }
    const u = await usages(server, 'tier-f0-ws-allowance');
    assert.equal(usageValue(u, 'SpeechServices.SpeechToText.AudioSeconds'), 2 * 2.03);
    const refused = await recognizeOnce(sdkConfig(key), weather());
    assert.equal(refused.result.reason, sdk.ResultReason.Canceled);
    assert.equal(refused.canceled?.ErrorCode, sdk.CancellationErrorCode.BadRequestParameters);
    assert.equal(refused.canceled?.errorDetails, 'Quota exceeded. websocket error code: 1007');
  });

  it('F0 text-to-speech over WebSocket: over the call rate the SDK gets close 1007 "Throttled due to too many requests"', async () => {
    const key = await createResource(server, 'tier-f0-ws-tts', 'F0', { ttsRequests: 2 });
    const synthesizer = new sdk.SpeechSynthesizer(sdk.SpeechConfig.fromHost(new URL(server.httpUrl), key), null as unknown as sdk.AudioConfig);
    const speak = (text: string): Promise<sdk.SpeechSynthesisResult> => new Promise((resolve, reject) => synthesizer.speakTextAsync(text, resolve, (e) => reject(new Error(e))));
    try {
      for (const text of ['One.', 'Two.']) assert.equal((await speak(text)).reason, sdk.ResultReason.SynthesizingAudioCompleted);
      const third = await speak('Three.');
      assert.equal(third.reason, sdk.ResultReason.Canceled);
      const details = sdk.CancellationDetails.fromResult(third);
      assert.equal(details.ErrorCode, sdk.CancellationErrorCode.BadRequestParameters);
      assert.equal(details.errorDetails, 'Throttled due to too many requests websocket error code: 1007');
    } finally {
      synthesizer.close();
    }
    const u = await usages(server, 'tier-f0-ws-tts');
    assert.equal(usageValue(u, 'SpeechServices.TextToSpeech.Characters'), 'One.'.length + 'Two.'.length);
    assert.equal(usageValue(u, 'SpeechServices.ThrottledRequests'), 1);
  });

  /** A continuous recognition of the weather recording over the SDK; resolves with the recognized text. */
  function recognizeContinuousOnce(config: sdk.SpeechConfig): Promise<string> {
    return recognizeContinuous(config, weather()).then((events) => {
      const canceled = events.find((e) => e.kind === 'canceled' && e.cancellation?.reason === sdk.CancellationReason.Error);
      assert.equal(canceled, undefined, JSON.stringify(canceled));
      return events
        .filter((e) => e.kind === 'recognized' && e.reason === sdk.ResultReason.RecognizedSpeech)
        .map((e) => e.text)
        .join(' ');
    });
  }
});
