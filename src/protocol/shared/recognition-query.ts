import { queryValue } from './query.js';
import { Errors } from '../../domain/errors.js';
import type { RecognitionRequest } from '../../domain/recognition/recognition-service.js';
import type { RecognitionMode } from '../../domain/recognition/types.js';
import type { ProfanityOption, ResultFormat } from '../../domain/recognition/types.js';

export function parseMode(segment: string): RecognitionMode | undefined {
  const m = segment.toLowerCase();
  return m === 'interactive' || m === 'conversation' || m === 'dictation' ? m : undefined;
}

export function parseFormat(v: string | undefined): ResultFormat | undefined {
  if (v === undefined || v === '') return undefined;
  const f = v.toLowerCase();
  if (f === 'simple' || f === 'detailed') return f;
  throw Errors.invalidArgument(`Invalid format '${v}'. Use 'simple' or 'detailed'.`);
}

export function parseProfanity(v: string | undefined): ProfanityOption | undefined {
  if (v === undefined || v === '') return undefined;
  const p = v.toLowerCase();
  if (p === 'masked' || p === 'removed' || p === 'raw') return p;
  throw Errors.invalidArgument(`Invalid profanity option '${v}'. Use 'masked', 'removed' or 'raw'.`);
}

export function parseIntParam(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^\d{1,9}$/.test(v)) throw Errors.invalidArgument(`Invalid value '${v}' for ${name}.`);
  const n = Number(v);
  if (n < min || n > max) throw Errors.invalidArgument(`${name} must be between ${min} and ${max}.`);
  return n;
}

function parseBool(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  return v.toLowerCase() === 'true';
}

/**
 * The recognition settings a URL query carries (protocol §A.2, §C.1). The same names serve the
 * WebSocket and the REST surface; speech.context values (WebSocket) override these later.
 */
export function recognitionRequestFromQuery(query: unknown, mode: RecognitionMode): RecognitionRequest {
  const req: RecognitionRequest = { mode };
  const language = queryValue(query, 'language');
  if (language !== undefined && language !== '') req.locale = language;
  const format = parseFormat(queryValue(query, 'format'));
  if (format) req.format = format;
  const profanity = parseProfanity(queryValue(query, 'profanity'));
  if (profanity) req.profanity = profanity;
  const words = parseBool(queryValue(query, 'wordLevelTimestamps'));
  if (words) {
    req.wordTimings = true;
    // The SDK forces detailed output when word timings are requested.
    req.format = 'detailed';
  }
  const initial = parseIntParam('initialSilenceTimeoutMs', queryValue(query, 'initialSilenceTimeoutMs'), 0, 120_000);
  if (initial !== undefined) req.initialSilenceTimeoutMs = initial;
  const seg = parseIntParam('segmentationSilenceTimeoutMs', queryValue(query, 'segmentationSilenceTimeoutMs'), 100, 5_000);
  if (seg !== undefined) req.segmentationSilenceTimeoutMs = seg;
  const cid = queryValue(query, 'cid');
  if (cid !== undefined && cid !== '') req.endpointId = cid;
  return req;
}
