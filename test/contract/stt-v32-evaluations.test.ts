import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.js';
import { httpCall, type HttpResult, type Target } from '../helpers/net-client.js';
import { assertValidResponse } from '../helpers/openapi.js';
import { wer, type WerResult } from '../helpers/wer.js';
import { buildZip } from '../helpers/zip.js';
import { TEST_SENTENCES, TRAINING_TEXT } from '../fixtures/custom-speech-domain.js';

type Json = Record<string, unknown>;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Recordings per run (the TTS and two decodes per file dominate the test's time). */
const RECORDINGS = 8;

function form(fields: Record<string, string>, file: { filename: string; data: Buffer }): { body: Buffer; type: string } {
  const boundary = 'parlance-evaluation-boundary';
  const parts: Buffer[] = Object.entries(fields).map(([k, v]) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  parts.push(
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="data"; filename="${file.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    file.data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { body: Buffer.concat(parts), type: `multipart/form-data; boundary=${boundary}` };
}

/**
 * Evaluations (issue #5 item 7) through the API only: an Acoustic dataset of domain recordings
 * (synthesized by Parlance's TTS), a custom model trained on the domain's text, and an evaluation of
 * the base model against it. Its figures must be those of REST recognitions of the same audio.
 */
describe('Speech-to-text v3.2 evaluations', () => {
  let server: TestServer;
  let api: Target;
  const recordings: { name: string; text: string; wav: Buffer }[] = [];
  let baseModelSelf = '';
  let customModelSelf = '';
  let acousticSelf = '';
  let languageSelf = '';
  let evaluationSelf = '';

  const json = (r: HttpResult): Json => r.json() as Json;
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> =>
    httpCall(api, method, path.startsWith('http') ? new URL(path).pathname + new URL(path).search : path.startsWith('/speechtotext') ? path : `/speechtotext/v3.2${path}`, {
      headers: { 'Ocp-Apim-Subscription-Key': server.key, ...(body !== undefined && !Buffer.isBuffer(body) ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: Buffer.isBuffer(body) ? body : JSON.stringify(body) } : {}),
    });
  const checked = async (method: string, path: string, op: string, status: number, body?: unknown): Promise<Json> => {
    const r = await call(method, path, body);
    assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
    if (status === 204) return {};
    assertValidResponse('stt-v3.2', op, status, r.json());
    return json(r);
  };
  const waitFor = async (self: string, op: string): Promise<Json> => {
    for (let i = 0; i < 2400; i++) {
      const got = await checked('GET', self, op, 200);
      if (got['status'] === 'Succeeded' || got['status'] === 'Failed') return got;
      await sleep(50);
    }
    throw new Error(`${self} did not finish`);
  };
  const upload = async (fields: Record<string, string>, file: { filename: string; data: Buffer }): Promise<string> => {
    const f = form(fields, file);
    const r = await call('POST', '/datasets/upload', f.body, { 'content-type': f.type });
    assert.equal(r.status, 201, r.text);
    const self = json(r)['self'] as string;
    assert.equal((await waitFor(self, 'Datasets_Get'))['status'], 'Succeeded');
    return self;
  };
  /** Short-audio REST recognition's lexical form (what Azure's evaluations score). */
  const recognize = async (wav: Buffer, query: string): Promise<string> => {
    const r = await httpCall(api, 'POST', `/speech/recognition/conversation/cognitiveservices/v1?${query}&format=detailed`, {
      headers: { 'Ocp-Apim-Subscription-Key': server.key, 'content-type': 'audio/wav' },
      body: wav,
    });
    assert.equal(r.status, 200, r.text);
    const nbest = (json(r)['NBest'] as { Lexical: string }[] | undefined) ?? [];
    return nbest[0]?.Lexical ?? '';
  };

  before(async () => {
    server = await startServer();
    api = { connect: '127.0.0.1', port: server.port, host: `127.0.0.1:${server.port}`, from: '127.0.0.1' };
    for (const [i, text] of TEST_SENTENCES.slice(0, RECORDINGS).entries()) {
      const r = await httpCall(api, 'POST', '/cognitiveservices/v1', {
        headers: { 'Ocp-Apim-Subscription-Key': server.key, 'content-type': 'application/ssml+xml', 'x-microsoft-outputformat': 'riff-16khz-16bit-mono-pcm' },
        body: `<speak version="1.0" xml:lang="en-US"><voice name="en-US-JennyNeural">${text}</voice></speak>`,
      });
      assert.equal(r.status, 200);
      recordings.push({ name: `audio/utt${i + 1}.wav`, text, wav: r.body });
    }
    const base = json(await call('GET', '/models/base'))['values'] as { self: string; locale: string }[];
    baseModelSelf = base.find((b) => b.locale === 'en-US')?.self ?? '';
    assert.ok(baseModelSelf);

    const transcript = recordings.map((r) => `${r.name.split('/').pop() ?? ''}\t${r.text}`).join('\r\n');
    const zip = buildZip([...recordings.map((r) => ({ name: r.name, data: r.wav })), { name: 'audio/trans.txt', data: transcript }]);
    acousticSelf = await upload({ displayName: 'Vantrel recordings', locale: 'en-US', kind: 'Acoustic' }, { filename: 'recordings.zip', data: zip });
    languageSelf = await upload({ displayName: 'Vantrel text', locale: 'en-US', kind: 'Language' }, { filename: 'text.txt', data: Buffer.from(TRAINING_TEXT.join('\n')) });

    const created = await checked('POST', '/models', 'Models_Create', 201, { displayName: 'Vantrel', locale: 'en-US', baseModel: { self: baseModelSelf }, text: TRAINING_TEXT.join('\n') });
    customModelSelf = created['self'] as string;
    assert.equal((await waitFor(customModelSelf, 'Models_GetCustomModel'))['status'], 'Succeeded');
  });
  after(async () => {
    await server?.close();
  });

  it('compares the base model with a custom model: the WERs are those of REST recognitions, and the custom model wins', async () => {
    const locales = (await checked('GET', '/evaluations/locales', 'Evaluations_ListSupportedLocales', 200)) as unknown as string[];
    assert.ok(locales.includes('en-US'));
    const created = await checked('POST', '/evaluations', 'Evaluations_Create', 201, {
      displayName: 'Base vs Vantrel',
      description: 'domain recordings',
      locale: 'en-US',
      model1: { self: baseModelSelf },
      model2: { self: customModelSelf },
      dataset: { self: acousticSelf },
      customProperties: { purpose: 'test' },
    });
    assert.equal(created['status'], 'NotStarted');
    evaluationSelf = created['self'] as string;
    assert.equal((created['model1'] as Json)['self'], baseModelSelf);
    assert.equal((created['model2'] as Json)['self'], customModelSelf);
    assert.equal((created['dataset'] as Json)['self'], acousticSelf);
    const done = await waitFor(evaluationSelf, 'Evaluations_Get');
    assert.equal(done['status'], 'Succeeded', JSON.stringify(done));
    const p = done['properties'] as Record<string, number>;

    // The same audio through short-audio REST: base with language=en-US, custom through an endpoint's cid.
    const ep = await checked('POST', '/endpoints', 'Endpoints_Create', 201, { displayName: 'Vantrel endpoint', locale: 'en-US', model: { self: customModelSelf }, properties: { loggingEnabled: false } });
    const endpointSelf = ep['self'] as string;
    assert.equal((await waitFor(endpointSelf, 'Endpoints_Get'))['status'], 'Succeeded');
    const cid = endpointSelf.split('/').pop() ?? '';
    const basePairs: { ref: string; hyp: string }[] = [];
    const customPairs: { ref: string; hyp: string }[] = [];
    for (const r of recordings) {
      basePairs.push({ ref: r.text, hyp: await recognize(r.wav, 'language=en-US') });
      customPairs.push({ ref: r.text, hyp: await recognize(r.wav, `cid=${cid}`) });
    }
    const expect = (n: 1 | 2, w: WerResult, pairs: { ref: string; hyp: string }[]): void => {
      assert.equal(p[`sentenceCount${n}`], recordings.length);
      assert.equal(p[`wordCount${n}`], w.refWords);
      assert.equal(p[`wordSubstitutionCount${n}`], w.substitutions, `model${n} substitutions`);
      assert.equal(p[`wordDeletionCount${n}`], w.deletions, `model${n} deletions`);
      assert.equal(p[`wordInsertionCount${n}`], w.insertions, `model${n} insertions`);
      assert.equal(p[`correctWordCount${n}`], w.refWords - w.substitutions - w.deletions);
      assert.ok(Math.abs((p[`wordErrorRate${n}`] ?? NaN) - w.wer) <= 0.00005, `model${n} WER ${p[`wordErrorRate${n}`]} vs ${w.wer}`);
      const wrong = pairs.filter((x) => wer([x]).wer > 0).length;
      assert.ok(Math.abs((p[`sentenceErrorRate${n}`] ?? NaN) - wrong / pairs.length) <= 0.00005);
    };
    const baseWer = wer(basePairs);
    const customWer = wer(customPairs);
    expect(1, baseWer, basePairs);
    expect(2, customWer, customPairs);
    console.log(
      `# evaluation of ${recordings.length} recordings: base WER ${(baseWer.wer * 100).toFixed(1)} % (S ${baseWer.substitutions}, D ${baseWer.deletions}, I ${baseWer.insertions} of ${baseWer.refWords}), ` +
        `custom WER ${(customWer.wer * 100).toFixed(1)} % (S ${customWer.substitutions}, D ${customWer.deletions}, I ${customWer.insertions})`,
    );
    assert.ok((p['wordErrorRate2'] ?? 1) < (p['wordErrorRate1'] ?? 0), 'the custom model has the lower WER');

    // The EvaluationDetails file: per utterance, the transcription and both hypotheses.
    const files = await checked('GET', `${evaluationSelf}/files`, 'Evaluations_ListFiles', 200);
    const list = files['values'] as Json[];
    assert.equal(list.length, 1);
    assert.equal(list[0]?.['kind'], 'EvaluationDetails');
    const one = await checked('GET', list[0]?.['self'] as string, 'Evaluations_GetFile', 200);
    const download = await httpCall(api, 'GET', new URL((one['links'] as Json)['contentUrl'] as string).pathname + new URL((one['links'] as Json)['contentUrl'] as string).search);
    assert.equal(download.status, 200);
    const details = download.json() as { utterances: { file: string; reference: string; hypothesis1: string; hypothesis2: string }[] };
    assert.equal(details.utterances.length, recordings.length);
    for (const [i, u] of details.utterances.entries()) {
      assert.equal(u.reference, recordings[i]?.text);
      assert.equal(u.hypothesis1, basePairs[i]?.hyp);
      assert.equal(u.hypothesis2, customPairs[i]?.hyp);
    }
    await checked('DELETE', endpointSelf, 'Endpoints_Delete', 204);
  });

  it('lists, updates (project too) and deletes evaluations', async () => {
    const listed = await checked('GET', '/evaluations', 'Evaluations_List', 200);
    assert.ok((listed['values'] as Json[]).some((e) => e['self'] === evaluationSelf));
    const project = await checked('POST', '/projects', 'Projects_Create', 201, { displayName: 'Vantrel', locale: 'en-US' });
    const patched = await checked('PATCH', evaluationSelf, 'Evaluations_Update', 200, { displayName: 'Renamed', description: 'new', project: { self: project['self'] } });
    assert.equal(patched['displayName'], 'Renamed');
    assert.equal((patched['project'] as Json)['self'], project['self']);
    const byProject = await checked('GET', `${project['self'] as string}/evaluations`, 'Projects_ListEvaluations', 200);
    assert.deepEqual((byProject['values'] as Json[]).map((e) => e['self']), [evaluationSelf]);
    const v31 = await call('GET', evaluationSelf.replace('/v3.2/', '/v3.1/'));
    assert.equal(v31.status, 200);

    // A second evaluation of the same pair, deleted while it may still be running.
    const second = await checked('POST', '/evaluations', 'Evaluations_Create', 201, { displayName: 'To delete', locale: 'en-US', model1: { self: baseModelSelf }, model2: { self: baseModelSelf }, dataset: { self: acousticSelf } });
    await checked('DELETE', second['self'] as string, 'Evaluations_Delete', 204);
    const gone = await call('GET', second['self'] as string);
    assert.equal(gone.status, 404);
    assertValidResponse('stt-v3.2', 'Evaluations_Get', 404, gone.json());
    await checked('DELETE', evaluationSelf, 'Evaluations_Delete', 204);
    assert.equal((await call('GET', evaluationSelf)).status, 404);
  });

  it('refuses a dataset that is not Acoustic, unknown models and other locales with 400', async () => {
    const body = { displayName: 'Bad', locale: 'en-US', model1: { self: baseModelSelf }, model2: { self: customModelSelf }, dataset: { self: acousticSelf } };
    const cases: [Json, string][] = [
      [{ ...body, dataset: { self: languageSelf } }, 'InvalidDataset'],
      [{ ...body, model2: { self: customModelSelf.replace(/[0-9a-f-]{36}$/, '00000000-0000-0000-0000-000000000000') } }, 'InvalidModel'],
      [{ ...body, dataset: { self: acousticSelf.replace(/[0-9a-f-]{36}$/, '00000000-0000-0000-0000-000000000000') } }, 'InvalidDataset'],
      [{ ...body, locale: 'xx-XX' }, 'InvalidLocale'],
    ];
    for (const [b, inner] of cases) {
      const r = await checked('POST', '/evaluations', 'Evaluations_Create', 400, b);
      assert.equal((r['innerError'] as Json | undefined)?.['code'], inner, JSON.stringify(r));
    }
    const missing = await checked('POST', '/evaluations', 'Evaluations_Create', 400, { displayName: 'Bad', locale: 'en-US', model1: { self: baseModelSelf }, dataset: { self: acousticSelf } });
    assert.equal(missing['code'], 'InvalidRequest');
  });
});
