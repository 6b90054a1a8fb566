import { readFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import { ConfigSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Plain = Record<string, unknown>;

function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const prev = out[k];
    out[k] = isPlain(prev) && isPlain(v) ? deepMerge(prev, v) : v;
  }
  return out;
}

/** SCREAMING_SNAKE → camelCase ("DATA_DIR" → "dataDir"). */
function camel(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/**
 * PARLANCE_PORT=8080 → { port: "8080" }; PARLANCE_LIMITS__MAX_SESSIONS=10 → { limits: { maxSessions: "10" } }.
 * Values stay strings here; the schema converts them.
 */
export function configFromEnv(env: NodeJS.ProcessEnv, prefix = 'PARLANCE_'): Plain {
  const out: Plain = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(prefix) || value === undefined || name === `${prefix}CONFIG`) continue;
    const path = name.slice(prefix.length).split('__').map(camel);
    let node = out;
    for (const [i, seg] of path.entries()) {
      if (i === path.length - 1) node[seg] = value;
      else {
        const next = node[seg];
        node = isPlain(next) ? next : (node[seg] = {}) as Plain;
      }
    }
  }
  return out;
}

export interface LoadOptions {
  /** Path of a JSON config file (flag --config, else PARLANCE_CONFIG). */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags (highest precedence). */
  flags?: Plain;
}

/** defaults < config file < PARLANCE_* env < flags; validated once, frozen. */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const file = opts.file ?? env['PARLANCE_CONFIG'];
  let fromFile: Plain = {};
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
    }
    if (!isPlain(parsed)) throw new ConfigError(`config file ${file} must contain a JSON object`);
    fromFile = parsed;
  }
  const merged = deepMerge(deepMerge(fromFile, configFromEnv(env)), opts.flags ?? {});
  return buildConfig(merged);
}

/** Validates a partial config (tests use this directly) and fills defaults. */
export function buildConfig(partial: Plain): Config {
  const withDefaults = Value.Default(ConfigSchema, coerce(ConfigSchema, structuredClone(partial)));
  if (!Value.Check(ConfigSchema, withDefaults)) {
    const problems = [...Value.Errors(ConfigSchema, withDefaults)].slice(0, 5).map((e) => `${e.path || '/'}: ${e.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  return deepFreeze(withDefaults);
}

interface SchemaNode {
  type?: unknown;
  properties?: Record<string, unknown>;
}

/**
 * Strings from env and flags become numbers or booleans only when they are exactly that (TypeBox's
 * Value.Convert would turn "80.5" into 80 and "1e3" into 1); anything else stays a string so the
 * schema check names the field.
 */
function coerce(schema: SchemaNode, value: unknown): unknown {
  if (schema.type === 'object' && schema.properties && isPlain(value)) {
    const out: Plain = { ...value };
    for (const [k, sub] of Object.entries(schema.properties)) if (k in out) out[k] = coerce(sub as SchemaNode, out[k]);
    return out;
  }
  if (typeof value !== 'string') return value;
  if (schema.type === 'integer' && /^-?\d{1,15}$/.test(value)) return Number(value);
  if (schema.type === 'number' && /^-?\d{1,15}(\.\d+)?$/.test(value)) return Number(value);
  if (schema.type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  // Lists from env or flags: "flite,espeak-ng".
  if (schema.type === 'array') return value.split(',').map((v) => v.trim()).filter((v) => v !== '');
  // Maps from env or flags: JSON text ('{"en-US-JennyNeural":"en-US-SltFlite"}').
  if (schema.type === 'object' && value.trim().startsWith('{')) {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }
  return value;
}

function deepFreeze<T>(v: T): T {
  if (isPlain(v)) {
    for (const child of Object.values(v)) deepFreeze(child);
    Object.freeze(v);
  }
  return v;
}
