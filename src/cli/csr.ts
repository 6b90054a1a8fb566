import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Option, type Command } from 'commander';
import { UsageError, choice, collect, usageExits } from './admin-client.js';
import {
  CSR_API_VERSIONS,
  DEFAULT_URL,
  FailedResult,
  SpeechApiError,
  actCsr,
  entityId,
  isGuid,
  type CsrClient,
  type CsrFlags,
} from './csr-client.js';

/*
 * `parlance csr …`: Custom Speech through the Speech-to-text REST API v3.2, with the Speech CLI's
 * (`spx csr …`, seed 003) commands and flags: project, dataset, model, endpoint and evaluation,
 * each with create, list, show, update and delete. Ids are GUIDs or `self` URLs, given as the
 * argument or with the entity's own flag (`spx csr endpoint update --endpoint <id> --model <id>`).
 */

const DATASET_KINDS = ['Language', 'Pronunciation', 'Acoustic', 'AudioFiles'] as const;
const LOGGING = ['enabled', 'disabled'] as const;
const DEFAULT_MAX_ITEMS = 1000;
const DEFAULT_WAIT_SECONDS = 600;

type Entity = 'project' | 'dataset' | 'model' | 'endpoint' | 'evaluation';
const a = (entity: Entity): string => (/^[aeiou]/.test(entity) ? `an ${entity}` : `a ${entity}`);
const COLLECTION: Record<Entity, string> = { project: 'projects', dataset: 'datasets', model: 'models', endpoint: 'endpoints', evaluation: 'evaluations' };

interface CommonFlags {
  name?: string;
  description?: string;
  language?: string;
  project?: string;
}
interface WaitFlags {
  wait?: boolean;
  waitTimeout: string;
}
interface ListFlags extends CsrFlags {
  project?: string;
  max: string;
  pageSize?: string;
}
type Flags = CsrFlags & CommonFlags & WaitFlags & Record<string, unknown>;

// --- option helpers -----------------------------------------------------------------------------------

function withCsrOptions(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'server URL', DEFAULT_URL)
    .option('--key <key>', 'resource key (else $PARLANCE_KEY, else $SPEECH_KEY)')
    .addOption(new Option('--api-version <version>', 'Speech-to-text REST API version').choices(CSR_API_VERSIONS).default('v3.2'));
}

function withWait(cmd: Command): Command {
  return cmd
    .option('--wait', 'poll until the status is Succeeded or Failed (Failed exits 1)')
    .option('--wait-timeout <seconds>', 'give up waiting after this long', String(DEFAULT_WAIT_SECONDS));
}

function positiveInt(text: string, option: string): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1) throw new UsageError(`${option} must be a positive integer, got ${text}`);
  return Number(text);
}

/** The entity id: the argument or the entity's own flag (spx style), not two different ones. */
function idOf(entity: Entity, arg: string | undefined, flag: unknown): string {
  const option = `--${entity}`;
  const given = [arg, typeof flag === 'string' ? flag : undefined].filter((v): v is string => v !== undefined && v !== '');
  if (given.length === 0) throw new UsageError(`missing the ${entity} id: give it as the argument or with ${option}`);
  const ids = given.map((g) => entityId(g, COLLECTION[entity], option));
  if (ids.length === 2 && ids[0] !== ids[1]) throw new UsageError(`the argument and ${option} name different ${entity}s`);
  return ids[0] as string;
}

function required(value: string | undefined, option: string): string {
  if (value === undefined || value === '') throw new UsageError(`${option} is required`);
  return value;
}

function logging(value: string | undefined): boolean | undefined {
  return value === undefined ? undefined : value === 'enabled';
}

/** displayName, description, locale and project of a create body, from the common flags. */
function commonBody(c: CsrClient, f: CommonFlags, locale: string | undefined): Record<string, unknown> {
  const body: Record<string, unknown> = { displayName: required(f.name, '--name') };
  if (f.description !== undefined) body['description'] = f.description;
  if (locale !== undefined) body['locale'] = locale;
  if (f.project !== undefined) body['project'] = c.ref(`projects/${entityId(f.project, 'projects', '--project')}`);
  return body;
}

/** displayName, description, project of a PATCH body (only what was given). */
function updateBody(c: CsrClient, f: CommonFlags, withProject: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (f.name !== undefined) body['displayName'] = f.name;
  if (f.description !== undefined) body['description'] = f.description;
  if (withProject && f.project !== undefined) body['project'] = c.ref(`projects/${entityId(f.project, 'projects', '--project')}`);
  return body;
}

function nonEmpty(body: Record<string, unknown>, entity: Entity): Record<string, unknown> {
  if (Object.keys(body).length === 0) throw new UsageError(`nothing to update: give at least one setting (see parlance csr ${entity} update --help)`);
  return body;
}

/** After a create: the created entity, or with --wait the entity once it is Succeeded (Failed prints it and exits 1). */
async function created(c: CsrClient, entity: Entity, result: unknown, f: WaitFlags): Promise<unknown> {
  if (!f.wait) return result;
  const timeoutMs = positiveInt(f.waitTimeout, '--wait-timeout') * 1000;
  const self = (result as { self?: unknown } | undefined)?.self;
  const path = typeof self === 'string' && self !== '' ? c.rebase(self) : undefined;
  if (path === undefined) throw new SpeechApiError(0, 'InvalidResponse', `the created ${entity} has no self URL to poll`);
  const done = await c.waitFor(path, timeoutMs);
  if (done['status'] === 'Failed') {
    const error = (done['properties'] as { error?: { message?: unknown } } | undefined)?.error;
    return new FailedResult(done, `the ${entity} ${String(done['self'] ?? '')} failed${typeof error?.message === 'string' ? `: ${error.message}` : ''}`);
  }
  return done;
}

// --- models: base or custom ------------------------------------------------------------------------------

interface ModelRef {
  kind: 'base' | 'custom';
  id: string;
}

/**
 * A model reference: `base:<id>`, a base or custom model URL, or a bare id, which is a base model
 * when GET /models/base/{id} finds one and a custom model otherwise.
 */
async function modelRef(c: CsrClient, ref: string, option: string): Promise<ModelRef> {
  const trimmed = ref.trim();
  const prefixed = /^base:(.*)$/i.exec(trimmed);
  if (prefixed) return { kind: 'base', id: entityId(prefixed[1] ?? '', 'models/base', option) };
  if (/\/models\/base\//i.test(trimmed)) return { kind: 'base', id: entityId(trimmed, 'models/base', option) };
  const id = entityId(trimmed, 'models', option);
  if (!isGuid(trimmed)) return { kind: 'custom', id };
  return (await isBaseModel(c, id)) ? { kind: 'base', id } : { kind: 'custom', id };
}

async function isBaseModel(c: CsrClient, id: string): Promise<boolean> {
  try {
    await c.get(`models/base/${id}`);
    return true;
  } catch (e) {
    if (e instanceof SpeechApiError && e.status === 404) return false;
    throw e;
  }
}

const modelPath = (m: ModelRef): string => (m.kind === 'base' ? `models/base/${m.id}` : `models/${m.id}`);

async function localeOf(c: CsrClient, path: string): Promise<string | undefined> {
  const locale = ((await c.get(path)) as { locale?: unknown } | undefined)?.locale;
  return typeof locale === 'string' ? locale : undefined;
}

/** --base-model, or else the base model of --language. */
async function baseModelFor(c: CsrClient, f: { baseModel?: string; language?: string }): Promise<ModelRef> {
  if (f.baseModel !== undefined) {
    const ref = await modelRef(c, f.baseModel, '--base-model');
    if (ref.kind !== 'base') throw new UsageError(`--base-model must name a base model (see parlance csr model list --base), got ${f.baseModel}`);
    return ref;
  }
  const language = required(f.language, '--base-model or --language');
  const bases = await c.list('models/base', 10_000);
  const match = bases.values.find((b) => typeof b === 'object' && b !== null && String((b as { locale?: unknown }).locale).toLowerCase() === language.toLowerCase()) as
    | { self?: unknown }
    | undefined;
  if (typeof match?.self !== 'string') throw new SpeechApiError(0, 'InvalidLocale', `no base model for ${language} (see parlance csr model list --base)`);
  return { kind: 'base', id: entityId(match.self, 'models/base', '--base-model') };
}

// --- per-entity commands ------------------------------------------------------------------------------

function listCommand(group: Command, entity: Entity, extra?: (cmd: Command) => Command, path?: (c: CsrClient, f: ListFlags & Record<string, unknown>) => string | undefined): void {
  let cmd = withCsrOptions(group.command('list').description(`list ${COLLECTION[entity]} (following @nextLink)`))
    .option('--max <n>', 'stop after this many', String(DEFAULT_MAX_ITEMS))
    .option('--page-size <n>', 'values per request (the API\'s top; default and maximum 100)');
  if (entity !== 'project') cmd = cmd.option('--project <id>', `only the ${COLLECTION[entity]} of this project`);
  if (extra) cmd = extra(cmd);
  cmd.action(async (f: ListFlags & Record<string, unknown>) =>
    actCsr(f, async (c) => {
      const max = positiveInt(f.max, '--max');
      const top = f.pageSize !== undefined ? `?top=${positiveInt(f.pageSize, '--page-size')}` : '';
      const p = path?.(c, f);
      if (p !== undefined) return c.list(`${p}${top}`, max);
      if (entity !== 'project' && f.project !== undefined) return c.list(`projects/${entityId(f.project, 'projects', '--project')}/${COLLECTION[entity]}${top}`, max);
      return c.list(`${COLLECTION[entity]}${top}`, max);
    }),
  );
}

function showCommand(group: Command, entity: Entity, show?: (c: CsrClient, ref: string) => Promise<unknown>): void {
  withCsrOptions(group.command('show').description(`show ${a(entity)}`).argument('[id]', `${entity} id or URL`))
    .option(`--${entity} <id>`, `${entity} id or URL (instead of the argument)`)
    .action(async (arg: string | undefined, f: Flags) =>
      actCsr(f, async (c) => {
        if (show) {
          const ref = arg ?? (typeof f[entity] === 'string' ? (f[entity] as string) : undefined);
          return show(c, required(ref, `the ${entity} id (argument or --${entity})`));
        }
        return c.get(`${COLLECTION[entity]}/${idOf(entity, arg, f[entity])}`);
      }),
    );
}

function deleteCommand(group: Command, entity: Entity): void {
  withCsrOptions(group.command('delete').description(`delete ${a(entity)}`).argument('[id]', `${entity} id or URL`))
    .option(`--${entity} <id>`, `${entity} id or URL (instead of the argument)`)
    .action(async (arg: string | undefined, f: Flags) => actCsr(f, (c) => c.delete(`${COLLECTION[entity]}/${idOf(entity, arg, f[entity])}`)));
}

function updateCommand(group: Command, entity: Entity, build: (c: CsrClient, f: Flags) => Promise<Record<string, unknown>> | Record<string, unknown>, extra?: (cmd: Command) => Command): void {
  let cmd = withCsrOptions(group.command('update').description(`change the given settings of ${a(entity)} (PATCH)`).argument('[id]', `${entity} id or URL`))
    .option(`--${entity} <id>`, `${entity} id or URL (instead of the argument)`)
    .option('--name <name>', 'display name')
    .option('--description <text>', 'description');
  if (entity !== 'project') cmd = cmd.option('--project <id>', 'move to this project');
  if (extra) cmd = extra(cmd);
  cmd.action(async (arg: string | undefined, f: Flags) =>
    actCsr(f, async (c) => {
      const id = idOf(entity, arg, f[entity]);
      return c.patch(`${COLLECTION[entity]}/${id}`, nonEmpty(await build(c, f), entity));
    }),
  );
}

function registerProject(csr: Command): void {
  const g = csr.command('project').description('Custom Speech projects');
  withCsrOptions(g.command('create').description('create a project'))
    .requiredOption('--name <name>', 'display name')
    .option('--description <text>', 'description')
    .requiredOption('--language <locale>', 'locale, e.g. en-US')
    .action(async (f: Flags) => actCsr(f, (c) => c.post('projects', commonBody(c, { ...f, project: undefined }, f.language))));
  listCommand(g, 'project');
  showCommand(g, 'project');
  updateCommand(g, 'project', (c, f) => updateBody(c, f, false));
  deleteCommand(g, 'project');
}

interface DatasetCreateFlags extends CsrFlags, CommonFlags, WaitFlags {
  kind: string;
  content?: string;
  file?: string;
  data?: string;
}

function registerDataset(csr: Command): void {
  const g = csr.command('dataset').description('datasets for training and testing (Language, Pronunciation, Acoustic, AudioFiles)');
  const settings = (cmd: Command): Command =>
    withWait(
      withCsrOptions(cmd)
        .addOption(choice('--kind <kind>', 'dataset kind', DATASET_KINDS).makeOptionMandatory())
        .requiredOption('--name <name>', 'display name')
        .option('--description <text>', 'description')
        .requiredOption('--language <locale>', 'locale, e.g. en-US')
        .option('--project <id>', 'project id or URL'),
    );

  settings(g.command('create').description('create a dataset from a URL the server fetches'))
    .requiredOption('--content <url>', 'URL of the content (text file, or zip for Acoustic/AudioFiles)')
    .action(async (f: DatasetCreateFlags) =>
      actCsr(f, async (c) => {
        const body = { ...commonBody(c, f, f.language), kind: f.kind, contentUrl: f.content };
        return created(c, 'dataset', await c.post('datasets', body), f);
      }),
    );

  settings(g.command('upload').description('upload a local file as a dataset (multipart POST /datasets/upload)'))
    .option('--file <path>', 'the file to upload')
    .option('--data <path>', 'the file to upload (spx spelling of --file)')
    .action(async (f: DatasetCreateFlags) =>
      actCsr(f, async (c) => {
        if (f.file !== undefined && f.data !== undefined && f.file !== f.data) throw new UsageError('give --file or --data, not both');
        const file = required(f.file ?? f.data, '--file');
        const form = new FormData();
        const fields = commonBody(c, f, f.language);
        form.set('displayName', String(fields['displayName']));
        form.set('locale', f.language ?? '');
        form.set('kind', f.kind);
        if (f.description !== undefined) form.set('description', f.description);
        if (fields['project'] !== undefined) form.set('project', (fields['project'] as { self: string }).self);
        let content: Buffer;
        try {
          content = await readFile(file);
        } catch (err) {
          throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
        }
        form.set('data', new Blob([content], { type: contentType(file) }), basename(file));
        return created(c, 'dataset', await c.post('datasets/upload', form), f);
      }),
    );

  listCommand(g, 'dataset');
  showCommand(g, 'dataset');
  updateCommand(g, 'dataset', (c, f) => updateBody(c, f, true));
  deleteCommand(g, 'dataset');

  withCsrOptions(g.command('files').description("list a dataset's files (with download links)").argument('[id]', 'dataset id or URL'))
    .option('--dataset <id>', 'dataset id or URL (instead of the argument)')
    .option('--max <n>', 'stop after this many', String(DEFAULT_MAX_ITEMS))
    .action(async (arg: string | undefined, f: Flags & { max: string }) =>
      actCsr(f, (c) => c.list(`datasets/${idOf('dataset', arg, f['dataset'])}/files`, positiveInt(f.max, '--max'))),
    );
}

function contentType(file: string): string {
  const ext = /\.([^./\\]+)$/.exec(file)?.[1]?.toLowerCase();
  if (ext === 'zip') return 'application/zip';
  if (ext === 'txt') return 'text/plain';
  if (ext === 'wav') return 'audio/wav';
  return 'application/octet-stream';
}

interface ModelCreateFlags extends CsrFlags, CommonFlags, WaitFlags {
  baseModel?: string;
  dataset?: string[];
  textFile?: string;
  text?: string;
}

function registerModel(csr: Command): void {
  const g = csr.command('model').description('custom models (and the base models they adapt)');
  withWait(
    withCsrOptions(g.command('create').description('train a custom model from Language datasets and/or text'))
      .requiredOption('--name <name>', 'display name')
      .option('--description <text>', 'description')
      .option('--language <locale>', "locale (default: the base model's)")
      .option('--project <id>', 'project id or URL')
      .option('--base-model <id>', 'base model id or URL (default: the base model of --language)')
      .option('--dataset <id>', 'Language dataset id or URL (repeatable)', collect)
      .option('--text-file <path>', 'plain text to adapt to, one sentence a line')
      .option('--text <text>', 'plain text to adapt to (instead of --text-file)'),
  ).action(async (f: ModelCreateFlags) =>
    actCsr(f, async (c) => {
      if (f.textFile !== undefined && f.text !== undefined) throw new UsageError('give --text-file or --text, not both');
      const datasets = (f.dataset ?? []).map((d) => c.ref(`datasets/${entityId(d, 'datasets', '--dataset')}`));
      let text = f.text;
      if (f.textFile !== undefined) {
        try {
          text = await readFile(f.textFile, 'utf8');
        } catch (err) {
          throw new UsageError(`cannot read ${f.textFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
        }
      }
      if (datasets.length === 0 && text === undefined) throw new UsageError('a custom model needs --dataset and/or --text-file');
      const base = await baseModelFor(c, f);
      const locale = f.language ?? (await localeOf(c, modelPath(base)));
      const body = { ...commonBody(c, f, locale), baseModel: c.ref(modelPath(base)), ...(datasets.length > 0 ? { datasets } : {}), ...(text !== undefined ? { text } : {}) };
      return created(c, 'model', await c.post('models', body), f);
    }),
  );

  listCommand(
    g,
    'model',
    (cmd) => cmd.option('--base', 'the base models instead of the custom ones'),
    (_c, f) => {
      if (f['base'] !== true) return undefined;
      if (f.project !== undefined) throw new UsageError('give --base or --project, not both');
      return 'models/base';
    },
  );
  showCommand(g, 'model', async (c, ref) => {
    const m = await modelRef(c, ref, '--model');
    return c.get(modelPath(m));
  });
  updateCommand(g, 'model', (c, f) => updateBody(c, f, true));
  deleteCommand(g, 'model');
}

interface EndpointCreateFlags extends CsrFlags, CommonFlags, WaitFlags {
  model: string;
  logging?: string;
}

function registerEndpoint(csr: Command): void {
  const g = csr.command('endpoint').description('endpoints: a model deployed for recognition with ?cid=');
  withWait(
    withCsrOptions(g.command('create').description('deploy a model to a new endpoint'))
      .requiredOption('--model <id>', 'model id or URL (base:<id> for a base model; a bare id is looked up among the base models first)')
      .requiredOption('--name <name>', 'display name')
      .option('--description <text>', 'description')
      .option('--language <locale>', "locale (default: the model's)")
      .option('--project <id>', 'project id or URL')
      .addOption(choice('--logging <state>', 'content logging of the endpoint traffic', LOGGING, 'disabled')),
  ).action(async (f: EndpointCreateFlags) =>
    actCsr(f, async (c) => {
      const model = await modelRef(c, f.model, '--model');
      const locale = f.language ?? (await localeOf(c, modelPath(model)));
      const body = { ...commonBody(c, f, locale), model: c.ref(modelPath(model)), properties: { loggingEnabled: logging(f.logging) ?? false } };
      return created(c, 'endpoint', await c.post('endpoints', body), f);
    }),
  );

  const logsPath = (arg: string | undefined, flag: unknown): string => `endpoints/${idOf('endpoint', arg, flag)}/files/logs`;
  listCommand(
    g,
    'endpoint',
    (cmd) => cmd.option('--endpoint <id>', "list this endpoint's content logs instead (as spx csr endpoint list --endpoint)"),
    (_c, f) => {
      if (f['endpoint'] === undefined) return undefined;
      if (f.project !== undefined) throw new UsageError('give --endpoint or --project, not both');
      return logsPath(undefined, f['endpoint']);
    },
  );
  showCommand(g, 'endpoint');
  updateCommand(
    g,
    'endpoint',
    async (c, f) => {
      const body = updateBody(c, f, true);
      if (typeof f['model'] === 'string') body['model'] = c.ref(modelPath(await modelRef(c, f['model'], '--model')));
      const l = logging(f['logging'] as string | undefined);
      if (l !== undefined) body['properties'] = { loggingEnabled: l };
      return body;
    },
    (cmd) => cmd.option('--model <id>', 'deploy this model instead (id or URL; base:<id> for a base model)').addOption(choice('--logging <state>', 'content logging', LOGGING)),
  );
  deleteCommand(g, 'endpoint');

  withCsrOptions(g.command('logs').description("list an endpoint's content logs (audio and transcriptions, with download links)").argument('[id]', 'endpoint id or URL'))
    .option('--endpoint <id>', 'endpoint id or URL (instead of the argument)')
    .option('--max <n>', 'stop after this many', String(DEFAULT_MAX_ITEMS))
    .action(async (arg: string | undefined, f: Flags & { max: string }) => actCsr(f, (c) => c.list(logsPath(arg, f['endpoint']), positiveInt(f.max, '--max'))));
}

interface EvaluationCreateFlags extends CsrFlags, CommonFlags, WaitFlags {
  model1: string;
  model2: string;
  dataset: string;
}

function registerEvaluation(csr: Command): void {
  const g = csr.command('evaluation').description('evaluations: two models compared on an Acoustic dataset');
  withWait(
    withCsrOptions(g.command('create').description('evaluate two models on a dataset'))
      .requiredOption('--model1 <id>', 'first model id or URL (base:<id> for a base model)')
      .requiredOption('--model2 <id>', 'second model id or URL (base:<id> for a base model)')
      .requiredOption('--dataset <id>', 'Acoustic dataset id or URL')
      .requiredOption('--name <name>', 'display name')
      .option('--description <text>', 'description')
      .option('--language <locale>', "locale (default: the dataset's)")
      .option('--project <id>', 'project id or URL'),
  ).action(async (f: EvaluationCreateFlags) =>
    actCsr(f, async (c) => {
      const dataset = `datasets/${entityId(f.dataset, 'datasets', '--dataset')}`;
      const model1 = await modelRef(c, f.model1, '--model1');
      const model2 = await modelRef(c, f.model2, '--model2');
      const locale = f.language ?? (await localeOf(c, dataset));
      const body = { ...commonBody(c, f, locale), model1: c.ref(modelPath(model1)), model2: c.ref(modelPath(model2)), dataset: c.ref(dataset) };
      return created(c, 'evaluation', await c.post('evaluations', body), f);
    }),
  );
  listCommand(g, 'evaluation');
  showCommand(g, 'evaluation');
  updateCommand(g, 'evaluation', (c, f) => updateBody(c, f, true));
  deleteCommand(g, 'evaluation');
}

/** `parlance csr …`: Custom Speech (Speech-to-text REST API v3.2) as the Speech CLI's `spx csr …`. */
export function registerCsrCommands(program: Command): void {
  const csr = usageExits(program.command('csr').description('Custom Speech: projects, datasets, models, endpoints, evaluations (Speech-to-text REST API v3.2)'));
  registerProject(csr);
  registerDataset(csr);
  registerModel(csr);
  registerEndpoint(csr);
  registerEvaluation(csr);
}
