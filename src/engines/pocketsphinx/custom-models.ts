/**
 * Custom models inside one worker thread (worker.ts owns one host): each custom model is an extra n-gram search
 * in the worker's decoders, scoring with the linear interpolation of the base language model and the model's
 * own, plus the model's new words in the decoder's dictionary.
 *
 * Sharing, per worker: the custom language model is read once and shared by all decoders of the thread (the
 * searches retain it). The base model is not loaded again: each decoder's search set reuses the base model of
 * that decoder's default search (retained by the set, so freeing either is safe). All calls are on this thread.
 *
 * Dictionary: pocketsphinx 0.8's `ps_add_word` would also add each word to every existing n-gram search's
 * model, the default one included, as a unigram (measured: "zorblax" became a base-model word); the base model
 * must stay unchanged. So the new words go in through `ps_load_dict` instead: a merged dictionary (base
 * cmudict + the new words of every custom model of this worker, in load order, further pronunciations of a word
 * as `word(2)`…), written to a temporary file, loaded into a decoder when it lacks some word of the model being
 * applied to it. Loading it re-initialises the decoder's searches (≈0.25 s) and leaves the default search as it
 * was: a search only uses dictionary words its language model knows. Unloading a model removes its searches
 * but not its words (harmless, for the same reason); the next merged dictionary leaves them out.
 */
import fs from 'node:fs';
import path from 'node:path';

import { EngineError } from '../../domain/ports/engines.js';
import { freeLanguageModel, type SphinxDecoder, type SphinxPointer } from './bindings.js';
import type { SphinxModelPaths } from './model-catalog.js';
import { isDictionaryWord, toSphinxPhones } from './phones.js';

/** What the main thread sends a worker to load a custom model; plain data. */
export interface CustomModelSpec {
  modelId: string;
  /** The model's ARPA language model. */
  lm: string;
  /** The model's new words, cmudict format (`word PH PH…`, alternates as `word(2)`). */
  dict: string;
  /** Interpolation weight of the custom language model (the base model gets 1 − weight); 0 < weight < 1. */
  weight: number;
}

interface LoadedModel {
  spec: CustomModelSpec;
  search: string;
  /** Our reference to the custom language model. */
  lm: SphinxPointer;
  /** `word\tPHONES` of each pronunciation the model needs in the dictionary. */
  entries: string[];
}

interface DecoderState {
  /** Pronunciations of the merged dictionary this decoder last loaded (empty: the base dictionary). */
  entries: Set<string>;
  /** Ids of the models whose search this decoder has. */
  models: Set<string>;
  /** Searches of unloaded models to remove once the decoder's live utterance has ended. */
  stale: Set<string>;
}

/** Search names live next to pocketsphinx's own ("_default"); the prefix keeps them apart. */
export function searchName(modelId: string): string {
  return `custom:${modelId}`;
}

function sameSpec(a: CustomModelSpec, b: CustomModelSpec): boolean {
  return a.lm === b.lm && a.dict === b.dict && a.weight === b.weight;
}

/** Reads a model's dictionary file into `word\tPHONES` entries. @throws EngineError `ModelLoadFailed` */
export function readDictionaryEntries(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new EngineError('ModelLoadFailed', `cannot read the custom dictionary ${file}`, { cause: err });
  }
  const entries: string[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const [head = '', ...phones] = trimmed.split(/\s+/u);
    const word = head.replace(/\(\d+\)$/u, '');
    const pron = toSphinxPhones(phones.join(' '));
    if (!isDictionaryWord(word) || pron === undefined) {
      throw new EngineError('ModelLoadFailed', `${file} line ${i + 1}: not a dictionary entry: '${trimmed.slice(0, 80)}'`);
    }
    entries.push(`${word}\t${pron}`);
  }
  return entries;
}

export class CustomModelHost {
  private readonly models = new Map<string, LoadedModel>();
  private readonly decoders = new Map<SphinxDecoder, DecoderState>();
  private tmpDir: string | undefined;
  /** The merged dictionary file last written, and the entries it holds beyond the base dictionary. */
  private dictFile: { path: string; entries: Set<string> } | undefined;
  private dictSerial = 0;
  private readonly fillerDict: string | null;

  /**
   * @param scratchDir where the merged dictionaries go (a directory of this worker's own is made inside); the
   *   engine removes it on close, which also covers workers that crashed before cleaning up.
   */
  constructor(
    private readonly base: SphinxModelPaths,
    private readonly scratchDir: string,
  ) {
    const noise = path.join(base.hmm, 'noisedict');
    this.fillerDict = fs.existsSync(noise) ? noise : null;
  }

  has(modelId: string): boolean {
    return this.models.has(modelId);
  }

  /**
   * Loads a model (idempotent for the same spec; a different spec under the same id replaces it) and adds its
   * search to `decoder` (the worker's batch decoder), so file and model errors surface here.
   * @throws EngineError `ModelLoadFailed`
   */
  load(spec: CustomModelSpec, decoder: SphinxDecoder): void {
    const existing = this.models.get(spec.modelId);
    if (existing !== undefined && sameSpec(existing.spec, spec)) {
      this.apply(decoder, spec.modelId);
      return;
    }
    if (!(spec.weight > 0 && spec.weight < 1)) throw new EngineError('ModelLoadFailed', `custom model weight must be in (0, 1), got ${spec.weight}`);
    const entries = readDictionaryEntries(spec.dict);
    if (!fs.existsSync(spec.lm)) throw new EngineError('ModelLoadFailed', `custom language model not found: ${spec.lm}`);
    if (existing !== undefined) this.unload(spec.modelId);
    const lm = decoder.readLanguageModel(spec.lm);
    this.models.set(spec.modelId, { spec, search: searchName(spec.modelId), lm, entries });
    try {
      this.apply(decoder, spec.modelId);
    } catch (err) {
      this.unload(spec.modelId);
      throw err;
    }
  }

  /**
   * Makes sure `decoder` has the search of `modelId` (adding the model's words to its dictionary first if
   * needed) and returns the search's name. @throws EngineError `ModelLoadFailed` for a model not loaded here.
   */
  apply(decoder: SphinxDecoder, modelId: string): string {
    const model = this.models.get(modelId);
    if (model === undefined) throw new EngineError('ModelLoadFailed', `custom model '${modelId}' is not loaded`);
    let state = this.decoders.get(decoder);
    if (state === undefined) {
      state = { entries: new Set(), models: new Set(), stale: new Set() };
      this.decoders.set(decoder, state);
    }
    if (state.models.has(modelId)) return model.search;
    state.stale.delete(model.search);
    if (model.entries.some((e) => !state.entries.has(e))) {
      const dict = this.mergedDictionary();
      decoder.loadDictionary(dict.path, this.fillerDict);
      state.entries = dict.entries;
    }
    decoder.addInterpolatedSearch(model.search, decoder.baseLanguageModel(), model.lm, model.spec.weight);
    state.models.add(modelId);
    return model.search;
  }

  /** Removes a model's searches from every decoder and drops our reference to its language model. No-op if unknown. */
  unload(modelId: string): void {
    const model = this.models.get(modelId);
    if (model === undefined) return;
    this.models.delete(modelId);
    for (const [decoder, state] of this.decoders) {
      if (!state.models.delete(modelId)) continue;
      // A live utterance may be using the search: it goes when the utterance ends (see `settle`). Its models are
      // reference-counted, so dropping our reference below leaves nothing dangling.
      if (decoder.inUtterance) state.stale.add(model.search);
      else decoder.removeSearch(model.search);
    }
    freeLanguageModel(model.lm);
  }

  /** The decoder's live utterance has ended: remove searches of models unloaded meanwhile. */
  settle(decoder: SphinxDecoder): void {
    const state = this.decoders.get(decoder);
    if (state === undefined || state.stale.size === 0 || decoder.inUtterance) return;
    for (const search of state.stale) decoder.removeSearch(search);
    state.stale.clear();
  }

  /** The decoder is about to be freed: forget it (its searches go with it). */
  forget(decoder: SphinxDecoder): void {
    this.decoders.delete(decoder);
  }

  /** Drops every model and the temporary files; call after the decoders were freed. */
  dispose(): void {
    this.decoders.clear();
    for (const model of this.models.values()) freeLanguageModel(model.lm);
    this.models.clear();
    if (this.tmpDir !== undefined) fs.rmSync(this.tmpDir, { recursive: true, force: true });
    this.tmpDir = undefined;
    this.dictFile = undefined;
  }

  /** The merged dictionary for the models loaded now, written if the last one differs. */
  private mergedDictionary(): { path: string; entries: Set<string> } {
    const byWord = new Map<string, string[]>();
    const entries = new Set<string>();
    for (const model of this.models.values()) {
      for (const entry of model.entries) {
        if (entries.has(entry)) continue;
        entries.add(entry);
        const [word = '', phones = ''] = entry.split('\t');
        const prons = byWord.get(word) ?? [];
        prons.push(phones);
        byWord.set(word, prons);
      }
    }
    const current = this.dictFile;
    if (current !== undefined && current.entries.size === entries.size && [...entries].every((e) => current.entries.has(e))) return current;
    this.tmpDir ??= fs.mkdtempSync(path.join(this.scratchDir, 'worker-'));
    const file = path.join(this.tmpDir, `dict-${++this.dictSerial}.dict`);
    const lines: string[] = [];
    for (const [word, prons] of byWord) prons.forEach((p, i) => lines.push(`${i === 0 ? word : `${word}(${i + 1})`} ${p}`));
    const base = fs.readFileSync(this.base.dict, 'utf8');
    fs.writeFileSync(file, `${base}${base.endsWith('\n') ? '' : '\n'}${lines.join('\n')}\n`);
    // Decoders read the file while loading it and never again.
    if (current !== undefined) fs.rmSync(current.path, { force: true });
    this.dictFile = { path: file, entries };
    return this.dictFile;
  }
}
