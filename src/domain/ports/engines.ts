/**
 * Speech-to-text engine contract, in Parlance's own types (never Azure JSON).
 * Audio is always 16 kHz mono signed 16-bit PCM (`ENGINE_SAMPLE_RATE`); times are milliseconds
 * relative to the first sample handed to the call.
 */

/** Which model to decode with: the locale's base model, or a custom model loaded with `SttEngine.loadCustomModel`. */
export interface SttModelRef {
  locale: string;
  modelId?: string;
}

/** What a custom model is trained from (Custom Speech datasets, already read and decoded to text). */
export interface CustomModelInput {
  locale: string;
  /** Domain text, one sentence (or line) per entry. Engines bound what they use (see `CustomModelBuild.truncated`). */
  sentences: string[];
  /** Pronunciations for words, as CMU-style phones separated by spaces, as in cmudict (stress digits allowed). */
  pronunciations: { word: string; phones: string }[];
  /**
   * Azure's Pronunciation datasets: a written word and how it is spoken, in words ("3CPO" → "three c p o");
   * the engine turns the spoken words into phones with its dictionary (or letter-to-sound rules).
   */
  spokenForms?: { word: string; spoken: string }[];
}

/** What `SttEngine.buildCustomModel` produced. */
export interface CustomModelBuild {
  /** Files written into outDir, relative names. */
  files: string[];
  /** Distinct words of the model's language model (sentence markers excluded). */
  vocabularySize: number;
  /** Words the base dictionary lacks that the model added, and where their pronunciation came from. */
  newWords: { word: string; phones: string; source: 'dataset' | 'letter-to-sound' }[];
  /** Sentences the language model was trained on (after splitting lines at sentence ends). */
  sentenceCount: number;
  /** Words left out because no pronunciation could be found (they end a sentence in the training text instead). */
  droppedWords?: string[];
  /** Set when the input exceeded the engine's bounds and only its beginning was used. */
  truncated?: boolean;
}

/** Pronunciations for words a recognizer's dictionary lacks (rules or a lexicon). */
export interface LetterToSound {
  /** CMU arpabet phones (e.g. "K AE1 T" or without stress digits) for a word, or undefined. */
  phones(word: string, locale: string): Promise<string | undefined>;
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
  /**
   * Trains a custom model from `input` into the directory `outDir` (created if missing; off the event loop). Throws
   * EngineError 'UnsupportedLocale' for a locale the engine cannot adapt, 'Aborted' when `signal` fires.
   */
  buildCustomModel(input: CustomModelInput, outDir: string, signal?: AbortSignal): Promise<CustomModelBuild>;
  /**
   * Makes the model built into `dir` available as `modelId`: once this resolves, decodes and live decoders asked
   * for `{ locale, modelId }` use it. Idempotent. Throws EngineError 'ModelLoadFailed' when the files are missing
   * or rejected. Decoding with a `modelId` that is not loaded throws 'ModelLoadFailed'.
   */
  loadCustomModel(modelId: string, dir: string): Promise<void>;
  /** Forgets a loaded custom model (no-op for an unknown id). Decodes already running finish with it. */
  unloadCustomModel(modelId: string): Promise<void>;
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
