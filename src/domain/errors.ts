import { ServiceError } from '../kernel/errors.js';

/**
 * The catalogue of every ServiceError code Parlance raises. Each code is documented in docs/errors.md
 * (a test checks that). Protocol adapters map codes to their own envelopes; nothing maps by message.
 */
export const ErrorCodes = {
  MissingCredentials: 'MissingCredentials',
  InvalidKey: 'InvalidKey',
  InvalidToken: 'InvalidToken',
  Forbidden: 'Forbidden',
  NetworkAccessDenied: 'NetworkAccessDenied',
  CustomDomainRequired: 'CustomDomainRequired',
  LocalAuthDisabled: 'LocalAuthDisabled',
  TokenIssuanceRestricted: 'TokenIssuanceRestricted',
  AdminAuthRequired: 'AdminAuthRequired',
  Conflict: 'Conflict',
  EndpointNotFound: 'EndpointNotFound',
  EndpointNotReady: 'EndpointNotReady',
  NotFound: 'NotFound',
  InvalidArgument: 'InvalidArgument',
  UnsupportedLocale: 'UnsupportedLocale',
  UnsupportedMediaType: 'UnsupportedMediaType',
  UnsupportedVoice: 'UnsupportedVoice',
  InvalidSsml: 'InvalidSsml',
  UnsupportedOutputFormat: 'UnsupportedOutputFormat',
  InvalidAudio: 'InvalidAudio',
  AudioTooLong: 'AudioTooLong',
  PayloadTooLarge: 'PayloadTooLarge',
  TooManyRequests: 'TooManyRequests',
  QuotaExceeded: 'QuotaExceeded',
  EngineOverloaded: 'EngineOverloaded',
  EngineFailure: 'EngineFailure',
  RequestTimeout: 'RequestTimeout',
  ShuttingDown: 'ShuttingDown',
  InternalError: 'InternalError',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export const Errors = {
  missingCredentials: () =>
    new ServiceError(
      ErrorCodes.MissingCredentials,
      401,
      'Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.',
    ),
  invalidKey: () =>
    new ServiceError(
      ErrorCodes.InvalidKey,
      401,
      'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
    ),
  invalidToken: (why: string) =>
    new ServiceError(ErrorCodes.InvalidToken, 401, `Access denied due to an invalid or expired authorization token (${why}).`),
  networkAccessDenied: (reason: string) =>
    new ServiceError(ErrorCodes.NetworkAccessDenied, 403, 'Access denied due to Virtual Network/Firewall rules.', { details: { reason } }),
  customDomainRequired: () =>
    new ServiceError(
      ErrorCodes.CustomDomainRequired,
      403,
      'Access denied: this resource has virtual network rules. Use its custom domain endpoint (https://{name}.cognitiveservices.azure.com) instead of the regional endpoint.',
    ),
  localAuthDisabled: () =>
    new ServiceError(
      ErrorCodes.LocalAuthDisabled,
      403,
      'Access denied: key based authentication is disabled for this resource (disableLocalAuth). Use Microsoft Entra ID authentication instead.',
    ),
  tokenIssuanceRestricted: (status: 400 | 403) =>
    new ServiceError(
      ErrorCodes.TokenIssuanceRestricted,
      status,
      'Authorization tokens are issued only for resources that allow access from all networks. Use the resource key in the Ocp-Apim-Subscription-Key header instead.',
    ),
  adminAuthRequired: () =>
    new ServiceError(ErrorCodes.AdminAuthRequired, 401, 'The control plane requires "Authorization: Bearer <admin token>" (see parlance serve --admin-token).'),
  endpointNotFound: (id: string) =>
    new ServiceError(ErrorCodes.EndpointNotFound, 400, `The custom endpoint '${id}' (cid) does not exist or belongs to another resource.`, { details: { endpointId: id } }),
  endpointNotReady: (id: string) =>
    new ServiceError(ErrorCodes.EndpointNotReady, 409, `The custom endpoint '${id}' is not deployed yet; wait until its status is Succeeded.`, { details: { endpointId: id } }),
  conflict: (message: string, details?: Record<string, unknown>) => new ServiceError(ErrorCodes.Conflict, 409, message, details ? { details } : undefined),
  notFound: (what = 'Resource not found') => new ServiceError(ErrorCodes.NotFound, 404, what),
  invalidArgument: (message: string, details?: Record<string, unknown>) =>
    new ServiceError(ErrorCodes.InvalidArgument, 400, message, details ? { details } : undefined),
  unsupportedLocale: (locale: string, supported: readonly string[]) =>
    new ServiceError(
      ErrorCodes.UnsupportedLocale,
      400,
      `The language '${locale}' is not supported. Supported languages: ${supported.join(', ')}.`,
      { details: { locale, supported: [...supported] } },
    ),
  unsupportedMediaType: (contentType: string | undefined, expected = "'audio/wav; codecs=audio/pcm; samplerate=16000' or 'audio/ogg; codecs=opus'") =>
    new ServiceError(ErrorCodes.UnsupportedMediaType, 415, `Unsupported content type '${contentType ?? ''}'. Use ${expected}.`),
  unsupportedVoice: (name: string, why: string) =>
    new ServiceError(ErrorCodes.UnsupportedVoice, 400, `Unsupported voice ${name}. ${why}`, { details: { voice: name } }),
  invalidSsml: (message: string) => new ServiceError(ErrorCodes.InvalidSsml, 400, message),
  unsupportedOutputFormat: (name: string, why?: string) =>
    new ServiceError(ErrorCodes.UnsupportedOutputFormat, 400, `Unsupported output format: ${name}.${why ? ` ${why}` : ''}`, { details: { format: name } }),
  invalidAudio: (message: string, cause?: unknown) =>
    new ServiceError(ErrorCodes.InvalidAudio, 400, message, cause === undefined ? undefined : { cause }),
  audioTooLong: (limitSeconds: number) =>
    new ServiceError(ErrorCodes.AudioTooLong, 400, `The audio exceeds the maximum of ${limitSeconds} seconds for this request.`),
  payloadTooLarge: (limitBytes: number) =>
    new ServiceError(ErrorCodes.PayloadTooLarge, 413, `The request body exceeds the maximum of ${limitBytes} bytes.`),
  tooManyRequests: (retryAfterSeconds: number) =>
    new ServiceError(ErrorCodes.TooManyRequests, 429, `Too many concurrent sessions on this server. Please retry after ${retryAfterSeconds} seconds.`, {
      details: { retryAfterSeconds },
    }),
  /** A resource's (or custom endpoint's) real-time recognition concurrency is used up (protocol §F.3, seed 004). */
  concurrencyExceeded: (retryAfterSeconds: number, limit: number) =>
    new ServiceError(
      ErrorCodes.TooManyRequests,
      429,
      `The request is throttled because you have exceeded the concurrent request limit allowed for your subscription (${limit}). Please retry after ${retryAfterSeconds} seconds.`,
      { details: { retryAfterSeconds } },
    ),
  /** Text-to-speech call rate of the pricing tier exceeded (F0: 20 per 60 s). */
  rateExceeded: (retryAfterSeconds: number, count: number, windowSeconds: number) =>
    new ServiceError(
      ErrorCodes.TooManyRequests,
      429,
      `Throttled due to too many requests: the rate limit is ${count} requests per ${windowSeconds} seconds for your pricing tier. Please retry after ${retryAfterSeconds} seconds.`,
      { details: { retryAfterSeconds, wsReason: 'Throttled due to too many requests' } },
    ),
  /** The free tier's monthly allowance is used up until the month turns (Cognitive Services' gateway wording). */
  quotaExceeded: (tier: string, retryAfterDays: number) =>
    new ServiceError(
      ErrorCodes.QuotaExceeded,
      403,
      `Out of call volume quota for SpeechServices ${tier} pricing tier. Please retry after ${retryAfterDays} days. To increase your call volume switch to a paid tier.`,
      { details: { wsReason: 'Quota exceeded.' } },
    ),
  engineOverloaded: () =>
    new ServiceError(ErrorCodes.EngineOverloaded, 503, 'The speech engine is busy. Please retry shortly.', {
      details: { retryAfterSeconds: 1 },
    }),
  engineFailure: (cause?: unknown) =>
    new ServiceError(
      ErrorCodes.EngineFailure,
      500,
      'The speech service encountered an internal error and could not continue.',
      cause === undefined ? undefined : { cause },
    ),
  requestTimeout: (message: string) => new ServiceError(ErrorCodes.RequestTimeout, 408, message),
  shuttingDown: () => new ServiceError(ErrorCodes.ShuttingDown, 503, 'The service is shutting down.'),
  internal: (cause?: unknown) =>
    new ServiceError(ErrorCodes.InternalError, 500, 'Internal server error.', cause === undefined ? undefined : { cause }),
} as const;
