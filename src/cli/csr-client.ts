import { requestJson } from './http-json.js';
import { DEFAULT_URL, UsageError, failureExit, type Output } from './admin-client.js';

/*
 * The HTTP side of `parlance csr …`: a client of the Speech-to-text REST API v3.2 (or v3.1, same
 * shapes) under /speechtotext/{version}/ on a data-plane host, authenticated with a resource key.
 * Results are printed as indented JSON on stdout; an API error is `parlance: <code>: <message>` on
 * stderr with exit code 1; a usage error exits 2 (as for the control-plane commands).
 */

export const CSR_API_VERSIONS = ['v3.2', 'v3.1'] as const;
export type CsrApiVersion = (typeof CSR_API_VERSIONS)[number];

/** Options every `csr` leaf command takes. */
export interface CsrFlags {
  url: string;
  key?: string;
  apiVersion: CsrApiVersion;
}

/** An error answered by the API: v3.2's top-level `{code, message, innerError}` or the gateway's `{error: {code, message}}`. */
export class SpeechApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly innerCode?: string,
  ) {
    super(message);
  }
}

const GUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const GUID_RE = new RegExp(`^${GUID}$`);

export function isGuid(s: string): boolean {
  return GUID_RE.test(s);
}

/**
 * An entity id from what the user typed: a GUID, or a URL such as an entity's `self`
 * (`…/speechtotext/v3.2/{collection}/{id}`). `collection` may contain a slash (`models/base`).
 */
export function entityId(ref: string, collection: string, option: string): string {
  const trimmed = ref.trim();
  if (isGuid(trimmed)) return trimmed.toLowerCase();
  let path: string | undefined;
  try {
    path = new URL(trimmed).pathname;
  } catch {
    path = undefined;
  }
  if (path !== undefined) {
    const m = new RegExp(`/${collection}/(${GUID})/?$`).exec(path);
    if (m?.[1]) return m[1].toLowerCase();
  }
  throw new UsageError(`${option} must be an id (GUID) or a ${collection} URL (…/speechtotext/v3.2/${collection}/<id>), got ${ref}`);
}

export function resolveKey(flags: Pick<CsrFlags, 'key'>, env: NodeJS.ProcessEnv = process.env): string {
  for (const k of [flags.key, env['PARLANCE_KEY'], env['SPEECH_KEY']]) if (k !== undefined && k !== '') return k;
  throw new UsageError('no key: pass --key, or set PARLANCE_KEY or SPEECH_KEY');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface ListResult {
  values: unknown[];
  /** Present when the bound stopped the walk before the last page. */
  '@nextLink'?: string;
}

export class CsrClient {
  /** `{origin}{path}` of --url, without a trailing slash. */
  readonly base: string;
  /** `{base}/speechtotext/{version}`: what entity URLs (and `self` references in bodies) start with. */
  readonly prefix: string;

  constructor(
    base: string,
    private readonly key: string,
    readonly apiVersion: CsrApiVersion,
  ) {
    this.base = base.replace(/\/+$/, '');
    this.prefix = `${this.base}/speechtotext/${apiVersion}`;
  }

  static from(flags: CsrFlags, env: NodeJS.ProcessEnv = process.env): CsrClient {
    let url: URL;
    try {
      url = new URL(flags.url);
    } catch {
      throw new UsageError(`--url must be an http(s) URL, got ${flags.url}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url must be an http(s) URL, got ${flags.url}`);
    if (!(CSR_API_VERSIONS as readonly string[]).includes(flags.apiVersion)) throw new UsageError(`--api-version must be v3.2 or v3.1, got ${flags.apiVersion}`);
    return new CsrClient(`${url.origin}${url.pathname}`, resolveKey(flags, env), flags.apiVersion);
  }

  /** The absolute URL of an API path (`projects/{id}`), as used in `{self}` references. */
  url(path: string): string {
    return `${this.prefix}/${path.replace(/^\/+/, '')}`;
  }

  ref(path: string): { self: string } {
    return { self: this.url(path) };
  }

  /**
   * A URL the server produced (`@nextLink`, `self`) moved onto --url: the server builds them from
   * the Host it was asked under, which a proxy or a name in the certificate may have changed.
   */
  rebase(absolute: string): string {
    let u: URL;
    try {
      u = new URL(absolute);
    } catch {
      return this.url(absolute);
    }
    const i = u.pathname.indexOf('/speechtotext/');
    return i < 0 ? absolute : `${this.base}${u.pathname.slice(i)}${u.search}`;
  }

  /** One call: the parsed body (undefined when empty), or a SpeechApiError. `target` is an API path or an absolute URL. */
  async call(method: string, target: string, body?: unknown): Promise<unknown> {
    const url = /^https?:\/\//i.test(target) ? target : this.url(target);
    const headers: Record<string, string> = { 'Ocp-Apim-Subscription-Key': this.key, accept: 'application/json' };
    let payload: string | FormData | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const answer = await requestJson(url, { method, headers, ...(payload !== undefined ? { body: payload } : {}) }, this.base, (st, code, message) => new SpeechApiError(st, code, message));
    if (!answer.ok) throw errorOf(answer.status, answer.statusText, answer.text, answer.parsed);
    return answer.parsed;
  }

  get(target: string): Promise<unknown> {
    return this.call('GET', target);
  }
  post(target: string, body?: unknown): Promise<unknown> {
    return this.call('POST', target, body);
  }
  patch(target: string, body: unknown): Promise<unknown> {
    return this.call('PATCH', target, body);
  }
  delete(target: string): Promise<unknown> {
    return this.call('DELETE', target);
  }

  /** A list, following `@nextLink` until the last page or `maxItems` values. */
  async list(path: string, maxItems: number): Promise<ListResult> {
    const values: unknown[] = [];
    let next: string | undefined = path;
    // Each page holds at least one value, so maxItems also bounds the number of pages; the page cap guards a server that loops.
    for (let pages = 0; next !== undefined && values.length < maxItems && pages < 10_000; pages++) {
      const page = (await this.get(next)) as { values?: unknown; '@nextLink'?: unknown } | undefined;
      const got = Array.isArray(page?.values) ? page.values : [];
      values.push(...got.slice(0, maxItems - values.length));
      const link = page?.['@nextLink'];
      next = typeof link === 'string' && link !== '' && got.length > 0 ? this.rebase(link) : undefined;
    }
    return next !== undefined ? { values, '@nextLink': next } : { values };
  }

  /** Polls an entity until its status is Succeeded or Failed, or the timeout passes. */
  async waitFor(path: string, timeoutMs: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    let delay = 100;
    for (;;) {
      const entity = (await this.get(path)) as Record<string, unknown>;
      const status = entity['status'];
      if (status === 'Succeeded' || status === 'Failed') return entity;
      if (Date.now() + delay > deadline) {
        throw new SpeechApiError(0, 'Timeout', `${this.url(path)} is still ${String(status)} after ${Math.round(timeoutMs / 1000)} s`);
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 2000);
    }
  }
}

function errorOf(status: number, statusText: string, text: string, parsed: unknown): SpeechApiError {
  const o = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const wrapped = typeof o['error'] === 'object' && o['error'] !== null ? (o['error'] as Record<string, unknown>) : undefined;
  const e = wrapped ?? o;
  const code = typeof e['code'] === 'string' && e['code'] !== '' ? e['code'] : `HTTP${status}`;
  const message = typeof e['message'] === 'string' ? e['message'] : text.trim() || statusText;
  const inner = (e['innerError'] ?? e['innererror']) as { code?: unknown } | undefined;
  const innerCode = typeof inner?.code === 'string' && inner.code !== code ? inner.code : undefined;
  return new SpeechApiError(status, code, message, innerCode);
}


/** Marks a run whose result was printed but that did not succeed (a --wait that ended in Failed). */
export class FailedResult {
  constructor(
    readonly entity: unknown,
    readonly message: string,
  ) {}
}

/**
 * Runs one command: builds the client, prints what `fn` returns (indented JSON; nothing for an empty
 * body, as after a delete), and turns errors into the exit code.
 */
export async function runCsr(flags: CsrFlags, fn: (client: CsrClient) => Promise<unknown>, out: Output = process.stdout, err: Output = process.stderr): Promise<number> {
  try {
    const client = CsrClient.from(flags);
    const result = await fn(client);
    if (result instanceof FailedResult) {
      out.write(`${JSON.stringify(result.entity, null, 2)}\n`);
      err.write(`parlance: Failed: ${result.message}\n`);
      return 1;
    }
    if (result !== undefined) out.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } catch (e) {
    return failureExit(e, err, (x) => (x instanceof SpeechApiError ? `${x.code}: ${x.message}${x.innerCode ? ` (${x.innerCode})` : ''}` : undefined));
  }
}

export async function actCsr(flags: CsrFlags, fn: (client: CsrClient) => Promise<unknown>): Promise<void> {
  process.exitCode = await runCsr(flags, fn);
}

export { DEFAULT_URL };
