import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.js';
import { gatewayErrorBody, retryAfterSeconds } from '../../src/protocol/http/error-envelope.js';
import { Errors } from '../../src/domain/errors.js';

const SSML = "<speak version='1.0' xmlns='http://www.w3.org/2001/10/synthesis' xml:lang='en-US'><voice name='en-US-JennyNeural'>Hello there, how are you today?</voice></speak>";

describe('Text-to-speech REST and voices list', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.close();
  });

  const post = (body: string, headers: Record<string, string>, path = '/cognitiveservices/v1'): Promise<Response> =>
    fetch(`${server.httpUrl}${path}`, { method: 'POST', headers: { 'Ocp-Apim-Subscription-Key': server.key, 'User-Agent': 'parlance-tests', ...headers }, body });

  it('riff-24khz-16bit-mono-pcm: 200, audio/x-wav, a WAV header with the asked rate, streamed chunked', async () => {
    const res = await post(SSML, { 'Content-Type': 'application/ssml+xml', 'X-Microsoft-OutputFormat': 'riff-24khz-16bit-mono-pcm' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'audio/x-wav');
    assert.equal(res.headers.get('transfer-encoding'), 'chunked');
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(bytes.toString('latin1', 0, 4), 'RIFF');
    assert.equal(bytes.toString('latin1', 8, 12), 'WAVE');
    assert.equal(bytes.readUInt16LE(22), 1, 'mono');
    assert.equal(bytes.readUInt32LE(24), 24_000);
    assert.ok(bytes.length > 44 + 24_000 * 2 * 0.8, 'about a second or more of audio');
  });

  it('the custom-domain /tts form and raw/MP3 formats', async () => {
    const raw = await post(SSML, { 'Content-Type': 'application/ssml+xml', 'X-Microsoft-OutputFormat': 'raw-8khz-8bit-mono-alaw' }, '/tts/cognitiveservices/v1');
    assert.equal(raw.status, 200);
    const rawBytes = Buffer.from(await raw.arrayBuffer());
    assert.notEqual(rawBytes.toString('latin1', 0, 4), 'RIFF', 'raw formats have no header');
    assert.ok(rawBytes.length > 8_000 * 0.8);
    const mp3 = await post(SSML, { 'Content-Type': 'application/ssml+xml', 'X-Microsoft-OutputFormat': 'audio-24khz-48kbitrate-mono-mp3' });
    assert.equal(mp3.status, 200);
    assert.equal(mp3.headers.get('content-type'), 'audio/mpeg');
    const mp3Bytes = Buffer.from(await mp3.arrayBuffer());
    assert.ok(mp3Bytes.toString('latin1', 0, 3) === 'ID3' || (mp3Bytes[0] === 0xff && ((mp3Bytes[1] ?? 0) & 0xe0) === 0xe0), 'an MP3 stream');
  });

  it('400 for bad SSML, with a message naming the problem', async () => {
    const res = await post('<speak><voice name="en-US-JennyNeural">unclosed', { 'Content-Type': 'application/ssml+xml', 'X-Microsoft-OutputFormat': 'riff-16khz-16bit-mono-pcm' });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'BadRequest');
    assert.match(body.error.message, /SSML|XML/i);
  });

  it('400 for a missing or unknown output format, and for a format that cannot be produced', async () => {
    const missing = await post(SSML, { 'Content-Type': 'application/ssml+xml' });
    assert.equal(missing.status, 400);
    const unknown = await post(SSML, { 'Content-Type': 'application/ssml+xml', 'X-Microsoft-OutputFormat': 'riff-11khz-3bit-stereo' });
    assert.equal(unknown.status, 400);
    assert.match(((await unknown.json()) as { error: { message: string } }).error.message, /riff-11khz-3bit-stereo/);
    const amr = await post(SSML, { 'Content-Type': 'application/ssml+xml', 'X-Microsoft-OutputFormat': 'amr-wb-16000hz' });
    assert.equal(amr.status, 400);
  });

  it('401 for a bad key, 415 for a wrong content type', async () => {
    const bad = await fetch(`${server.httpUrl}/cognitiveservices/v1`, {
      method: 'POST',
      headers: { 'Ocp-Apim-Subscription-Key': 'nope', 'Content-Type': 'application/ssml+xml', 'X-Microsoft-OutputFormat': 'riff-16khz-16bit-mono-pcm' },
      body: SSML,
    });
    assert.equal(bad.status, 401);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, '401');
    const wrongType = await post(SSML, { 'Content-Type': 'text/plain', 'X-Microsoft-OutputFormat': 'riff-16khz-16bit-mono-pcm' });
    assert.equal(wrongType.status, 415);
  });

  it('429 shape: the throttling error renders as Azure does, with Retry-After', () => {
    const err = Errors.tooManyRequests(7);
    assert.equal(err.status, 429);
    assert.equal(retryAfterSeconds(err), 7);
    assert.deepEqual(Object.keys(gatewayErrorBody(err).error), ['code', 'message']);
    assert.equal(gatewayErrorBody(err).error.code, '429');
  });

  it('voices list: a JSON array of Azure-shaped entries, strings where Azure has strings', async () => {
    for (const path of ['/cognitiveservices/voices/list', '/tts/cognitiveservices/voices/list', '/cognitiveservices/websocket/v1/cognitiveservices/voices/list']) {
      const res = await fetch(`${server.httpUrl}${path}`, { headers: { 'Ocp-Apim-Subscription-Key': server.key } });
      assert.equal(res.status, 200, path);
      const voices = (await res.json()) as Array<Record<string, unknown>>;
      assert.ok(Array.isArray(voices) && voices.length >= 5);
      for (const v of voices) {
        for (const k of ['Name', 'DisplayName', 'LocalName', 'ShortName', 'Gender', 'Locale', 'SampleRateHertz', 'VoiceType', 'Status', 'WordsPerMinute']) {
          assert.ok(k in v, `${k} in ${JSON.stringify(v)}`);
        }
        assert.equal(typeof v['SampleRateHertz'], 'string');
        assert.equal(typeof v['WordsPerMinute'], 'string');
        assert.match(String(v['ShortName']), new RegExp(`^${String(v['Locale'])}-`));
        assert.ok(['Female', 'Male', 'Neutral'].includes(String(v['Gender'])));
      }
    }
    const noKey = await fetch(`${server.httpUrl}/cognitiveservices/voices/list`);
    assert.equal(noKey.status, 401);
  });
});
