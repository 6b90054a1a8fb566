import { msToTicks } from '../../kernel/time.js';
import { ErrorCodes } from '../../domain/errors.js';
import type { Hypothesis, PhraseResult, ResultFormat } from '../../domain/recognition/types.js';

/** Azure's RecognitionStatus strings (protocol §A.6.5). */
export function recognitionStatus(p: PhraseResult): string {
  switch (p.status) {
    case 'success':
      return 'Success';
    case 'no-match':
      return 'NoMatch';
    case 'initial-silence-timeout':
      return 'InitialSilenceTimeout';
    case 'end-of-dictation':
      return 'EndOfDictation';
    case 'error':
      switch (p.error?.code) {
        case ErrorCodes.TooManyRequests:
        case ErrorCodes.EngineOverloaded:
          return 'TooManyRequests';
        case ErrorCodes.InvalidArgument:
        case ErrorCodes.InvalidAudio:
        case ErrorCodes.UnsupportedLocale:
        case ErrorCodes.AudioTooLong:
          return 'BadRequest';
        case ErrorCodes.Forbidden:
          return 'Forbidden';
        default:
          return 'Error';
      }
  }
}

export interface PhraseJsonOptions {
  format: ResultFormat;
  wordTimings: boolean;
  /** WebSocket results carry Channel; the REST examples do not. */
  includeChannel: boolean;
}

/**
 * A final result in Azure's JSON (simple or detailed). Offsets/durations in 100-ns ticks as numbers.
 * When detailed output was asked for, NBest is always present on Success: the JS SDK reads
 * NBest[0].Display and stops its receive loop if it is missing (protocol §A.6.5).
 */
export function phraseJson(p: PhraseResult, opts: PhraseJsonOptions): Record<string, unknown> {
  const status = recognitionStatus(p);
  const out: Record<string, unknown> = { RecognitionStatus: status, Offset: msToTicks(p.offsetMs), Duration: msToTicks(p.durationMs) };
  if (p.status === 'success') {
    out['DisplayText'] = p.displayText;
    if (opts.format === 'detailed') {
      out['NBest'] = p.alternatives.map((a) => {
        const alt: Record<string, unknown> = {
          Confidence: round(a.confidence),
          Lexical: a.lexical,
          ITN: a.itn,
          MaskedITN: a.maskedItn,
          Display: a.display,
        };
        if (opts.wordTimings) {
          alt['Words'] = a.words.map((w) => ({
            Word: w.word,
            Offset: msToTicks(w.offsetMs),
            Duration: msToTicks(w.durationMs),
            Confidence: round(w.confidence),
          }));
        }
        return alt;
      });
    }
  }
  if (opts.includeChannel) out['Channel'] = 0;
  return out;
}

export function hypothesisJson(h: Hypothesis): Record<string, unknown> {
  return { Text: h.text, Offset: msToTicks(h.offsetMs), Duration: msToTicks(h.durationMs) };
}

function round(v: number): number {
  return Math.round(v * 10_000) / 10_000;
}
