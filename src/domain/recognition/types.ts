import type { SttModelRef } from '../ports/engines.js';
import type { ServiceError } from '../../kernel/errors.js';

export type RecognitionMode = 'interactive' | 'conversation' | 'dictation';
export type ResultFormat = 'simple' | 'detailed';
export type ProfanityOption = 'masked' | 'removed' | 'raw';

/** Everything one recognition turn needs to know; the protocol adapters build it from query + speech.context. */
export interface RecognitionOptions {
  mode: RecognitionMode;
  locale: string;
  format: ResultFormat;
  profanity: ProfanityOption;
  wordTimings: boolean;
  /** 0 disables the timeout. */
  initialSilenceTimeoutMs: number;
  segmentationSilenceTimeoutMs: number;
  maxUtteranceMs: number;
  model: SttModelRef;
  /** Set when the request's custom endpoint logs content: audio and results are kept. */
  contentLog?: { accountId: string; endpointId: string };
}

export interface PhraseWord {
  word: string;
  offsetMs: number;
  durationMs: number;
  confidence: number;
}

export interface PhraseAlternative {
  confidence: number;
  lexical: string;
  itn: string;
  maskedItn: string;
  display: string;
  words: PhraseWord[];
}

export type PhraseStatus = 'success' | 'no-match' | 'initial-silence-timeout' | 'end-of-dictation' | 'error';

/** A final result of one utterance (or a non-success outcome), offsets relative to the turn's audio start. */
export interface PhraseResult {
  status: PhraseStatus;
  offsetMs: number;
  durationMs: number;
  /** Display text per the profanity option; '' for non-success statuses. */
  displayText: string;
  alternatives: PhraseAlternative[];
  /** Set when status is 'error'. */
  error?: ServiceError;
}

export interface Hypothesis {
  text: string;
  offsetMs: number;
  durationMs: number;
}

/** What a turn reports, in order. Implemented by each protocol adapter. */
export interface TurnListener {
  speechStartDetected(offsetMs: number): void;
  hypothesis(h: Hypothesis): void;
  phrase(p: PhraseResult): void;
  speechEndDetected(offsetMs: number): void;
  /** Always the last call of a turn. */
  turnEnd(): void;
}
