/**
 * Paging of Speech-to-text REST list operations (`skip`/`top`, and `skipToken`/`top` for endpoint logs).
 *
 * - `top` defaults to 100 and is capped at `maxTop` (100): a larger `top` is served as `maxTop` items plus a next
 *   page (server-driven paging, which every `@nextLink` follower handles), unless `rejectOverMax` asks for an error.
 * - `skip`/`top` must be non-negative int32 integers; anything else is a PagingError (innerCode
 *   `InvalidParameterValue`), mapped by the REST layer to 400.
 * - `next` is present only when items remain after the page, so the REST layer omits `@nextLink` on the last page.
 *   `top=0` returns an empty page and no `next` (a next link with top=0 would never advance).
 */

import { ServiceError } from '../../kernel/errors.js';
import { ErrorCodes } from '../errors.js';

export const PAGING_DEFAULTS = {
  top: 100,
  maxTop: 100,
} as const;

const INT32_MAX = 2_147_483_647;

export type PagingErrorCode = 'InvalidParameterValue' | 'UnsupportedPagination';

/** A rejected `skip`, `top` or `skipToken`: ServiceError `InvalidArgument` (400) with Azure's inner code. */
export class PagingError extends ServiceError {
  readonly innerCode: PagingErrorCode;
  readonly parameter: string;

  constructor(innerCode: PagingErrorCode, parameter: string, message: string) {
    super(ErrorCodes.InvalidArgument, 400, message, { details: { parameter, innerCode } });
    this.name = 'PagingError';
    this.innerCode = innerCode;
    this.parameter = parameter;
  }
}

export interface PagingOptions {
  skip?: number | undefined;
  top?: number | undefined;
  /** Largest page served (default 100). */
  maxTop?: number | undefined;
  /** Page size when `top` is absent (default: min(100, maxTop)). */
  defaultTop?: number | undefined;
  /** Reject `top > maxTop` with UnsupportedPagination instead of serving `maxTop` items. */
  rejectOverMax?: boolean | undefined;
}

export interface Page<T> {
  page: T[];
  /** Query for the next page; absent on the last page. */
  next?: { skip: number; top: number };
}

function checkCount(parameter: string, value: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > INT32_MAX) {
    throw new PagingError(
      'InvalidParameterValue',
      parameter,
      `Invalid value '${String(value)}' for the query parameter '${parameter}': expected an integer from 0 to ${INT32_MAX}.`,
    );
  }
  return value;
}

/** The effective skip and top for options, validated (exposed so a store can page in SQL with the same rules). */
export function resolvePaging(opts: PagingOptions = {}): { skip: number; top: number } {
  const maxTop = opts.maxTop ?? PAGING_DEFAULTS.maxTop;
  if (!Number.isInteger(maxTop) || maxTop < 1) throw new RangeError(`maxTop must be a positive integer, got ${maxTop}`);
  const skip = opts.skip === undefined ? 0 : checkCount('skip', opts.skip);
  let top = opts.top === undefined ? Math.min(opts.defaultTop ?? PAGING_DEFAULTS.top, maxTop) : checkCount('top', opts.top);
  if (top > maxTop) {
    if (opts.rejectOverMax) {
      throw new PagingError('UnsupportedPagination', 'top', `The query parameter 'top' must not exceed ${maxTop}.`);
    }
    top = maxTop;
  }
  return { skip, top };
}

/** One page of `items` (already filtered and ordered) and, unless it is the last, the query for the next one. */
export function paginate<T>(items: readonly T[], opts: PagingOptions = {}): Page<T> {
  const { skip, top } = resolvePaging(opts);
  const page = items.slice(skip, skip + top);
  const end = skip + page.length;
  if (top > 0 && end < items.length) return { page, next: { skip: end, top } };
  return { page };
}

/**
 * Strict parsing of `skip`/`top` query strings: decimal digits only (`"10"`), or absent/empty. `"-1"`, `"1.5"`,
 * `"1e3"`, `"ten"`, `" 5"` are PagingErrors. When a parameter is repeated, pass the first value.
 */
export function parsePagingQuery(query: { skip?: string | undefined; top?: string | undefined }): { skip?: number; top?: number } {
  const out: { skip?: number; top?: number } = {};
  for (const name of ['skip', 'top'] as const) {
    const raw = query[name];
    if (raw === undefined || raw === '') continue;
    if (!/^\d{1,10}$/.test(raw)) {
      throw new PagingError(
        'InvalidParameterValue',
        name,
        `Invalid value '${raw}' for the query parameter '${name}': expected an integer from 0 to ${INT32_MAX}.`,
      );
    }
    out[name] = checkCount(name, Number(raw));
  }
  return out;
}

/**
 * `skipToken` paging (endpoint logs): the token is opaque to clients; ours is the base64url of `o<offset>`.
 * encodeSkipToken/decodeSkipToken round-trip; a token we did not issue is a PagingError.
 */
export function encodeSkipToken(offset: number): string {
  checkCount('skipToken', offset);
  return Buffer.from(`o${offset}`, 'utf8').toString('base64url');
}

export function decodeSkipToken(token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  const bad = (): PagingError =>
    new PagingError('InvalidParameterValue', 'skipToken', `Invalid value for the query parameter 'skipToken': use the token from '@nextLink'.`);
  if (token.length > 32 || !/^[A-Za-z0-9_-]+$/.test(token)) throw bad();
  const text = Buffer.from(token, 'base64url').toString('utf8');
  const m = /^o(\d{1,10})$/.exec(text);
  if (!m) throw bad();
  const offset = Number(m[1]);
  if (offset > INT32_MAX) throw bad();
  return offset;
}

/** One page by skipToken; `nextToken` is absent on the last page. */
export function paginateByToken<T>(
  items: readonly T[],
  opts: { skipToken?: string | undefined; top?: number | undefined; maxTop?: number | undefined; rejectOverMax?: boolean | undefined } = {},
): { page: T[]; nextToken?: string; top: number } {
  const skip = decodeSkipToken(opts.skipToken);
  const { page, next } = paginate(items, { skip, top: opts.top, maxTop: opts.maxTop, rejectOverMax: opts.rejectOverMax });
  const { top } = resolvePaging({ top: opts.top, maxTop: opts.maxTop, rejectOverMax: opts.rejectOverMax });
  return next ? { page, nextToken: encodeSkipToken(next.skip), top } : { page, top };
}
