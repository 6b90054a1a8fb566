import { ContentFetchError, type ContentFetcher } from '../../domain/ports/content-fetcher.js';

export interface UrlFetcherOptions {
  /** Whole download, headers and body (default 10 minutes). */
  timeoutMs?: number;
  /** Redirects followed (default 5), each checked like the first URL. */
  maxRedirects?: number;
  /** Substitutable for tests. */
  fetchImpl?: typeof fetch;
}

export const URL_FETCH_DEFAULTS = { timeoutMs: 10 * 60_000, maxRedirects: 5 } as const;

/**
 * ContentFetcher over the global fetch: http and https only (also after redirects, which are followed
 * by hand so each hop is checked), bounded in time and size. Error messages never echo a URL's query
 * string (it may hold a SAS).
 */
export class UrlContentFetcher implements ContentFetcher {
  private readonly timeoutMs: number;
  private readonly maxRedirects: number;
  private readonly fetchImpl: typeof fetch;

  constructor(opts: UrlFetcherOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? URL_FETCH_DEFAULTS.timeoutMs;
    this.maxRedirects = opts.maxRedirects ?? URL_FETCH_DEFAULTS.maxRedirects;
    this.fetchImpl = opts.fetchImpl ?? fetch;
  }

  async fetch(url: string, opts: { maxBytes: number; signal?: AbortSignal }): Promise<AsyncIterable<Uint8Array>> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    let current = checkedUrl(url);
    for (let hop = 0; ; hop++) {
      let res: Response;
      try {
        res = await this.fetchImpl(current, { redirect: 'manual', signal, headers: { accept: '*/*' } });
      } catch (err) {
        throw failure(err, current, timeout, this.timeoutMs);
      }
      if (res.status >= 300 && res.status < 400 && res.status !== 304) {
        await res.body?.cancel().catch(() => undefined);
        const location = res.headers.get('location');
        if (!location) throw new ContentFetchError(`${safe(current)} answered ${res.status} without a Location header.`);
        if (hop >= this.maxRedirects) throw new ContentFetchError(`contentUrl redirected more than ${this.maxRedirects} times.`);
        current = checkedUrl(new URL(location, current).toString());
        continue;
      }
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        throw new ContentFetchError(`${safe(current)} answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}.`);
      }
      const declared = Number(res.headers.get('content-length') ?? NaN);
      if (Number.isFinite(declared) && declared > opts.maxBytes) {
        await res.body?.cancel().catch(() => undefined);
        throw new ContentFetchError(`The content at ${safe(current)} is ${declared} bytes; at most ${opts.maxBytes} are accepted.`);
      }
      return bounded(res, opts.maxBytes, current, timeout, this.timeoutMs);
    }
  }
}

async function* bounded(res: Response, maxBytes: number, url: URL, timeout: AbortSignal, timeoutMs: number): AsyncGenerator<Uint8Array> {
  if (!res.body) return;
  let total = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      let step: { done: true; value?: undefined } | { done: false; value: Uint8Array };
      try {
        step = await reader.read();
      } catch (err) {
        throw failure(err, url, timeout, timeoutMs);
      }
      if (step.done) return;
      total += step.value.byteLength;
      if (total > maxBytes) throw new ContentFetchError(`The content at ${safe(url)} exceeds ${maxBytes} bytes.`);
      yield step.value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

function checkedUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ContentFetchError('contentUrl is not an absolute URL.');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ContentFetchError(`contentUrl must use http or https, not ${parsed.protocol}`);
  return parsed;
}

/** The URL without credentials or query (SAS tokens stay out of messages and logs). */
function safe(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function failure(err: unknown, url: URL, timeout: AbortSignal, timeoutMs: number): Error {
  if (err instanceof ContentFetchError) return err;
  if (timeout.aborted) return new ContentFetchError(`Downloading ${safe(url)} took longer than ${Math.round(timeoutMs / 1000)} seconds.`);
  if ((err as { name?: string }).name === 'AbortError') return err as Error;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
  return new ContentFetchError(`${safe(url)} could not be reached (${why}).`);
}
