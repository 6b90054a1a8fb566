import { isServiceError, type ServiceError } from '../../kernel/errors.js';
import { Errors } from '../../domain/errors.js';

/**
 * Cognitive Services gateway envelope: `{"error":{"code":"401","message":"…"}}`. Azure's front door
 * uses the status number as the code for auth, firewall, not-found and throttling errors, and words
 * for request problems (protocol §2.3, §F.1).
 */
export function gatewayErrorBody(err: ServiceError): { error: { code: string; message: string } } {
  const numeric = [401, 403, 404, 429].includes(err.status);
  return { error: { code: numeric ? String(err.status) : wordCode(err.status), message: err.message } };
}

function wordCode(status: number): string {
  switch (status) {
    case 400:
      return 'BadRequest';
    case 408:
      return 'RequestTimeout';
    case 413:
      return 'PayloadTooLarge';
    case 415:
      return 'UnsupportedMediaType';
    case 503:
      return 'ServiceUnavailable';
    default:
      return status >= 500 ? 'InternalServerError' : 'BadRequest';
  }
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message: string;
}

/** Normalizes anything thrown in a request into a ServiceError (framework errors included). */
export function toServiceError(err: unknown): ServiceError {
  if (isServiceError(err)) return err;
  const e = err as FastifyLikeError;
  if (typeof e === 'object' && e !== null && typeof e.statusCode === 'number' && e.statusCode < 500) {
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return Errors.payloadTooLarge(0);
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return Errors.unsupportedMediaType(undefined);
    if (e.statusCode === 404) return Errors.notFound();
    return Errors.invalidArgument(e.message);
  }
  return Errors.internal(err);
}

/** Retry-After for throttling-style errors. */
export function retryAfterSeconds(err: ServiceError): number | undefined {
  const v = err.details?.['retryAfterSeconds'];
  return typeof v === 'number' ? v : undefined;
}
