import { Readable, type Duplex } from 'node:stream';
import type { RawAudioFormat } from '../../kernel/audio/format.js';
import { encodeAlaw, encodeMulaw } from '../../kernel/audio/g711.js';
import { Resampler } from '../../kernel/audio/resample.js';
import { buildWavHeader } from '../../kernel/audio/wav.js';
import { isServiceError } from '../../kernel/errors.js';
import { Errors } from '../errors.js';
import type { CompressedAudioEncoder } from '../ports/audio.js';
import { encodedFormatOf, type OutputFormat } from './output-formats.js';

export interface AudioOutputOptions {
  /**
   * Total number of input samples that will be written, when the caller knows it up front (for
   * instance because the engine rendered the whole utterance before streaming it). `riff-*` headers
   * then carry exact sizes instead of the streaming sentinel 0xFFFFFFFF; the output is padded with
   * silence if fewer samples arrive, and writing more rejects with a RangeError. Ignored by other
   * formats.
   */
  totalInputSamples?: number;
  /** Bytes the readable side buffers before write() waits for the consumer (default 64 KiB). */
  highWaterMark?: number;
}

/**
 * The encoded audio of one synthesis request, produced while it is being synthesized.
 *
 * Producer side: `write()` PCM (16-bit mono at `inputRate`, the voice's native rate, fixed for the
 * lifetime of the output) as it is synthesized, then `end()`. Both return promises that settle in
 * call order and resolve once the audio was accepted; they wait while the consumer is behind
 * (backpressure), so memory stays bounded by `highWaterMark` plus one internal block.
 *
 * Consumer side: `readable` yields the encoded bytes in order (pipe it into a REST response, or
 * send each chunk as a WebSocket `audio` frame) and ends after the last byte. The consumer must
 * read concurrently with the producer, or write()/end() will wait for it indefinitely.
 *
 * Failures (the encoder dying) destroy `readable` with a ServiceError and make pending and later
 * write()/end() calls reject with the same error. If the consumer destroys `readable` (say the
 * client went away) or `destroy()` is called without an error, the output is `closed`: the encoder
 * is killed and further writes resolve without doing anything, so producers should check `closed`
 * to stop synthesizing early.
 */
export interface AudioOutput {
  readonly format: OutputFormat;
  /** Rate of the PCM passed to write(). */
  readonly inputRate: number;
  readonly readable: Readable;
  /** `readable` as an async iterable of Buffers (`for await (const chunk of output.chunks)`). */
  readonly chunks: AsyncIterable<Buffer>;
  write(pcm: Int16Array): Promise<void>;
  end(): Promise<void>;
  /** Stops everything now (kills the encoder); with an error, `readable` is destroyed with it. */
  destroy(error?: Error): void;
  /** True once the output was destroyed or failed. */
  readonly closed: boolean;
  /** Input samples accepted so far. */
  readonly inputSamples: number;
  /** Samples at `format.sampleRate` handed to the encoder or emitted so far (lags the input by the resampler's look-ahead until end()). */
  readonly outputSamples: number;
  /** Encoded bytes pushed to `readable` so far, headers included. */
  readonly bytesOut: number;
  /** Duration of the audio written so far, in milliseconds (from the input count, so exact). */
  readonly durationMs: number;
  /** The same in 100-ns ticks, the unit of `audio.metadata` offsets (SessionEnd after end()). */
  readonly durationTicks: number;
}

const DEFAULT_HIGH_WATER_MARK = 64 * 1024;
/** Input is processed in blocks of at most this many samples, so one huge write() cannot balloon a chunk. */
const BLOCK_SAMPLES = 4096;
const TICKS_PER_SECOND = 10_000_000;
const HOST_IS_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Codes G.711 uses for a zero sample, for padding. */
const MULAW_SILENCE = 0xff;
const ALAW_SILENCE = 0xd5;

type Sink = 'pcm' | 'mulaw' | 'alaw' | 'encoder';

/**
 * Builds the output pipeline for one request: resampling from `inputRate` to the format's rate,
 * then raw/RIFF PCM or G.711 in-process, or the CompressedAudioEncoder port for MP3, Opus, FLAC
 * and G.722. Throws the UnsupportedOutputFormat ServiceError for formats that cannot be produced,
 * and a RangeError for a nonsensical input rate.
 */
export function createAudioOutput(
  format: OutputFormat,
  inputRate: number,
  encoder: CompressedAudioEncoder,
  options: AudioOutputOptions = {},
): AudioOutput {
  return new StreamingAudioOutput(format, inputRate, encoder, options);
}

class StreamingAudioOutput implements AudioOutput {
  readonly format: OutputFormat;
  readonly inputRate: number;
  readonly readable: Readable;
  readonly #sink: Sink;
  readonly #resampler: Resampler | undefined;
  readonly #encoder: Duplex | undefined;
  /** Output samples a `riff-*` header promised, when the total was given. */
  readonly #declaredSamples: number | undefined;
  readonly #totalInput: number | undefined;
  /** WAV header still to be sent in front of the first audio bytes. */
  #header: Buffer | undefined;
  #chain: Promise<void> = Promise.resolve();
  #ended = false;
  #closed = false;
  #failure: Error | undefined;
  /** The encoder ended, failed or was torn down by us: its 'close' is not a surprise then. */
  #encoderSettled = false;
  #readWaiters: (() => void)[] = [];
  /** We paused the encoder because `readable` was full; the next read resumes it. */
  #encoderPaused = false;
  #inputSamples = 0;
  #outputSamples = 0;
  #bytesOut = 0;

  constructor(format: OutputFormat, inputRate: number, encoder: CompressedAudioEncoder, options: AudioOutputOptions) {
    if (!format.supported) throw Errors.unsupportedOutputFormat(format.name, format.unsupportedReason);
    if (!Number.isInteger(inputRate) || inputRate <= 0) throw new RangeError(`input sample rate must be a positive integer, got ${inputRate}`);
    const total = options.totalInputSamples;
    if (total !== undefined && (!Number.isSafeInteger(total) || total < 0)) {
      throw new RangeError(`totalInputSamples must be a non-negative integer, got ${total}`);
    }
    this.format = format;
    this.inputRate = inputRate;
    this.#resampler = inputRate === format.sampleRate ? undefined : new Resampler(inputRate, format.sampleRate);

    this.readable = new Readable({
      highWaterMark: options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
      read: () => this.#onRead(),
      destroy: (error, callback) => {
        this.#onDestroy(error);
        callback(error);
      },
    });
    // Errors also reach the producer through write()/end() and any consumer through its own
    // listener or iterator; this listener only keeps an early failure (before the consumer attached)
    // from becoming an uncaught exception.
    this.readable.on('error', () => undefined);

    const encoded = encodedFormatOf(format);
    if (encoded !== undefined) {
      this.#sink = 'encoder';
      this.#declaredSamples = undefined;
      this.#totalInput = undefined;
      const stream = encoder.open({ ...encoded, sampleRate: format.sampleRate, bitrateKbps: format.bitrateKbps });
      this.#encoder = stream;
      this.#attachEncoder(stream);
      return;
    }

    this.#encoder = undefined;
    this.#sink = format.codec === 'mulaw' ? 'mulaw' : format.codec === 'alaw' ? 'alaw' : 'pcm';
    if (format.codec !== 'pcm' && format.codec !== 'mulaw' && format.codec !== 'alaw') {
      // encodedFormatOf covers every other supported codec; reaching here means the table and this
      // switch disagree, which is a bug, not a client error.
      throw new Error(`no output path for codec ${format.codec}`);
    }
    if (format.container === 'riff') {
      const wav: RawAudioFormat = {
        encoding: this.#sink === 'pcm' ? 'pcm-s16' : this.#sink === 'mulaw' ? 'mulaw' : 'alaw',
        sampleRate: format.sampleRate,
        channels: 1,
      };
      // The resampler emits exactly ceil(n · out / in) samples for n inputs, so the size is known.
      this.#declaredSamples = total === undefined ? undefined : Math.ceil((total * format.sampleRate) / inputRate);
      this.#totalInput = total;
      this.#header = buildWavHeader(wav, this.#declaredSamples === undefined ? undefined : this.#declaredSamples * this.#bytesPerSample());
    } else {
      this.#declaredSamples = undefined;
      this.#totalInput = undefined;
    }
  }

  get chunks(): AsyncIterable<Buffer> {
    return this.readable;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get inputSamples(): number {
    return this.#inputSamples;
  }

  get outputSamples(): number {
    return this.#outputSamples;
  }

  get bytesOut(): number {
    return this.#bytesOut;
  }

  get durationMs(): number {
    return (this.#inputSamples * 1000) / this.inputRate;
  }

  get durationTicks(): number {
    return Math.round((this.#inputSamples * TICKS_PER_SECOND) / this.inputRate);
  }

  write(pcm: Int16Array): Promise<void> {
    return this.#enqueue(() => this.#write(pcm));
  }

  end(): Promise<void> {
    return this.#enqueue(() => this.#end());
  }

  destroy(error?: Error): void {
    this.readable.destroy(error);
  }

  /** Runs operations strictly in call order, even if the caller does not await each one. */
  #enqueue(op: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(op);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #write(pcm: Int16Array): Promise<void> {
    if (this.#ended) throw new Error('AudioOutput.write() after end()');
    if (this.#stopped() || pcm.length === 0) return;
    if (this.#totalInput !== undefined && this.#inputSamples + pcm.length > this.#totalInput) {
      throw new RangeError(
        `AudioOutput was promised ${this.#totalInput} input samples but got ${this.#inputSamples + pcm.length} (the WAV header would be wrong)`,
      );
    }
    for (let i = 0; i < pcm.length; i += BLOCK_SAMPLES) {
      const block = pcm.subarray(i, Math.min(pcm.length, i + BLOCK_SAMPLES));
      this.#inputSamples += block.length;
      await this.#emit(this.#resampler === undefined ? block : this.#resampler.process(block));
      if (this.#stopped()) return;
    }
  }

  async #end(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#stopped()) return;
    if (this.#resampler !== undefined) {
      await this.#emit(this.#resampler.flush());
      if (this.#stopped()) return;
    }
    if (this.#declaredSamples !== undefined) {
      await this.#padToDeclared();
      if (this.#stopped()) return;
    }
    if (this.#encoder !== undefined) {
      await this.#endEncoder(this.#encoder);
      this.#stopped();
      return;
    }
    if (this.#header !== undefined) await this.#push(this.#takeHeader());
    if (!this.#closed) this.readable.push(null);
  }

  /** True when the output was closed quietly; throws the failure if it failed. */
  #stopped(): boolean {
    if (this.#failure !== undefined) throw this.#failure;
    return this.#closed;
  }

  #bytesPerSample(): number {
    return this.#sink === 'pcm' ? 2 : 1;
  }

  /** Encodes samples at the output rate and hands them on, waiting while the consumer is behind. */
  async #emit(samples: Int16Array): Promise<void> {
    let out = samples;
    if (this.#declaredSamples !== undefined) {
      // Cannot happen given the input check and the resampler's exact count; guards the header's promise anyway.
      const room = this.#declaredSamples - this.#outputSamples;
      if (out.length > room) out = out.subarray(0, Math.max(0, room));
    }
    if (out.length === 0) return;
    this.#outputSamples += out.length;
    let bytes: Buffer;
    switch (this.#sink) {
      case 'mulaw':
        bytes = toBuffer(encodeMulaw(out));
        break;
      case 'alaw':
        bytes = toBuffer(encodeAlaw(out));
        break;
      case 'pcm':
      case 'encoder':
        bytes = s16leBytes(out);
        break;
    }
    if (this.#encoder !== undefined) {
      await this.#writeEncoder(this.#encoder, bytes);
    } else {
      await this.#push(this.#header === undefined ? bytes : Buffer.concat([this.#takeHeader(), bytes]));
    }
  }

  /** Completes a `riff-*` stream whose size was promised: silence for missing samples, and the RIFF pad byte. */
  async #padToDeclared(): Promise<void> {
    const declared = this.#declaredSamples ?? 0;
    while (this.#outputSamples < declared) {
      const n = Math.min(BLOCK_SAMPLES, declared - this.#outputSamples);
      this.#outputSamples += n;
      const fill = this.#sink === 'mulaw' ? MULAW_SILENCE : this.#sink === 'alaw' ? ALAW_SILENCE : 0;
      const bytes = Buffer.alloc(n * this.#bytesPerSample(), fill);
      await this.#push(this.#header === undefined ? bytes : Buffer.concat([this.#takeHeader(), bytes]));
      if (this.#stopped()) return;
    }
    // RIFF chunks are padded to an even length, and buildWavHeader counts the pad byte in the RIFF size.
    if ((declared * this.#bytesPerSample()) % 2 === 1) await this.#push(Buffer.alloc(1));
  }

  #takeHeader(): Buffer {
    const header = this.#header ?? Buffer.alloc(0);
    this.#header = undefined;
    return header;
  }

  async #push(bytes: Buffer): Promise<void> {
    if (this.#closed || bytes.length === 0) return;
    this.#bytesOut += bytes.length;
    if (!this.readable.push(bytes)) await this.#waitForRead();
  }

  #waitForRead(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#readWaiters.push(resolve));
  }

  #onRead(): void {
    const waiters = this.#readWaiters;
    this.#readWaiters = [];
    for (const wake of waiters) wake();
    const encoder = this.#encoder;
    if (encoder !== undefined && this.#encoderPaused) {
      this.#encoderPaused = false;
      encoder.resume();
    }
  }

  #attachEncoder(encoder: Duplex): void {
    encoder.on('data', (chunk: Buffer) => {
      if (this.#closed) return;
      this.#bytesOut += chunk.length;
      if (!this.readable.push(chunk)) {
        // Our own flag rather than encoder.isPaused(): only a pause we caused is ours to undo.
        this.#encoderPaused = true;
        encoder.pause();
      }
    });
    encoder.on('end', () => {
      this.#encoderSettled = true;
      if (!this.#closed) this.readable.push(null);
    });
    encoder.on('error', (error: Error) => {
      this.#encoderSettled = true;
      this.#fail(error);
    });
    encoder.on('close', () => {
      // A close without 'end' or 'error' means someone else tore the encoder down mid-stream.
      if (this.#encoderSettled) return;
      this.#encoderSettled = true;
      this.#fail(Errors.internal(new Error('the audio encoder closed before the end of the stream')));
    });
  }

  async #writeEncoder(encoder: Duplex, bytes: Buffer): Promise<void> {
    if (encoder.destroyed || this.#closed) return;
    if (!encoder.write(bytes)) await waitForDrain(encoder);
  }

  /** Resolves once the encoder has taken all input (its output keeps flowing to `readable`). */
  #endEncoder(encoder: Duplex): Promise<void> {
    if (encoder.destroyed || encoder.writableFinished) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        encoder.off('finish', done);
        encoder.off('close', done);
        resolve();
      };
      encoder.on('finish', done);
      encoder.on('close', done);
      encoder.end();
    });
  }

  #fail(error: Error): void {
    if (this.#closed) return;
    this.#failure = isServiceError(error) ? error : Errors.internal(error);
    this.readable.destroy(this.#failure);
  }

  #onDestroy(error: Error | null): void {
    this.#closed = true;
    if (error !== null && this.#failure === undefined) this.#failure = error;
    const encoder = this.#encoder;
    if (encoder !== undefined && !encoder.destroyed) {
      this.#encoderSettled = true;
      // No error argument: the encoder's own 'error' would only echo ours.
      encoder.destroy();
    }
    const waiters = this.#readWaiters;
    this.#readWaiters = [];
    for (const wake of waiters) wake();
  }
}

function waitForDrain(stream: Duplex): Promise<void> {
  if (stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** s16 samples → little-endian bytes in a fresh buffer (the caller may reuse its array). */
function s16leBytes(samples: Int16Array): Buffer {
  const out = Buffer.allocUnsafe(samples.length * 2);
  if (HOST_IS_LE) {
    out.set(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
    return out;
  }
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i] ?? 0, i * 2);
  return out;
}
