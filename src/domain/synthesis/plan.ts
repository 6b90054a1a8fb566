/**
 * A synthesis plan: what the synthesis service speaks, in order, after SSML (or plain text) has been resolved.
 * Produced by `parseSsml` / `planFromText` (ssml.ts); consumed by the synthesis service, which runs one engine
 * call per speech item and turns `words` into WordBoundary metadata.
 *
 * Offsets: `spoken*` index a speech item's `text`; `source*` index the original document (the SSML string as
 * received, or the plain text), both in UTF-16 code units like JavaScript strings and the JS SDK.
 */
import type { Prosody } from '../ports/engines.js';

/** The voice a speech item asks for, as the document named it (resolution to an engine voice happens later). */
export interface VoiceRequest {
  /** Name as written in `<voice name>`, '' when the text is outside any voice element (default voice). */
  name: string;
  /** The voice element's own `xml:lang`, when it has one. */
  lang: string | undefined;
}

/**
 * One spoken token mapped back to the literal source text it came from, so a WordBoundary event can carry a
 * `Text` the JS SDK finds in the raw SSML (it searches with `indexOf` from the previous match).
 *
 * Invariant: `sourceText === document.substr(sourceOffset, sourceText.length)` and `sourceText !== ''`.
 * For escaped text the literal is the escaped form ("AT&amp;T"); for say-as and sub it is the element's
 * (trimmed) content. One source word may cover several spoken words ("25" → "twenty five"): a consumer that
 * gets engine word events should report each source word once. Words are in document order, non-overlapping
 * in both the spoken text and the source.
 */
export interface SourceWord {
  spokenOffset: number;
  spokenLength: number;
  sourceText: string;
  sourceOffset: number;
  kind: 'word' | 'punctuation';
}

/** The literal source span of a whole sentence, for SentenceBoundary events (see {@link PlanItem}). */
export interface SentenceSource {
  sourceText: string;
  sourceOffset: number;
}

export type PlanItem =
  | {
      kind: 'speech';
      voice: VoiceRequest;
      /** Effective language of the text (xml:lang of the nearest speak/voice/lang/p/s ancestor). */
      lang: string;
      /** What the engine speaks: entities decoded, numbers and abbreviations expanded, whitespace collapsed. */
      text: string;
      prosody: Prosody;
      words: SourceWord[];
      /** First piece of a sentence (sentences may continue over several items when prosody or language changes). */
      sentenceStart: boolean;
      /**
       * On sentence starts only, when the sentence has words: the longest literal source substring from the
       * sentence's first word that contains no markup (the whole sentence when it has no tags inside), so a
       * SentenceBoundary `Text` is findable by the SDK like word boundaries are.
       */
      sentence?: SentenceSource;
    }
  | { kind: 'silence'; ms: number }
  | { kind: 'bookmark'; name: string };

export type SpeechItem = Extract<PlanItem, { kind: 'speech' }>;

export interface SynthesisPlan {
  /** The document language (speak's xml:lang, or the default). */
  lang: string;
  items: PlanItem[];
  /** Length of the source document in UTF-16 code units (the range of every `sourceOffset`). */
  sourceLength: number;
}

/** Prosody of the voice's defaults. */
export const NEUTRAL_PROSODY: Readonly<Prosody> = Object.freeze({ rate: 1, pitch: 1, volume: 1 });

/** Bounds of each Prosody multiplier (the ones documented on the Prosody port type). */
export const PROSODY_BOUNDS: Readonly<Record<keyof Prosody, readonly [min: number, max: number]>> = Object.freeze({
  rate: [0.25, 4] as const,
  pitch: [0.5, 2] as const,
  volume: [0, 4] as const,
});

/**
 * Clamps every field of `p` into {@link PROSODY_BOUNDS}, rounded to 6 decimals (so nested relative values such as
 * 1.2 × 1.5 compare equal to the 1.8 they mean, and items with the same prosody can be merged).
 */
export function clampProsody(p: Prosody): Prosody {
  const clamp = (v: number, [lo, hi]: readonly [number, number]): number => Math.round(Math.min(hi, Math.max(lo, v)) * 1e6) / 1e6;
  return { rate: clamp(p.rate, PROSODY_BOUNDS.rate), pitch: clamp(p.pitch, PROSODY_BOUNDS.pitch), volume: clamp(p.volume, PROSODY_BOUNDS.volume) };
}
