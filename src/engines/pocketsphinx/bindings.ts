/**
 * koffi bindings to the Debian PocketSphinx 0.8 (5prealpha) shared libraries, and a small decoder wrapper.
 *
 * Every call here is synchronous C: load this module only inside a worker thread (see worker.ts), never on
 * the main event loop. Measured behaviour behind the choices below: /work/shared/docs/engines.md §4.
 */
import fs from 'node:fs';

import koffi, { type LibraryHandle } from 'koffi';

import { EngineError, type EngineHypothesis, type RecognizedWord } from '../../domain/ports/engines.js';
import type { SphinxModelPaths } from './model-catalog.js';

/**
 * Decoder arguments besides the model files.
 * - `-maxhmmpf 3000 -maxwpf 10 -pl_window 5`: measured fastest setting with no accuracy loss (engines.md §4.2).
 * - `-remove_silence no`: with the default (`yes`) the front end's VAD drops silent frames before the search,
 *   so segment frame numbers no longer match audio time (a leading pause vanished: words came out 640 ms
 *   early), and how much is dropped depends on noise statistics left over from earlier audio. With `no`,
 *   frame n is always audio time n×10 ms. Measured on the 18 gold files: same WER (22.0 %), RTF +10 %.
 * - `-logfn /dev/null`: the C library logs verbosely to stderr otherwise.
 */
export const DECODER_ARGS: readonly string[] = [
  '-maxhmmpf', '3000',
  '-maxwpf', '10',
  '-pl_window', '5',
  '-remove_silence', 'no',
  '-logfn', '/dev/null',
];

/**
 * Extra arguments for live decoders, which only give partial hypotheses (finals come from a whole-utterance
 * batch decode): no second (flat-lexicon) pass and no lattice, which PocketSphinx would otherwise run when
 * each live utterance ends, costing worker time that the pending final decode is waiting for.
 */
export const LIVE_DECODER_ARGS: readonly string[] = ['-fwdflat', 'no', '-bestpath', 'no'];

/** The search ps_init creates from `-lm` (PS_DEFAULT_SEARCH). */
export const DEFAULT_SEARCH = '_default';

/** PocketSphinx's default front end: 100 frames per second. */
const FRAME_MS = 10;

/**
 * Confidence reported when the decoder built no word lattice, hence computed no posteriors. Not observed with
 * our settings (`-bestpath` stays on, and a search without word exits yields no hypothesis at all), but then
 * ps_seg_prob would return 0, i.e. log(1): "certain". 0.5 says "unknown" instead, claiming neither certainty
 * nor rejection.
 */
const UNKNOWN_CONFIDENCE = 0.5;

/**
 * Replaces exact-zero samples with ±1 LSB of deterministic noise. Digital silence has zero energy, which the
 * front end floors to one constant; after mean normalisation those frames look like speech and a second of
 * zeros decodes as "dog". The decoder's own `-dither` would fix that but draws from one process-wide random
 * generator, which makes results depend on other decodes (and races between worker threads). A fixed-seed
 * generator per utterance keeps decoding deterministic; real recordings rarely contain exact zeros, and ±1 LSB
 * (-90 dBFS) is far below any audible signal. Measured on the 18 gold files: same WER, same text.
 * Returns `pcm` itself when it has no zeros, otherwise a modified copy.
 */
export function ditherDigitalSilence(pcm: Int16Array, rng: XorShift32): Int16Array {
  let out: Int16Array | undefined;
  for (let i = 0; i < pcm.length; i++) {
    if (pcm[i] !== 0) continue;
    out ??= pcm.slice();
    out[i] = (rng.next() & 1) === 0 ? -1 : 1;
  }
  return out ?? pcm;
}

/** Tiny deterministic PRNG (xorshift32) for the dither above. */
export class XorShift32 {
  private state: number;
  constructor(seed = 0x9e3779b9) {
    this.state = seed | 0 || 1;
  }
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x | 0;
    return this.state >>> 0;
  }
}

/** koffi 3 represents C pointers as BigInt; a NULL return comes back as `null`. */
export type SphinxPointer = bigint;
type Ptr = SphinxPointer;
type NullablePtr = Ptr | null;

/** Typed views of the C functions we use (koffi's own signatures are untyped). */
interface SphinxApi {
  cmd_ln_init: (...args: unknown[]) => NullablePtr;
  cmd_ln_free_r: (config: Ptr) => number;
  logmath_log_to_ln: (logmath: Ptr, logValue: number) => number;
  ps_args: () => Ptr;
  ps_init: (config: Ptr) => NullablePtr;
  ps_free: (decoder: Ptr) => number;
  ps_get_logmath: (decoder: Ptr) => Ptr;
  ps_start_stream: (decoder: Ptr) => number;
  ps_start_utt: (decoder: Ptr) => number;
  ps_process_raw: (decoder: Ptr, data: Int16Array, samples: number, noSearch: number, fullUtt: number) => number;
  ps_end_utt: (decoder: Ptr) => number;
  ps_get_hyp: (decoder: Ptr, outScore: number[]) => string | null;
  ps_get_prob: (decoder: Ptr) => number;
  ps_get_lattice: (decoder: Ptr) => NullablePtr;
  ps_seg_iter: (decoder: Ptr) => NullablePtr;
  ps_seg_next: (seg: Ptr) => NullablePtr;
  ps_seg_word: (seg: Ptr) => string | null;
  ps_seg_frames: (seg: Ptr, outStart: number[], outEnd: number[]) => void;
  ps_seg_prob: (seg: Ptr, outAscr: number[], outLscr: number[], outLback: number[]) => number;
  ps_seg_free: (seg: Ptr) => void;
  // Custom models: language-model sets, searches, dictionaries.
  err_set_logfp: (fp: null) => void;
  logmath_init: (base: number, shift: number, useTable: number) => NullablePtr;
  logmath_retain: (lmath: Ptr) => Ptr;
  ngram_model_read: (config: Ptr | null, file: string, type: number, lmath: Ptr) => NullablePtr;
  ngram_model_free: (model: Ptr) => number;
  ngram_model_set_init: (config: Ptr | null, models: Ptr[], names: string[], weights: number[], count: number) => NullablePtr;
  ngram_model_set_lookup: (set: Ptr, name: string) => NullablePtr;
  ps_get_config: (decoder: Ptr) => Ptr;
  ps_get_lm: (decoder: Ptr, name: string) => NullablePtr;
  ps_set_lm: (decoder: Ptr, name: string, lm: Ptr) => number;
  ps_set_search: (decoder: Ptr, name: string) => number;
  ps_unset_search: (decoder: Ptr, name: string) => number;
  ps_load_dict: (decoder: Ptr, dict: string, fdict: string | null, format: null) => number;
}

/** sphinxbase's ngram_file_type_t value for ARPA text. */
const NGRAM_ARPA = 1;
/** The decoder's default `-logbase` (its log-math tables; models scored together must share base and shift). */
const DEFAULT_LOGBASE = 1.0001;

let api: SphinxApi | undefined;

function fn<T>(lib: LibraryHandle, declaration: string): T {
  // koffi cannot type C prototypes; the interface above is the single place that states them.
  return lib.func(declaration) as unknown as T;
}

/** Loads the shared libraries once per thread. @throws EngineError `ModelLoadFailed` when they are missing. */
export function loadSphinx(): SphinxApi {
  if (api !== undefined) return api;
  let sb: LibraryHandle;
  let ps: LibraryHandle;
  try {
    sb = koffi.load('libsphinxbase.so.3');
    ps = koffi.load('libpocketsphinx.so.3');
  } catch (err) {
    throw new EngineError('ModelLoadFailed', 'cannot load libpocketsphinx.so.3 / libsphinxbase.so.3 (apt-get install libpocketsphinx3)', { cause: err });
  }
  api = {
    // Variadic (name, value, ..., NULL) in sphinxbase; koffi needs an explicit type before each extra argument.
    cmd_ln_init: fn(sb, 'void *cmd_ln_init(void *inout, void *defn, int strict, ...)'),
    cmd_ln_free_r: fn(sb, 'int cmd_ln_free_r(void *config)'),
    logmath_log_to_ln: fn(sb, 'double logmath_log_to_ln(void *lmath, int logb_p)'),
    ps_args: fn(ps, 'void *ps_args(void)'),
    ps_init: fn(ps, 'void *ps_init(void *config)'),
    ps_free: fn(ps, 'int ps_free(void *ps)'),
    ps_get_logmath: fn(ps, 'void *ps_get_logmath(void *ps)'),
    ps_start_stream: fn(ps, 'int ps_start_stream(void *ps)'),
    ps_start_utt: fn(ps, 'int ps_start_utt(void *ps)'),
    ps_process_raw: fn(ps, 'int ps_process_raw(void *ps, const int16_t *data, size_t n_samples, int no_search, int full_utt)'),
    ps_end_utt: fn(ps, 'int ps_end_utt(void *ps)'),
    // The returned strings belong to the decoder (valid until the next call); koffi copies them into JS strings.
    ps_get_hyp: fn(ps, 'const char *ps_get_hyp(void *ps, _Out_ int32_t *out_best_score)'),
    ps_get_prob: fn(ps, 'int32_t ps_get_prob(void *ps)'),
    ps_get_lattice: fn(ps, 'void *ps_get_lattice(void *ps)'),
    ps_seg_iter: fn(ps, 'void *ps_seg_iter(void *ps)'),
    ps_seg_next: fn(ps, 'void *ps_seg_next(void *seg)'),
    ps_seg_word: fn(ps, 'const char *ps_seg_word(void *seg)'),
    ps_seg_frames: fn(ps, 'void ps_seg_frames(void *seg, _Out_ int *out_sf, _Out_ int *out_ef)'),
    ps_seg_prob: fn(ps, 'int32_t ps_seg_prob(void *seg, _Out_ int32_t *out_ascr, _Out_ int32_t *out_lscr, _Out_ int32_t *out_lback)'),
    ps_seg_free: fn(ps, 'void ps_seg_free(void *seg)'),
    err_set_logfp: fn(sb, 'void err_set_logfp(void *stream)'),
    logmath_init: fn(sb, 'void *logmath_init(double base, int shift, int use_table)'),
    logmath_retain: fn(sb, 'void *logmath_retain(void *lmath)'),
    // Keeps the `lmath` pointer it is given (sphinxbase 0.8 never releases it, see readLanguageModel).
    ngram_model_read: fn(sb, 'void *ngram_model_read(void *config, const char *file_name, int file_type, void *lmath)'),
    // Reference-counted: returns the count left.
    ngram_model_free: fn(sb, 'int ngram_model_free(void *model)'),
    // Retains each model; copies the names; weights are linear (converted to log inside).
    ngram_model_set_init: fn(sb, 'void *ngram_model_set_init(void *config, void **models, const char **names, const float *weights, int32_t n_models)'),
    ngram_model_set_lookup: fn(sb, 'void *ngram_model_set_lookup(void *set, const char *name)'),
    ps_get_config: fn(ps, 'void *ps_get_config(void *ps)'),
    ps_get_lm: fn(ps, 'void *ps_get_lm(void *ps, const char *name)'),
    // Builds a search around `lm` (retained; the caller keeps its own reference) under `name`, replacing one of that name.
    ps_set_lm: fn(ps, 'int ps_set_lm(void *ps, const char *name, void *lm)'),
    ps_set_search: fn(ps, 'int ps_set_search(void *ps, const char *name)'),
    ps_unset_search: fn(ps, 'int ps_unset_search(void *ps, const char *name)'),
    // Replaces the dictionary and re-initialises every search with it.
    ps_load_dict: fn(ps, 'int ps_load_dict(void *ps, const char *dictfile, const char *fdictfile, const char *format)'),
  };
  return api;
}

/** Drops one reference to a language model (reference-counted: searches using it keep it alive). */
export function freeLanguageModel(lm: Ptr): void {
  loadSphinx().ngram_model_free(lm);
}

/**
 * Checks that sphinxbase accepts an ARPA file (the trie reader is stricter than the format: every n-gram's
 * prefix must exist). For the build worker, which has no decoder: uses its own log-math tables.
 * @throws EngineError `Internal` when the file is rejected.
 */
export function validateArpaFile(file: string): void {
  const a = loadSphinx();
  // Unless a decoder's -logfn already redirected it, the library logs to stderr. Turned off here: process-wide,
  // but it closes no file, so decoders in other threads are unaffected (they log to /dev/null anyway).
  a.err_set_logfp(null);
  const lmath = a.logmath_init(DEFAULT_LOGBASE, 0, 0);
  if (lmath === null) throw new EngineError('Internal', 'logmath_init failed');
  const model = a.ngram_model_read(null, file, NGRAM_ARPA, lmath);
  if (model === null) throw new EngineError('Internal', `sphinxbase rejected the generated language model ${file}`);
  a.ngram_model_free(model);
}

/** `<s>`, `</s>`, `<sil>`, `[NOISE]`, `++BREATH++`…: markers and fillers, not words. */
function isFiller(token: string): boolean {
  return /^(<.*>|\[.*\]|\+\+.*\+\+)$/.test(token);
}

/** `service(2)` → `service`: the dictionary's alternate-pronunciation suffix. */
function baseWord(token: string): string {
  return token.replace(/\(\d+\)$/, '').toLowerCase();
}

/** A hypothesis string as the decoder spells it → the lexical words we report. */
export function lexicalWords(hyp: string | null): string[] {
  if (hyp === null) return [];
  return hyp.split(/\s+/).filter((t) => t !== '' && !isFiller(t)).map(baseWord);
}

function clamp01(x: number): number {
  // Posteriors come out as log values rounded to integers, so a certain word can read as e.g. exp(+0.0002).
  if (!Number.isFinite(x)) return 0;
  return Math.min(1, Math.max(0, x));
}

/** Thrown when a call is made in the wrong decoder state; a programming error in the worker, not user input. */
function stateError(message: string): EngineError {
  return new EngineError('Internal', message);
}

/** One PocketSphinx decoder (≈100 MB: acoustic model, dictionary, LM). Not thread-safe; one owner thread. */
export class SphinxDecoder {
  readonly paths: SphinxModelPaths;
  private readonly api: SphinxApi;
  private handle: Ptr | undefined;
  private readonly logmath: Ptr;
  private inUtt = false;
  /** Dither generator of the current live utterance; re-seeded per utterance (see ditherDigitalSilence). */
  private liveRng = new XorShift32();

  private constructor(api: SphinxApi, handle: Ptr, paths: SphinxModelPaths) {
    this.api = api;
    this.handle = handle;
    this.paths = paths;
    this.logmath = api.ps_get_logmath(handle);
  }

  /**
   * Loads a decoder (≈0.5 s). @throws EngineError `ModelLoadFailed` when a model file is missing or rejected
   * (the C library's reason goes to /dev/null, so we check the files first to give a useful message).
   */
  static create(paths: SphinxModelPaths, purpose: 'batch' | 'live' = 'batch'): SphinxDecoder {
    const api = loadSphinx();
    for (const [what, file] of [['acoustic model', paths.hmm], ['language model', paths.lm], ['dictionary', paths.dict]] as const) {
      if (!fs.existsSync(file)) throw new EngineError('ModelLoadFailed', `PocketSphinx ${what} not found: ${file}`);
    }
    const args = ['-hmm', paths.hmm, '-lm', paths.lm, '-dict', paths.dict, ...DECODER_ARGS, ...(purpose === 'live' ? LIVE_DECODER_ARGS : [])];
    const config = api.cmd_ln_init(null, api.ps_args(), 1, ...args.flatMap((a) => ['str', a]), 'void *', null);
    if (config === null) throw new EngineError('ModelLoadFailed', `PocketSphinx rejected the decoder arguments ${args.join(' ')}`);
    // ps_init retains the config it keeps; dropping our reference right away means ps_free releases everything.
    const handle = api.ps_init(config);
    api.cmd_ln_free_r(config);
    if (handle === null) {
      throw new EngineError('ModelLoadFailed', `PocketSphinx could not load the model (hmm ${paths.hmm}, lm ${paths.lm}, dict ${paths.dict})`);
    }
    return new SphinxDecoder(api, handle, paths);
  }

  private ptr(): Ptr {
    if (this.handle === undefined) throw stateError('decoder already freed');
    return this.handle;
  }

  /** Between startLive and endLive. */
  get inUtterance(): boolean {
    return this.inUtt;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Searches (custom models): each custom model is an n-gram search of this decoder, next to the default one.
  // -------------------------------------------------------------------------------------------------------------

  /**
   * Reads an ARPA language model scored with this decoder's log-math tables, for use in searches of any decoder
   * of this thread (they all share base and shift). The caller owns the returned reference (`freeLanguageModel`).
   * @throws EngineError `ModelLoadFailed` when sphinxbase rejects the file.
   */
  readLanguageModel(file: string): Ptr {
    const ps = this.ptr();
    // The model keeps a pointer to the tables and may outlive this decoder (it is shared with the other decoders of
    // the thread), hence a reference of its own. sphinxbase 0.8 never releases a model's tables, so that reference
    // is never dropped: the tables (≈0.4 MB) outlive a freed decoder that custom models were read with.
    const lm = this.api.ngram_model_read(this.api.ps_get_config(ps), file, NGRAM_ARPA, this.api.logmath_retain(this.logmath));
    if (lm === null) throw new EngineError('ModelLoadFailed', `PocketSphinx could not read the language model ${file}`);
    return lm;
  }

  /** The n-gram model of the default search, owned by this decoder: valid while the decoder lives. */
  baseLanguageModel(): Ptr {
    const set = this.api.ps_get_lm(this.ptr(), DEFAULT_SEARCH);
    // ngram_search_init wraps the model it is given in a one-model set named "default".
    const lm = set === null ? null : this.api.ngram_model_set_lookup(set, 'default');
    if (lm === null) throw new EngineError('Internal', 'the default search has no n-gram model');
    return lm;
  }

  /**
   * Adds (or replaces) the n-gram search `name` scoring with the interpolation of `base` and `custom`,
   * `customWeight` for the latter (sphinxbase's ngram_model_set: it mixes the weighted scores, see
   * DEFAULT_CUSTOM_LM_WEIGHT in index.ts). Both models stay shared: the set retains them. Words of `custom` must
   * already be in the dictionary, or the search cannot hypothesize them.
   * @throws EngineError `ModelLoadFailed`
   */
  addInterpolatedSearch(name: string, base: Ptr, custom: Ptr, customWeight: number): void {
    const ps = this.ptr();
    if (this.inUtt) throw stateError('addInterpolatedSearch during an utterance');
    const set = this.api.ngram_model_set_init(this.api.ps_get_config(ps), [base, custom], ['base', 'custom'], [1 - customWeight, customWeight], 2);
    if (set === null) throw new EngineError('ModelLoadFailed', `could not combine the language models of search '${name}'`);
    try {
      // Replacing a search frees the old one; it must not be the decoder's current search, which would dangle.
      this.selectSearch(ps, DEFAULT_SEARCH);
      if (this.api.ps_set_lm(ps, name, set) < 0) throw new EngineError('ModelLoadFailed', `PocketSphinx could not build search '${name}'`);
    } finally {
      // The search holds its own reference.
      this.api.ngram_model_free(set);
    }
  }

  /** Removes search `name` (no-op when absent); its models are released. */
  removeSearch(name: string): void {
    if (name === DEFAULT_SEARCH) throw stateError('the default search cannot be removed');
    if (this.inUtt) throw stateError('removeSearch during an utterance');
    const ps = this.ptr();
    // ps_unset_search of the current search leaves the decoder without one; keep the default current instead.
    this.selectSearch(ps, DEFAULT_SEARCH);
    this.api.ps_unset_search(ps, name);
  }

  /**
   * Replaces the pronunciation dictionary (and the filler dictionary, when given) and re-initialises every
   * search with it (≈0.25 s for the 134 k words of cmudict).
   * @throws EngineError `ModelLoadFailed`
   */
  loadDictionary(dict: string, fillerDict: string | null): void {
    if (this.inUtt) throw stateError('loadDictionary during an utterance');
    if (this.api.ps_load_dict(this.ptr(), dict, fillerDict, null) < 0) {
      throw new EngineError('ModelLoadFailed', `PocketSphinx could not load the dictionary ${dict}`);
    }
  }

  private selectSearch(ps: Ptr, name: string): void {
    if (this.api.ps_set_search(ps, name) < 0) throw new EngineError('ModelLoadFailed', `no search '${name}' in this decoder`);
  }

  /**
   * Decodes a whole utterance in one call with utterance-level (batch) CMN: deterministic, and the most
   * accurate mode measured. Independent of anything decoded before: ps_start_stream resets the noise
   * statistics that would otherwise carry over from earlier audio (without it, 9 of 18 test files gave
   * different segment timings depending on what the decoder had heard before).
   */
  decodeUtterance(input: Int16Array, search: string = DEFAULT_SEARCH): EngineHypothesis {
    const ps = this.ptr();
    if (this.inUtt) throw stateError('decodeUtterance during a live utterance');
    this.selectSearch(ps, search);
    const pcm = ditherDigitalSilence(input, new XorShift32());
    this.check(this.api.ps_start_stream(ps), 'ps_start_stream');
    this.check(this.api.ps_start_utt(ps), 'ps_start_utt');
    this.inUtt = true;
    try {
      this.check(this.api.ps_process_raw(ps, pcm, pcm.length, 0, 1), 'ps_process_raw');
    } finally {
      this.inUtt = false;
      this.check(this.api.ps_end_utt(ps), 'ps_end_utt');
    }
    return this.hypothesis(ps);
  }

  private hypothesis(ps: Ptr): EngineHypothesis {
    const hyp = this.api.ps_get_hyp(ps, [0]);
    if (hyp === null || lexicalWords(hyp).length === 0) return { text: '', words: [], confidence: 0 };
    // The segment iterator reads the best path of this lattice; without one, posteriors are not computed.
    const haveLattice = this.api.ps_get_lattice(ps) !== null;
    const words = this.segments(ps, haveLattice);
    if (words.length === 0) return { text: '', words: [], confidence: 0 };
    let confidence = UNKNOWN_CONFIDENCE;
    if (haveLattice) {
      // ps_get_prob is the posterior of the whole best path: a product over words that shrinks with length
      // (7e-44 for a 19 s file). Its per-word geometric mean is comparable across utterance lengths.
      const lnPathPosterior = this.api.logmath_log_to_ln(this.logmath, this.api.ps_get_prob(ps));
      confidence = clamp01(Math.exp(lnPathPosterior / words.length));
    }
    // Text from the segments, so text and words can never disagree.
    return { text: words.map((w) => w.word).join(' '), words, confidence };
  }

  private segments(ps: Ptr, withPosteriors: boolean): RecognizedWord[] {
    const words: RecognizedWord[] = [];
    let seg = this.api.ps_seg_iter(ps);
    try {
      while (seg !== null) {
        const token = this.api.ps_seg_word(seg);
        if (token !== null && !isFiller(token)) {
          const sf = [0];
          const ef = [0];
          this.api.ps_seg_frames(seg, sf, ef);
          const logPosterior = this.api.ps_seg_prob(seg, [0], [0], [0]);
          const startFrame = sf[0] ?? 0;
          const endFrame = ef[0] ?? startFrame;
          words.push({
            word: baseWord(token),
            startMs: startFrame * FRAME_MS,
            endMs: (endFrame + 1) * FRAME_MS,
            confidence: withPosteriors ? clamp01(Math.exp(this.api.logmath_log_to_ln(this.logmath, logPosterior))) : UNKNOWN_CONFIDENCE,
          });
        }
        // Frees the iterator itself when it returns NULL at the end.
        seg = this.api.ps_seg_next(seg);
      }
    } finally {
      if (seg !== null) this.api.ps_seg_free(seg);
    }
    return words;
  }

  /**
   * Starts a live utterance (partials while audio streams). Live CMN is kept from the previous utterance on
   * purpose: it makes partials better than a fresh estimate would (engines.md §4.3).
   */
  startLive(search: string = DEFAULT_SEARCH): void {
    const ps = this.ptr();
    if (this.inUtt) throw stateError('startLive during an utterance');
    this.selectSearch(ps, search);
    this.check(this.api.ps_start_stream(ps), 'ps_start_stream');
    this.check(this.api.ps_start_utt(ps), 'ps_start_utt');
    this.inUtt = true;
    this.liveRng = new XorShift32();
  }

  /** Feeds audio to the live utterance; returns the partial hypothesis as lexical text. */
  processLive(pcm: Int16Array): string {
    const ps = this.ptr();
    if (!this.inUtt) throw stateError('processLive outside an utterance');
    if (pcm.length > 0) {
      const audio = ditherDigitalSilence(pcm, this.liveRng);
      this.check(this.api.ps_process_raw(ps, audio, audio.length, 0, 0), 'ps_process_raw');
    }
    return lexicalWords(this.api.ps_get_hyp(ps, [0])).join(' ');
  }

  /** Ends the live utterance (no-op outside one); returns its final live hypothesis. */
  endLive(): string {
    const ps = this.ptr();
    if (!this.inUtt) return '';
    this.inUtt = false;
    this.check(this.api.ps_end_utt(ps), 'ps_end_utt');
    return lexicalWords(this.api.ps_get_hyp(ps, [0])).join(' ');
  }

  free(): void {
    if (this.handle === undefined) return;
    const ps = this.handle;
    this.handle = undefined;
    this.api.ps_free(ps);
  }

  private check(rc: number, call: string): void {
    if (rc < 0) throw new EngineError('Internal', `${call} failed (${rc})`);
  }
}
