/**
 * Training a custom model (main-thread side): bounds the input, runs the build worker (build-worker.ts) for the
 * heavy part, finds pronunciations for the words the base dictionary lacks, and writes the model's manifest.
 *
 * A model directory holds:
 * - `lm.arpa`: a trigram ARPA language model of the domain text (Witten-Bell, see arpa.ts), interpolated with
 *   the base model at decode time (custom-models.ts);
 * - `words.dict`: pronunciations (cmudict format) of the words of the text the base dictionary lacks, from the
 *   dataset's pronunciations first, else from the letter-to-sound rules; words with neither are left out and
 *   listed as dropped;
 * - `model.json`: what was built, read back by `readCustomModelManifest` when the model is loaded.
 *
 * Dataset pronunciations of words the base dictionary already has are not used (the base pronunciations
 * stay): a dictionary is shared by all of a decoder's searches, so adding one would change base-model results.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';

import { EngineError, engineErrorFrom, type CustomModelBuild, type CustomModelInput, type LetterToSound } from '../../domain/ports/engines.js';
import type { Logger } from '../../kernel/logger.js';
import { startWorker } from '../../kernel/worker-threads.js';
import { normalizeTrainingText } from './arpa.js';
import type { BuildInit, FromBuildWorker, ToBuildWorker } from './build-worker.js';
import { isDictionaryWord, toSphinxPhones } from './phones.js';

export const MANIFEST_FILE = 'model.json';
const LM_FILE = 'lm.arpa';
const DICT_FILE = 'words.dict';
const NGRAM_ORDER = 3;
const MANIFEST_FORMAT = 'parlance-pocketsphinx-custom-model';
const MANIFEST_VERSION = 1;

/** What a build uses at most of its input; the rest is ignored and the build says `truncated`. */
export interface CustomModelLimits {
  /** Lines (entries of `sentences`). Default 200,000. */
  maxSentences: number;
  /** Characters (UTF-16 units) over all lines. Default 10,000,000. */
  maxChars: number;
}

export const DEFAULT_CUSTOM_MODEL_LIMITS: CustomModelLimits = { maxSentences: 200_000, maxChars: 10_000_000 };

interface CustomModelManifest {
  format: typeof MANIFEST_FORMAT;
  version: typeof MANIFEST_VERSION;
  engine: 'pocketsphinx';
  locale: string;
  languageModel: string;
  dictionary: string;
  order: number;
  smoothing: 'witten-bell';
  sentenceCount: number;
  vocabularySize: number;
  ngramCounts: number[];
  newWords: CustomModelBuild['newWords'];
  droppedWords: string[];
  truncated: boolean;
}

const BUILD_WORKER_URL = new URL('./build-worker.js', import.meta.url);

export interface BuildContext {
  baseDict: string;
  letterToSound: LetterToSound | undefined;
  limits: CustomModelLimits;
  log: Logger;
}

/** Letter-to-sound lookups may be synchronous underneath: give the event loop a turn at least this often. */
const YIELD_EVERY_MS = 10;

/** Not narrowed by earlier checks, unlike `signal.aborted` (it changes under our feet). */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function abortedError(): EngineError {
  return new EngineError('Aborted', 'custom model build aborted');
}

/** The first lines of `sentences` within the limits. */
function bound(sentences: readonly string[], limits: CustomModelLimits): { sentences: string[]; truncated: boolean } {
  const out: string[] = [];
  let chars = 0;
  for (const s of sentences) {
    if (typeof s !== 'string') continue;
    if (out.length >= limits.maxSentences || chars + s.length > limits.maxChars) return { sentences: out, truncated: true };
    out.push(s);
    chars += s.length;
  }
  return { sentences: out, truncated: false };
}

/** One-shot worker as a sequence of awaited replies; rejects on abort (terminating it) or if it dies. */
class BuildWorker {
  private readonly replies: FromBuildWorker[] = [];
  private waiting: { resolve(msg: FromBuildWorker): void; reject(err: unknown): void } | undefined;
  private failure: EngineError | undefined;

  constructor(
    private readonly worker: Worker,
    private readonly signal: AbortSignal | undefined,
  ) {
    worker.on('message', (msg: FromBuildWorker) => this.push(msg));
    worker.on('error', (err) => this.fail(new EngineError('Internal', `custom model build worker failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => {
      this.fail(new EngineError(isAborted(signal) ? 'Aborted' : 'Internal', `custom model build worker exited (code ${code})`));
    });
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  private readonly onAbort = (): void => {
    this.fail(abortedError());
    void this.worker.terminate();
  };

  send(msg: ToBuildWorker): void {
    this.worker.postMessage(msg);
  }

  next(): Promise<FromBuildWorker> {
    const ready = this.replies.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  /** Ends the worker (no-op once it has exited). */
  dispose(): void {
    this.signal?.removeEventListener('abort', this.onAbort);
    void this.worker.terminate();
  }

  private push(msg: FromBuildWorker): void {
    const w = this.waiting;
    this.waiting = undefined;
    if (w !== undefined) w.resolve(msg);
    else this.replies.push(msg);
  }

  private fail(err: EngineError): void {
    this.failure ??= err;
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(this.failure);
  }
}

async function expect<T extends FromBuildWorker['type']>(worker: BuildWorker, type: T): Promise<Extract<FromBuildWorker, { type: T }>> {
  const msg = await worker.next();
  if (msg.type === 'failed') throw engineErrorFrom(msg.error);
  if (msg.type !== type) throw new EngineError('Internal', `custom model build: unexpected '${msg.type}', expected '${type}'`);
  return msg as Extract<FromBuildWorker, { type: T }>;
}

/**
 * Trains a custom model into `outDir` (created if missing). See the module comment for what is written.
 * `signal` aborts it (the worker is terminated and the files written so far are removed).
 */
/**
 * Spoken forms ("3cpo" spoken "three c p o") as phones: the base dictionary's first pronunciation of
 * each spoken word, else letter-to-sound, concatenated. A form with a word that has neither is skipped.
 */
async function spokenFormPhones(input: CustomModelInput, ctx: BuildContext): Promise<Map<string, string>> {
  const forms = (input.spokenForms ?? []).slice(0, 100_000);
  const out = new Map<string, string>();
  if (forms.length === 0) return out;
  const parsed = forms.flatMap(({ word, spoken }) => {
    const key = normalizeTrainingText(word);
    const words = normalizeTrainingText(spoken).flat();
    const single = key.length === 1 && key[0]?.length === 1 ? key[0][0] : undefined;
    return single !== undefined && isDictionaryWord(single) && words.length > 0 && words.length <= 50 ? [{ word: single, words }] : [];
  });
  const needed = new Set(parsed.flatMap((p) => p.words));
  const known = new Map<string, string>();
  // One pass over cmudict, keeping only the words the spoken forms use.
  const text = await fs.promises.readFile(ctx.baseDict, 'utf8');
  for (const line of text.split('\n')) {
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    const w = line.slice(0, space);
    if (needed.has(w) && !known.has(w)) known.set(w, line.slice(space + 1).trim());
  }
  let skipped = 0;
  for (const { word, words } of parsed) {
    const phones: string[] = [];
    for (const w of words) {
      let p = known.get(w);
      if (p === undefined && ctx.letterToSound !== undefined) {
        const raw = await ctx.letterToSound.phones(w, input.locale);
        p = raw === undefined ? undefined : toSphinxPhones(raw);
      }
      if (p === undefined) break;
      phones.push(p);
    }
    if (phones.length === words.length) out.set(word, phones.join(' '));
    else skipped++;
  }
  if (skipped > 0) ctx.log.warn({ skipped }, 'custom model: spoken forms with words that have no pronunciation were ignored');
  return out;
}

export async function buildCustomModel(input: CustomModelInput, outDir: string, ctx: BuildContext, signal?: AbortSignal): Promise<CustomModelBuild> {
  if (signal?.aborted === true) throw abortedError();
  await fs.promises.mkdir(outDir, { recursive: true });

  // The dataset's pronunciations, keyed by the word as the language model spells it.
  const dataset = new Map<string, string[]>();
  let unusable = 0;
  for (const { word, phones } of input.pronunciations) {
    const normalized = typeof word === 'string' ? normalizeTrainingText(word) : [];
    const key = normalized.length === 1 && normalized[0]?.length === 1 ? normalized[0][0] : undefined;
    const pron = typeof phones === 'string' ? toSphinxPhones(phones) : undefined;
    if (key === undefined || pron === undefined || !isDictionaryWord(key)) {
      unusable++;
      continue;
    }
    const prons = dataset.get(key) ?? [];
    if (!prons.includes(pron)) prons.push(pron);
    dataset.set(key, prons);
  }
  if (unusable > 0) ctx.log.warn({ unusable }, 'custom model: pronunciations that are not one word with arpabet phones were ignored');
  for (const [word, phones] of await spokenFormPhones(input, ctx)) {
    const prons = dataset.get(word) ?? [];
    if (!prons.includes(phones)) prons.push(phones);
    dataset.set(word, prons);
  }

  const { sentences, truncated } = bound(input.sentences, ctx.limits);
  if (truncated) ctx.log.warn({ used: sentences.length, limits: ctx.limits }, 'custom model: training text beyond the limits was ignored');
  const init: BuildInit = { sentences, extraWords: [...dataset.keys()], baseDict: ctx.baseDict, outDir, lmFile: LM_FILE, dictFile: DICT_FILE, order: NGRAM_ORDER };
  const worker = new BuildWorker(startWorker(BUILD_WORKER_URL, init), signal);
  try {
    const analysed = await expect(worker, 'analysed');

    const newWords: CustomModelBuild['newWords'] = [];
    const dropped: string[] = [];
    let lastYield = performance.now();
    for (const word of analysed.newWords) {
      if (performance.now() - lastYield > YIELD_EVERY_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
      if (isAborted(signal)) throw abortedError();
      const given = dataset.get(word);
      if (given !== undefined) {
        for (const phones of given) newWords.push({ word, phones, source: 'dataset' });
        continue;
      }
      const raw = ctx.letterToSound === undefined ? undefined : await ctx.letterToSound.phones(word, input.locale);
      const phones = raw === undefined ? undefined : toSphinxPhones(raw);
      if (phones === undefined) dropped.push(word);
      else newWords.push({ word, phones, source: 'letter-to-sound' });
    }
    const added = new Set(analysed.newWords);
    const known = [...dataset.keys()].filter((w) => !added.has(w));
    if (known.length > 0) ctx.log.info({ words: known.slice(0, 20), count: known.length }, 'custom model: dataset pronunciations of base-dictionary words are not used');
    if (dropped.length > 0) ctx.log.warn({ words: dropped.slice(0, 20), count: dropped.length }, 'custom model: words without a pronunciation were left out');

    worker.send({ type: 'write', pronunciations: newWords.map(({ word, phones }) => ({ word, phones })), dropped });
    const written = await expect(worker, 'written');

    const manifest: CustomModelManifest = {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      engine: 'pocketsphinx',
      locale: input.locale,
      languageModel: LM_FILE,
      dictionary: DICT_FILE,
      order: NGRAM_ORDER,
      smoothing: 'witten-bell',
      sentenceCount: analysed.sentenceCount,
      vocabularySize: written.vocabularySize,
      ngramCounts: written.ngramCounts,
      newWords,
      droppedWords: dropped,
      truncated,
    };
    await fs.promises.writeFile(path.join(outDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    return {
      files: [MANIFEST_FILE, LM_FILE, DICT_FILE],
      vocabularySize: written.vocabularySize,
      newWords,
      sentenceCount: analysed.sentenceCount,
      droppedWords: dropped,
      truncated,
    };
  } catch (err) {
    // Leave no half-built model behind.
    await Promise.all([MANIFEST_FILE, LM_FILE, `${LM_FILE}.partial`, DICT_FILE].map((f) => fs.promises.rm(path.join(outDir, f), { force: true })));
    if (isAborted(signal)) throw abortedError();
    throw err;
  } finally {
    worker.dispose();
  }
}

/** Files and locale of the model built into `dir`. @throws EngineError `ModelLoadFailed` */
export async function readCustomModelManifest(dir: string): Promise<{ locale: string; lm: string; dict: string }> {
  let manifest: Partial<CustomModelManifest>;
  try {
    manifest = JSON.parse(await fs.promises.readFile(path.join(dir, MANIFEST_FILE), 'utf8')) as Partial<CustomModelManifest>;
  } catch (err) {
    throw new EngineError('ModelLoadFailed', `no readable custom model in ${dir}`, { cause: err });
  }
  const plainName = (name: unknown): name is string => typeof name === 'string' && name !== '' && path.basename(name) === name;
  if (manifest.format !== MANIFEST_FORMAT || manifest.version !== MANIFEST_VERSION || typeof manifest.locale !== 'string'
    || !plainName(manifest.languageModel) || !plainName(manifest.dictionary)) {
    throw new EngineError('ModelLoadFailed', `${path.join(dir, MANIFEST_FILE)} is not a PocketSphinx custom model manifest`);
  }
  return { locale: manifest.locale, lm: path.join(dir, manifest.languageModel), dict: path.join(dir, manifest.dictionary) };
}
