import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { startServer, SDK_AUDIO, type TestServer } from '../helpers/server.js';
import { recognizeContinuous, recognizeOnce, sdk } from '../helpers/sdk.js';

const WEATHER = "What's the weather like?";

describe('Speech SDK (npm) against Parlance: recognition over WebSocket', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.close();
  });

  const hostConfig = (): sdk.SpeechConfig => sdk.SpeechConfig.fromHost(new URL(server.wsUrl), server.key);

  for (const file of ['whatstheweatherlike.wav', 'whatstheweatherlike.44khz.wav', 'whatstheweatherlike.mulaw', 'whatstheweatherlike.alaw']) {
    it(`fromHost recognizeOnce: ${file}`, async () => {
      const { result, canceled } = await recognizeOnce(hostConfig(), readFileSync(join(SDK_AUDIO, file)));
      assert.equal(canceled?.errorDetails, undefined);
      assert.equal(result.reason, sdk.ResultReason.RecognizedSpeech);
      assert.equal(result.text, WEATHER);
      assert.ok(result.offset > 0 && result.duration > 0, 'offset and duration are set');
    });
  }

  it('fromEndpoint with a full v1 URL', async () => {
    const config = sdk.SpeechConfig.fromEndpoint(new URL(`${server.wsUrl}/speech/recognition/interactive/cognitiveservices/v1`), server.key);
    const { result } = await recognizeOnce(config, readFileSync(join(SDK_AUDIO, 'whatstheweatherlike.wav')));
    assert.equal(result.reason, sdk.ResultReason.RecognizedSpeech);
    assert.equal(result.text, WEATHER);
  });

  it('fromEndpoint with the regional v2 path (/stt/speech/universal/v2), key in the query only', async () => {
    const url = new URL(`${server.wsUrl}/stt/speech/universal/v2`);
    const config = sdk.SpeechConfig.fromEndpoint(url, server.key2);
    const { result } = await recognizeOnce(config, readFileSync(join(SDK_AUDIO, 'TurnOnTheLamp.wav')));
    assert.equal(result.reason, sdk.ResultReason.RecognizedSpeech);
    assert.ok(result.text.length > 0);
  });

  it('detailed output carries NBest with Words in ticks', async () => {
    const config = hostConfig();
    config.outputFormat = sdk.OutputFormat.Detailed;
    config.requestWordLevelTimestamps();
    const { result } = await recognizeOnce(config, readFileSync(join(SDK_AUDIO, 'whatstheweatherlike.wav')));
    assert.equal(result.reason, sdk.ResultReason.RecognizedSpeech);
    const json = JSON.parse(result.json) as {
      RecognitionStatus: string;
      NBest: Array<{ Lexical: string; ITN: string; MaskedITN: string; Display: string; Confidence: number; Words: Array<{ Word: string; Offset: number; Duration: number }> }>;
    };
    assert.equal(json.RecognitionStatus, 'Success');
    const best = json.NBest[0];
    assert.ok(best);
    assert.equal(best.Display, WEATHER);
    assert.equal(best.Lexical, "what's the weather like");
    assert.ok(best.Confidence >= 0 && best.Confidence <= 1);
    assert.deepEqual(
      best.Words.map((w) => w.Word),
      ["what's", 'the', 'weather', 'like'],
    );
    for (let i = 1; i < best.Words.length; i++) {
      const prev = best.Words[i - 1];
      const cur = best.Words[i];
      assert.ok(prev && cur && cur.Offset >= prev.Offset + prev.Duration - 1, 'words are in order and do not overlap');
    }
    const last = best.Words[best.Words.length - 1];
    assert.ok(last && last.Offset + last.Duration <= 2.1 * 10_000_000, 'word times lie inside the 2 s file');
  });

  it('continuous recognition over a 19 s conversation: recognizing before recognized, increasing offsets, sessionStopped', async () => {
    const events = await recognizeContinuous(hostConfig(), readFileSync(join(SDK_AUDIO, 'katiesteve_mono.wav')));
    const recognized = events.filter((e) => e.kind === 'recognized' && e.reason === sdk.ResultReason.RecognizedSpeech);
    assert.ok(recognized.length >= 3, `several phrases (got ${recognized.length})`);
    for (let i = 1; i < recognized.length; i++) {
      assert.ok((recognized[i]?.offset ?? 0) > (recognized[i - 1]?.offset ?? 0), 'offsets increase');
    }
    const firstRecognizing = events.findIndex((e) => e.kind === 'recognizing');
    const firstRecognized = events.findIndex((e) => e.kind === 'recognized');
    assert.ok(firstRecognizing >= 0 && firstRecognizing < firstRecognized, 'recognizing events come before the first recognized');
    assert.equal(events[events.length - 1]?.kind, 'sessionStopped');
    const canceled = events.find((e) => e.kind === 'canceled');
    if (canceled) assert.equal(canceled.cancellation?.reason, sdk.CancellationReason.EndOfStream);
  });

  it('initial silence timeout from the SDK property gives NoMatch with InitialSilenceTimeout', async () => {
    const config = hostConfig();
    config.setProperty(sdk.PropertyId.SpeechServiceConnection_InitialSilenceTimeoutMs, '1000');
    const { result } = await recognizeOnce(config, readFileSync(join(SDK_AUDIO, 'initialSilence5s.wav')));
    assert.equal(result.reason, sdk.ResultReason.NoMatch);
    assert.equal(sdk.NoMatchDetails.fromResult(result).reason, sdk.NoMatchReason.InitialSilenceTimeout);
  });

  it('the same file without the short timeout finds the speech after 5 s of silence', async () => {
    const config = hostConfig();
    config.setProperty(sdk.PropertyId.SpeechServiceConnection_InitialSilenceTimeoutMs, '10000');
    const { result } = await recognizeOnce(config, readFileSync(join(SDK_AUDIO, 'initialSilence5s.wav')));
    assert.equal(result.reason, sdk.ResultReason.RecognizedSpeech);
    assert.ok(result.offset > 4 * 10_000_000, `speech starts after the silence (offset ${result.offset})`);
  });

  it('dictation mode (continuous) recognizes and ends cleanly', async () => {
    const config = hostConfig();
    config.enableDictation();
    const events = await recognizeContinuous(config, readFileSync(join(SDK_AUDIO, 'myVoiceIsMyPassportVerifyMe01.wav')));
    const recognized = events.filter((e) => e.kind === 'recognized' && e.reason === sdk.ResultReason.RecognizedSpeech);
    assert.equal(recognized.map((e) => e.text).join(' '), 'My voice is my passport verify me.');
    assert.equal(events[events.length - 1]?.kind, 'sessionStopped');
  });

  it('a wrong key yields a cancellation, not a hang', async () => {
    const config = sdk.SpeechConfig.fromHost(new URL(server.wsUrl), 'not-a-valid-key');
    const { result, canceled } = await recognizeOnce(config, readFileSync(join(SDK_AUDIO, 'whatstheweatherlike.wav')));
    assert.equal(result.reason, sdk.ResultReason.Canceled);
    assert.equal(canceled?.reason, sdk.CancellationReason.Error);
    assert.match(canceled?.errorDetails ?? '', /401/);
  });

  it('an unsupported locale gives a clear error result', async () => {
    const config = hostConfig();
    config.speechRecognitionLanguage = 'xx-XX';
    const { result, canceled } = await recognizeOnce(config, readFileSync(join(SDK_AUDIO, 'whatstheweatherlike.wav')));
    assert.equal(result.reason, sdk.ResultReason.Canceled);
    assert.match(canceled?.errorDetails ?? '', /xx-XX/);
  });

  it('keys never appear in the log, not even in query strings', () => {
    const all = server.logs.join('');
    assert.ok(all.length > 0);
    assert.ok(!all.includes(server.key), 'key1 is redacted');
    assert.ok(!all.includes(server.key2), 'key2 is redacted');
  });
});
