import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.js';
import { httpCall, type HttpResult, type Target } from '../helpers/net-client.js';
import { assertValidResponse } from '../helpers/openapi.js';
import { wer } from '../helpers/wer.js';
import { TEST_SENTENCES, TRAINING_TEXT } from '../fixtures/custom-speech-domain.js';

type Json = Record<string, unknown>;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Issue #5's acceptance, through the HTTP API only: a Language dataset of the domain's text trained
 * into a custom model lowers WER on recordings of that domain (synthesized by Parlance's own TTS);
 * seed 003's endpoint flow with a model swap under continuous traffic.
 */
describe('Custom Speech end to end: dataset → trained model → endpoint → cid recognition', () => {
  let server: TestServer;
  let api: Target;
  const recordings: { text: string; wav: Buffer }[] = [];
  let baseModelSelf = '';
  let customModelSelf = '';
  let endpointId = '';

  const json = (r: HttpResult): Json => r.json() as Json;
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> =>
    httpCall(api, method, path.startsWith('/') && !path.startsWith('/speechtotext') ? `/speechtotext/v3.2${path}` : path, {
      headers: { 'Ocp-Apim-Subscription-Key': server.key, ...(body !== undefined && !Buffer.isBuffer(body) ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: Buffer.isBuffer(body) ? body : JSON.stringify(body) } : {}),
    });
  const waitFor = async (path: string, op: string): Promise<Json> => {
    for (let i = 0; i < 1200; i++) {
      const r = await call('GET', path);
      assertValidResponse('stt-v3.2', op, 200, r.json());
      const status = json(r)['status'];
      if (status === 'Succeeded' || status === 'Failed') return json(r);
      await sleep(50);
    }
    throw new Error(`${path} did not finish`);
  };
  const recognize = async (wav: Buffer, cid?: string): Promise<{ status: number; text: string }> => {
    const query = cid ? `cid=${cid}` : 'language=en-US';
    const r = await httpCall(api, 'POST', `/speech/recognition/conversation/cognitiveservices/v1?${query}`, {
      headers: { 'Ocp-Apim-Subscription-Key': server.key, 'content-type': 'audio/wav' },
      body: wav,
    });
    return { status: r.status, text: r.status === 200 ? String(json(r)['DisplayText'] ?? '') : r.text };
  };

  before(async () => {
    server = await startServer();
    api = { connect: '127.0.0.1', port: server.port, host: `127.0.0.1:${server.port}`, from: '127.0.0.1' };
    // Recordings of the domain: Parlance's own text-to-speech (festival's HTS voice for en-US female).
    for (const text of TEST_SENTENCES) {
      const r = await httpCall(api, 'POST', '/cognitiveservices/v1', {
        headers: { 'Ocp-Apim-Subscription-Key': server.key, 'content-type': 'application/ssml+xml', 'x-microsoft-outputformat': 'riff-16khz-16bit-mono-pcm' },
        body: `<speak version="1.0" xml:lang="en-US"><voice name="en-US-JennyNeural">${text}</voice></speak>`,
      });
      assert.equal(r.status, 200);
      recordings.push({ text, wav: r.body });
    }
    const base = json(await call('GET', '/models/base'))['values'] as { self: string; locale: string }[];
    baseModelSelf = base.find((b) => b.locale === 'en-US')?.self ?? '';
  });
  after(async () => {
    await server?.close();
  });

  it('trains a custom model from an uploaded Language dataset that lowers WER on the domain by at least 30 % relative', async () => {
    const boundary = 'parlance-test-boundary';
    const fields: [string, string][] = [
      ['displayName', 'Vantrel domain text'],
      ['locale', 'en-US'],
      ['kind', 'Language'],
    ];
    const parts = fields.map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('');
    const body = Buffer.concat([
      Buffer.from(`${parts}--${boundary}\r\nContent-Disposition: form-data; name="data"; filename="domain.txt"\r\nContent-Type: text/plain\r\n\r\n`),
      Buffer.from(TRAINING_TEXT.join('\n'), 'utf8'),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const uploaded = await call('POST', '/datasets/upload', body, { 'content-type': `multipart/form-data; boundary=${boundary}` });
    assert.equal(uploaded.status, 201, uploaded.text);
    const datasetSelf = json(uploaded)['self'] as string;
    const dataset = await waitFor(new URL(datasetSelf).pathname, 'Datasets_Get');
    assert.equal(dataset['status'], 'Succeeded');

    const created = await call('POST', '/models', { displayName: 'Vantrel', locale: 'en-US', baseModel: { self: baseModelSelf }, datasets: [{ self: datasetSelf }] });
    assert.equal(created.status, 201, created.text);
    assertValidResponse('stt-v3.2', 'Models_Create', 201, created.json());
    customModelSelf = json(created)['self'] as string;
    const model = await waitFor(new URL(customModelSelf).pathname, 'Models_GetCustomModel');
    assert.equal(model['status'], 'Succeeded', JSON.stringify(model));
    // The trained model's manifest lists its files with download links; its files list a report.
    const modelId = customModelSelf.split('/').pop() ?? '';
    const manifest = await call('GET', `/models/${modelId}/manifest`);
    assertValidResponse('stt-v3.2', 'Models_GetCustomModelManifest', 200, manifest.json());
    const modelFiles = json(manifest)['modelFiles'] as { name: string; contentUrl: string }[];
    const lm = modelFiles.find((f) => f.name.endsWith('.lm') || f.name.endsWith('.arpa'));
    assert.ok(lm, JSON.stringify(modelFiles));
    const lmUrl = new URL(lm.contentUrl);
    const lmBody = await httpCall({ ...api, host: lmUrl.host }, 'GET', lmUrl.pathname + lmUrl.search);
    assert.equal(lmBody.status, 200);
    assert.match(lmBody.text.slice(0, 200), /\\data\\/);
    const files = await call('GET', `/models/${modelId}/files`);
    assertValidResponse('stt-v3.2', 'Models_ListFiles', 200, files.json());
    assert.equal(((json(files)['values'] as { kind: string }[])[0] ?? { kind: '' }).kind, 'ModelReport');
    assertValidResponse('stt-v3.2', 'Models_GetBaseModelManifest', 200, (await call('GET', `/models/base/${baseModelSelf.split('/').pop() ?? ''}/manifest`)).json());

    const ep = await call('POST', '/endpoints', { displayName: 'Vantrel endpoint', locale: 'en-US', model: { self: customModelSelf }, properties: { loggingEnabled: false } });
    assert.equal(ep.status, 201, ep.text);
    const customEndpoint = (json(ep)['self'] as string).split('/').pop() ?? '';
    assert.equal((await waitFor(`/endpoints/${customEndpoint}`, 'Endpoints_Get'))['status'], 'Succeeded');

    const basePairs: { ref: string; hyp: string }[] = [];
    const customPairs: { ref: string; hyp: string }[] = [];
    for (const r of recordings) {
      const b = await recognize(r.wav);
      const c = await recognize(r.wav, customEndpoint);
      assert.equal(b.status, 200);
      assert.equal(c.status, 200);
      basePairs.push({ ref: r.text, hyp: b.text });
      customPairs.push({ ref: r.text, hyp: c.text });
    }
    const baseWer = wer(basePairs).wer;
    const customWer = wer(customPairs).wer;
    const reduction = (baseWer - customWer) / baseWer;
    console.log(
      `# custom model through the API: base WER ${(baseWer * 100).toFixed(1)} %, custom WER ${(customWer * 100).toFixed(1)} %, relative reduction ${(reduction * 100).toFixed(1)} % (${recordings.length} recordings)`,
    );
    assert.ok(reduction >= 0.3, `relative WER reduction ${(reduction * 100).toFixed(1)} % < 30 %`);
    assert.equal((await call('DELETE', `/endpoints/${customEndpoint}`)).status, 204);
  });

  it('seed 003: an endpoint swaps from the base model to the custom model while a client keeps recognizing with cid — no failure, results switch', async () => {
    const created = await call('POST', '/endpoints', {
      displayName: 'My Endpoint',
      description: 'My Endpoint Description',
      model: { self: baseModelSelf },
      locale: 'en-US',
      properties: { loggingEnabled: true },
    });
    assert.equal(created.status, 201);
    assert.equal(json(created)['status'], 'NotStarted');
    endpointId = (json(created)['self'] as string).split('/').pop() ?? '';
    assert.equal((await waitFor(`/endpoints/${endpointId}`, 'Endpoints_Get'))['status'], 'Succeeded');

    // The sentence whose invented words only the custom model knows.
    const probe = recordings[0];
    assert.ok(probe);
    const results: { status: number; text: string }[] = [];
    let stop = false;
    const loop = (async () => {
      while (!stop) results.push(await recognize(probe.wav, endpointId));
    })();
    while (results.length < 2) await sleep(50);
    const patched = await call('PATCH', `/endpoints/${endpointId}`, { model: { self: customModelSelf } });
    assert.equal(patched.status, 200);
    assertValidResponse('stt-v3.2', 'Endpoints_Update', 200, patched.json());
    assert.equal((await waitFor(`/endpoints/${endpointId}`, 'Endpoints_Get'))['status'], 'Succeeded');
    const atSwitch = results.length;
    while (results.length < atSwitch + 2) await sleep(50);
    stop = true;
    await loop;

    assert.deepEqual(results.filter((r) => r.status !== 200), [], 'no recognition failed during the swap');
    const first = results[0]?.text ?? '';
    const last = results[results.length - 1]?.text ?? '';
    assert.doesNotMatch(first, /Zorbex/i, 'the base model does not know the invented word');
    assert.match(last, /Zorbex/i, 'after the swap the custom model serves');
    const got = json(await call('GET', `/endpoints/${endpointId}`));
    assert.equal((got['model'] as { self: string }).self, customModelSelf);

    // Logged recognitions are listed; deleting the endpoint ends its cid.
    // Two files per logged recognition (written as each turn ends, just after its response); the first page holds at most 100.
    const expected = Math.min(100, 2 * results.length);
    let logged = 0;
    for (let i = 0; i < 100 && logged < expected; i++) {
      logged = (json(await call('GET', `/endpoints/${endpointId}/files/logs`))['values'] as unknown[]).length;
      if (logged < expected) await sleep(20);
    }
    assert.equal(logged, expected);
    assert.equal((await call('DELETE', `/models/${customModelSelf.split('/').pop() ?? ''}`)).status, 409, 'a model in use cannot be deleted');
    assert.equal((await call('DELETE', `/endpoints/${endpointId}`)).status, 204);
    assert.equal((await recognize(probe.wav, endpointId)).status, 400);
    assert.equal((await call('DELETE', `/models/${customModelSelf.split('/').pop() ?? ''}`)).status, 204);
  });
});
