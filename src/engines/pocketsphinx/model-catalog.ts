import path from 'node:path';

import { EngineError, type SttModelRef } from '../../domain/ports/engines.js';

/** Where Debian's `pocketsphinx-en-us` package installs the US English model. */
export const DEFAULT_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';

export const SUPPORTED_LOCALES: readonly string[] = ['en-US'];

/** Everything a decoder needs to load one model; sent to the workers, so it must stay plain data. */
export interface SphinxModelPaths {
  /**
   * Identifies the model for decoder reuse: two refs with the same key can share a decoder. Derived from
   * the paths, so a custom model that reuses the base acoustic model still gets its own decoders.
   */
  key: string;
  /** Acoustic model directory (`-hmm`). */
  hmm: string;
  /** Language model (`-lm`), binary or ARPA. */
  lm: string;
  /** Pronunciation dictionary (`-dict`). */
  dict: string;
}

/** A custom model (Custom Speech, a later issue): its own language model and/or dictionary on the base acoustics. */
export interface CustomSphinxModel {
  modelId: string;
  locale: string;
  lm?: string;
  dict?: string;
}

export interface ModelCatalogOptions {
  /** Overrides the base directory holding `en-us/`, `en-us.lm.bin` and `cmudict-en-us.dict`. */
  modelDir?: string;
  customModels?: Iterable<CustomSphinxModel>;
}

function sameLocale(a: string, b: string): boolean {
  // BCP-47 tags are case-insensitive; clients send "en-us" as often as "en-US".
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * Maps a model reference to files on disk. Pure bookkeeping: whether the files really load is found out
 * by the worker that creates the decoder (it reports `ModelLoadFailed`).
 */
export class PocketSphinxModelCatalog {
  private readonly base: Omit<SphinxModelPaths, 'key'>;
  private readonly custom = new Map<string, CustomSphinxModel>();

  constructor(options: ModelCatalogOptions = {}) {
    const dir = options.modelDir ?? DEFAULT_MODEL_DIR;
    this.base = {
      hmm: path.join(dir, 'en-us'),
      lm: path.join(dir, 'en-us.lm.bin'),
      dict: path.join(dir, 'cmudict-en-us.dict'),
    };
    for (const model of options.customModels ?? []) this.addCustomModel(model);
  }

  addCustomModel(model: CustomSphinxModel): void {
    this.custom.set(model.modelId, model);
  }

  supportsLocale(locale: string): boolean {
    return SUPPORTED_LOCALES.some((l) => sameLocale(l, locale));
  }

  /** @throws EngineError `UnsupportedLocale` or `ModelLoadFailed` (unknown `modelId`). */
  resolve(ref: SttModelRef): SphinxModelPaths {
    if (!this.supportsLocale(ref.locale)) {
      throw new EngineError('UnsupportedLocale', `PocketSphinx has no model for locale '${ref.locale}'`);
    }
    if (ref.modelId === undefined) return withKey(this.base);
    const custom = this.custom.get(ref.modelId);
    if (custom === undefined) {
      throw new EngineError('ModelLoadFailed', `unknown PocketSphinx model '${ref.modelId}'`);
    }
    if (!sameLocale(custom.locale, ref.locale)) {
      throw new EngineError('ModelLoadFailed', `model '${ref.modelId}' is for locale '${custom.locale}', not '${ref.locale}'`);
    }
    return withKey({ hmm: this.base.hmm, lm: custom.lm ?? this.base.lm, dict: custom.dict ?? this.base.dict });
  }
}

function withKey(paths: Omit<SphinxModelPaths, 'key'>): SphinxModelPaths {
  return { key: JSON.stringify([paths.hmm, paths.lm, paths.dict]), ...paths };
}
