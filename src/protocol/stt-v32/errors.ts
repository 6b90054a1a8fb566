import type { ServiceError } from '../../kernel/errors.js';

/**
 * The v3.2 API's own error shape (protocol §D.2): top level, not wrapped in `error`, with the
 * `ErrorCode` enum outside and a `DetailedErrorCode` inside. Gateway failures (401/403 from the
 * admission hook) keep the Cognitive Services envelope, as Azure's do.
 */
export function v32ErrorBody(se: ServiceError): { code: string; message: string; innerError?: { code: string; message: string } } {
  const inner = typeof se.details?.['innerCode'] === 'string' ? se.details['innerCode'] : undefined;
  const code = codeFor(se.status);
  return inner ? { code, message: se.message, innerError: { code: inner, message: se.message } } : { code, message: se.message };
}

function codeFor(status: number): string {
  switch (status) {
    case 400:
      return 'InvalidRequest';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 409:
      return 'Conflict';
    case 415:
      return 'UnsupportedMediaType';
    case 422:
      return 'UnprocessableEntity';
    case 429:
      return 'TooManyRequests';
    case 503:
      return 'ServiceUnavailable';
    default:
      return status >= 500 ? 'InternalServerError' : 'InvalidRequest';
  }
}
