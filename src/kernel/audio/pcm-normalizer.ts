import { endianness } from 'node:os';
import { ServiceError } from '../errors.js';
import { ENGINE_SAMPLE_RATE, type PcmEncoding, type RawAudioFormat } from './format.js';
import { ALAW_DECODE_TABLE, MULAW_DECODE_TABLE } from './g711.js';
import { Resampler } from './resample.js';

const BYTES_PER_SAMPLE: Record<PcmEncoding, number> = {
  'pcm-u8': 1,
  'pcm-s16': 2,
  'pcm-s24': 3,
  'pcm-s32': 4,
  'pcm-f32': 4,
  mulaw: 1,
  alaw: 1,
};

const MAX_CHANNELS = 32;
const MIN_SAMPLE_RATE = 1_000;
const MAX_SAMPLE_RATE = 768_000;
/** Typed-array views share the host's byte order; WAV/PCM on the wire is little-endian. */
const HOST_IS_LE = endianness() === 'LE';
const EMPTY = new Int16Array(0);

export function bytesPerSample(encoding: PcmEncoding): number {
  return BYTES_PER_SAMPLE[encoding];
}

/** Throws InvalidAudio when a declared format cannot be converted (bad rate/channels/encoding). */
export function validateRawFormat(format: RawAudioFormat): void {
  if (!Object.hasOwn(BYTES_PER_SAMPLE, format.encoding)) {
    throw new ServiceError('InvalidAudio', 400, `Unsupported audio encoding ${JSON.stringify(format.encoding)}`);
  }
  if (!Number.isInteger(format.channels) || format.channels < 1 || format.channels > MAX_CHANNELS) {
    throw new ServiceError('InvalidAudio', 400, `Unsupported channel count ${format.channels} (1..${MAX_CHANNELS})`);
  }
  if (!Number.isInteger(format.sampleRate) || format.sampleRate < MIN_SAMPLE_RATE || format.sampleRate > MAX_SAMPLE_RATE) {
    throw new ServiceError(
      'InvalidAudio',
      400,
      `Unsupported sample rate ${format.sampleRate} Hz (${MIN_SAMPLE_RATE}..${MAX_SAMPLE_RATE})`,
    );
  }
}

/**
 * Converts a stream of raw audio in any RawAudioFormat into engine PCM: 16 kHz, mono, s16.
 * Chunks may split frames anywhere (odd byte counts, half a sample, part of a stereo frame); the
 * remainder is carried to the next push. Memory is bounded by the largest chunk pushed plus one
 * frame plus the resampler window, independent of stream length.
 */
export class PcmNormalizer {
  readonly format: RawAudioFormat;
  private readonly frameBytes: number;
  private readonly sampleBytes: number;
  private readonly resampler: Resampler | undefined;
  /** Bytes of an incomplete frame from the previous push (always < frameBytes). */
  private readonly carry: Uint8Array;
  private carryLength = 0;
  private bytesIn = 0;

  constructor(format: RawAudioFormat) {
    validateRawFormat(format);
    this.format = { ...format };
    this.sampleBytes = BYTES_PER_SAMPLE[format.encoding];
    this.frameBytes = this.sampleBytes * format.channels;
    this.carry = new Uint8Array(this.frameBytes);
    this.resampler = format.sampleRate === ENGINE_SAMPLE_RATE ? undefined : new Resampler(format.sampleRate, ENGINE_SAMPLE_RATE);
  }

  /** Total bytes pushed so far (for duration limits and diagnostics). */
  get bytesReceived(): number {
    return this.bytesIn;
  }

  /** Bytes of an incomplete trailing frame currently held back. */
  get pendingBytes(): number {
    return this.carryLength;
  }

  /** Converts a chunk; returns the engine samples that are ready (possibly none). */
  push(bytes: Uint8Array): Int16Array {
    if (bytes.length === 0) return EMPTY;
    this.bytesIn += bytes.length;
    const frameBytes = this.frameBytes;

    let frames: Uint8Array;
    if (this.carryLength === 0) {
      const whole = bytes.length - (bytes.length % frameBytes);
      frames = bytes.subarray(0, whole);
      this.stash(bytes.subarray(whole));
    } else {
      // Complete the held-back frame, then process it together with the whole frames that follow.
      const fill = Math.min(frameBytes - this.carryLength, bytes.length);
      const rest = bytes.subarray(fill);
      const whole = rest.length - (rest.length % frameBytes);
      if (this.carryLength + fill < frameBytes) {
        this.carry.set(bytes.subarray(0, fill), this.carryLength);
        this.carryLength += fill;
        return EMPTY;
      }
      frames = new Uint8Array(frameBytes + whole);
      frames.set(this.carry.subarray(0, this.carryLength), 0);
      frames.set(bytes.subarray(0, fill), this.carryLength);
      frames.set(rest.subarray(0, whole), frameBytes);
      this.carryLength = 0;
      this.stash(rest.subarray(whole));
    }
    if (frames.length === 0) return EMPTY;
    return this.convert(frames);
  }

  /**
   * Ends the stream: returns the resampler tail. An incomplete final frame cannot be decoded and is
   * dropped. The normalizer is reset and may be reused for another stream of the same format.
   */
  flush(): Int16Array {
    this.carryLength = 0;
    this.bytesIn = 0;
    return this.resampler === undefined ? EMPTY : this.resampler.flush();
  }

  private stash(tail: Uint8Array): void {
    this.carry.set(tail, 0);
    this.carryLength = tail.length;
  }

  /** `frames` holds a whole number of frames. */
  private convert(frames: Uint8Array): Int16Array {
    const { encoding, channels } = this.format;
    const count = frames.length / this.frameBytes;

    if (this.resampler === undefined) {
      if (channels === 1 && encoding === 'pcm-s16') return s16Copy(frames);
      if (channels === 1 && encoding === 'mulaw') return lookup(MULAW_DECODE_TABLE, frames);
      if (channels === 1 && encoding === 'alaw') return lookup(ALAW_DECODE_TABLE, frames);
    }
    if (this.resampler !== undefined && channels === 1 && encoding === 'pcm-s16') {
      // s16 mono straight into the resampler: exact, and skips a float pass.
      return this.resampler.process(s16Copy(frames));
    }

    const mono = new Float32Array(count);
    decodeMono(encoding, channels, frames, mono);
    if (this.resampler !== undefined) return this.resampler.process(mono);
    const out = new Int16Array(count);
    for (let i = 0; i < count; i++) {
      const v = Math.round((mono[i] ?? 0) * 32768);
      out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    return out;
  }
}

/** Little-endian s16 bytes → Int16Array (copying, so the result is aligned and owns its memory). */
function s16Copy(bytes: Uint8Array): Int16Array {
  const count = bytes.length >> 1;
  if (HOST_IS_LE) {
    const out = new Int16Array(count);
    new Uint8Array(out.buffer).set(bytes.subarray(0, count * 2));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int16Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

function lookup(table: Int16Array, codes: Uint8Array): Int16Array {
  const out = new Int16Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = table[codes[i] ?? 0] ?? 0;
  return out;
}

/**
 * Decodes interleaved frames to mono floats in [-1, 1]; channels are averaged (the usual downmix
 * for speech: the talker is usually present in every channel, and averaging cannot clip).
 */
function decodeMono(encoding: PcmEncoding, channels: number, bytes: Uint8Array, out: Float32Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = out.length;
  const inv = 1 / channels;
  let o = 0;
  switch (encoding) {
    case 'pcm-u8':
      for (let i = 0; i < count; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++) sum += (bytes[o++] ?? 128) - 128;
        out[i] = (sum * inv) / 128;
      }
      return;
    case 'pcm-s16':
      for (let i = 0; i < count; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++, o += 2) sum += view.getInt16(o, true);
        out[i] = (sum * inv) / 32768;
      }
      return;
    case 'pcm-s24':
      for (let i = 0; i < count; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++, o += 3) {
          // Assemble the 24-bit value and sign-extend it via a 32-bit shift.
          const v = ((bytes[o] ?? 0) | ((bytes[o + 1] ?? 0) << 8) | ((bytes[o + 2] ?? 0) << 16)) << 8;
          sum += v >> 8;
        }
        out[i] = (sum * inv) / 8388608;
      }
      return;
    case 'pcm-s32':
      for (let i = 0; i < count; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++, o += 4) sum += view.getInt32(o, true);
        out[i] = (sum * inv) / 2147483648;
      }
      return;
    case 'pcm-f32':
      for (let i = 0; i < count; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++, o += 4) {
          const v = view.getFloat32(o, true);
          // NaN/Infinity from a broken source would poison the resampler; map them to silence / full scale.
          sum += v === v ? (v > 1 ? 1 : v < -1 ? -1 : v) : 0;
        }
        out[i] = sum * inv;
      }
      return;
    case 'mulaw':
    case 'alaw': {
      const table = encoding === 'mulaw' ? MULAW_DECODE_TABLE : ALAW_DECODE_TABLE;
      for (let i = 0; i < count; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++) sum += table[bytes[o++] ?? 0] ?? 0;
        out[i] = (sum * inv) / 32768;
      }
      return;
    }
  }
}
