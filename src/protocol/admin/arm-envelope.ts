import { ServiceError, isServiceError } from '../../kernel/errors.js';
import { ErrorCodes, Errors } from '../../domain/errors.js';
import { toServiceError } from '../http/error-envelope.js';

/** ARM's ErrorResponse (common-types v2): `{"error":{"code","message"}}`, code a word, never the status number. */
export interface ArmErrorBody {
  error: { code: string; message: string };
}

/** Request bodies that are not JSON or do not match the operation's schema (ARM's own code for both). */
export const INVALID_REQUEST_CONTENT = 'InvalidRequestContent';

/** Codes for ServiceErrors that do not name an ARM code themselves (details.armCode wins). */
function mappedCode(err: ServiceError): string {
  switch (err.code) {
    case ErrorCodes.NotFound:
      return 'ResourceNotFound';
    case ErrorCodes.InvalidArgument:
      return 'BadRequest';
    case ErrorCodes.Conflict:
      return 'Conflict';
    case ErrorCodes.AdminAuthRequired:
      return 'AuthenticationFailed';
    case ErrorCodes.PayloadTooLarge:
      return 'RequestEntityTooLarge';
    case ErrorCodes.UnsupportedMediaType:
      return 'UnsupportedMediaType';
    default:
      return err.status >= 500 ? 'InternalServerError' : 'BadRequest';
  }
}

interface FrameworkError {
  statusCode?: number;
  code?: string;
  validation?: unknown;
  message: string;
}

/**
 * Anything thrown while serving an admin request, as a ServiceError whose details carry the ARM
 * code. Fastify's schema-validation and JSON-parse failures are both InvalidRequestContent, as
 * ARM reports a body it cannot deserialize.
 */
export function toArmError(err: unknown): ServiceError {
  if (!isServiceError(err) && typeof err === 'object' && err !== null) {
    const e = err as FrameworkError;
    // toServiceError would quote a limit it does not know ("maximum of 0 bytes"); Fastify's message is accurate.
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ServiceError(ErrorCodes.PayloadTooLarge, 413, e.message);
    if (e.validation !== undefined || e.code === 'FST_ERR_VALIDATION' || e.statusCode === 400) {
      return Errors.invalidArgument(`The request content was invalid and could not be deserialized: ${e.message}`, { armCode: INVALID_REQUEST_CONTENT });
    }
  }
  return toServiceError(err);
}

export function armErrorBody(err: ServiceError): ArmErrorBody {
  const armCode = err.details?.['armCode'];
  return { error: { code: typeof armCode === 'string' && armCode !== '' ? armCode : mappedCode(err), message: err.message } };
}
