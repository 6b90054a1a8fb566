/**
 * koffi bindings to Debian's flite 2.2 shared libraries (`libflite1`), and a voice wrapper that synthesizes one
 * utterance and reads back its wave, its tokens with their times, and its phone segments.
 *
 * Every call here is synchronous C: load this module only inside a worker thread (see worker.ts), never on the
 * main event loop. Measured behaviour behind the choices below: /work/shared/docs/engines.md §5.
 *
 * Two properties of libflite shape this file:
 * - Voices are process-wide singletons. `register_cmu_us_slt()` returns the voice an earlier call (from any
 *   thread) created, so every worker thread of every engine in the process shares one `cst_voice`. Nothing here
 *   writes to a voice after registration: per-call prosody goes into the utterance's own features, which shadow
 *   the voice's (utt_init links the voice features behind the utterance's), so concurrent calls cannot see each
 *   other's settings. For the same reason voices are never unregistered (another thread may be using them).
 *   Once every thread that loaded the libraries has ended, koffi unloads them and the few KB of heap each voice
 *   holds are lost; a later engine registers afresh (measured: RSS +0.1 MB per engine start/close cycle).
 * - libflite reports internal errors with `exit(-1)` (cst_error() when no jmp_buf is installed, which C callers
 *   set with setjmp, impossible from JS). So this file only reads features through `ffeature_*`, which return a
 *   default for a missing path, and checks `feat_present` before reading the wave: a wrong read would end the
 *   whole process, not throw.
 */
import koffi, { type LibraryHandle, type TypeObject } from 'koffi';

import { EngineError } from '../../domain/ports/engines.js';

/** koffi 3 represents C pointers as BigInt; a NULL return comes back as `null`. */
type Ptr = bigint;
type NullablePtr = Ptr | null;

/** Typed views of the C functions we use (koffi's own signatures are untyped). */
interface FliteApi {
  flite_init: () => number;
  new_utterance: () => NullablePtr;
  delete_utterance: (utt: Ptr) => void;
  utt_set_input_text: (utt: Ptr, text: string) => number;
  utt_init: (utt: Ptr, voice: Ptr) => NullablePtr;
  utt_synth: (utt: Ptr) => NullablePtr;
  utt_wave: (utt: Ptr) => NullablePtr;
  utt_relation: (utt: Ptr, name: string) => NullablePtr;
  relation_head: (relation: Ptr) => NullablePtr;
  item_next: (item: Ptr) => NullablePtr;
  item_daughter: (item: Ptr) => NullablePtr;
  item_as: (item: Ptr, relation: string) => NullablePtr;
  ffeature_float: (item: Ptr, path: string) => number;
  ffeature_string: (item: Ptr, path: string) => string | null;
  feat_present: (features: Ptr, name: string) => number;
  feat_own_string: (features: Ptr, name: string) => Ptr;
  feat_set_float: (features: Ptr, name: Ptr, value: number) => void;
  get_param_float: (features: Ptr, name: string, def: number) => number;
  feat_val: (features: Ptr, name: string) => NullablePtr;
  val_cg_db: (val: Ptr) => NullablePtr;
  val_track: (val: Ptr) => NullablePtr;
  mlpg: (paramTrack: Ptr, cgDb: Ptr) => NullablePtr;
  mlsa_resynthesis: (params: Ptr, str: NullablePtr, cgDb: Ptr, asi: null, speed: number) => NullablePtr;
  delete_track: (track: Ptr) => void;
  utt_set_wave: (utt: Ptr, wave: Ptr) => number;
}

/** The C structs we read fields of (flite 2.2's include/cst_wave.h, cst_voice.h, cst_utterance.h, cst_track.h, cst_cg.h). */
interface FliteTypes {
  wave: TypeObject;
  voice: TypeObject;
  utterance: TypeObject;
  track: TypeObject;
  /** The start of cst_cg_db (include/cst_cg.h), up to the flags we read; the real struct goes on. */
  cgDb: TypeObject;
}

interface CstWave {
  sample_rate: number;
  num_samples: number;
  num_channels: number;
  samples: NullablePtr;
}

let api: FliteApi | undefined;
let types: FliteTypes | undefined;
/**
 * Every library this thread loaded, kept reachable for the thread's lifetime: koffi unloads (dlclose) a library
 * once its handle and all functions bound from it are garbage-collected. A voice library's only function
 * (register) is called once, and the voice's data (clustergen trees, lexicon) are static in that library, so
 * without this the registered voice pointed at unmapped memory after the next full GC (measured: a segfault
 * after a few hundred sentences; test "keep the voice libraries loaded across garbage collections").
 */
const libraries: LibraryHandle[] = [];

function fn<T>(lib: LibraryHandle, declaration: string): T {
  // koffi cannot type C prototypes; the interface above is the single place that states them.
  return lib.func(declaration) as unknown as T;
}

/** Loads libflite once per thread and initialises it. @throws EngineError `ModelLoadFailed` when it is missing. */
export function loadFlite(): FliteApi {
  if (api !== undefined) return api;
  let lib: LibraryHandle;
  try {
    lib = koffi.load('libflite.so.1');
  } catch (err) {
    throw new EngineError('ModelLoadFailed', 'cannot load libflite.so.1 (apt-get install libflite1)', { cause: err });
  }
  libraries.push(lib);
  const loaded: FliteApi = {
    flite_init: fn(lib, 'int flite_init(void)'),
    new_utterance: fn(lib, 'void *new_utterance(void)'),
    delete_utterance: fn(lib, 'void delete_utterance(void *u)'),
    // The text is copied into the utterance (feat_set_string), so koffi's temporary UTF-8 copy may go.
    utt_set_input_text: fn(lib, 'int utt_set_input_text(void *u, const char *text)'),
    utt_init: fn(lib, 'void *utt_init(void *u, void *vox)'),
    utt_synth: fn(lib, 'void *utt_synth(void *u)'),
    utt_wave: fn(lib, 'void *utt_wave(void *u)'),
    utt_relation: fn(lib, 'void *utt_relation(void *u, const char *name)'),
    relation_head: fn(lib, 'void *relation_head(void *r)'),
    item_next: fn(lib, 'void *item_next(void *i)'),
    item_daughter: fn(lib, 'void *item_daughter(void *i)'),
    item_as: fn(lib, 'void *item_as(void *i, const char *relation)'),
    ffeature_float: fn(lib, 'float ffeature_float(void *item, const char *featpath)'),
    ffeature_string: fn(lib, 'const char *ffeature_string(void *item, const char *featpath)'),
    feat_present: fn(lib, 'int feat_present(void *f, const char *name)'),
    // feat_set keeps the name pointer it is given (no copy), so names must outlive the features: this returns a
    // copy owned by the features themselves, freed with them.
    feat_own_string: fn(lib, 'void *feat_own_string(void *f, const char *name)'),
    feat_set_float: fn(lib, 'void feat_set_float(void *f, void *name, float v)'),
    get_param_float: fn(lib, 'float get_param_float(void *f, const char *name, float def)'),
    // For re-synthesizing clustergen voices whose F0 model ignores f0_shift (see FliteVoice.rescalePitch).
    feat_val: fn(lib, 'void *feat_val(void *f, const char *name)'),
    val_cg_db: fn(lib, 'void *val_cg_db(void *v)'),
    val_track: fn(lib, 'void *val_track(void *v)'),
    mlpg: fn(lib, 'void *mlpg(void *param_track, void *cg_db)'),
    mlsa_resynthesis: fn(lib, 'void *mlsa_resynthesis(void *params, void *str, void *cg_db, void *asi, int mlsa_speed_param)'),
    delete_track: fn(lib, 'void delete_track(void *t)'),
    utt_set_wave: fn(lib, 'int utt_set_wave(void *u, void *w)'),
  };
  // Sets up flite's regexes, which 2.2 ships pre-compiled (a no-op today); called as the documented entry point.
  loaded.flite_init();
  api = loaded;
  return loaded;
}

function fliteTypes(): FliteTypes {
  // Anonymous structs: named koffi types are registered per module instance and must not be declared twice.
  types ??= {
    wave: koffi.struct({ type: 'void *', sample_rate: 'int', num_samples: 'int', num_channels: 'int', samples: 'void *' }),
    voice: koffi.struct({ name: 'void *', features: 'void *', ffunctions: 'void *', utt_init: 'void *' }),
    utterance: koffi.struct({ features: 'void *', ffunctions: 'void *', relations: 'void *', ctx: 'void *' }),
    track: koffi.struct({ type: 'void *', num_frames: 'int', num_channels: 'int', times: 'void *', frames: 'void *' }),
    cgDb: koffi.struct({
      name: 'void *', types: 'void *', num_types: 'int', sample_rate: 'int', f0_mean: 'float', f0_stddev: 'float',
      num_f0_models: 'int', f0_trees: 'void *', num_param_models: 'int', param_trees: 'void *',
      spamf0_accent_tree: 'void *', spamf0_phrase_tree: 'void *', num_channels: 'void *', num_frames: 'void *',
      model_vectors: 'void *', num_channels_spamf0_accent: 'int', num_frames_spamf0_accent: 'int',
      spamf0_accent_vectors: 'void *', model_min: 'void *', model_range: 'void *', qtable: 'void *', model_shape: 'int',
      frame_advance: 'float', num_dur_models: 'int', dur_stats: 'void *', dur_cart: 'void *', phone_states: 'void *',
      do_mlpg: 'int', dynwin: 'void *', dynwinsize: 'int', mlsa_alpha: 'float', mlsa_beta: 'float', multimodel: 'int',
      mixed_excitation: 'int', ME_num: 'int', ME_order: 'int', me_h: 'void *', spamf0: 'int',
    }),
  };
  return types;
}

/** One field of a struct behind `ptr`, read without decoding the rest. */
function readPtrField(ptr: Ptr, type: TypeObject, field: string): NullablePtr {
  return koffi.decode(ptr, koffi.offsetof(type, field), 'void *') as NullablePtr;
}

function readIntField(ptr: Ptr, type: TypeObject, field: string): number {
  return koffi.decode(ptr, koffi.offsetof(type, field), 'int') as number;
}

/** Clustergen's own F0 bounds (cg_smooth_F0 in cst_cg.c). */
const CG_MIN_F0 = 50;
const CG_MAX_F0 = 700;

/** What re-synthesizing a clustergen voice with SPAM F0 needs (see FliteVoice.rescalePitch). */
interface SpamF0Voice {
  cgDb: Ptr;
  doMlpg: boolean;
  mixedExcitation: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------------------------

/** One whitespace-separated token of the input as flite tokenised it, and when its words are spoken. */
export interface FliteToken {
  /** The token text without surrounding punctuation, as it appears in the input ("25", "U.S.A", "Smith's"). */
  text: string;
  /** Start of its first spoken word and end of its last, in ms of this utterance; absent when nothing was spoken. */
  startMs?: number;
  endMs?: number;
}

export interface FliteSegment {
  /** Flite's phone name (CMU arpabet, lower-case; `pau` for silence). */
  phone: string;
  startMs: number;
  endMs: number;
}

export interface FliteUtterance {
  sampleRate: number;
  pcm: Int16Array<ArrayBuffer>;
  tokens: FliteToken[];
  segments: FliteSegment[];
}

/** Prosody as multipliers of the voice's defaults. */
export interface FliteProsody {
  rate: number;
  pitch: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Voices
// ---------------------------------------------------------------------------------------------------------------

/** A registered flite voice. Cheap: its data are static in the voice library; shared by all threads (see top). */
export class FliteVoice {
  private readonly api: FliteApi;
  private readonly handle: Ptr;
  /** The voice's own duration_stretch (kal and kal16 set 1.1); prosody rate scales it. */
  private readonly baseStretch: number;
  /** Set for clustergen voices whose F0 comes from the SPAM model (rms), which ignores f0_shift. */
  private readonly spamF0: SpamF0Voice | undefined;

  private constructor(readonly name: string, api: FliteApi, handle: Ptr) {
    this.api = api;
    this.handle = handle;
    const features = readPtrField(handle, fliteTypes().voice, 'features');
    this.baseStretch = features === null ? 1 : api.get_param_float(features, 'duration_stretch', 1);
    if (!(this.baseStretch > 0)) this.baseStretch = 1;
    this.spamF0 = features === null ? undefined : spamF0Of(api, features);
  }

  /**
   * Loads `libflite_cmu_us_<name>.so.1` and registers its voice (the usenglish and cmulex libraries come in as
   * its dependencies). Not safe to run concurrently with another thread registering the same voice (the
   * library's "already registered?" check is unsynchronised); worker.ts serialises it.
   * @throws EngineError `ModelLoadFailed` when the library is missing or returns no voice.
   */
  static register(name: string): FliteVoice {
    if (!/^[a-z0-9_]+$/.test(name)) throw new EngineError('ModelLoadFailed', `invalid flite voice name '${name}'`);
    const fliteApi = loadFlite();
    const file = `libflite_cmu_us_${name}.so.1`;
    let lib: LibraryHandle;
    try {
      lib = koffi.load(file);
    } catch (err) {
      throw new EngineError('ModelLoadFailed', `cannot load ${file} (apt-get install libflite1)`, { cause: err });
    }
    libraries.push(lib);
    const register = fn<(voxdir: null) => NullablePtr>(lib, `void *register_cmu_us_${name}(const char *voxdir)`);
    const handle = register(null);
    if (handle === null) throw new EngineError('ModelLoadFailed', `register_cmu_us_${name} returned no voice`);
    return new FliteVoice(name, fliteApi, handle);
  }

  /**
   * Synthesizes `text` as one utterance (flite_synth_text, split up so prosody can be set on the utterance
   * between utt_init and synthesis) and copies out everything we need before freeing it.
   */
  synthesize(text: string, prosody: FliteProsody): FliteUtterance {
    const a = this.api;
    const utt = a.new_utterance();
    if (utt === null) throw new EngineError('Internal', 'new_utterance failed');
    try {
      // A NUL would end the C string early; flite treats control characters as whitespace anyway.
      a.utt_set_input_text(utt, text.replace(/\0/g, ' '));
      a.utt_init(utt, this.handle);
      const features = readPtrField(utt, fliteTypes().utterance, 'features');
      if (features === null) throw new EngineError('Internal', 'utterance without features');
      this.setFloat(features, 'duration_stretch', this.baseStretch / prosody.rate);
      // f0_shift multiplies the voice's F0 mean in both synthesizers (clustergen: cst_cg.c, diphone: us_f0_model.c),
      // so it scales each voice's own default without our having to know it.
      this.setFloat(features, 'f0_shift', prosody.pitch);
      if (a.utt_synth(utt) === null) throw new EngineError('Internal', 'flite could not synthesize the text');
      if (this.spamF0 !== undefined && prosody.pitch !== 1) this.rescalePitch(utt, features, this.spamF0, prosody.pitch);
      const wave = this.readWave(utt, features);
      const durationMs = (wave.pcm.length * 1000) / wave.sampleRate;
      return { ...wave, tokens: this.readTokens(utt, durationMs), segments: this.readSegments(utt, durationMs) };
    } finally {
      a.delete_utterance(utt);
    }
  }

  /**
   * Pitch for voices with SPAM F0 (rms): their synthesizer overwrites the F0 track with the SPAM model's after
   * applying f0_shift (cg_synth → cst_spamf0), so f0_shift has no effect. The parameter track stays in the
   * utterance, though: scale its F0 channel and run the last step (mlpg + MLSA resynthesis, as cg_resynth does)
   * again, replacing the wave. Costs ≈+50 % synthesis time, only for these voices and only when pitch ≠ 1.
   */
  private rescalePitch(utt: Ptr, features: Ptr, voice: SpamF0Voice, pitch: number): void {
    const a = this.api;
    const t = fliteTypes();
    const paramVal = a.feat_present(features, 'param_track') !== 0 ? a.feat_val(features, 'param_track') : null;
    const strVal = voice.mixedExcitation && a.feat_present(features, 'str_track') !== 0 ? a.feat_val(features, 'str_track') : null;
    if (paramVal === null || (voice.mixedExcitation && strVal === null)) return;
    const params = a.val_track(paramVal);
    if (params === null) return;
    const frames = readPtrField(params, t.track, 'frames');
    const numFrames = readIntField(params, t.track, 'num_frames');
    if (frames === null || numFrames <= 0) return;
    // Channel 0 of each frame is F0 in Hz, 0 where unvoiced.
    const rows = koffi.decode(frames, 'void *', numFrames) as NullablePtr[];
    for (const row of rows) {
      if (row === null) continue;
      const f0 = koffi.decode(row, 'float') as number;
      if (f0 > 0) koffi.encode(row, 'float', Math.min(CG_MAX_F0, Math.max(CG_MIN_F0, f0 * pitch)));
    }
    const str = strVal === null ? null : a.val_track(strVal);
    const smoothed = voice.doMlpg ? a.mlpg(params, voice.cgDb) : params;
    if (smoothed === null) return;
    try {
      const wave = a.mlsa_resynthesis(smoothed, str, voice.cgDb, null, 0);
      // Replacing the feature frees the previous wave.
      if (wave !== null) a.utt_set_wave(utt, wave);
    } finally {
      if (voice.doMlpg) a.delete_track(smoothed);
    }
  }

  private setFloat(features: Ptr, name: string, value: number): void {
    this.api.feat_set_float(features, this.api.feat_own_string(features, name), value);
  }

  private readWave(utt: Ptr, features: Ptr): { sampleRate: number; pcm: Int16Array<ArrayBuffer> } {
    // utt_wave on an utterance without a wave would end the process (see top), so check first.
    const wavePtr = this.api.feat_present(features, 'wave') !== 0 ? this.api.utt_wave(utt) : null;
    if (wavePtr === null) throw new EngineError('Internal', 'flite produced no wave');
    const wave = koffi.decode(wavePtr, fliteTypes().wave) as CstWave;
    if (wave.num_channels !== 1) throw new EngineError('Internal', `flite produced ${wave.num_channels} channels`);
    if (!(wave.sample_rate > 0)) throw new EngineError('Internal', `flite produced sample rate ${wave.sample_rate}`);
    const samples = Math.max(0, wave.num_samples);
    if (samples === 0 || wave.samples === null) return { sampleRate: wave.sample_rate, pcm: new Int16Array(0) };
    // A copy that outlives the utterance, and can be transferred to the main thread.
    const pcm = koffi.decode(wave.samples, 'int16_t', samples) as Int16Array<ArrayBuffer>;
    return { sampleRate: wave.sample_rate, pcm };
  }

  private readTokens(utt: Ptr, durationMs: number): FliteToken[] {
    const a = this.api;
    const tokens: FliteToken[] = [];
    const rel = a.utt_relation(utt, 'Token');
    for (let tok = rel === null ? null : a.relation_head(rel); tok !== null; tok = a.item_next(tok)) {
      const token: FliteToken = { text: a.ffeature_string(tok, 'name') ?? '' };
      let start = Infinity;
      let end = -Infinity;
      // A token's words are its daughters in the Token relation ("25" → twenty, five); characters flite cannot
      // pronounce become words without syllables, skipped here.
      for (let word = a.item_daughter(tok); word !== null; word = a.item_next(word)) {
        const syl = a.item_as(word, 'SylStructure');
        if (syl === null || a.item_daughter(syl) === null) continue;
        // A word starts where the segment before its first one ends (segments store only their end).
        start = Math.min(start, a.ffeature_float(syl, 'daughter1.daughter1.R:Segment.p.end'));
        end = Math.max(end, a.ffeature_float(syl, 'daughtern.daughtern.R:Segment.end'));
      }
      if (end > start) {
        token.startMs = clampMs(start * 1000, durationMs);
        token.endMs = clampMs(end * 1000, durationMs);
      }
      tokens.push(token);
    }
    return tokens;
  }

  private readSegments(utt: Ptr, durationMs: number): FliteSegment[] {
    const a = this.api;
    const segments: FliteSegment[] = [];
    const rel = a.utt_relation(utt, 'Segment');
    let prevEnd = 0;
    for (let seg = rel === null ? null : a.relation_head(rel); seg !== null; seg = a.item_next(seg)) {
      const end = clampMs(a.ffeature_float(seg, 'end') * 1000, durationMs);
      segments.push({ phone: a.ffeature_string(seg, 'name') ?? '', startMs: prevEnd, endMs: Math.max(prevEnd, end) });
      prevEnd = Math.max(prevEnd, end);
    }
    return segments;
  }
}

/** The SPAM F0 facts of a clustergen voice; `undefined` for other voices (diphone voices have no cg_db). */
function spamF0Of(api: FliteApi, voiceFeatures: Ptr): SpamF0Voice | undefined {
  // val_cg_db of a missing value would end the process (see top).
  if (api.feat_present(voiceFeatures, 'cg_db') === 0) return undefined;
  const val = api.feat_val(voiceFeatures, 'cg_db');
  const cgDb = val === null ? null : api.val_cg_db(val);
  if (cgDb === null) return undefined;
  const t = fliteTypes().cgDb;
  if (readIntField(cgDb, t, 'spamf0') === 0) return undefined;
  return { cgDb, doMlpg: readIntField(cgDb, t, 'do_mlpg') !== 0, mixedExcitation: readIntField(cgDb, t, 'mixed_excitation') !== 0 };
}

function clampMs(ms: number, durationMs: number): number {
  if (!Number.isFinite(ms) || ms < 0) return 0;
  return Math.min(ms, durationMs);
}
