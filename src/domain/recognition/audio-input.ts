import type { Duplex } from 'node:stream';
import type { CompressedContainer, RawAudioFormat } from '../../kernel/audio/format.js';
import { DEFAULT_STREAM_FORMAT, ENGINE_SAMPLE_RATE } from '../../kernel/audio/format.js';
import { PcmNormalizer } from '../../kernel/audio/pcm-normalizer.js';
import { EIGHT_BIT_PROBE_BYTES, guessEightBitEncoding } from '../../kernel/audio/eight-bit.js';
import { SNIFF_PREFERRED_BYTES, sniffContainer, type ContentTypeAudio } from '../../kernel/audio/sniff.js';
import { parseWavHeader } from '../../kernel/audio/wav.js';
import { isServiceError, type ServiceError } from '../../kernel/errors.js';
import type { CompressedAudioDecoder } from '../ports/audio.js';
import { Errors } from '../errors.js';

/** What the transport says about the audio, when it says anything (REST Content-Type). */
export type DeclaredAudio = { kind: 'sniff' } | ContentTypeAudio;

/** Bytes kept while waiting for a complete WAV header. */
const MAX_HEADER_BYTES = 64 * 1024;

type Stage =
  | { kind: 'pending'; buffered: Buffer[]; bytes: number }
  /** Declared 8-bit PCM: collecting a few bytes to tell u8 from G.711 (see guessEightBitEncoding). */
  | { kind: 'probe8'; format: RawAudioFormat; buffered: Buffer[]; bytes: number }
  | { kind: 'pcm'; normalizer: PcmNormalizer }
  | { kind: 'compressed'; stream: Duplex; finished: Promise<void> }
  | { kind: 'failed' };

/**
 * Turns the audio bytes of one turn (or one REST body) into 16 kHz mono PCM for the engine.
 *
 * The format comes from the first bytes: a RIFF/WAVE header (the SDKs send one at the start of every
 * turn, as a message of its own or in front of the first samples), a compressed container
 * (OGG/Opus, WebM, MP3, FLAC: decoded by the CompressedAudioDecoder port), or — with no header at
 * all — the SDK default of 16 kHz 16-bit mono PCM. `write` resolves when the bytes were accepted,
 * which is the backpressure signal for the transport.
 */
export class AudioInput {
  #stage: Stage = { kind: 'pending', buffered: [], bytes: 0 };
  readonly #sink: (pcm: Int16Array) => void;
  readonly #decoder: CompressedAudioDecoder;
  readonly #declared: DeclaredAudio;
  #format: RawAudioFormat | CompressedContainer | undefined;

  constructor(decoder: CompressedAudioDecoder, sink: (pcm: Int16Array) => void, declared: DeclaredAudio = { kind: 'sniff' }) {
    this.#decoder = decoder;
    this.#sink = sink;
    this.#declared = declared;
    if (declared.kind === 'raw') this.#stage = { kind: 'pcm', normalizer: new PcmNormalizer(declared.format) };
    if (declared.kind === 'compressed') this.#stage = this.#openCompressed(declared.container);
  }

  #samplesOut = 0;
  #failure: ServiceError | undefined;

  /** Duration of the PCM produced so far (16 kHz), whatever the consumer did with it. */
  get audioMs(): number {
    return (this.#samplesOut * 1000) / ENGINE_SAMPLE_RATE;
  }

  /** The detected input format, once known. */
  get format(): RawAudioFormat | CompressedContainer | undefined {
    return this.#format;
  }

  async write(bytes: Buffer): Promise<void> {
    if (bytes.length === 0) return;
    const stage = this.#stage;
    switch (stage.kind) {
      case 'failed':
        return;
      case 'pcm':
        this.#emit(stage.normalizer.push(bytes));
        return;
      case 'probe8':
        stage.buffered.push(bytes);
        stage.bytes += bytes.length;
        if (stage.bytes >= EIGHT_BIT_PROBE_BYTES) this.#settleEightBit(stage);
        return;
      case 'compressed':
        // A decoder that already failed takes no more bytes: report its error instead of waiting on it.
        if (this.#failure) throw this.#failure;
        if (!stage.stream.write(bytes)) await waitDrain(stage.stream);
        if (this.#failure) throw this.#failure;
        return;
      case 'pending': {
        stage.buffered.push(bytes);
        stage.bytes += bytes.length;
        const all = Buffer.concat(stage.buffered);
        const next = this.#decide(all);
        if (!next) {
          if (stage.bytes > MAX_HEADER_BYTES) throw Errors.invalidAudio('The audio header is too large or incomplete.');
          return;
        }
        this.#stage = next.stage;
        if (next.rest.length > 0) await this.write(next.rest);
        return;
      }
    }
  }

  /** End of input: flushes buffered samples; resolves when every PCM sample reached the sink. */
  async end(): Promise<void> {
    const stage = this.#stage;
    if (stage.kind === 'pending') {
      // Fewer bytes than a header: treat what we have as raw default-format audio, if anything.
      const all = Buffer.concat(stage.buffered);
      if (all.length === 0) return;
      if (all.subarray(0, 4).toString('latin1') === 'RIFF') throw Errors.invalidAudio('The WAV header is incomplete.');
      const format = this.#declared.kind === 'wav' ? this.#declared.rawFallback : DEFAULT_STREAM_FORMAT;
      const normalizer = new PcmNormalizer(format);
      this.#format = format;
      this.#emit(normalizer.push(all));
      this.#emit(normalizer.flush());
      return;
    }
    if (stage.kind === 'probe8') {
      const normalizer = this.#settleEightBit(stage);
      this.#emit(normalizer.flush());
      return;
    }
    if (stage.kind === 'pcm') {
      this.#emit(stage.normalizer.flush());
      return;
    }
    if (stage.kind === 'compressed') {
      stage.stream.end();
      await stage.finished;
    }
  }

  destroy(): void {
    const stage = this.#stage;
    if (stage.kind === 'compressed') stage.stream.destroy();
    this.#stage = { kind: 'failed' };
  }

  #decide(all: Buffer): { stage: Stage; rest: Buffer } | undefined {
    const kind = sniffContainer(all.subarray(0, Math.min(all.length, SNIFF_PREFERRED_BYTES)));
    const declared = this.#declared;
    if (declared.kind === 'wav' && kind !== 'wav') {
      // Labelled WAV but headerless: the Content-Type parameters describe the samples.
      if (all.length < 12) return undefined;
      this.#format = declared.rawFallback;
      return { stage: { kind: 'pcm', normalizer: new PcmNormalizer(declared.rawFallback) }, rest: all };
    }
    if (kind === 'wav') {
      const parsed = parseWavHeader(all);
      if ('needMore' in parsed) return undefined;
      this.#format = parsed.format;
      const rest = all.subarray(parsed.dataOffset);
      if (parsed.format.encoding === 'pcm-u8') return { stage: { kind: 'probe8', format: parsed.format, buffered: [], bytes: 0 }, rest };
      return { stage: { kind: 'pcm', normalizer: new PcmNormalizer(parsed.format) }, rest };
    }
    if (kind === 'raw') {
      // Too few bytes to tell a header from samples: wait for a little more.
      if (all.length < 12) return undefined;
      this.#format = DEFAULT_STREAM_FORMAT;
      return { stage: { kind: 'pcm', normalizer: new PcmNormalizer(DEFAULT_STREAM_FORMAT) }, rest: all };
    }
    return { stage: this.#openCompressed(kind), rest: all };
  }

  #settleEightBit(stage: Extract<Stage, { kind: 'probe8' }>): PcmNormalizer {
    const bytes = Buffer.concat(stage.buffered);
    const format: RawAudioFormat = { ...stage.format, encoding: guessEightBitEncoding(bytes) };
    this.#format = format;
    const normalizer = new PcmNormalizer(format);
    this.#stage = { kind: 'pcm', normalizer };
    this.#emit(normalizer.push(bytes));
    return normalizer;
  }

  #openCompressed(container: CompressedContainer): Stage {
    this.#format = container;
    const stream = this.#decoder.open(container);
    let carry: Buffer | undefined;
    const finished = new Promise<void>((resolve, reject) => {
      stream.on('data', (chunk: Buffer) => {
        // PCM arrives in arbitrary byte chunks; keep an odd trailing byte for the next one.
        let data = carry ? Buffer.concat([carry, chunk]) : chunk;
        carry = undefined;
        if (data.length % 2 === 1) {
          carry = data.subarray(data.length - 1);
          data = data.subarray(0, data.length - 1);
        }
        if (data.length > 0) this.#emit(toInt16(data));
      });
      stream.on('end', () => resolve());
      stream.on('error', (err: unknown) => {
        this.#failure = isServiceError(err) ? err : Errors.invalidAudio('The audio could not be decoded.', err);
        reject(this.#failure);
      });
    });
    // The rejection is observed by end(); keep it from surfacing as unhandled before that.
    finished.catch(() => undefined);
    return { kind: 'compressed', stream, finished };
  }

  #emit(pcm: Int16Array): void {
    if (pcm.length === 0) return;
    this.#samplesOut += pcm.length;
    this.#sink(pcm);
  }
}

function toInt16(buf: Buffer): Int16Array {
  // Copy when unaligned: Int16Array views need an even byte offset.
  if (buf.byteOffset % 2 === 0) return new Int16Array(buf.buffer, buf.byteOffset, buf.length / 2);
  const copy = new Int16Array(buf.length / 2);
  for (let i = 0; i < copy.length; i++) copy[i] = buf.readInt16LE(i * 2);
  return copy;
}

function waitDrain(stream: Duplex): Promise<void> {
  if (stream.destroyed || stream.writableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
    stream.once('error', done);
  });
}
