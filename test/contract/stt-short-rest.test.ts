import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { startServer, SDK_AUDIO, type TestServer } from '../helpers/server.js';
import { silencePcm, wavFromPcm } from '../helpers/wav.js';

const PATH = '/speech/recognition/conversation/cognitiveservices/v1';
const WAV_TYPE = 'audio/wav; codecs=audio/pcm; samplerate=16000';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request (optionally chunked, so uploads stream like the docs' curl example). */
function post(url: string, body: Buffer, headers: Record<string, string>, chunked = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: chunked ? { ...headers, 'Transfer-Encoding': 'chunked' } : { ...headers, 'Content-Length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (chunked) {
      for (let i = 0; i < body.length; i += 4096) req.write(body.subarray(i, i + 4096));
      req.end();
    } else req.end(body);
  });
}

describe('Speech-to-text REST for short audio', () => {
  let server: TestServer;
  let weather: Buffer;
  before(async () => {
    server = await startServer();
    weather = readFileSync(join(SDK_AUDIO, 'whatstheweatherlike.wav'));
  });
  after(async () => {
    await server.close();
  });

  it('simple format: Azure fields, numbers in ticks, JSON content type', async () => {
    const r = await post(`${server.httpUrl}${PATH}?language=en-US`, weather, { 'Ocp-Apim-Subscription-Key': server.key, 'Content-Type': WAV_TYPE });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^application\/json; charset=utf-8/);
    const body = JSON.parse(r.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['DisplayText', 'Duration', 'Offset', 'RecognitionStatus']);
    assert.equal(body['RecognitionStatus'], 'Success');
    assert.equal(body['DisplayText'], "What's the weather like?");
    assert.equal(typeof body['Offset'], 'number');
    assert.equal(typeof body['Duration'], 'number');
    assert.ok(Number(body['Offset']) >= 0 && Number(body['Offset']) < 20_000_000);
    assert.ok(Number(body['Duration']) > 5_000_000 && Number(body['Duration']) < 20_000_000);
  });

  it('detailed format, chunked upload, key in the query string', async () => {
    const r = await post(
      `${server.httpUrl}/stt${PATH.replace('conversation', 'interactive')}?language=en-US&format=detailed&Ocp-Apim-Subscription-Key=${server.key2}`,
      weather,
      { 'Content-Type': WAV_TYPE, Expect: '100-continue' },
      true,
    );
    assert.equal(r.status, 200);
    const body = JSON.parse(r.body) as { RecognitionStatus: string; DisplayText: string; NBest: Array<Record<string, unknown>> };
    assert.equal(body.RecognitionStatus, 'Success');
    assert.equal(body.DisplayText, "What's the weather like?");
    const best = body.NBest[0];
    assert.ok(best);
    assert.deepEqual(Object.keys(best).sort(), ['Confidence', 'Display', 'ITN', 'Lexical', 'MaskedITN']);
    assert.equal(best['Lexical'], "what's the weather like");
    assert.equal(best['ITN'], "what's the weather like");
    assert.equal(best['MaskedITN'], "what's the weather like");
    assert.equal(best['Display'], "What's the weather like?");
  });

  it('OGG/Opus bodies are decoded with ffmpeg', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parlance-ogg-'));
    try {
      const ogg = join(dir, 'w.ogg');
      execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', join(SDK_AUDIO, 'whatstheweatherlike.wav'), '-c:a', 'libopus', '-b:a', '32k', ogg]);
      const r = await post(`${server.httpUrl}${PATH}?language=en-US`, readFileSync(ogg), { 'Ocp-Apim-Subscription-Key': server.key, 'Content-Type': 'audio/ogg; codecs=opus' });
      assert.equal(r.status, 200, r.body);
      const body = JSON.parse(r.body) as { RecognitionStatus: string; DisplayText: string };
      assert.equal(body.RecognitionStatus, 'Success');
      assert.equal(body.DisplayText, "What's the weather like?");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('silence only: 200 with InitialSilenceTimeout and no DisplayText', async () => {
    const r = await post(`${server.httpUrl}${PATH}?language=en-US`, wavFromPcm(silencePcm(2000)), { 'Ocp-Apim-Subscription-Key': server.key, 'Content-Type': WAV_TYPE });
    assert.equal(r.status, 200);
    const body = JSON.parse(r.body) as Record<string, unknown>;
    assert.equal(body['RecognitionStatus'], 'InitialSilenceTimeout');
    assert.equal(body['DisplayText'], undefined);
  });

  it('401 with Azure body for a missing or wrong key', async () => {
    const missing = await post(`${server.httpUrl}${PATH}?language=en-US`, weather, { 'Content-Type': WAV_TYPE });
    assert.equal(missing.status, 401);
    assert.deepEqual(JSON.parse(missing.body), {
      error: { code: '401', message: 'Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.' },
    });
    const wrong = await post(`${server.httpUrl}${PATH}?language=en-US`, weather, { 'Ocp-Apim-Subscription-Key': 'wrong', 'Content-Type': WAV_TYPE });
    assert.equal(wrong.status, 401);
    const body = JSON.parse(wrong.body) as { error: { code: string; message: string } };
    assert.equal(body.error.code, '401');
    assert.match(body.error.message, /invalid subscription key or wrong API endpoint/);
    const token = await post(`${server.httpUrl}${PATH}?language=en-US`, weather, { Authorization: 'Bearer not-a-token', 'Content-Type': WAV_TYPE });
    assert.equal(token.status, 401);
  });

  it('400 for a missing language, an unsupported language, bad format values and undecodable audio', async () => {
    const h = { 'Ocp-Apim-Subscription-Key': server.key, 'Content-Type': WAV_TYPE };
    const noLang = await post(`${server.httpUrl}${PATH}`, weather, h);
    assert.equal(noLang.status, 400);
    assert.equal((JSON.parse(noLang.body) as { error: { code: string } }).error.code, 'BadRequest');
    const badLang = await post(`${server.httpUrl}${PATH}?language=xx-XX`, weather, h);
    assert.equal(badLang.status, 400);
    assert.match(badLang.body, /xx-XX/);
    const badFormat = await post(`${server.httpUrl}${PATH}?language=en-US&format=fancy`, weather, h);
    assert.equal(badFormat.status, 400);
    const garbage = await post(`${server.httpUrl}${PATH}?language=en-US`, Buffer.from('RIFF\x00\x00\x00\x00WAVEjunkjunkjunkjunk'), h);
    assert.equal(garbage.status, 400);
    const badOgg = await post(`${server.httpUrl}${PATH}?language=en-US`, Buffer.alloc(5000, 7), { ...h, 'Content-Type': 'audio/ogg; codecs=opus' });
    assert.equal(badOgg.status, 400);
  });

  it('415 for a content type that is not audio', async () => {
    const r = await post(`${server.httpUrl}${PATH}?language=en-US`, weather, { 'Ocp-Apim-Subscription-Key': server.key, 'Content-Type': 'text/plain' });
    assert.equal(r.status, 415);
    assert.equal((JSON.parse(r.body) as { error: { code: string } }).error.code, 'UnsupportedMediaType');
  });

  it('over-length audio (more than 60 s) is refused with 400', async () => {
    const long = wavFromPcm(silencePcm(61_000));
    const r = await post(`${server.httpUrl}${PATH}?language=en-US`, long, { 'Ocp-Apim-Subscription-Key': server.key, 'Content-Type': WAV_TYPE }, true);
    assert.equal(r.status, 400);
    assert.match(r.body, /60 seconds/);
  });

  it('an unknown recognition mode is 404', async () => {
    const r = await post(`${server.httpUrl}/speech/recognition/whisper/cognitiveservices/v1?language=en-US`, weather, { 'Ocp-Apim-Subscription-Key': server.key, 'Content-Type': WAV_TYPE });
    assert.equal(r.status, 404);
  });
});
