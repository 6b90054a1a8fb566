import { AssertionError } from 'node:assert';
import { readFileSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import AjvModule from 'ajv';
import type { AnySchemaObject, ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { REPO_ROOT } from './paths.js';

// Validates JSON response bodies against the vendored Swagger 2.0 specs in ../shared/specs.
//
// Each Swagger file is turned into a JSON Schema document `{ $id, definitions }` and registered with
// its own Ajv instance (one per SpecName). Every `$ref` is rewritten to an absolute one:
// `#/definitions/X` becomes `<this file's $id>#/definitions/X`, and a relative file reference
// such as `../../../../../common-types/resource-management/v2/types.json#/definitions/ErrorResponse`
// is resolved against the file's upstream path in Azure/azure-rest-api-specs and becomes
// `<that file's $id>#/definitions/ErrorResponse`. Common-types files are read from
// test/fixtures/specs/common-types/ (see the README there).

// ajv and ajv-formats are CommonJS; under NodeNext the default import is `module.exports`.
const Ajv = AjvModule.default;
const addFormats = addFormatsModule.default;
type AjvInstance = InstanceType<typeof Ajv>;

export type SpecName = 'arm-2024-10-01' | 'stt-v3.2' | 'stt-2024-11-15';

const SPECS_DIR = resolve(REPO_ROOT, '../shared/specs');
const FIXTURES_DIR = resolve(REPO_ROOT, 'test/fixtures/specs');

/** Where each spec sits on disk, and where it sits in Azure/azure-rest-api-specs (for relative $refs). */
const SPECS: Record<SpecName, { file: string; upstream: string }> = {
  'arm-2024-10-01': {
    file: 'cognitiveservices-arm-2024-10-01.json',
    upstream:
      'specification/cognitiveservices/resource-manager/Microsoft.CognitiveServices/stable/2024-10-01/cognitiveservices.json',
  },
  'stt-v3.2': {
    file: 'speechtotext-v3.2.json',
    upstream: 'specification/cognitiveservices/data-plane/Speech/SpeechToText/stable/v3.2/speechtotext.json',
  },
  'stt-2024-11-15': {
    file: 'speechtotext-2024-11-15.json',
    upstream: 'specification/cognitiveservices/data-plane/Speech/SpeechToText/stable/2024-11-15/speechtotext.json',
  },
};

const ID_BASE = 'https://azure-rest-api-specs.invalid/';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface SwaggerResponse {
  description?: string;
  schema?: JsonObject;
  $ref?: string;
}
interface SwaggerOperation {
  operationId?: string;
  responses?: Record<string, SwaggerResponse>;
}
interface SwaggerDoc {
  swagger?: string;
  paths?: Record<string, Record<string, SwaggerOperation | unknown>>;
  definitions?: Record<string, JsonObject>;
  responses?: Record<string, SwaggerResponse>;
}

interface FoundOperation {
  method: string;
  path: string;
  op: SwaggerOperation;
}

interface Loaded {
  readonly ajv: AjvInstance;
  readonly doc: SwaggerDoc;
  readonly id: string;
  readonly upstream: string;
  readonly operations: Map<string, FoundOperation>;
  readonly validators: Map<string, ValidateFunction | 'no-body'>;
  /** Compiled response schemas by their converted JSON text: most responses are the same `$ref`. */
  readonly bySchema: Map<string, ValidateFunction>;
}

const loaded = new Map<SpecName, Loaded>();

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function idOf(upstream: string): string {
  return ID_BASE + upstream;
}

/** The file on disk holding an upstream path: one of the three specs, or a vendored common-types file. */
function diskPathOf(upstream: string): string {
  for (const s of Object.values(SPECS)) if (s.upstream === upstream) return resolve(SPECS_DIR, s.file);
  const prefix = 'specification/common-types/';
  if (upstream.startsWith(prefix)) return resolve(FIXTURES_DIR, 'common-types', upstream.slice(prefix.length));
  throw new Error(`openapi helper: no local copy of ${upstream} (add it under test/fixtures/specs/)`);
}

function readJson(file: string): SwaggerDoc {
  return JSON.parse(readFileSync(file, 'utf8')) as SwaggerDoc;
}

/** Rewrites one $ref to an absolute id; records external files in `pending`. */
function rewriteRef(ref: string, docUpstream: string, pending: Set<string>): string {
  const hash = ref.indexOf('#');
  const filePart = hash < 0 ? ref : ref.slice(0, hash);
  const fragment = hash < 0 ? '' : ref.slice(hash);
  if (filePart === '') return idOf(docUpstream) + fragment;
  if (/^[a-z][a-z0-9+.-]*:/i.test(filePart)) {
    throw new Error(`openapi helper: absolute $ref ${ref} in ${docUpstream} is not supported`);
  }
  const target = posix.normalize(posix.join(posix.dirname(docUpstream), filePart));
  pending.add(target);
  return idOf(target) + fragment;
}

/**
 * Swagger 2.0 schema -> JSON Schema (draft-07) that Ajv accepts. Walks schema positions only, so
 * property names, enum values and defaults are never touched.
 */
function convertSchema(node: Json, docUpstream: string, pending: Set<string>, formats: Set<string>): Json {
  if (!isObject(node)) return node; // `true`/`false` schemas (additionalProperties: false)
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    switch (key) {
      case '$ref':
        out[key] = typeof value === 'string' ? rewriteRef(value, docUpstream, pending) : value;
        break;
      case 'properties':
      case 'definitions':
      case 'patternProperties':
        if (isObject(value)) {
          const map: JsonObject = {};
          for (const [name, sub] of Object.entries(value)) map[name] = convertSchema(sub, docUpstream, pending, formats);
          out[key] = map;
        } else out[key] = value;
        break;
      case 'items':
        out[key] = Array.isArray(value)
          ? value.map((s) => convertSchema(s, docUpstream, pending, formats))
          : convertSchema(value, docUpstream, pending, formats);
        break;
      case 'additionalProperties':
      case 'not':
        out[key] = convertSchema(value, docUpstream, pending, formats);
        break;
      case 'allOf':
      case 'anyOf':
      case 'oneOf':
        out[key] = Array.isArray(value) ? value.map((s) => convertSchema(s, docUpstream, pending, formats)) : value;
        break;
      case 'type':
        // Swagger's `file` (binary response) has no JSON Schema equivalent: accept anything.
        if (value !== 'file') out[key] = value;
        break;
      case 'format':
        if (typeof value === 'string') formats.add(value);
        out[key] = value;
        break;
      case 'discriminator': // Swagger: a property name; Ajv's keyword means something else
      case 'x-nullable':
      case 'example':
      case 'x-ms-examples':
        break;
      default:
        out[key] = value; // x-ms-*, readOnly, description, enum, pattern, ... (unknown keys ignored: strict false)
    }
  }
  // draft-04 boolean exclusiveMinimum/Maximum -> draft-07 numbers
  for (const [flag, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (typeof out[flag] === 'boolean') {
      if (out[flag] === true && typeof out[bound] === 'number') {
        out[flag] = out[bound];
        delete out[bound];
      } else delete out[flag];
    }
  }
  if (node['x-nullable'] === true) return { anyOf: [{ type: 'null' }, out] };
  return out;
}

function createAjv(): AjvInstance {
  const ajv = new Ajv({ strict: false, allErrors: true, verbose: true, validateFormats: true });
  addFormats(ajv); // full mode: date-time, uri, uuid, duration, byte, int32, int64, float, double, ...
  // Azure/.NET durations may carry fractional seconds ("PT1.5S"), which ajv-formats' pattern rejects.
  ajv.addFormat('duration', /^-?P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/);
  ajv.addFormat('arm-id', /^\/(subscriptions|providers)\/[^/]+/i);
  ajv.addFormat('unixtime', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('date-time-rfc1123', { type: 'string', validate: (s: string) => !Number.isNaN(Date.parse(s)) });
  ajv.addFormat('base64url', /^[A-Za-z0-9_-]*={0,2}$/);
  return ajv;
}

function load(spec: SpecName): Loaded {
  const cached = loaded.get(spec);
  if (cached) return cached;
  const def = SPECS[spec];
  if (!def) throw new Error(`openapi helper: unknown spec ${String(spec)}`);
  const ajv = createAjv();
  const formats = new Set<string>();
  const pending = new Set<string>([def.upstream]);
  const done = new Set<string>();
  const schemas: AnySchemaObject[] = [];
  let mainDoc: SwaggerDoc | undefined;
  while (pending.size > 0) {
    const upstream = pending.values().next().value as string;
    pending.delete(upstream);
    if (done.has(upstream)) continue;
    done.add(upstream);
    const doc = readJson(diskPathOf(upstream));
    if (upstream === def.upstream) {
      mainDoc = doc;
      // Collect the external files response schemas point at (they are converted again at compile time).
      for (const op of operationsOf(doc).values()) {
        for (const r of Object.values(op.op.responses ?? {})) {
          if (r.schema) convertSchema(r.schema, upstream, pending, formats);
        }
      }
    }
    const definitions = convertSchema(
      { definitions: (doc.definitions ?? {}) as JsonObject },
      upstream,
      pending,
      formats,
    ) as JsonObject;
    schemas.push({ $id: idOf(upstream), ...definitions });
  }
  for (const f of formats) if (!ajv.formats[f]) ajv.addFormat(f, true); // unknown format: accept any value
  for (const s of schemas) ajv.addSchema(s);
  if (!mainDoc) throw new Error(`openapi helper: ${spec} did not load`);
  const result: Loaded = {
    ajv,
    doc: mainDoc,
    id: idOf(def.upstream),
    upstream: def.upstream,
    operations: operationsOf(mainDoc),
    validators: new Map(),
    bySchema: new Map(),
  };
  loaded.set(spec, result);
  return result;
}

function operationsOf(doc: SwaggerDoc): Map<string, FoundOperation> {
  const ops = new Map<string, FoundOperation>();
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const op = item[method] as SwaggerOperation | undefined;
      if (op?.operationId) ops.set(op.operationId, { method: method.toUpperCase(), path, op });
    }
  }
  return ops;
}

/** Lists the operationIds of a spec (sorted), e.g. to find the right name. */
export function operationIds(spec: SpecName): string[] {
  return [...load(spec).operations.keys()].sort();
}

function formatValue(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** `https://azure-rest-api-specs.invalid/specification/.../types.json#/definitions/X` -> `types.json#/definitions/X` */
function shortSchemaPath(schemaPath: string): string {
  if (!schemaPath.startsWith(ID_BASE)) return schemaPath;
  const hash = schemaPath.indexOf('#');
  return hash < 0 ? posix.basename(schemaPath) : posix.basename(schemaPath.slice(0, hash)) + schemaPath.slice(hash);
}

function formatErrors(errors: readonly ErrorObject[] | null | undefined): string[] {
  const out: string[] = [];
  for (const e of errors ?? []) {
    const where = e.instancePath === '' ? '(body)' : e.instancePath;
    let msg = `${where} ${e.message ?? e.keyword}`;
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'enum') msg += ` ${formatValue(params.allowedValues)}`;
    if (e.keyword === 'additionalProperties') msg += ` (${String(params.additionalProperty)})`;
    if (e.keyword !== 'required' && e.keyword !== 'additionalProperties' && e.keyword !== 'anyOf') {
      msg += `, got ${formatValue(e.data)}`;
    }
    msg += ` [${shortSchemaPath(e.schemaPath)}]`;
    if (!out.includes(msg)) out.push(msg);
  }
  return out;
}

function isEmptyBody(body: unknown): boolean {
  if (body === undefined || body === null || body === '') return true;
  if (body instanceof Uint8Array) return body.length === 0;
  return false;
}

/** The validator for an operation's response, or 'no-body' when the response declares no schema. */
function responseValidator(spec: SpecName, operationId: string, status: number): ValidateFunction | 'no-body' {
  const l = load(spec);
  const key = `${operationId} ${status}`;
  const hit = l.validators.get(key);
  if (hit) return hit;
  const found = l.operations.get(operationId);
  if (!found) {
    throw new Error(`openapi helper: ${spec} has no operation ${operationId} (see operationIds('${spec}'))`);
  }
  const responses = found.op.responses ?? {};
  const statusKey = String(status) in responses ? String(status) : 'default' in responses ? 'default' : undefined;
  if (statusKey === undefined) {
    throw new Error(
      `openapi helper: ${spec} ${operationId} (${found.method} ${found.path}) declares no response for ${status} ` +
        `and no default (declared: ${Object.keys(responses).join(', ')})`,
    );
  }
  let response = responses[statusKey] as SwaggerResponse;
  if (typeof response.$ref === 'string') {
    const name = /^#\/responses\/(.+)$/.exec(response.$ref)?.[1];
    const target = name === undefined ? undefined : l.doc.responses?.[decodeURIComponent(name)];
    if (!target) throw new Error(`openapi helper: cannot resolve response ${response.$ref} in ${spec}`);
    response = target;
  }
  let v: ValidateFunction | 'no-body';
  if (!response.schema) {
    v = 'no-body';
  } else {
    const pending = new Set<string>();
    const schema = convertSchema(response.schema, l.upstream, pending, new Set()) as AnySchemaObject;
    const text = JSON.stringify(schema);
    v = l.bySchema.get(text) ?? l.ajv.compile(schema);
    l.bySchema.set(text, v);
  }
  l.validators.set(key, v);
  return v;
}

/**
 * Validates a response body against the schema `spec` declares for `operationId` and `status`
 * (falling back to `default`). Returns human-readable errors, [] when valid. Pass the parsed JSON.
 * For a response without a schema (e.g. 204) the body must be empty: undefined, null, '' or 0 bytes.
 * Throws when the operation does not exist or declares neither `status` nor `default`.
 */
export function responseErrors(spec: SpecName, operationId: string, status: number, body: unknown): string[] {
  const v = responseValidator(spec, operationId, status);
  if (v === 'no-body') {
    return isEmptyBody(body) ? [] : [`(body) must be empty: the ${status} response declares no schema, got ${formatValue(body)}`];
  }
  return v(body) ? [] : formatErrors(v.errors);
}

/** Validates a value against `#/definitions/<definitionName>` of the spec. Throws if there is no such definition. */
export function schemaErrors(spec: SpecName, definitionName: string, value: unknown): string[] {
  const l = load(spec);
  const key = `#/definitions/${definitionName}`;
  let v = l.validators.get(key);
  if (!v) {
    if (!l.doc.definitions || !Object.hasOwn(l.doc.definitions, definitionName)) {
      throw new Error(`openapi helper: ${spec} has no definition ${definitionName}`);
    }
    const pointer = definitionName.replace(/~/g, '~0').replace(/\//g, '~1');
    v = l.ajv.compile({ $ref: `${l.id}#/definitions/${encodeURIComponent(pointer)}` });
    l.validators.set(key, v);
  }
  if (v === 'no-body') throw new Error('unreachable');
  return v(value) ? [] : formatErrors(v.errors);
}

function describeBody(body: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(body, null, 2) ?? String(body);
  } catch {
    s = String(body);
  }
  return s.length > 4000 ? `${s.slice(0, 4000)}\n... (${s.length} characters)` : s;
}

/** Like responseErrors, but throws an AssertionError listing the errors and the body. */
export function assertValidResponse(spec: SpecName, operationId: string, status: number, body: unknown): void {
  const errors = responseErrors(spec, operationId, status, body);
  if (errors.length === 0) return;
  throw new AssertionError({
    message:
      `${spec} ${operationId} ${status}: response body does not match the spec:\n` +
      errors.map((e) => `  - ${e}`).join('\n') +
      `\nbody: ${describeBody(body)}`,
    actual: errors,
    expected: [],
    operator: 'assertValidResponse',
  });
}
