/**
 * Speech-to-text engine contract, in Parlance's own types (never Azure JSON).
 * Audio is always 16 kHz mono signed 16-bit PCM (`ENGINE_SAMPLE_RATE`); times are milliseconds
 * relative to the first sample handed to the call.
 */

/** Which model to decode with. Custom models (a later issue) add `modelId`. */
export interface SttModelRef {
  locale: string;
  modelId?: string;
}

export interface RecognizedWord {
  /** Lexical form, lower-case, as the engine spelled it (alternate-pronunciation suffixes removed). */
  word: string;
  startMs: number;
  endMs: number;
  /** 0..1 */
  confidence: number;
}

export interface EngineHypothesis {
  /** Lexical text: the words joined by single spaces; '' when nothing was recognized. */
  text: string;
  words: RecognizedWord[];
  /** 0..1, for the utterance as a whole. */
  confidence: number;
}

/** A decoder holding one utterance's state, for live partial hypotheses while audio streams. */
export interface LiveDecoder {
  /**
   * Feed the next chunk of the utterance. Resolves with the partial text after this audio.
   * Calls may overlap: the engine coalesces audio that arrives while it is busy, so a slow engine
   * yields fewer, larger updates rather than a growing queue.
   */
  feed(pcm: Int16Array): Promise<string>;
  /** Ends the utterance and returns the decoder to its pool. Idempotent. */
  release(): void;
}

export interface SttEngineInfo {
  id: string;
  locales: readonly string[];
}

export interface SttEngine {
  readonly info: SttEngineInfo;
  supportsLocale(locale: string): boolean;
  /**
   * A live decoder for partial results, or `undefined` when none is free right now (partials are a
   * best-effort extra: the caller then goes on without them; finals never depend on this).
   */
  openLiveDecoder(model: SttModelRef): Promise<LiveDecoder | undefined>;
  /** Decode one whole utterance (deterministic; used for final results). */
  decodeUtterance(model: SttModelRef, pcm: Int16Array, signal?: AbortSignal): Promise<EngineHypothesis>;
  /** Resolves when the engine can serve (models loaded, workers up). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** Errors engines throw; the domain maps them to ServiceErrors by `kind`, never by message. */
export type EngineErrorKind = 'UnsupportedLocale' | 'Overloaded' | 'ModelLoadFailed' | 'Aborted' | 'Internal';

export class EngineError extends Error {
  readonly kind: EngineErrorKind;
  constructor(kind: EngineErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EngineError';
    this.kind = kind;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Text-to-speech

export type VoiceGender = 'Female' | 'Male' | 'Neutral';

/** A voice an engine can speak with, in Parlance's terms (the Azure-shaped catalogue is built on top). */
export interface TtsVoice {
  /** Unique across engines: "<engine>:<engine voice name>", e.g. "flite:slt", "espeak-ng:en-us". */
  id: string;
  engine: string;
  /** Short human name, e.g. "Slt". */
  name: string;
  /** BCP-47 locale, e.g. "en-US". */
  locale: string;
  gender: VoiceGender;
  /** Native output rate of `audio` events. */
  sampleRate: number;
  /** Typical speaking rate at prosody rate 1. */
  wordsPerMinute: number;
}

/** Prosody as multipliers of the voice's defaults (SSML's relative and absolute values are converted to these). */
export interface Prosody {
  /** Speaking rate, 1 = default; bounded 0.25..4. */
  rate: number;
  /** Pitch, 1 = default; bounded 0.5..2. */
  pitch: number;
  /** Volume (linear gain), 1 = default; bounded 0..4. Applied by the domain, engines may ignore it. */
  volume: number;
}

export interface SynthesisInput {
  /** Plain text to speak (SSML already resolved: say-as expanded, sub aliases substituted). */
  text: string;
  voiceId: string;
  prosody: Prosody;
}

/**
 * What an engine yields, in audio-time order. Offsets are ms from the start of this call's audio;
 * text positions index `SynthesisInput.text` (UTF-16 code units).
 */
export type SynthesisEvent =
  | { type: 'audio'; pcm: Int16Array }
  | { type: 'word'; textOffset: number; textLength: number; audioOffsetMs: number; durationMs: number }
  /** A phone (engine's own symbol set, declared by `phoneSet`) starting at `audioOffsetMs`, for visemes. */
  | { type: 'phone'; phone: string; audioOffsetMs: number; durationMs: number };

export interface TtsEngine {
  readonly id: string;
  /** 'arpabet' (CMU, lower-case, as flite/festival) or 'espeak' (eSpeak NG mnemonics). */
  readonly phoneSet: 'arpabet' | 'espeak';
  voices(): readonly TtsVoice[];
  /**
   * Synthesizes `input.text`. Audio arrives in pieces as it is produced (at least sentence by sentence), so
   * the first bytes can leave before the whole text is done. Throws EngineError('UnsupportedLocale') for an
   * unknown voice id, 'Overloaded' when its queue is full, 'Aborted' when `signal` fires.
   */
  synthesize(input: SynthesisInput, signal?: AbortSignal): AsyncIterable<SynthesisEvent>;
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** An EngineError as it crosses a worker-thread boundary (structured clone drops the class). */
export interface SerializedEngineError {
  kind: EngineErrorKind;
  message: string;
}

export function serializeEngineError(err: unknown): SerializedEngineError {
  if (err instanceof EngineError) return { kind: err.kind, message: err.message };
  return { kind: 'Internal', message: err instanceof Error ? err.message : String(err) };
}

export function engineErrorFrom(e: SerializedEngineError): EngineError {
  return new EngineError(e.kind, e.message);
}
