import path from 'node:path';

import { EngineError, type SttModelRef } from '../../domain/ports/engines.js';

/** Where Debian's `pocketsphinx-en-us` package installs the US English model. */
export const DEFAULT_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

export const SUPPORTED_LOCALES: readonly string[] = ['en-US'];

/** Everything a decoder needs to load one model; sent to the workers, so it must stay plain data. */
export interface SphinxModelPaths {
  /**
   * Identifies the model for decoder reuse: two refs with the same key can share a decoder. Derived from the
   * paths. Custom models are searches inside the base model's decoders, so they share its key.
   */
  key: string;
  /** Acoustic model directory (`-hmm`). */
  hmm: string;
  /** Language model (`-lm`), binary or ARPA. */
  lm: string;
  /** Pronunciation dictionary (`-dict`). */
  dict: string;
}

export interface ModelCatalogOptions {
  /** Overrides the base directory holding `en-us/`, `en-us.lm.bin` and `cmudict-en-us.dict`. */
  modelDir?: string;
}

function sameLocale(a: string, b: string): boolean {
  // BCP-47 tags are case-insensitive; clients send "en-us" as often as "en-US".
  return a.toLowerCase() === b.toLowerCase();
}

/** A custom model the engine has loaded: a search inside the base model's decoders (custom-models.ts). */
export interface LoadedCustomModel {
  modelId: string;
  locale: string;
}

/** What a model reference resolves to: the decoder's files, and the custom model's search in it, if any. */
export interface ResolvedModel {
  paths: SphinxModelPaths;
  customModelId?: string;
}

/**
 * Maps a model reference to files on disk and to the custom models loaded. Pure bookkeeping: whether the files
 * really load is found out by the worker that creates the decoder (it reports `ModelLoadFailed`).
 */
export class PocketSphinxModelCatalog {
  private readonly base: Omit<SphinxModelPaths, 'key'>;
  private readonly custom = new Map<string, LoadedCustomModel>();

  constructor(options: ModelCatalogOptions = {}) {
    const dir = options.modelDir ?? DEFAULT_MODEL_DIR;
    this.base = {
      hmm: path.join(dir, 'en-us'),
      lm: path.join(dir, 'en-us.lm.bin'),
      dict: path.join(dir, 'cmudict-en-us.dict'),
    };
  }

  get baseModel(): SphinxModelPaths {
    return withKey(this.base);
  }

  addCustomModel(model: LoadedCustomModel): void {
    this.custom.set(model.modelId, model);
  }

  removeCustomModel(modelId: string): void {
    this.custom.delete(modelId);
  }

  customModel(modelId: string): LoadedCustomModel | undefined {
    return this.custom.get(modelId);
  }

  supportsLocale(locale: string): boolean {
    return SUPPORTED_LOCALES.some((l) => sameLocale(l, locale));
  }

  /** @throws EngineError `UnsupportedLocale` or `ModelLoadFailed` (unknown `modelId`, or one of another locale). */
  resolve(ref: SttModelRef): ResolvedModel {
    if (!this.supportsLocale(ref.locale)) {
      throw new EngineError('UnsupportedLocale', `PocketSphinx has no model for locale '${ref.locale}'`);
    }
    const paths = withKey(this.base);
    if (ref.modelId === undefined) return { paths };
    const custom = this.custom.get(ref.modelId);
    if (custom === undefined) {
      throw new EngineError('ModelLoadFailed', `unknown PocketSphinx model '${ref.modelId}'`);
    }
    if (!sameLocale(custom.locale, ref.locale)) {
      throw new EngineError('ModelLoadFailed', `model '${ref.modelId}' is for locale '${custom.locale}', not '${ref.locale}'`);
    }
    return { paths, customModelId: custom.modelId };
  }
}

function withKey(paths: Omit<SphinxModelPaths, 'key'>): SphinxModelPaths {
  return { key: JSON.stringify([paths.hmm, paths.lm, paths.dict]), ...paths };
}
