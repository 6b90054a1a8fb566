import type { CustomModelBuild, CustomModelInput, EngineHypothesis, LiveDecoder, SttEngine, SttEngineInfo, SttModelRef } from '../../domain/ports/engines.js';
import { EngineError } from '../../domain/ports/engines.js';

/**
 * Deterministic speech-to-text for protocol unit tests only (DEVELOPERS.md: real engines everywhere
 * else). Every utterance "recognizes" as the next entry of `script`, words spread evenly over the audio.
 */
export class FakeSttEngine implements SttEngine {
  readonly info: SttEngineInfo = { id: 'fake', locales: ['en-US'] };
  #next = 0;
  /** Custom model ids loaded (and not unloaded since), with their directories. */
  readonly loadedModels = new Map<string, string>();

  constructor(private readonly script: readonly string[] = ['hello world']) {}

  supportsLocale(locale: string): boolean {
    return locale.toLowerCase() === 'en-us';
  }

  async openLiveDecoder(): Promise<LiveDecoder> {
    const text = this.script[this.#next % Math.max(1, this.script.length)] ?? '';
    let fed = 0;
    return {
      feed: async (pcm: Int16Array) => {
        fed += pcm.length;
        const words = text.split(' ');
        return words.slice(0, Math.max(1, Math.min(words.length, Math.ceil(fed / 8000)))).join(' ');
      },
      release: () => undefined,
    };
  }

  async decodeUtterance(model: SttModelRef, pcm: Int16Array, signal?: AbortSignal): Promise<EngineHypothesis> {
    if (signal?.aborted) throw new EngineError('Aborted', 'aborted');
    if (!this.supportsLocale(model.locale)) throw new EngineError('UnsupportedLocale', model.locale);
    if (model.modelId !== undefined && !this.loadedModels.has(model.modelId)) throw new EngineError('ModelLoadFailed', `unknown model '${model.modelId}'`);
    const text = this.script[this.#next++ % Math.max(1, this.script.length)] ?? '';
    const words = text === '' ? [] : text.split(' ');
    const totalMs = (pcm.length / 16_000) * 1000;
    const step = totalMs / Math.max(1, words.length);
    return {
      text,
      confidence: 0.9,
      words: words.map((word, i) => ({ word, startMs: i * step, endMs: (i + 1) * step, confidence: 0.9 })),
    };
  }

  /** Writes nothing; reports every distinct word as vocabulary and no new words. */
  async buildCustomModel(input: CustomModelInput, _outDir: string, signal?: AbortSignal): Promise<CustomModelBuild> {
    if (signal?.aborted) throw new EngineError('Aborted', 'aborted');
    if (!this.supportsLocale(input.locale)) throw new EngineError('UnsupportedLocale', input.locale);
    const words = new Set(input.sentences.flatMap((s) => s.toLowerCase().split(/\s+/u).filter((w) => w !== '')));
    return { files: [], vocabularySize: words.size, newWords: [], sentenceCount: input.sentences.length };
  }

  async loadCustomModel(modelId: string, dir: string): Promise<void> {
    this.loadedModels.set(modelId, dir);
  }

  async unloadCustomModel(modelId: string): Promise<void> {
    this.loadedModels.delete(modelId);
  }

  async ready(): Promise<void> {}
  async close(): Promise<void> {}
}
