import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes, Errors } from '../../domain/errors.js';
import { ServiceError } from '../../kernel/errors.js';
import { gatewayErrorBody, retryAfterSeconds, toServiceError } from '../http/error-envelope.js';
import { queryValue } from '../shared/query.js';
import { v32ErrorBody } from './errors.js';
import { isGuid } from './urls.js';

/** What every v3.2 plugin shares: the error envelope, body helpers, the account of the request. */

export type Body = Record<string, unknown>;

/** Download links (`sasValidityInSeconds`): 12 h by default, at most 7 days. */
export const SAS_VALIDITY = { defaultSeconds: 12 * 3600, maxSeconds: 7 * 24 * 3600 } as const;

/**
 * The API's conventions on a plugin: errors in its top-level shape (credential and firewall
 * refusals keep the gateway envelope, protocol §F.1), and JSON merge-patch bodies for PATCH.
 */
export function applyV32Conventions(app: FastifyInstance): void {
  app.setErrorHandler(async (err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const se = toV32Error(err);
    if (se.status >= 500) req.log.error({ err }, 'request failed');
    else req.log.info({ code: se.code, status: se.status }, se.message);
    const retry = retryAfterSeconds(se);
    if (retry !== undefined) void reply.header('Retry-After', String(retry));
    const body = se.status === 401 || se.status === 403 ? gatewayErrorBody(se) : v32ErrorBody(se);
    return reply.code(se.status).type('application/json; charset=utf-8').send(body);
  });
  app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(typeof body === 'string' ? body : body.toString('utf8')));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}

/** The authenticated resource's id (set by the data-plane admission hook). */
export function accountOf(req: FastifyRequest): string {
  const id = req.principal?.account.id;
  if (!id) throw Errors.internal(new Error('speech-to-text API outside the data-plane scope'));
  return id;
}

/** Fastify's own body errors (bad JSON, wrong content type, too large) in the API's terms. */
export function toV32Error(err: unknown): ServiceError {
  if (err instanceof ServiceError) return err;
  const e = err as { statusCode?: number; message?: string };
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    if (e.statusCode === 413) return new ServiceError(ErrorCodes.PayloadTooLarge, 413, e.message ?? 'The request body is too large.');
    if (e.statusCode === 415 || e.statusCode === 406) return new ServiceError(ErrorCodes.UnsupportedMediaType, 415, e.message ?? 'Unsupported media type.');
    return Errors.invalidArgument(`The request body is not valid: ${e.message ?? ''}`, { innerCode: 'InvalidDocument' });
  }
  return toServiceError(err);
}

export function sasValiditySeconds(req: FastifyRequest): number {
  const v = queryValue(req.query, 'sasValidityInSeconds');
  if (v === undefined || v === '') return SAS_VALIDITY.defaultSeconds;
  if (!/^\d{1,10}$/.test(v) || Number(v) > SAS_VALIDITY.maxSeconds) {
    throw Errors.invalidArgument(`sasValidityInSeconds must be an integer from 0 to ${SAS_VALIDITY.maxSeconds}.`, { innerCode: 'InvalidSasValidityDuration' });
  }
  // 0 asks Azure for a plain URL (own storage only); here every link is signed, with the default lifetime.
  return Number(v) === 0 ? SAS_VALIDITY.defaultSeconds : Number(v);
}

export function objectBody(body: unknown): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw Errors.invalidArgument('The request body must be a JSON object.', { innerCode: 'InvalidDocument' });
  return body as Body;
}

export function objectOrEmpty(b: Body, name: string): Body {
  const v = b[name];
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw Errors.invalidArgument(`'${name}' must be an object.`, { innerCode: 'InvalidParameterValue' });
  return v as Body;
}

export function str(b: Body, name: string): string | undefined {
  const v = b[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw Errors.invalidArgument(`'${name}' must be a string.`, { innerCode: 'InvalidParameterValue' });
  return v;
}

export function bool(b: Body, name: string): boolean | undefined {
  const v = b[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw Errors.invalidArgument(`'${name}' must be true or false.`, { innerCode: 'InvalidParameterValue' });
  return v;
}

export function optionalStrings(b: Body): { description?: string; customProperties?: Record<string, string> } {
  const out: { description?: string; customProperties?: Record<string, string> } = {};
  const description = str(b, 'description');
  if (description !== undefined) out.description = description;
  const cp = b['customProperties'];
  if (cp !== undefined && cp !== null) {
    if (typeof cp !== 'object' || Array.isArray(cp)) throw Errors.invalidArgument("'customProperties' must be an object of strings.", { innerCode: 'InvalidParameterValue' });
    out.customProperties = cp as Record<string, string>;
  }
  return out;
}

/** A path id that is not a GUID names nothing: 404, as for an unknown GUID. */
export function guid(id: string): string {
  if (!isGuid(id)) throw Errors.notFound(`No entity with id '${id}' exists.`);
  return id.toLowerCase();
}
