/**
 * One-shot worker thread that trains a custom model's language model (index.ts starts one per build), so that
 * normalising, counting and writing a large corpus never blocks the main event loop.
 *
 * Two steps, because pronunciations come from the main thread (the dataset's, or the injected letter-to-sound):
 * 1. at start: normalise the text, build the vocabulary, and report the words the base dictionary lacks;
 * 2. on `write`: count n-grams, with words that got no pronunciation treated as sentence breaks (they cannot be
 *    recognized, and leaving them out of a sentence would invent n-grams), write `lm.arpa` and `words.dict`
 *    into the output directory, check that sphinxbase reads the ARPA file, and report.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

import { EngineError, serializeEngineError, type SerializedEngineError } from '../../domain/ports/engines.js';
import { NgramCounter, normalizeTrainingText, Vocabulary, writeArpa } from './arpa.js';
import { validateArpaFile } from './bindings.js';

export interface BuildInit {
  /** Already bounded by the caller. */
  sentences: string[];
  /** Words (normalised, one token each) that must be in the vocabulary though the text may lack them. */
  extraWords: string[];
  /** The base dictionary, to find the words it lacks. */
  baseDict: string;
  outDir: string;
  /** File names to write in outDir. */
  lmFile: string;
  dictFile: string;
  /** N-gram order of the language model (1–3). */
  order: number;
}

export type ToBuildWorker = { type: 'write'; pronunciations: Array<{ word: string; phones: string }>; dropped: string[] };

export type FromBuildWorker =
  | { type: 'analysed'; newWords: string[]; sentenceCount: number }
  | { type: 'written'; vocabularySize: number; ngramCounts: number[] }
  | { type: 'failed'; error: SerializedEngineError };

function isBuildInit(value: unknown): value is BuildInit {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Record<keyof BuildInit, unknown>>;
  return Array.isArray(v.sentences) && Array.isArray(v.extraWords) && typeof v.baseDict === 'string' && typeof v.outDir === 'string'
    && typeof v.lmFile === 'string' && typeof v.dictFile === 'string' && typeof v.order === 'number';
}

/** The words of a cmudict-format file (alternate pronunciations `word(2)` count once). */
function dictionaryWords(file: string): Set<string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new EngineError('ModelLoadFailed', `cannot read the base dictionary ${file}`, { cause: err });
  }
  const words = new Set<string>();
  for (const line of text.split('\n')) {
    const end = line.search(/\s/u);
    const head = end < 0 ? line : line.slice(0, end);
    if (head !== '') words.add(head.replace(/\(\d+\)$/u, ''));
  }
  return words;
}

class Builder {
  private readonly vocabulary = new Vocabulary();
  private readonly sentences: Int32Array[] = [];

  constructor(private readonly init: BuildInit) {}

  analyse(): FromBuildWorker {
    for (const line of this.init.sentences) {
      for (const words of normalizeTrainingText(line)) this.sentences.push(Int32Array.from(words, (w) => this.vocabulary.id(w)));
    }
    const sentenceCount = this.sentences.length;
    // Words with a dataset pronunciation but absent from the text: one-word sentences give them some probability.
    for (const word of this.init.extraWords) {
      if (this.vocabulary.lookup(word) === undefined) this.sentences.push(Int32Array.of(this.vocabulary.id(word)));
    }
    const base = dictionaryWords(this.init.baseDict);
    const newWords = this.vocabulary.words.slice(2).filter((w) => !base.has(w)).sort();
    return { type: 'analysed', newWords, sentenceCount };
  }

  write(msg: ToBuildWorker): FromBuildWorker {
    const dropped = new Set<number>();
    for (const w of msg.dropped) {
      const id = this.vocabulary.lookup(w);
      if (id !== undefined) dropped.add(id);
    }
    const counter = new NgramCounter(this.init.order);
    for (const ids of this.sentences) {
      let start = 0;
      for (let i = 0; i <= ids.length; i++) {
        if (i < ids.length && !dropped.has(ids[i] ?? -1)) continue;
        if (i > start) counter.addSentence(ids.subarray(start, i));
        start = i + 1;
      }
    }
    if (counter.sentences === 0) throw new EngineError('Internal', 'the training text has no words the recognizer can use');

    const lmFile = path.join(this.init.outDir, this.init.lmFile);
    const partial = `${lmFile}.partial`;
    const fd = fs.openSync(partial, 'w');
    let summary;
    try {
      summary = writeArpa(counter, this.vocabulary, (chunk) => fs.writeSync(fd, chunk));
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(partial, lmFile);

    const lines: string[] = [];
    const seen = new Map<string, number>();
    for (const { word, phones } of msg.pronunciations) {
      const n = (seen.get(word) ?? 0) + 1;
      seen.set(word, n);
      lines.push(`${n === 1 ? word : `${word}(${n})`} ${phones}`);
    }
    fs.writeFileSync(path.join(this.init.outDir, this.init.dictFile), lines.length === 0 ? '' : `${lines.join('\n')}\n`);

    validateArpaFile(lmFile);
    // Unigrams less <s> and </s>.
    return { type: 'written', vocabularySize: (summary.counts[0] ?? 2) - 2, ngramCounts: summary.counts };
  }
}

const port = parentPort;
if (port === null) throw new Error('pocketsphinx/build-worker.js must run in a worker thread');
if (!isBuildInit(workerData)) throw new Error('pocketsphinx build worker started without valid workerData');

const builder = new Builder(workerData);
const run = (work: () => FromBuildWorker): void => {
  let out: FromBuildWorker;
  try {
    out = work();
  } catch (err) {
    out = { type: 'failed', error: serializeEngineError(err) };
  }
  port.postMessage(out);
  if (out.type !== 'analysed') port.close();
};
port.on('message', (msg: ToBuildWorker) => run(() => builder.write(msg)));
run(() => builder.analyse());
