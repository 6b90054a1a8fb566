import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.js';
import { httpCall, type HttpResult, type Target } from '../helpers/net-client.js';
import { assertValidResponse } from '../helpers/openapi.js';
import { silencePcm, wavFromPcm } from '../helpers/wav.js';
import { buildZip } from '../helpers/zip.js';

const API_HOST = 'westus.api.cognitive.microsoft.com';
type Json = Record<string, unknown>;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const wav = (ms: number): Buffer => wavFromPcm(silencePcm(ms));

/** A multipart/form-data body as curl or the Speech Studio would send it. */
function form(fields: Record<string, string>, file?: { filename: string; data: Buffer; field?: string }): { body: Buffer; type: string } {
  const boundary = `----parlance${randomBytes(8).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  if (file) {
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${file.field ?? 'data'}"; filename="${file.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
      file.data,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), type: `multipart/form-data; boundary=${boundary}` };
}

/** The v3.2 client side of a server: JSON calls, uploads, polling, downloads, each response checked against the spec. */
function client(getServer: () => TestServer) {
  const api = (): Target => ({ connect: '127.0.0.1', port: getServer().port, host: `${API_HOST}:${getServer().port}`, from: '127.0.0.1' });
  const key = (): Record<string, string> => ({ 'Ocp-Apim-Subscription-Key': getServer().key });
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> =>
    httpCall(api(), method, path.startsWith('/speechtotext') ? path : `/speechtotext/v3.2${path}`, {
      headers: { ...key(), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
  const upload = async (fields: Record<string, string>, file?: { filename: string; data: Buffer; field?: string }): Promise<HttpResult> => {
    const f = form(fields, file);
    const r = await httpCall(api(), 'POST', '/speechtotext/v3.2/datasets/upload', { headers: { ...key(), 'content-type': f.type }, body: f.body });
    assertValidResponse('stt-v3.2', 'Datasets_Upload', r.status, r.json());
    return r;
  };
  const get = async (id: string): Promise<Json> => {
    const r = await call('GET', `/datasets/${id}`);
    assert.equal(r.status, 200);
    assertValidResponse('stt-v3.2', 'Datasets_Get', 200, r.json());
    return r.json() as Json;
  };
  const waitDone = async (id: string): Promise<Json> => {
    for (let i = 0; i < 400; i++) {
      const d = await get(id);
      if (d['status'] === 'Succeeded' || d['status'] === 'Failed') return d;
      await sleep(25);
    }
    throw new Error(`dataset ${id} did not finish`);
  };
  const idOf = (r: HttpResult): string => ((r.json() as Json)['self'] as string).split('/').pop() ?? '';
  /** A signed link, fetched the way any HTTP client would: no key, Host from the URL. */
  const download = (url: string): Promise<HttpResult> => {
    const u = new URL(url);
    return httpCall({ ...api(), host: u.host }, 'GET', u.pathname + u.search);
  };
  const files = async (id: string, query = ''): Promise<Json[]> => {
    const r = await call('GET', `/datasets/${id}/files${query}`);
    assert.equal(r.status, 200);
    assertValidResponse('stt-v3.2', 'Datasets_ListFiles', 200, r.json());
    return (r.json() as Json)['values'] as Json[];
  };
  return { api, call, upload, get, waitDone, idOf, download, files };
}

/** Serves dataset content for contentUrl, and can hold a request open (restart test). */
class ContentServer {
  server!: Server;
  base = '';
  hold = true;
  held: ServerResponse[] = [];
  requests: string[] = [];
  readonly content = new Map<string, Buffer>();

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      this.requests.push(path);
      if (path === '/redirected') return void res.writeHead(302, { location: '/language.txt' }).end();
      if (path === '/held.txt' && this.hold) return void this.held.push(res);
      const body = this.content.get(path);
      if (!body) return void res.writeHead(404, 'Not Found').end();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) }).end(body);
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const r of this.held) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const LANGUAGE = '\uFEFFTurn on the kitchen lights\nWhat is the weather like in Seattle\n\nCall my mother on her mobile phone\n';

describe('Speech-to-text REST API v3.2: datasets (issue #5 item 3)', () => {
  let server: TestServer;
  const content = new ContentServer();
  const c = client(() => server);

  before(async () => {
    server = await startServer();
    await content.start();
    content.content.set('/language.txt', Buffer.from(LANGUAGE));
    content.content.set('/acoustic.zip', buildZip([{ name: 'one.wav', data: wav(1000) }, { name: 'trans.txt', data: 'one.wav\tturn on the lights\n' }]));
  });
  after(async () => {
    await content.stop();
    await server?.close();
  });

  it('lists supported locales per kind', async () => {
    const r = await c.call('GET', '/datasets/locales');
    assert.equal(r.status, 200);
    // v3.2's DatasetLocales declares arrays of DatasetKind (a spec bug: Azure returns locales, as
    // 2024-11-15's DatasetLocales declares), so the body is checked against the corrected definition.
    assertValidResponse('stt-2024-11-15', 'Datasets_ListSupportedLocales', 200, r.json());
    const body = r.json() as Record<string, string[]>;
    assert.deepEqual(Object.keys(body), ['Language', 'Acoustic', 'Pronunciation', 'AudioFiles']);
    assert.ok(body['Language']?.includes('en-US'));
  });

  let languageId = '';

  it('uploads a Language file (multipart): NotStarted, then Succeeded with line counts and a report', async () => {
    const r = await c.upload(
      { displayName: 'Kitchen phrases', description: 'Seed phrases', locale: 'en-US', kind: 'Language', customProperties: JSON.stringify({ source: 'test' }) },
      { filename: 'phrases.txt', data: Buffer.from(LANGUAGE) },
    );
    assert.equal(r.status, 201);
    const body = r.json() as Json;
    assert.equal(r.headers['location'], body['self']);
    assert.match(body['self'] as string, new RegExp(`^http://${API_HOST}:${server.port}/speechtotext/v3.2/datasets/[0-9a-f-]{36}$`));
    assert.equal(body['status'], 'NotStarted');
    assert.equal(body['kind'], 'Language');
    assert.deepEqual(body['customProperties'], { source: 'test' });
    assert.deepEqual(body['links'], { files: `${body['self'] as string}/files` });
    languageId = c.idOf(r);
    const done = await c.waitDone(languageId);
    assert.equal(done['status'], 'Succeeded');
    assert.deepEqual(done['properties'], { acceptedLineCount: 3, rejectedLineCount: 1 });
  });

  it('lists the files (content and report) with signed download links that need no key', async () => {
    const listed = await c.files(languageId);
    assert.deepEqual(
      listed.map((f) => [f['kind'], f['name']]),
      [
        ['LanguageData', 'phrases.txt'],
        ['DatasetReport', 'report.json'],
      ],
    );
    const data = listed[0] as Json;
    assert.deepEqual(data['properties'], { size: Buffer.byteLength(LANGUAGE) });
    const url = (data['links'] as Json)['contentUrl'] as string;
    assert.match(url, new RegExp(`^http://${API_HOST}:${server.port}/parlance/downloads/[A-Za-z0-9_-]+\\?se=\\d{4}-\\d{2}-\\d{2}T\\d{2}%3A\\d{2}%3A\\d{2}Z&sig=[A-Za-z0-9_-]{43}$`));
    const se = Date.parse(decodeURIComponent(/se=([^&]+)/.exec(url)?.[1] ?? ''));
    assert.ok(Math.abs(se - (Date.now() + 12 * 3600_000)) < 5000, 'valid for 12 hours by default');
    const got = await c.download(url);
    assert.equal(got.status, 200);
    assert.equal(got.text, LANGUAGE);

    const report = await c.download(((listed[1] as Json)['links'] as Json)['contentUrl'] as string);
    assert.equal(report.status, 200);
    assert.match(String(report.headers['content-type']), /application\/json/);
    assert.deepEqual(report.json(), {
      datasetKind: 'Language',
      status: 'Succeeded',
      acceptedLineCount: 3,
      rejectedLineCount: 1,
      rejectedLines: [{ line: 3, reason: 'the line is empty' }],
      rejectedLinesTruncated: false,
      notes: [],
    });

    const one = await c.call('GET', `/datasets/${languageId}/files/${((data['self'] as string).split('/').pop() ?? '')}?sasValidityInSeconds=60`);
    assert.equal(one.status, 200);
    assertValidResponse('stt-v3.2', 'Datasets_GetFile', 200, one.json());
    const oneUrl = (((one.json() as Json)['links'] as Json)['contentUrl'] as string);
    assert.ok(Math.abs(Date.parse(decodeURIComponent(/se=([^&]+)/.exec(oneUrl)?.[1] ?? '')) - (Date.now() + 60_000)) < 5000);
    const missing = await c.call('GET', `/datasets/${languageId}/files/00000000-0000-0000-0000-000000000000`);
    assert.equal(missing.status, 404);
    assertValidResponse('stt-v3.2', 'Datasets_GetFile', 404, missing.json());

    const byKind = await c.files(languageId, `?filter=${encodeURIComponent("kind eq 'DatasetReport'")}`);
    assert.deepEqual(
      byKind.map((f) => f['name']),
      ['report.json'],
    );
    const paged = await c.call('GET', `/datasets/${languageId}/files?top=1&sasValidityInSeconds=120`);
    assertValidResponse('stt-v3.2', 'Datasets_ListFiles', 200, paged.json());
    assert.match((paged.json() as Json)['@nextLink'] as string, /skip=1&top=1&sasValidityInSeconds=120$/);
  });

  it('refuses tampered and expired download links with 403; validity is bounded', async () => {
    const url = ((((await c.files(languageId))[0] as Json)['links'] as Json)['contentUrl'] as string);
    const u = new URL(url);
    const sig = u.searchParams.get('sig') ?? '';
    u.searchParams.set('sig', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
    const tampered = await c.download(u.toString());
    assert.equal(tampered.status, 403);
    assert.equal(((tampered.json() as Json)['error'] as Json)['code'], 'AuthenticationFailed');
    const longer = new URL(url);
    longer.searchParams.set('se', '2099-01-01T00:00:00Z');
    assert.equal((await c.download(longer.toString())).status, 403);
    const otherFile = new URL(url);
    otherFile.pathname = `/parlance/downloads/${Buffer.from(`datasets/${languageId}/report.json`).toString('base64url')}`;
    assert.equal((await c.download(otherFile.toString())).status, 403);
    assert.equal((await c.download(`${u.origin}${u.pathname}`)).status, 403);

    const short = await c.files(languageId, '?sasValidityInSeconds=1');
    const shortUrl = ((short[0] as Json)['links'] as Json)['contentUrl'] as string;
    await sleep(1100);
    const expired = await c.download(shortUrl);
    assert.equal(expired.status, 403);
    assert.match(((expired.json() as Json)['error'] as Json)['message'] as string, /expired/);

    for (const bad of ['-1', 'abc', String(8 * 24 * 3600)]) {
      const r = await c.call('GET', `/datasets/${languageId}/files?sasValidityInSeconds=${bad}`);
      assert.equal(r.status, 400, bad);
      assertValidResponse('stt-v3.2', 'Datasets_ListFiles', 400, r.json());
      assert.equal(((r.json() as Json)['innerError'] as Json)['code'], 'InvalidSasValidityDuration');
    }
  });

  it('creates datasets from contentUrl (redirects followed); unreachable content fails the dataset', async () => {
    const r = await c.call('POST', '/datasets', {
      kind: 'Language',
      displayName: 'From URL',
      locale: 'en-US',
      contentUrl: `${content.base}/redirected?sv=2022&sig=SECRET`,
      properties: { textNormalizationKind: 'None' },
    });
    assert.equal(r.status, 201);
    assertValidResponse('stt-v3.2', 'Datasets_Create', 201, r.json());
    const body = r.json() as Json;
    assert.equal(body['contentUrl'], `${content.base}/redirected`, 'the SAS query is never echoed');
    assert.equal(r.headers['location'], body['self']);
    const done = await c.waitDone(c.idOf(r));
    assert.equal(done['status'], 'Succeeded');
    assert.deepEqual(done['properties'], { textNormalizationKind: 'None', acceptedLineCount: 3, rejectedLineCount: 1 });
    assert.equal((await c.files(c.idOf(r)))[0]?.['name'], 'redirected');

    const gone = await c.call('POST', '/datasets', { kind: 'Language', displayName: 'Gone', locale: 'en-US', contentUrl: `${content.base}/nothing-here.txt` });
    assertValidResponse('stt-v3.2', 'Datasets_Create', 201, gone.json());
    const failed = await c.waitDone(c.idOf(gone));
    assert.equal(failed['status'], 'Failed');
    assert.deepEqual((failed['properties'] as Json)['error'], { code: 'DataImportFailed', message: `${content.base}/nothing-here.txt answered HTTP 404 Not Found.` });
    assert.deepEqual(
      (await c.files(c.idOf(gone))).map((f) => f['kind']),
      ['DatasetReport'],
    );

    const acoustic = await c.call('POST', '/datasets', { kind: 'Acoustic', displayName: 'Zip from URL', locale: 'en-US', contentUrl: `${content.base}/acoustic.zip` });
    assert.equal(acoustic.status, 201);
    const zipDone = await c.waitDone(c.idOf(acoustic));
    assert.deepEqual(zipDone['properties'], { acceptedLineCount: 1, rejectedLineCount: 0, duration: 'PT1S' });
  });

  it('uploads in blocks: create without contentUrl, PUT blocks, list them, commit in order', async () => {
    const r = await c.call('POST', '/datasets', { kind: 'Language', displayName: 'Blocks', locale: 'en-US', description: 'block upload' });
    assert.equal(r.status, 201);
    assertValidResponse('stt-v3.2', 'Datasets_Create', 201, r.json());
    const body = r.json() as Json;
    const self = body['self'] as string;
    assert.equal(body['status'], 'NotStarted');
    assert.deepEqual(body['links'], { files: `${self}/files`, commitBlocks: `${self}/blocks:commit`, listBlocks: `${self}/blocks`, uploadBlocks: `${self}/blocks` });
    const id = c.idOf(r);
    const blocks = ['first line\n', 'second line\n', 'third line\n'].map((text, i) => ({ id: Buffer.from(`blk-${String(i).padStart(4, '0')}`).toString('base64'), text }));
    for (const b of [...blocks].reverse()) {
      const put = await c.call('PUT', `/datasets/${id}/blocks?blockid=${encodeURIComponent(b.id)}`, b.text, { 'content-type': 'application/octet-stream' });
      assert.equal(put.status, 201);
      assertValidResponse('stt-v3.2', 'Datasets_UploadBlock', 201, put.body);
    }
    const listed = await c.call('GET', `/datasets/${id}/blocks`);
    assertValidResponse('stt-v3.2', 'Datasets_GetBlocks', 200, listed.json());
    assert.deepEqual((listed.json() as Json)['uncommittedBlocks'], [...blocks].reverse().map((b) => ({ name: b.id, size: b.text.length })));
    assert.deepEqual((listed.json() as Json)['committedBlocks'], []);

    const badId = await c.call('PUT', `/datasets/${id}/blocks?blockid=${encodeURIComponent('not base64!')}`, 'x', { 'content-type': 'application/octet-stream' });
    assert.equal(badId.status, 400);
    assertValidResponse('stt-v3.2', 'Datasets_UploadBlock', 400, badId.json());
    const tooBig = await c.call('PUT', `/datasets/${id}/blocks?blockid=${encodeURIComponent(Buffer.from('big').toString('base64'))}`, Buffer.alloc(8 * 1024 * 1024 + 1).toString('latin1'), {
      'content-type': 'application/octet-stream',
    });
    assert.equal(tooBig.status, 413);
    assertValidResponse('stt-v3.2', 'Datasets_UploadBlock', 413, tooBig.json());
    const unknown = await c.call('POST', `/datasets/${id}/blocks:commit`, [{ kind: 'Uncommitted', id: Buffer.from('nope').toString('base64') }]);
    assert.equal(unknown.status, 400);
    assertValidResponse('stt-v3.2', 'Datasets_CommitBlocks', 400, unknown.json());

    const commit = await c.call('POST', `/datasets/${id}/blocks:commit`, blocks.map((b) => ({ kind: 'Latest', id: b.id })));
    assert.equal(commit.status, 200);
    assertValidResponse('stt-v3.2', 'Datasets_CommitBlocks', 200, commit.body);
    const again = await c.call('PUT', `/datasets/${id}/blocks?blockid=${encodeURIComponent(blocks[0]?.id ?? '')}`, 'late', { 'content-type': 'application/octet-stream' });
    assert.equal(again.status, 409);
    assertValidResponse('stt-v3.2', 'Datasets_UploadBlock', 409, again.json());
    const done = await c.waitDone(id);
    assert.deepEqual([done['status'], done['properties'], done['links']], ['Succeeded', { acceptedLineCount: 3, rejectedLineCount: 0 }, { files: `${self}/files` }]);
    const data = (await c.files(id))[0] as Json;
    assert.equal((await c.download((data['links'] as Json)['contentUrl'] as string)).text, 'first line\nsecond line\nthird line\n');
    const after = await c.call('GET', `/datasets/${id}/blocks`);
    assertValidResponse('stt-v3.2', 'Datasets_GetBlocks', 200, after.json());
    assert.deepEqual((after.json() as Json)['uncommittedBlocks'], []);
    assert.equal(((after.json() as Json)['committedBlocks'] as unknown[]).length, 3);
  });

  it('Pronunciation: good lines succeed; a file without a usable line fails with a clear error', async () => {
    const good = await c.upload({ displayName: 'Pron', locale: 'en-US', kind: 'Pronunciation' }, { filename: 'pron.txt', data: Buffer.from('3CPO\tthree c p o\nCNTK\tc n t k\nR2D2\tr 2 d 2\n') });
    assert.equal(good.status, 201);
    const done = await c.waitDone(c.idOf(good));
    assert.deepEqual([done['status'], done['properties']], ['Succeeded', { acceptedLineCount: 2, rejectedLineCount: 1 }]);
    assert.equal((await c.files(c.idOf(good)))[0]?.['kind'], 'PronunciationData');

    const bad = await c.upload({ displayName: 'Pron bad', locale: 'en-US', kind: 'Pronunciation' }, { filename: 'pron.txt', data: Buffer.from('three c p o\nno tabs at all\n') });
    const failed = await c.waitDone(c.idOf(bad));
    assert.equal(failed['status'], 'Failed');
    const error = (failed['properties'] as Json)['error'] as Json;
    assert.equal(error['code'], 'NoValidLines');
    assert.match(error['message'] as string, /line 1: expected 'display form<TAB>spoken form'/);
    assert.deepEqual([(failed['properties'] as Json)['acceptedLineCount'], (failed['properties'] as Json)['rejectedLineCount']], [0, 2]);
  });

  it('Acoustic and AudioFiles zips: good archives succeed with durations; bad ones fail with clear errors', async () => {
    const good = await c.upload(
      { displayName: 'Acoustic', locale: 'en-US', kind: 'Acoustic' },
      {
        filename: 'audio.zip',
        data: buildZip([
          { name: 'wavs/a.wav', data: wav(1500) },
          { name: 'wavs/b.wav', data: wav(500), method: 0 },
          { name: 'wavs/trans.txt', data: 'a.wav\tturn on the lights\nb.wav\tcall mom\nc.wav\tmissing audio\n' },
        ]),
      },
    );
    const done = await c.waitDone(c.idOf(good));
    assert.deepEqual([done['status'], done['properties']], ['Succeeded', { acceptedLineCount: 2, rejectedLineCount: 1, duration: 'PT2S' }]);
    assert.deepEqual(
      (await c.files(c.idOf(good))).map((f) => f['kind']),
      ['AcousticDataArchive', 'DatasetReport'],
    );

    const audio = await c.upload({ displayName: 'Audio', locale: 'en-US', kind: 'AudioFiles' }, { filename: 'a.zip', data: buildZip([{ name: 'x.wav', data: wav(250) }]) });
    const audioDone = await c.waitDone(c.idOf(audio));
    assert.deepEqual([audioDone['status'], audioDone['properties']], ['Succeeded', { acceptedLineCount: 1, rejectedLineCount: 0, duration: 'PT0.25S' }]);
    assert.equal((await c.files(c.idOf(audio)))[0]?.['kind'], 'Audio');

    const cases: [string, Buffer, string, RegExp][] = [
      ['not a zip', Buffer.from('this is plain text, not an archive\n'), 'InvalidArchive', /not a readable zip archive/],
      ['traversal', buildZip([{ name: '../../etc/evil.wav', data: wav(100) }, { name: 'trans.txt', data: 'evil.wav\thi\n' }]), 'InvalidArchive', /unsafe entry path \(invalid relative path: \.\.\/\.\.\/etc\/evil\.wav\)/],
      ['missing target', buildZip([{ name: 'a.wav', data: wav(100) }, { name: 'trans.txt', data: 'b.wav\thello\n' }]), 'NoValidLines', /trans\.txt, line 1: the audio file 'b\.wav' is not in the archive/],
      ['no transcription', buildZip([{ name: 'a.wav', data: wav(100) }]), 'MissingTranscriptions', /no \.txt transcription file/],
    ];
    for (const [what, data, code, message] of cases) {
      const r = await c.upload({ displayName: what, locale: 'en-US', kind: 'Acoustic' }, { filename: 'bad.zip', data });
      assert.equal(r.status, 201, what);
      const failed = await c.waitDone(c.idOf(r));
      assert.equal(failed['status'], 'Failed', what);
      const error = (failed['properties'] as Json)['error'] as Json;
      assert.equal(error['code'], code, what);
      assert.match(error['message'] as string, message, what);
    }
  });

  it('empty files and invalid UTF-8 fail with clear errors', async () => {
    const empty = await c.upload({ displayName: 'Empty', locale: 'en-US', kind: 'Language' }, { filename: 'empty.txt', data: Buffer.alloc(0) });
    assert.equal(empty.status, 201);
    assert.deepEqual(((await c.waitDone(c.idOf(empty)))['properties'] as Json)['error'], { code: 'EmptyFile', message: 'The file is empty.' });
    const latin1 = await c.upload({ displayName: 'Latin-1', locale: 'en-US', kind: 'Language' }, { filename: 'latin1.txt', data: Buffer.from('ok line\ncaf\xe9 au lait\n', 'latin1') });
    const failed = await c.waitDone(c.idOf(latin1));
    assert.deepEqual((failed['properties'] as Json)['error'], {
      code: 'InvalidEncoding',
      message: 'The file is not valid UTF-8 text (invalid byte sequence at byte offset 11, line 2).',
    });
    const emptyZip = await c.upload({ displayName: 'Empty zip', locale: 'en-US', kind: 'AudioFiles' }, { filename: 'e.zip', data: Buffer.alloc(0) });
    assert.equal(((await c.waitDone(c.idOf(emptyZip)))['properties'] as Json)['error'] !== undefined, true);
  });

  it('refuses bad requests with the API error shape', async () => {
    const checks: [string, Promise<HttpResult>, number, string, string][] = [
      ['no kind', c.call('POST', '/datasets', { displayName: 'x', locale: 'en-US' }), 400, 'Datasets_Create', 'InvalidParameterValue'],
      ['bad locale', c.call('POST', '/datasets', { displayName: 'x', locale: 'xx-XX', kind: 'Language' }), 400, 'Datasets_Create', 'InvalidLocale'],
      ['no name', c.call('POST', '/datasets', { locale: 'en-US', kind: 'Language' }), 400, 'Datasets_Create', 'InvalidParameterValue'],
      ['data url', c.call('POST', '/datasets', { displayName: 'x', locale: 'en-US', kind: 'Language', contentUrl: 'data:text/plain,hello' }), 400, 'Datasets_Create', 'InvalidParameterValue'],
      ['unknown project', c.call('POST', '/datasets', { displayName: 'x', locale: 'en-US', kind: 'Language', project: { self: `http://h/speechtotext/v3.2/projects/00000000-0000-0000-0000-000000000000` } }), 400, 'Datasets_Create', 'InvalidProject'],
      ['no file', c.upload({ displayName: 'x', locale: 'en-US', kind: 'Language' }), 400, 'Datasets_Upload', 'InvalidParameterValue'],
      ['bad customProperties', c.upload({ displayName: 'x', locale: 'en-US', kind: 'Language', customProperties: '{nope' }, { filename: 'a.txt', data: Buffer.from('a\n') }), 400, 'Datasets_Upload', 'InvalidParameterValue'],
    ];
    for (const [what, pending, status, op, inner] of checks) {
      const r = await pending;
      assert.equal(r.status, status, what);
      assertValidResponse('stt-v3.2', op, status, r.json());
      assert.equal(((r.json() as Json)['innerError'] as Json)['code'], inner, what);
    }
    const notMultipart = await c.call('POST', '/datasets/upload', { displayName: 'x' });
    assert.equal(notMultipart.status, 415);
    assertValidResponse('stt-v3.2', 'Datasets_Upload', 415, notMultipart.json());
    const missing = await c.call('GET', '/datasets/00000000-0000-0000-0000-000000000000');
    assert.equal(missing.status, 404);
    assertValidResponse('stt-v3.2', 'Datasets_Get', 404, missing.json());
    const noKey = await httpCall(c.api(), 'GET', '/speechtotext/v3.2/datasets');
    assert.equal(noKey.status, 401);
  });

  it('lists with filter and paging, updates (PATCH, merge-patch), lists per project, deletes with the files', async () => {
    const list = await c.call('GET', '/datasets?top=2');
    assert.equal(list.status, 200);
    assertValidResponse('stt-v3.2', 'Datasets_List', 200, list.json());
    assert.equal(((list.json() as Json)['values'] as unknown[]).length, 2);
    assert.match((list.json() as Json)['@nextLink'] as string, /\/speechtotext\/v3\.2\/datasets\?skip=2&top=2$/);
    const acoustic = await c.call('GET', `/datasets?filter=${encodeURIComponent("kind eq 'AudioFiles' and status eq 'Succeeded'")}`);
    assertValidResponse('stt-v3.2', 'Datasets_List', 200, acoustic.json());
    assert.deepEqual(
      ((acoustic.json() as Json)['values'] as Json[]).map((d) => d['displayName']),
      ['Audio'],
    );
    const badFilter = await c.call('GET', `/datasets?filter=${encodeURIComponent('color eq 1')}`);
    assert.equal(badFilter.status, 400);
    assertValidResponse('stt-v3.2', 'Datasets_List', 400, badFilter.json());

    const project = await c.call('POST', '/projects', { displayName: 'Datasets project', locale: 'en-US' });
    const projectSelf = (project.json() as Json)['self'] as string;
    const patched = await c.call('PATCH', `/datasets/${languageId}`, { displayName: 'Renamed', description: 'New description', customProperties: { a: 'b' }, project: { self: projectSelf } });
    assert.equal(patched.status, 200);
    assertValidResponse('stt-v3.2', 'Datasets_Update', 200, patched.json());
    assert.deepEqual(
      [(patched.json() as Json)['displayName'], (patched.json() as Json)['description'], (patched.json() as Json)['customProperties'], (patched.json() as Json)['project']],
      ['Renamed', 'New description', { a: 'b' }, { self: projectSelf }],
    );
    const merge = await c.call('PATCH', `/datasets/${languageId}`, JSON.stringify({ description: 'Merged' }), { 'content-type': 'application/merge-patch+json' });
    assert.equal(merge.status, 200);
    assertValidResponse('stt-v3.2', 'Datasets_Update', 200, merge.json());
    assert.deepEqual([(merge.json() as Json)['displayName'], (merge.json() as Json)['description'], (merge.json() as Json)['status']], ['Renamed', 'Merged', 'Succeeded']);
    const empty = await c.call('PATCH', `/datasets/${languageId}`, { displayName: '' });
    assert.equal(empty.status, 400);
    assertValidResponse('stt-v3.2', 'Datasets_Update', 400, empty.json());

    const inProject = await c.call('GET', `/projects/${projectSelf.split('/').pop()}/datasets`);
    assert.equal(inProject.status, 200);
    assertValidResponse('stt-v3.2', 'Projects_ListDatasets', 200, inProject.json());
    assert.deepEqual(
      ((inProject.json() as Json)['values'] as Json[]).map((d) => d['displayName']),
      ['Renamed'],
    );

    const url = ((((await c.files(languageId))[0] as Json)['links'] as Json)['contentUrl'] as string);
    const deleted = await c.call('DELETE', `/datasets/${languageId}`);
    assert.equal(deleted.status, 204);
    assertValidResponse('stt-v3.2', 'Datasets_Delete', 204, deleted.body);
    assert.equal((await c.call('DELETE', `/datasets/${languageId}`)).status, 204);
    const gone = await c.call('GET', `/datasets/${languageId}`);
    assert.equal(gone.status, 404);
    assertValidResponse('stt-v3.2', 'Datasets_Get', 404, gone.json());
    assert.equal((await c.download(url)).status, 404, 'the files are deleted with the dataset');
    const v31 = await c.call('GET', '/speechtotext/v3.1/datasets');
    assert.equal(v31.status, 200);
    assert.match((((v31.json() as Json)['values'] as Json[])[0]?.['self'] as string) ?? '', /\/speechtotext\/v3\.1\/datasets\//);
  });
});

describe('Speech-to-text REST API v3.2: datasets survive a restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parlance-datasets-restart-'));
  const content = new ContentServer();
  let server: TestServer;
  const c = client(() => server);

  before(async () => {
    await content.start();
    content.content.set('/held.txt', Buffer.from('one sentence\nanother sentence\n'));
    server = await startServer({ dataDir });
  });
  after(async () => {
    await server?.close();
    await content.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a download cut by shutdown is fetched again after the restart; a block upload continues', async () => {
    const r = await c.call('POST', '/datasets', { kind: 'Language', displayName: 'Held', locale: 'en-US', contentUrl: `${content.base}/held.txt` });
    assert.equal(r.status, 201);
    const heldId = c.idOf(r);
    const blocks = await c.call('POST', '/datasets', { kind: 'Language', displayName: 'Blocks across restarts', locale: 'en-US' });
    const blocksId = c.idOf(blocks);
    const blockId = Buffer.from('block-1').toString('base64');
    assert.equal((await c.call('PUT', `/datasets/${blocksId}/blocks?blockid=${encodeURIComponent(blockId)}`, 'kept across restarts\n', { 'content-type': 'application/octet-stream' })).status, 201);
    for (let i = 0; i < 200 && content.held.length === 0; i++) await sleep(10);
    assert.equal(content.held.length, 1, 'the content server holds the download');
    assert.equal((await c.get(heldId))['status'], 'Running');

    await server.close();
    content.hold = false;
    server = await startServer({ dataDir });

    const done = await c.waitDone(heldId);
    assert.deepEqual([done['status'], done['properties']], ['Succeeded', { acceptedLineCount: 2, rejectedLineCount: 0 }]);
    assert.equal(content.requests.filter((p) => p === '/held.txt').length, 2);

    const listed = await c.call('GET', `/datasets/${blocksId}/blocks`);
    assertValidResponse('stt-v3.2', 'Datasets_GetBlocks', 200, listed.json());
    assert.deepEqual((listed.json() as Json)['uncommittedBlocks'], [{ name: blockId, size: 21 }]);
    assert.equal((await c.call('POST', `/datasets/${blocksId}/blocks:commit`, [{ kind: 'Uncommitted', id: blockId }])).status, 200);
    const committed = await c.waitDone(blocksId);
    assert.deepEqual([committed['status'], committed['properties']], ['Succeeded', { acceptedLineCount: 1, rejectedLineCount: 0 }]);
  });
});
