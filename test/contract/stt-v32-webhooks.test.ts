import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from '../helpers/server.js';
import { httpCall, type HttpResult, type Target } from '../helpers/net-client.js';
import { assertValidResponse } from '../helpers/openapi.js';

const API_HOST = 'westus.api.cognitive.microsoft.com';
type Json = Record<string, unknown>;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const bodyOf = (r: HttpResult): unknown => (r.body.length === 0 ? undefined : r.json());

interface Received {
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A web hook receiver: answers challenges (or refuses them), records events, can fail the first N. */
class Receiver {
  server!: Server;
  base = '';
  received: Received[] = [];
  /** Paths whose challenge is answered with the wrong token. */
  readonly refuse = new Set<string>();
  /** Event deliveries still to be answered with 500, per path. */
  readonly failNext = new Map<string, number>();

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const r: Received = { path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.received.push(r);
        if (req.headers['x-microsoftspeechservices-event'] === 'Challenge') {
          const token = url.searchParams.get('validationToken') ?? '';
          return void res.writeHead(200, { 'content-type': 'text/plain' }).end(this.refuse.has(url.pathname) ? 'nope' : token);
        }
        const failing = this.failNext.get(url.pathname) ?? 0;
        if (failing > 0) {
          this.failNext.set(url.pathname, failing - 1);
          return void res.writeHead(500).end();
        }
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  events(path: string, type?: string): Received[] {
    return this.received.filter((r) => r.path === path && r.headers['x-microsoftspeechservices-event'] !== 'Challenge' && (type === undefined || r.headers['x-microsoftspeechservices-event'] === type));
  }

  async waitFor(path: string, type: string, count = 1): Promise<Received[]> {
    for (let i = 0; i < 400; i++) {
      const found = this.events(path, type);
      if (found.length >= count) return found;
      await sleep(25);
    }
    throw new Error(`no ${type} event at ${path} (got ${this.received.map((r) => `${r.path}:${String(r.headers['x-microsoftspeechservices-event'])}`).join(', ')})`);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function form(fields: Record<string, string>, file: { filename: string; data: Buffer }): { body: Buffer; type: string } {
  const boundary = `----parlance${randomBytes(8).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  parts.push(
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="data"; filename="${file.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    file.data,
    Buffer.from('\r\n'),
    Buffer.from(`--${boundary}--\r\n`),
  );
  return { body: Buffer.concat(parts), type: `multipart/form-data; boundary=${boundary}` };
}

const sign = (secret: string, body: string): string => createHmac('sha256', secret).update(body, 'utf8').digest('base64');

describe('Speech-to-text REST API v3.2: web hooks (issue #5 item 8)', () => {
  let server: TestServer;
  const receiver = new Receiver();
  const api = (): Target => ({ connect: '127.0.0.1', port: server.port, host: `${API_HOST}:${server.port}`, from: '127.0.0.1' });
  const call = (method: string, path: string, body?: unknown): Promise<HttpResult> =>
    httpCall(api(), method, `/speechtotext/v3.2${path}`, {
      headers: { 'Ocp-Apim-Subscription-Key': server.key, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  const checked = async (opId: string, method: string, path: string, body?: unknown): Promise<HttpResult> => {
    const r = await call(method, path, body);
    assertValidResponse('stt-v3.2', opId, r.status, bodyOf(r));
    return r;
  };
  const idOf = (r: HttpResult): string => ((r.json() as Json)['self'] as string).split('/').pop() ?? '';
  const waitStatus = async (id: string): Promise<Json> => {
    for (let i = 0; i < 400; i++) {
      const r = await checked('WebHooks_Get', 'GET', `/webhooks/${id}`);
      assert.equal(r.status, 200);
      const h = r.json() as Json;
      if (h['status'] === 'Succeeded' || h['status'] === 'Failed') return h;
      await sleep(25);
    }
    throw new Error(`web hook ${id} never left NotStarted`);
  };
  const register = async (path: string, extra: Json = {}): Promise<{ id: string; created: Json }> => {
    const r = await checked('WebHooks_Create', 'POST', '/webhooks', {
      displayName: `hook ${path}`,
      webUrl: `${receiver.base}${path}`,
      events: { datasetCreation: true, datasetCompletion: true, ping: true },
      ...extra,
    });
    assert.equal(r.status, 201, r.text);
    return { id: idOf(r), created: r.json() as Json };
  };

  before(async () => {
    await receiver.start();
    server = await startServer({ overrides: { webhookRetryDelaysMs: [50, 50, 50] } });
  });
  after(async () => {
    await server?.close();
    await receiver.stop();
  });

  it('registers a hook: NotStarted, then Succeeded once the challenge is answered with the token', async () => {
    const { id, created } = await register('/ok', { properties: { secret: 's3cret' }, description: 'd', customProperties: { a: 'b' } });
    assert.equal(created['status'], 'NotStarted');
    assert.equal(created['webUrl'], `${receiver.base}/ok`);
    const props = created['properties'] as Json;
    assert.equal(props['apiVersion'], 'v3.2');
    assert.equal(props['secret'], undefined, 'the secret is never shown back');
    const links = created['links'] as Json;
    assert.equal(links['ping'], `${created['self'] as string}:ping`);
    const h = await waitStatus(id);
    assert.equal(h['status'], 'Succeeded');
    const challenge = receiver.received.find((r) => r.path === '/ok' && r.headers['x-microsoftspeechservices-event'] === 'Challenge');
    assert.ok(challenge);
    assert.ok(challenge.query.get('validationToken'));
    assert.equal(challenge.headers['x-microsoftspeechservices-signature'], undefined);

    const list = await checked('WebHooks_List', 'GET', `/webhooks?filter=${encodeURIComponent(`webUrl eq '${receiver.base}/ok'`)}`);
    assert.equal(list.status, 200);
    const values = (list.json() as Json)['values'] as Json[];
    assert.deepEqual(values.map((v) => v['self']), [created['self']]);
  });

  it('fails a hook whose receiver does not echo the token, and challenges again after a webUrl change', async () => {
    receiver.refuse.add('/refuse');
    const { id } = await register('/refuse');
    const failed = await waitStatus(id);
    assert.equal(failed['status'], 'Failed');
    assert.equal(((failed['properties'] as Json)['error'] as Json)['code'], 'WebHookChallengeFailed');
    const ping = await checked('WebHooks_Ping', 'POST', `/webhooks/${id}:ping`);
    assert.equal(ping.status, 400);

    const patched = await checked('WebHooks_Update', 'PATCH', `/webhooks/${id}`, { webUrl: `${receiver.base}/fixed` });
    assert.equal(patched.status, 200);
    assert.equal((patched.json() as Json)['status'], 'NotStarted');
    assert.equal(((patched.json() as Json)['properties'] as Json)['error'], undefined);
    assert.equal((await waitStatus(id))['status'], 'Succeeded');

    const unreachable = await register('/x', { webUrl: 'http://127.0.0.1:1/nothing' });
    assert.equal((await waitStatus(unreachable.id))['status'], 'Failed');
    const bad = await checked('WebHooks_Create', 'POST', '/webhooks', { displayName: 'x', webUrl: 'ftp://example.com/', events: { ping: true } });
    assert.equal(bad.status, 400);
    assert.equal((await checked('WebHooks_Delete', 'DELETE', `/webhooks/${unreachable.id}`)).status, 204);
    assert.equal((await checked('WebHooks_Get', 'GET', `/webhooks/${unreachable.id}`)).status, 404);
  });

  it('pings with the hook as body, signed with the secret', async () => {
    const hooks = ((await checked('WebHooks_List', 'GET', '/webhooks')).json() as Json)['values'] as Json[];
    const hook = hooks.find((h) => h['webUrl'] === `${receiver.base}/ok`);
    assert.ok(hook);
    const id = (hook['self'] as string).split('/').pop() ?? '';
    const r = await checked('WebHooks_Ping', 'POST', `/webhooks/${id}:ping`);
    assert.equal(r.status, 202);
    const [ping] = await receiver.waitFor('/ok', 'Ping');
    assert.ok(ping);
    assert.equal(ping.headers['x-microsoftspeechservices-signature'], sign('s3cret', ping.body));
    assert.match(String(ping.headers['content-type']), /^application\/json/);
    const body = JSON.parse(ping.body) as Json;
    assertValidResponse('stt-v3.2', 'WebHooks_Get', 200, body);
    assert.equal(body['self'], hook['self']);
  });

  it('delivers dataset creation and completion events, retrying after a 500', async () => {
    const { id } = await register('/retry');
    assert.equal((await waitStatus(id))['status'], 'Succeeded');
    // Nothing to test yet on a fresh account? Datasets of earlier tests: none, so :test answers 204.
    assert.equal((await checked('WebHooks_Test', 'POST', `/webhooks/${id}:test`)).status, 204);

    receiver.failNext.set('/retry', 1);
    const f = form({ displayName: 'hooked', locale: 'en-US', kind: 'Language' }, { filename: 'lang.txt', data: Buffer.from('turn on the lights\nwhat time is it\n') });
    const up = await httpCall(api(), 'POST', '/speechtotext/v3.2/datasets/upload', { headers: { 'Ocp-Apim-Subscription-Key': server.key, 'content-type': f.type }, body: f.body });
    assertValidResponse('stt-v3.2', 'Datasets_Upload', up.status, up.json());
    assert.equal(up.status, 201);
    const datasetSelf = (up.json() as Json)['self'] as string;

    const [completion] = await receiver.waitFor('/retry', 'DatasetCompletion');
    assert.ok(completion);
    const body = JSON.parse(completion.body) as Json;
    assertValidResponse('stt-v3.2', 'Datasets_Get', 200, body);
    assert.equal(body['self'], datasetSelf);
    assert.equal(body['status'], 'Succeeded');
    assert.equal(completion.headers['x-microsoftspeechservices-signature'], undefined, 'no secret, no signature');
    // The first delivery (DatasetCreation) got a 500 and was sent again.
    const creations = receiver.events('/retry', 'DatasetCreation');
    assert.equal(creations.length, 2);
    assert.equal(creations[0]?.body, creations[1]?.body);
    // The /ok hook subscribed to the same events (and signs them).
    const [signed] = await receiver.waitFor('/ok', 'DatasetCompletion');
    assert.ok(signed);
    assert.equal(signed.headers['x-microsoftspeechservices-signature'], sign('s3cret', signed.body));

    // :test now has an entity for each subscribed event type.
    const before = receiver.events('/retry').length;
    assert.equal((await checked('WebHooks_Test', 'POST', `/webhooks/${id}:test`)).status, 202);
    await receiver.waitFor('/retry', 'DatasetCompletion', 2);
    assert.ok(receiver.events('/retry').length >= before + 2);
  });

  it('gives up after the retry schedule without affecting the API', async () => {
    const { id } = await register('/down');
    assert.equal((await waitStatus(id))['status'], 'Succeeded');
    receiver.failNext.set('/down', 100);
    const r = await checked('WebHooks_Ping', 'POST', `/webhooks/${id}:ping`);
    assert.equal(r.status, 202);
    // 1 attempt + 3 retries (50 ms apart in this test).
    await receiver.waitFor('/down', 'Ping', 4);
    await sleep(200);
    assert.equal(receiver.events('/down', 'Ping').length, 4);
    receiver.failNext.delete('/down');
    assert.equal((await checked('WebHooks_Get', 'GET', `/webhooks/${id}`)).status, 200);
  });
});
