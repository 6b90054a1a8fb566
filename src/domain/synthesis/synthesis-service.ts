import { AsyncChannel } from '../../kernel/async-channel.js';
import { isServiceError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/logger.js';
import { Resampler } from '../../kernel/audio/resample.js';
import type { CompressedAudioEncoder } from '../ports/audio.js';
import { EngineError, type TtsEngine } from '../ports/engines.js';
import { Errors } from '../errors.js';
import { createAudioOutput, type AudioOutput } from './audio-output.js';
import { parseOutputFormat, type OutputFormat } from './output-formats.js';
import type { PlanItem, SourceWord, SynthesisPlan } from './plan.js';
import { planFromText, parseSsml } from './ssml.js';
import { visemeId } from './visemes.js';
import { VoiceCatalog, type CatalogVoice } from './voices.js';

/** What a synthesis produces, in order: encoded audio and the metadata the client asked for. */
export type SynthesisOutput =
  | { type: 'audio'; data: Buffer }
  | { type: 'boundary'; boundary: 'word' | 'punctuation' | 'sentence'; text: string; offsetMs: number; durationMs: number }
  | { type: 'bookmark'; name: string; offsetMs: number }
  | { type: 'viseme'; visemeId: number; offsetMs: number }
  /** Last event: the total audio duration. */
  | { type: 'end'; durationMs: number };

export interface SynthesisOptions {
  wordBoundary: boolean;
  punctuationBoundary: boolean;
  sentenceBoundary: boolean;
  bookmarks: boolean;
  visemes: boolean;
  signal?: AbortSignal;
}

export interface SynthesisLimits {
  /** Audio beyond this is cut (Azure: 10 minutes per request). */
  maxAudioMs: number;
  /** SSML documents larger than this are refused (Azure: 64 KB). */
  maxSsmlBytes: number;
  maxVoiceElements: number;
}

/** Entry point of text-to-speech for every surface (REST and WebSocket share it). */
export class SynthesisService {
  readonly catalog: VoiceCatalog;
  readonly #engines: Map<string, TtsEngine>;

  constructor(
    engines: readonly TtsEngine[],
    private readonly encoder: CompressedAudioEncoder,
    private readonly limits: SynthesisLimits,
    private readonly logger: Logger,
    catalogOptions: ConstructorParameters<typeof VoiceCatalog>[1] = {},
  ) {
    this.#engines = new Map(engines.map((e) => [e.id, e]));
    this.catalog = new VoiceCatalog(
      engines.flatMap((e) => e.voices()),
      catalogOptions,
    );
  }

  /** Parses an SSML document into a plan and checks every voice it names (throws InvalidSsml/UnsupportedVoice). */
  planSsml(ssml: string): SynthesisPlan {
    const plan = parseSsml(ssml, { maxBytes: this.limits.maxSsmlBytes, maxVoices: this.limits.maxVoiceElements });
    this.#resolveVoices(plan);
    return plan;
  }

  planText(text: string, voiceName: string, lang: string): SynthesisPlan {
    const plan = planFromText(text, voiceName, lang);
    this.#resolveVoices(plan);
    return plan;
  }

  /** The output format for a wire name, or UnsupportedOutputFormat. */
  outputFormat(name: string): OutputFormat {
    const f = parseOutputFormat(name);
    if (!f) throw Errors.unsupportedOutputFormat(name);
    if (!f.supported) throw Errors.unsupportedOutputFormat(name, f.unsupportedReason);
    return f;
  }

  /**
   * Synthesizes a plan, streaming: encoded audio leaves as each sentence is synthesized, metadata in
   * audio-time order ahead of or alongside the audio it describes. The iterable ends with `end`.
   * A slow consumer slows synthesis (bounded queue).
   */
  synthesize(plan: SynthesisPlan, format: OutputFormat, opts: SynthesisOptions): AsyncIterable<SynthesisOutput> {
    // Bounded in bytes as well as items: small encoder chunks and a short queue keep a slow reader's
    // backlog to a few hundred milliseconds of audio beyond what the engine reads ahead.
    const out = new AsyncChannel<SynthesisOutput>(8);
    const output = createAudioOutput(format, format.sampleRate, this.encoder, { highWaterMark: 4 * 1024 });
    const pump = (async () => {
      for await (const data of output.chunks) await out.push({ type: 'audio', data });
    })();
    // A failed or aborted synthesis destroys the output, which rejects the pump: that is reported through
    // the channel by the producer below, so the pump's own rejection must not go unhandled.
    pump.catch(() => undefined);
    void this.#produce(plan, format, opts, output, out)
      .then(async (durationMs) => {
        await output.end();
        await pump;
        await out.push({ type: 'end', durationMs });
        out.close();
      })
      .catch((err: unknown) => {
        output.destroy();
        out.fail(toSynthesisError(err));
      });
    return out;
  }

  #resolveVoices(plan: SynthesisPlan): void {
    for (const item of plan.items) {
      if (item.kind === 'speech') this.#voiceFor(item);
    }
  }

  #voiceFor(item: Extract<PlanItem, { kind: 'speech' }>): CatalogVoice {
    return this.catalog.resolve(item.voice.name, item.voice.lang ?? item.lang);
  }

  /** Runs the engines over the plan; PCM goes to the encoder, metadata straight to `meta`. Returns the duration. */
  async #produce(plan: SynthesisPlan, format: OutputFormat, opts: SynthesisOptions, output: AudioOutput, meta: AsyncChannel<SynthesisOutput>): Promise<number> {
    const rate = format.sampleRate;
    const maxSamples = Math.floor((this.limits.maxAudioMs * rate) / 1000);
    let written = 0;
    const ms = (samples: number): number => (samples * 1000) / rate;
    const writePcm = async (pcm: Int16Array): Promise<boolean> => {
      const room = maxSamples - written;
      const piece = pcm.length > room ? pcm.subarray(0, room) : pcm;
      if (piece.length > 0) {
        await output.write(piece);
        written += piece.length;
      }
      return written < maxSamples;
    };

    for (const item of plan.items) {
      if (opts.signal?.aborted) throw Errors.requestTimeout('The synthesis was canceled.');
      if (written >= maxSamples) break;
      if (item.kind === 'silence') {
        await writePcm(new Int16Array(Math.round((item.ms * rate) / 1000)));
        continue;
      }
      if (item.kind === 'bookmark') {
        if (opts.bookmarks) await meta.push({ type: 'bookmark', name: item.name, offsetMs: ms(written) });
        continue;
      }
      const cv = this.#voiceFor(item);
      const engine = this.#engines.get(cv.voice.engine);
      if (!engine) throw Errors.unsupportedVoice(cv.shortName, 'Its engine is not running.');
      const baseMs = ms(written);
      if (opts.sentenceBoundary && item.sentenceStart) {
        const text = item.sentence?.sourceText;
        if (text) await meta.push({ type: 'boundary', boundary: 'sentence', text, offsetMs: baseMs, durationMs: 0 });
      }
      const resampler = cv.voice.sampleRate === rate ? undefined : new Resampler(cv.voice.sampleRate, rate);
      const gain = item.prosody.volume;
      // One WordBoundary per source word, spanning every engine word it expanded to ("$3.50" is spoken as
      // four words but the SDK must see "$3.50" once); punctuation between words gets its own boundary.
      let pending: { word: SourceWord; startMs: number; endMs: number } | undefined;
      let spokenCursor = 0;
      const flushWord = async (): Promise<void> => {
        if (pending && opts.wordBoundary) {
          await meta.push({ type: 'boundary', boundary: 'word', text: pending.word.sourceText, offsetMs: pending.startMs, durationMs: pending.endMs - pending.startMs });
        }
        pending = undefined;
      };
      const punctuationBefore = async (spokenOffset: number, atMs: number): Promise<void> => {
        for (const w of item.words) {
          if (w.kind === 'punctuation' && w.spokenOffset >= spokenCursor && w.spokenOffset < spokenOffset) {
            await flushWord();
            if (opts.punctuationBoundary) await meta.push({ type: 'boundary', boundary: 'punctuation', text: w.sourceText, offsetMs: atMs, durationMs: 0 });
          }
        }
      };
      for await (const ev of engine.synthesize({ text: item.text, voiceId: cv.voice.id, prosody: item.prosody }, opts.signal)) {
        if (ev.type === 'audio') {
          let pcm = applyGain(ev.pcm, gain);
          if (resampler) pcm = resampler.process(pcm);
          if (!(await writePcm(pcm))) break;
        } else if (ev.type === 'word') {
          const startMs = baseMs + ev.audioOffsetMs;
          const endMs = startMs + ev.durationMs;
          await punctuationBefore(ev.textOffset, startMs);
          for (const w of wordsIn(item.words, ev.textOffset, ev.textLength)) {
            if (w.kind !== 'word') continue;
            if (pending?.word === w) pending.endMs = endMs;
            else {
              await flushWord();
              pending = { word: w, startMs, endMs };
            }
          }
          spokenCursor = Math.max(spokenCursor, ev.textOffset + ev.textLength);
        } else if (ev.type === 'phone' && opts.visemes) {
          await meta.push({ type: 'viseme', visemeId: visemeId(ev.phone, engine.phoneSet), offsetMs: baseMs + ev.audioOffsetMs });
        }
      }
      if (resampler) await writePcm(resampler.flush());
      await flushWord();
      // Punctuation after the last word the engine reported (engines report words, not marks).
      await punctuationBefore(Number.POSITIVE_INFINITY, ms(written));
    }
    return ms(written);
  }
}

/** Source words whose spoken span overlaps [offset, offset+length) of the item's text. */
function wordsIn(words: readonly SourceWord[], offset: number, length: number): SourceWord[] {
  const end = offset + Math.max(1, length);
  return words.filter((w) => w.spokenOffset < end && w.spokenOffset + Math.max(1, w.spokenLength) > offset);
}

function applyGain(pcm: Int16Array, gain: number): Int16Array {
  if (gain === 1) return pcm;
  const out = new Int16Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round((pcm[i] ?? 0) * gain)));
  return out;
}

function toSynthesisError(err: unknown): unknown {
  if (isServiceError(err)) return err;
  if (err instanceof EngineError) {
    if (err.kind === 'Overloaded') return Errors.engineOverloaded();
    if (err.kind === 'Aborted') return Errors.requestTimeout('The synthesis was canceled.');
    if (err.kind === 'UnsupportedLocale') return Errors.unsupportedVoice('', err.message);
  }
  return Errors.engineFailure(err);
}

