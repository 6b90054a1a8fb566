import type { RecognitionRequest } from '../../domain/recognition/recognition-service.js';
import type { RecognitionMode } from '../../domain/recognition/types.js';

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Case-insensitive property access along a path: the JS and C++ SDKs disagree on key casing (protocol §A.5.2). */
export function getCI(obj: unknown, ...path: string[]): unknown {
  let node: unknown = obj;
  for (const key of path) {
    if (!isObj(node)) return undefined;
    const wanted = key.toLowerCase();
    const hit = Object.keys(node).find((k) => k.toLowerCase() === wanted);
    node = hit === undefined ? undefined : node[hit];
  }
  return node;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function int(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,9}$/.test(v) ? Number(v) : undefined;
  return n !== undefined && Number.isFinite(n) && n >= 0 ? Math.round(n) : undefined;
}

export function modeFromString(v: unknown): RecognitionMode | undefined {
  const s = str(v)?.toLowerCase();
  return s === 'interactive' || s === 'conversation' || s === 'dictation' ? s : undefined;
}

/**
 * Applies a speech.context body over the query-derived request: explicit context values win
 * (protocol §A.2 rule). Unknown sections are ignored.
 */
export function applySpeechContext(base: RecognitionRequest, context: unknown, pathMode: RecognitionMode | undefined): RecognitionRequest {
  const req: RecognitionRequest = { ...base };
  const pd = getCI(context, 'phraseDetection');
  // v1 paths fix the mode; on the v2 path speech.context decides (C++ sends upper-case values).
  if (!pathMode) req.mode = modeFromString(getCI(pd, 'mode')) ?? req.mode;
  const language = str(getCI(pd, 'language'));
  if (language) req.locale = language;
  const initial = int(getCI(pd, 'initialSilenceTimeout'));
  if (initial !== undefined) req.initialSilenceTimeoutMs = initial;
  const segmentation = getCI(pd, req.mode, 'segmentation');
  const segMode = str(getCI(segmentation, 'mode'))?.toLowerCase();
  const segSilence = int(getCI(segmentation, 'segmentationSilenceTimeoutMs'));
  if (segSilence !== undefined && (segMode === undefined || segMode === 'custom')) req.segmentationSilenceTimeoutMs = segSilence;
  const forced = int(getCI(segmentation, 'segmentationForcedTimeoutMs'));
  if (forced !== undefined) req.maxUtteranceMs = forced;
  const profanity = str(getCI(pd, 'enrichment', 'profanity'))?.toLowerCase();
  if (profanity === 'masked' || profanity === 'removed' || profanity === 'raw') req.profanity = profanity;
  // Tagged/Labeled are Azure extras; masking is the closest safe behaviour.
  if (profanity === 'tagged' || profanity === 'labeled') req.profanity = 'masked';
  const customModels = getCI(pd, 'customModels');
  if (Array.isArray(customModels)) {
    const endpoint = str(getCI(customModels[0], 'endpoint'));
    if (endpoint) req.endpointId = endpoint;
  }

  const po = getCI(context, 'phraseOutput');
  const format = str(getCI(po, 'format'))?.toLowerCase();
  if (format === 'detailed' || format === 'simple') req.format = format;
  const options = getCI(po, 'detailed', 'options');
  if (Array.isArray(options) && options.some((o) => typeof o === 'string' && o.toLowerCase() === 'wordtimings')) {
    req.wordTimings = true;
    req.format = 'detailed';
  }
  return req;
}
