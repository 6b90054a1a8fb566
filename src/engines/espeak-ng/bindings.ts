/**
 * koffi bindings to eSpeak NG (`libespeak-ng.so.1`, Debian 1.51), and a synchronous synthesizer wrapper.
 *
 * eSpeak NG keeps all of its state in globals of the loaded library: one synthesis at a time per loaded
 * instance, whatever thread calls it (two threads sharing one instance abort the process, measured). So each
 * worker thread loads its own instance (index.ts decides which file: the installed one or a private copy), and
 * everything here is synchronous C: load this module only inside a worker thread, never on the main event loop.
 *
 * Layouts below are from speak_lib.h (API revision 12), checked against the library on x86_64:
 * `sizeof(espeak_EVENT)` is 40, its `id` union at offset 32.
 */
import koffi, { type LibraryHandle, type TypeObject } from 'koffi';

import { EngineError } from '../../domain/ports/engines.js';

/** speak_lib.h `espeak_EVENT_TYPE`. */
export const EVENT = {
  LIST_TERMINATED: 0,
  WORD: 1,
  SENTENCE: 2,
  MARK: 3,
  PLAY: 4,
  /** End of a sentence or clause. */
  END: 5,
  MSG_TERMINATED: 6,
  PHONEME: 7,
  SAMPLERATE: 8,
} as const;

const AUDIO_OUTPUT_SYNCHRONOUS = 2;
/** `espeak_Initialize` options: phoneme events (eSpeak mnemonics), and return an error instead of exit(). */
const INITIALIZE_PHONEME_EVENTS = 0x0001;
const INITIALIZE_DONT_EXIT = 0x8000;
const POS_CHARACTER = 1;
const CHARS_UTF8 = 1;
/** speak_lib.h `espeak_PARAMETER`. */
const PARAM_RATE = 1;
const PARAM_PITCH = 3;
const EE_OK = 0;

const EVENT_SIZE = 40;

/** koffi 3 represents C pointers as BigInt; NULL comes back as `null`. */
type Ptr = bigint;
/** What koffi.register returns: the C function pointer of a registered JS callback. */
type RegisteredCallback = bigint;

/** One espeak_EVENT, decoded. `phoneme` is set for PHONEME events only. */
export interface RawEvent {
  type: number;
  /** 1-based position in the text, counted in Unicode code points (measured with UTF-8 input). */
  textPosition: number;
  /** Word length in code points (WORD events); 0 when eSpeak does not know it. */
  length: number;
  /** Milliseconds from the start of this espeak_Synth call's audio. */
  audioPositionMs: number;
  phoneme: string;
}

interface EspeakApi {
  espeak_Initialize: (output: number, buflength: number, path: string | null, options: number) => number;
  espeak_SetSynthCallback: (cb: RegisteredCallback) => void;
  espeak_SetVoiceByName: (name: string) => number;
  espeak_SetParameter: (parameter: number, value: number, relative: number) => number;
  espeak_Synth: (text: Buffer, size: number, position: number, positionType: number, endPosition: number, flags: number, uid: null, userData: null) => number;
  espeak_Synchronize: () => number;
  }

function fn<T>(lib: LibraryHandle, declaration: string): T {
  // koffi cannot type C prototypes; the interface above is the single place that states them.
  return lib.func(declaration) as unknown as T;
}

/** Per-thread koffi type objects (koffi types are registered by name, once per thread). */
let types: { event: TypeObject; callback: TypeObject } | undefined;

function koffiTypes(): { event: TypeObject; callback: TypeObject } {
  if (types !== undefined) return types;
  const event = koffi.struct('parlance_espeak_EVENT', {
    type: 'int',
    unique_identifier: 'uint',
    text_position: 'int',
    length: 'int',
    audio_position: 'int',
    sample: 'int',
    user_data: 'void *',
    // The C union {int number; const char *name; char string[8]}: only the phoneme name is read, as bytes.
    id: [8, koffi.array('uint8_t', 8, 'Typed')],
  });
  if (koffi.sizeof(event) !== EVENT_SIZE) throw new EngineError('Internal', `espeak_EVENT layout mismatch (${koffi.sizeof(event)} bytes)`);
  const callback = koffi.proto('int parlance_espeak_synth_cb(void *wav, int numsamples, void *events)');
  types = { event, callback };
  return types;
}

interface DecodedEvent {
  type: number;
  text_position: number;
  length: number;
  audio_position: number;
  id: Uint8Array;
}

const utf8 = new TextDecoder('utf-8');

function phonemeName(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return utf8.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/**
 * Receives each buffer of one synthesis: samples (copied, owned by the receiver) and the events that belong to
 * it. Returns false to stop the synthesis.
 */
export type ChunkHandler = (pcm: Int16Array<ArrayBuffer>, events: RawEvent[]) => boolean;

/** One loaded copy of the library, initialised for synchronous synthesis with phoneme events. */
export class EspeakSynthesizer {
  readonly sampleRate: number;
  private readonly api: EspeakApi;
  private readonly callback: RegisteredCallback;
  private handler: ChunkHandler | undefined;
  /** Set when the handler threw: reported after espeak_Synth returns (throwing through C would lose it). */
  private handlerError: unknown;
  private currentVoice: string | undefined;
  private released = false;

  private constructor(api: EspeakApi, sampleRate: number) {
    this.api = api;
    this.sampleRate = sampleRate;
    const { event, callback } = koffiTypes();
    // Registered (not transient): eSpeak keeps the pointer and calls it during every later espeak_Synth.
    this.callback = koffi.register((wav: Ptr | null, numSamples: number, events: Ptr | null) => this.onBuffer(wav, numSamples, events, event), koffi.pointer(callback));
    api.espeak_SetSynthCallback(this.callback);
  }

  /**
   * Loads the library from `libraryPath` and initialises it. `bufferMs` is how much audio eSpeak hands to the
   * callback at a time. @throws EngineError `ModelLoadFailed` when the library or its data cannot be loaded.
   */
  static load(libraryPath: string, bufferMs: number, dataPath?: string): EspeakSynthesizer {
    let lib: LibraryHandle;
    try {
      lib = koffi.load(libraryPath);
    } catch (err) {
      throw new EngineError('ModelLoadFailed', `cannot load ${libraryPath} (apt-get install libespeak-ng1)`, { cause: err });
    }
    // The callback prototype must exist before the declaration that names it is parsed.
    koffiTypes();
    const api: EspeakApi = {
      espeak_Initialize: fn(lib, 'int espeak_Initialize(int output, int buflength, const char *path, int options)'),
      espeak_SetSynthCallback: fn(lib, 'void espeak_SetSynthCallback(parlance_espeak_synth_cb *cb)'),
      espeak_SetVoiceByName: fn(lib, 'int espeak_SetVoiceByName(const char *name)'),
      espeak_SetParameter: fn(lib, 'int espeak_SetParameter(int parameter, int value, int relative)'),
      // `size` is unused in synchronous mode; `unique_identifier` and `user_data` may be NULL.
      espeak_Synth: fn(lib, 'int espeak_Synth(const void *text, size_t size, unsigned int position, int position_type, unsigned int end_position, unsigned int flags, void *unique_identifier, void *user_data)'),
      espeak_Synchronize: fn(lib, 'int espeak_Synchronize(void)'),
    };
    const rate = api.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, bufferMs, dataPath ?? null, INITIALIZE_PHONEME_EVENTS | INITIALIZE_DONT_EXIT);
    if (rate <= 0) throw new EngineError('ModelLoadFailed', `espeak_Initialize failed (${rate}); is espeak-ng-data installed${dataPath === undefined ? '' : ` under ${dataPath}`}?`);
    return new EspeakSynthesizer(api, rate);
  }

  /** Selects a voice by eSpeak name ("en-us", "de+f3"); no-op when it is already current. Returns false if unknown. */
  setVoice(name: string): boolean {
    if (this.currentVoice === name) return true;
    const rc = this.api.espeak_SetVoiceByName(name);
    if (rc !== EE_OK) {
      // A failed switch may leave eSpeak on a half-loaded voice: force a reload next time.
      this.currentVoice = undefined;
      return false;
    }
    this.currentVoice = name;
    return true;
  }

  /** Rate in words per minute, pitch 0..100 (50 = the voice's own). Set before every synthesis. */
  setProsody(rateWpm: number, pitch: number): void {
    this.check(this.api.espeak_SetParameter(PARAM_RATE, rateWpm, 0), 'espeak_SetParameter(rate)');
    this.check(this.api.espeak_SetParameter(PARAM_PITCH, pitch, 0), 'espeak_SetParameter(pitch)');
  }

  /**
   * Synthesizes `text` (plain text, UTF-8), calling `handler` for every buffer. Returns false when the handler
   * stopped it. No sentence pause is added at the end (no espeakENDPAUSE): the audio ends with the last word.
   */
  synthesize(text: string, handler: ChunkHandler): boolean {
    if (this.released) throw new EngineError('Internal', 'eSpeak NG instance already released');
    const bytes = Buffer.from(`${text}\0`, 'utf8');
    this.handler = handler;
    this.handlerError = undefined;
    let stopped = false;
    try {
      const rc = this.api.espeak_Synth(bytes, bytes.length, 0, POS_CHARACTER, 0, CHARS_UTF8, null, null);
      this.check(rc, 'espeak_Synth');
      this.api.espeak_Synchronize();
    } finally {
      stopped = this.handler === undefined;
      this.handler = undefined;
    }
    if (this.handlerError !== undefined) throw this.handlerError;
    return !stopped;
  }

  /**
   * Stops using this instance. Deliberately not espeak_Terminate: in 1.51 it joins eSpeak's internal "say"
   * thread (started even in synchronous mode), and that join hung in ≈1 of 10 shutdowns (measured: a lost
   * wake-up in fifo_terminate), which would leave the worker thread unkillable. The instance's memory (a few MB)
   * and its idle say thread stay until the process exits; the instance is never initialised again (index.ts).
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    koffi.unregister(this.callback);
  }

  private onBuffer(wav: Ptr | null, numSamples: number, events: Ptr | null, eventType: TypeObject): number {
    const handler = this.handler;
    // Stopped (or a stray call outside synthesize): tell eSpeak to abandon the rest.
    if (handler === undefined) return 1;
    try {
      const pcm = new Int16Array(wav === null || numSamples <= 0 ? 0 : numSamples);
      // Copied out of eSpeak's buffer, which it reuses for the next call.
      if (wav !== null && numSamples > 0) pcm.set(new Int16Array(koffi.view(wav, numSamples * 2)));
      const decoded: RawEvent[] = [];
      if (events !== null) {
        for (let i = 0; ; i++) {
          const e = koffi.decode(events, i * EVENT_SIZE, eventType) as DecodedEvent;
          if (e.type === EVENT.LIST_TERMINATED) break;
          decoded.push({
            type: e.type,
            textPosition: e.text_position,
            length: e.length,
            audioPositionMs: e.audio_position,
            phoneme: e.type === EVENT.PHONEME ? phonemeName(e.id) : '',
          });
        }
      }
      if (handler(pcm, decoded)) return 0;
    } catch (err) {
      this.handlerError = err;
    }
    this.handler = undefined;
    return 1;
  }

  private check(rc: number, call: string): void {
    if (rc !== EE_OK) throw new EngineError('Internal', `${call} failed (${rc})`);
  }
}
