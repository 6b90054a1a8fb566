import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, startServer, type TestServer } from '../helpers/server.js';

const CLI = join(REPO_ROOT, 'dist/src/cli/main.js');
const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Run {
  code: number | null;
  out: string;
  err: string;
}

/** The CLI with no key in its environment unless the test gives one. */
function runCli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const e = { ...process.env, ...env };
  if (!('PARLANCE_KEY' in env)) delete e['PARLANCE_KEY'];
  delete e['SPEECH_KEY'];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: e });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => resolve({ code, out, err }));
  });
}

interface Entity {
  self: string;
  status?: string;
  displayName: string;
  description?: string;
  locale: string;
  model?: { self: string };
  project?: { self: string };
  properties?: { loggingEnabled?: boolean; acceptedLineCount?: number };
  links?: Record<string, string>;
}
interface List<T = Entity> {
  values: T[];
  '@nextLink'?: string;
}

const idOf = (e: Entity): string => e.self.slice(e.self.lastIndexOf('/') + 1);

describe('parlance csr (Custom Speech CLI over the Speech-to-text REST API v3.2)', () => {
  let server: TestServer;
  let common: string[] = [];
  let dir = '';
  let baseModel: Entity;
  let projectId = '';

  async function ok<T = Entity>(args: string[]): Promise<T> {
    const r = await runCli([...args, ...common]);
    assert.equal(r.code, 0, `parlance ${args.join(' ')} → ${r.code}\nstdout: ${r.out}\nstderr: ${r.err}`);
    return (r.out.trim() === '' ? undefined : JSON.parse(r.out)) as T;
  }

  before(async () => {
    server = await startServer();
    common = ['--url', `http://127.0.0.1:${server.port}`, '--key', server.key];
    dir = mkdtempSync(join(tmpdir(), 'parlance-csr-cli-'));
    const bases = await ok<List>(['csr', 'model', 'list', '--base']);
    const en = bases.values.find((b) => b.locale === 'en-US');
    assert.ok(en, 'an en-US base model');
    baseModel = en;
  });
  after(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('creates a project, then lists, shows, updates it', async () => {
    const p = await ok(['csr', 'project', 'create', '--name', 'CLI project', '--description', 'made by the CLI', '--language', 'en-US']);
    assert.equal(p.displayName, 'CLI project');
    assert.equal(p.locale, 'en-US');
    projectId = idOf(p);
    assert.match(projectId, GUID_RE);
    assert.ok(p.self.startsWith(`http://127.0.0.1:${server.port}/speechtotext/v3.2/projects/`));

    const list = await ok<List>(['csr', 'project', 'list']);
    assert.deepEqual(
      list.values.map((v) => v.self),
      [p.self],
    );
    // By id, by self URL, and spx style with --project.
    assert.equal((await ok(['csr', 'project', 'show', projectId])).displayName, 'CLI project');
    assert.equal((await ok(['csr', 'project', 'show', p.self])).self, p.self);
    assert.equal((await ok(['csr', 'project', 'show', '--project', projectId])).self, p.self);
    assert.equal((await ok(['csr', 'project', 'show', projectId, '--api-version', 'v3.1'])).self, p.self.replace('/v3.2/', '/v3.1/'));
    const updated = await ok(['csr', 'project', 'update', projectId, '--description', 'changed']);
    assert.equal(updated.description, 'changed');
    assert.equal(updated.displayName, 'CLI project');
  });

  it('deploys the base model to an endpoint (seed 003 flags), waits, shows, updates logging, lists logs, deletes', async () => {
    const created = await ok([
      'csr', 'endpoint', 'create', '--api-version', 'v3.2', '--project', projectId, '--model', idOf(baseModel),
      '--name', 'My Endpoint', '--description', 'My Endpoint Description', '--language', 'en-US', '--wait',
    ]);
    assert.equal(created.status, 'Succeeded');
    assert.equal(created.displayName, 'My Endpoint');
    assert.equal(created.description, 'My Endpoint Description');
    assert.equal(created.model?.self, baseModel.self, 'a bare base model id is sent as a models/base reference');
    assert.equal(created.project?.self.endsWith(`/projects/${projectId}`), true);
    assert.equal(created.properties?.loggingEnabled, false);
    const endpointId = idOf(created);

    assert.equal((await ok(['csr', 'endpoint', 'show', endpointId])).status, 'Succeeded');
    const inProject = await ok<List>(['csr', 'endpoint', 'list', '--project', projectId]);
    assert.deepEqual(inProject.values.map(idOf), [endpointId]);

    // spx csr endpoint update --endpoint <id> … ; the model given as base:<id>.
    const updated = await ok(['csr', 'endpoint', 'update', '--endpoint', endpointId, '--logging', 'enabled', '--model', `base:${idOf(baseModel)}`, '--name', 'Renamed']);
    assert.equal(updated.properties?.loggingEnabled, true);
    assert.equal(updated.displayName, 'Renamed');
    assert.equal(updated.model?.self, baseModel.self);

    assert.deepEqual(await ok<List>(['csr', 'endpoint', 'logs', endpointId]), { values: [] });
    assert.deepEqual(await ok<List>(['csr', 'endpoint', 'list', '--endpoint', endpointId]), { values: [] });

    assert.equal(await ok(['csr', 'endpoint', 'delete', created.self]), undefined);
    const gone = await runCli(['csr', 'endpoint', 'show', endpointId, ...common]);
    assert.equal(gone.code, 1);
    assert.match(gone.err, /^parlance: NotFound: /);
  });

  it('trains a model from --text-file and waits until it has Succeeded', async () => {
    const textFile = join(dir, 'domain.txt');
    writeFileSync(textFile, ['turn on the kitchen lights', 'set the thermostat to seventy degrees', 'play the morning playlist'].join('\n'));
    const m = await ok([
      'csr', 'model', 'create', '--name', 'Home commands', '--base-model', baseModel.self, '--text-file', textFile, '--project', projectId, '--wait',
    ]);
    assert.equal(m.status, 'Succeeded');
    assert.equal(m.locale, 'en-US', "the locale defaults to the base model's");
    assert.equal(m.project?.self.endsWith(`/projects/${projectId}`), true);
    const shown = await ok(['csr', 'model', 'show', idOf(m)]);
    assert.equal(shown.self, m.self);
    assert.deepEqual((await ok<List>(['csr', 'model', 'list'])).values.map(idOf), [idOf(m)]);
    // A base model id given to show is found among the base models.
    assert.equal((await ok(['csr', 'model', 'show', idOf(baseModel)])).self, baseModel.self);
  });

  it('uploads a Language dataset (multipart) and waits until it has Succeeded; then a model from it by --language', async () => {
    const file = join(dir, 'language.txt');
    writeFileSync(file, 'open the garage door\nclose the garage door\nlock the front door\n');
    const d = await ok(['csr', 'dataset', 'upload', '--kind', 'Language', '--name', 'Doors', '--language', 'en-US', '--file', file, '--project', projectId, '--wait']);
    assert.equal(d.status, 'Succeeded');
    assert.equal(d.displayName, 'Doors');
    assert.equal(d.project?.self.endsWith(`/projects/${projectId}`), true);
    assert.equal(d.properties?.acceptedLineCount, 3);
    const files = await ok<List<{ name: string; links: { contentUrl: string } }>>(['csr', 'dataset', 'files', idOf(d)]);
    assert.equal(files.values.length >= 1, true);

    const m = await ok(['csr', 'model', 'create', '--name', 'Doors model', '--language', 'en-US', '--dataset', idOf(d), '--wait']);
    assert.equal(m.status, 'Succeeded');
    assert.equal((await ok<List>(['csr', 'dataset', 'list', '--project', projectId])).values.length, 1);
    assert.equal(await ok(['csr', 'dataset', 'delete', idOf(d)]), undefined);
  });

  it('follows @nextLink up to --max', async () => {
    for (let i = 0; i < 3; i++) await ok(['csr', 'project', 'create', '--name', `extra ${i}`, '--language', 'en-US']);
    const all = await ok<List>(['csr', 'project', 'list']);
    assert.equal(all.values.length, 4);
    assert.equal(all['@nextLink'], undefined);
    const paged = await ok<List>(['csr', 'project', 'list', '--page-size', '1']);
    assert.deepEqual(paged.values.map((v) => v.self), all.values.map((v) => v.self), 'four pages of one, joined');
    assert.equal(paged['@nextLink'], undefined);
    const bounded = await ok<List>(['csr', 'project', 'list', '--page-size', '1', '--max', '2']);
    assert.deepEqual(bounded.values.map((v) => v.self), all.values.slice(0, 2).map((v) => v.self));
    assert.match(bounded['@nextLink'] ?? '', new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/speechtotext/v3\\.2/projects\\?skip=2&top=1`));
  });

  it('reports API errors with exit 1 and usage errors with exit 2', async () => {
    const unknown = await runCli(['csr', 'project', 'show', '00000000-0000-0000-0000-000000000001', ...common]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /^parlance: NotFound: .+/);
    assert.equal(unknown.out, '');

    const badLocale = await runCli(['csr', 'endpoint', 'create', '--model', `base:${idOf(baseModel)}`, '--name', 'x', '--language', 'de-DE', ...common]);
    assert.equal(badLocale.code, 1);
    assert.match(badLocale.err, /^parlance: InvalidRequest: .*\(InvalidLocale\)/);

    const wrongKey = await runCli(['csr', 'project', 'list', '--url', `http://127.0.0.1:${server.port}`, '--key', '0'.repeat(32)]);
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.err, /^parlance: \w+: /);

    // The key from the environment.
    const fromEnv = await runCli(['csr', 'project', 'list', '--url', `http://127.0.0.1:${server.port}`], { PARLANCE_KEY: server.key });
    assert.equal(fromEnv.code, 0, fromEnv.err);

    const missing = await runCli(['csr', 'endpoint', 'create', '--name', 'no model', ...common]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /--model/);
    const badChoice = await runCli(['csr', 'endpoint', 'update', '00000000-0000-0000-0000-000000000001', '--logging', 'maybe', ...common]);
    assert.equal(badChoice.code, 2);
    const badId = await runCli(['csr', 'project', 'show', 'not-an-id', ...common]);
    assert.equal(badId.code, 2);
    assert.match(badId.err, /^parlance: --project must be an id/);
    const noKey = await runCli(['csr', 'project', 'list', '--url', `http://127.0.0.1:${server.port}`]);
    assert.equal(noKey.code, 2);
    assert.match(noKey.err, /no key/);
    const nothing = await runCli(['csr', 'project', 'update', projectId, ...common]);
    assert.equal(nothing.code, 2);
    assert.match(nothing.err, /nothing to update/);
  });
});
