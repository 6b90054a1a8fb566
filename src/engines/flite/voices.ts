/**
 * The flite voices Debian's `libflite1` ships, as Parlance voices. Pure data: safe to import on the main thread.
 *
 * Sample rates are the voices' own (the worker checks each one against a real synthesis at start-up and refuses
 * to start on a mismatch, because the domain resamples by what this catalogue says). Speaking rates were measured
 * with this engine at prosody rate 1: 75 words in 5 sentences (the test set of engines.md §5), divided by the
 * length of the audio including the pauses flite puts around each sentence.
 */
import type { TtsVoice } from '../../domain/ports/engines.js';

export const ENGINE_ID = 'flite';

export interface FliteVoiceInfo extends TtsVoice {
  /** Flite's name: `libflite_cmu_us_<fliteName>.so.1`, `register_cmu_us_<fliteName>()`. */
  fliteName: string;
}

function voice(fliteName: string, name: string, locale: string, gender: TtsVoice['gender'], sampleRate: number, wordsPerMinute: number): FliteVoiceInfo {
  return { id: `${ENGINE_ID}:${fliteName}`, engine: ENGINE_ID, name, locale, gender, sampleRate, wordsPerMinute, fliteName };
}

/** Every voice this engine knows, in the order voices() lists them. */
export const FLITE_VOICES: readonly FliteVoiceInfo[] = [
  // Clustergen (statistical parametric) voices, ≈110–130 ms for a 25-word sentence.
  voice('slt', 'Slt', 'en-US', 'Female', 16_000, 206),
  voice('rms', 'Rms', 'en-US', 'Male', 16_000, 180),
  // awb is a Scottish English speaker with the US English front end (lexicon, text rules): en-GB is the closest
  // locale Azure has.
  voice('awb', 'Awb', 'en-GB', 'Male', 16_000, 211),
  // Diphone voices: robotic but ≈20× faster (6 ms for the same sentence).
  voice('kal16', 'Kal16', 'en-US', 'Male', 16_000, 208),
  voice('kal', 'Kal', 'en-US', 'Male', 8_000, 205),
];

/** The voices of `fliteNames` (all when undefined). @throws RangeError for a name this engine does not know. */
export function selectVoices(fliteNames: readonly string[] | undefined): FliteVoiceInfo[] {
  if (fliteNames === undefined) return [...FLITE_VOICES];
  return fliteNames.map((n) => {
    const v = FLITE_VOICES.find((x) => x.fliteName === n);
    if (v === undefined) throw new RangeError(`FliteEngine: unknown voice '${n}' (known: ${FLITE_VOICES.map((x) => x.fliteName).join(', ')})`);
    return v;
  });
}
