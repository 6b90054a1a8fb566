import { ServiceError } from '../errors.js';
import type { PcmEncoding, RawAudioFormat } from './format.js';

/**
 * Everything before the first `data` byte must fit in this many bytes. Real headers are 44 bytes,
 * a few hundred with LIST/fact chunks; the bound stops a hostile client from making us buffer
 * megabytes of "metadata" before any audio.
 */
export const MAX_WAV_HEADER_BYTES = 64 * 1024;

/** Size of the canonical header `buildWavHeader` writes. */
export const WAV_HEADER_BYTES = 44;

/** Streaming writers (the Speech SDK among them) put 0 or 0xFFFFFFFF where a size is unknown. */
const UNKNOWN_SIZE = 0xffffffff;

const TAG_PCM = 0x0001;
const TAG_IEEE_FLOAT = 0x0003;
const TAG_ALAW = 0x0006;
const TAG_MULAW = 0x0007;
const TAG_EXTENSIBLE = 0xfffe;

/** KSDATAFORMAT_SUBTYPE_* GUIDs are `XXXXXXXX-0000-0010-8000-00AA00389B71`; the first 4 bytes carry the tag. */
const EXTENSIBLE_GUID_TAIL = Uint8Array.from([0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]);

/** Bounds on what a header may declare; anything outside is nonsense or an attack, not audio. */
const MIN_SAMPLE_RATE = 1_000;
const MAX_SAMPLE_RATE = 768_000;
const MAX_CHANNELS = 32;

export interface WavHeader {
  format: RawAudioFormat;
  /** Offset of the first audio byte in the buffer that was parsed. */
  dataOffset: number;
  /** Length of the data chunk, or undefined when the writer was streaming and did not know it. */
  dataBytes: number | undefined;
  /** Bytes per frame (all channels of one sample instant). */
  blockAlign: number;
}

export interface WavNeedMore {
  needMore: true;
}

/** Narrow with `'needMore' in result`. */
export type WavParseResult = WavHeader | WavNeedMore;

function invalid(message: string): ServiceError {
  return new ServiceError('InvalidAudio', 400, `Invalid WAV header: ${message}`);
}

function fourcc(buf: Uint8Array, offset: number): string {
  return String.fromCharCode(buf[offset] ?? 0, buf[offset + 1] ?? 0, buf[offset + 2] ?? 0, buf[offset + 3] ?? 0);
}

function printable(id: string): string {
  return JSON.stringify(id);
}

/** True when `buf` (possibly shorter than 12 bytes) could still be the start of a RIFF/WAVE file. */
function couldBeRiffWave(buf: Uint8Array): boolean {
  const magic = 'RIFF????WAVE';
  const n = Math.min(buf.length, magic.length);
  for (let i = 0; i < n; i++) {
    const ch = magic.charCodeAt(i);
    if (ch !== 0x3f && buf[i] !== ch) return false;
  }
  return true;
}

function encodingFor(tag: number, bits: number): PcmEncoding {
  switch (tag) {
    case TAG_PCM:
      switch (bits) {
        case 8:
          return 'pcm-u8';
        case 16:
          return 'pcm-s16';
        case 24:
          return 'pcm-s24';
        case 32:
          return 'pcm-s32';
        default:
          throw invalid(`unsupported PCM sample size ${bits} bits (supported: 8, 16, 24, 32)`);
      }
    case TAG_IEEE_FLOAT:
      if (bits !== 32) throw invalid(`unsupported IEEE float sample size ${bits} bits (supported: 32)`);
      return 'pcm-f32';
    case TAG_ALAW:
    case TAG_MULAW:
      if (bits !== 8) throw invalid(`G.711 ${tag === TAG_ALAW ? 'A-law' : 'mu-law'} must have 8 bits per sample, not ${bits}`);
      return tag === TAG_ALAW ? 'alaw' : 'mulaw';
    default:
      throw invalid(`unsupported format tag 0x${tag.toString(16).padStart(4, '0')} (supported: PCM, IEEE float, A-law, mu-law)`);
  }
}

interface FmtChunk {
  format: RawAudioFormat;
  blockAlign: number;
}

function parseFmt(view: DataView, offset: number, size: number): FmtChunk {
  if (size < 16) throw invalid(`fmt chunk is ${size} bytes, needs at least 16`);
  let tag = view.getUint16(offset, true);
  const channels = view.getUint16(offset + 2, true);
  const sampleRate = view.getUint32(offset + 4, true);
  const blockAlign = view.getUint16(offset + 12, true);
  const bits = view.getUint16(offset + 14, true);

  if (tag === TAG_EXTENSIBLE) {
    // WAVEFORMATEXTENSIBLE: cbSize(2) validBits(2) channelMask(4) subFormat GUID(16) after the 16 base bytes.
    if (size < 40) throw invalid(`WAVE_FORMAT_EXTENSIBLE fmt chunk is ${size} bytes, needs 40`);
    const cbSize = view.getUint16(offset + 16, true);
    if (cbSize < 22) throw invalid(`WAVE_FORMAT_EXTENSIBLE extension is ${cbSize} bytes, needs 22`);
    const validBits = view.getUint16(offset + 18, true);
    if (validBits > bits) throw invalid(`valid bits per sample (${validBits}) exceed the container size (${bits})`);
    const guidOffset = offset + 24;
    const subTag = view.getUint32(guidOffset, true);
    for (let i = 0; i < EXTENSIBLE_GUID_TAIL.length; i++) {
      if (view.getUint8(guidOffset + 4 + i) !== EXTENSIBLE_GUID_TAIL[i]) {
        throw invalid('WAVE_FORMAT_EXTENSIBLE sub-format GUID is not a standard KSDATAFORMAT_SUBTYPE');
      }
    }
    if (subTag > 0xffff || subTag === TAG_EXTENSIBLE) throw invalid(`unsupported sub-format 0x${subTag.toString(16)}`);
    // validBits < bits (e.g. 20-in-24, 24-in-32) still decodes correctly as the container size: the
    // padding bits are the least significant ones and are zero.
    tag = subTag;
  }

  if (channels < 1 || channels > MAX_CHANNELS) throw invalid(`channel count ${channels} out of range 1..${MAX_CHANNELS}`);
  if (sampleRate < MIN_SAMPLE_RATE || sampleRate > MAX_SAMPLE_RATE) {
    throw invalid(`sample rate ${sampleRate} Hz out of range ${MIN_SAMPLE_RATE}..${MAX_SAMPLE_RATE}`);
  }
  const encoding = encodingFor(tag, bits);
  const expectedAlign = (bits / 8) * channels;
  if (blockAlign !== expectedAlign) {
    throw invalid(`block align ${blockAlign} does not match ${channels} channel(s) of ${bits} bits (expected ${expectedAlign})`);
  }
  return { format: { encoding, sampleRate, channels }, blockAlign };
}

/**
 * Parses a RIFF/WAVE header from the start of a stream.
 *
 * Returns `{ needMore: true }` while `buf` ends before the `data` chunk starts (feed it a longer
 * prefix of the same stream). Throws `ServiceError('InvalidAudio', 400)` as soon as the bytes
 * cannot be a supported WAV header, including when the header would exceed MAX_WAV_HEADER_BYTES.
 * The data chunk's declared size is returned as-is (it may exceed what actually follows); a size of
 * 0 or 0xFFFFFFFF means "unknown" (streaming writers) and is reported as `undefined`.
 */
export function parseWavHeader(buf: Uint8Array): WavParseResult {
  if (!couldBeRiffWave(buf)) {
    if (buf.length >= 4 && fourcc(buf, 0) === 'RF64') throw invalid('RF64 (64-bit WAV) is not supported');
    throw invalid('not a RIFF/WAVE stream');
  }
  if (buf.length < 12) return { needMore: true };

  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let fmt: FmtChunk | undefined;
  let offset = 12;
  for (;;) {
    if (offset + 8 > MAX_WAV_HEADER_BYTES) throw invalid(`no data chunk within the first ${MAX_WAV_HEADER_BYTES} bytes`);
    if (offset + 8 > buf.length) return { needMore: true };
    const id = fourcc(buf, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;

    if (id === 'data') {
      if (fmt === undefined) throw invalid('data chunk before fmt chunk');
      const dataBytes = size === 0 || size === UNKNOWN_SIZE ? undefined : size;
      return { format: fmt.format, dataOffset: body, dataBytes, blockAlign: fmt.blockAlign };
    }

    // Chunks are padded to an even length (RIFF rule); the pad byte is not counted in `size`.
    const next = body + size + (size & 1);
    if (next > MAX_WAV_HEADER_BYTES) {
      throw invalid(`chunk ${printable(id)} of ${size} bytes makes the header exceed ${MAX_WAV_HEADER_BYTES} bytes`);
    }

    if (id === 'fmt ') {
      if (fmt !== undefined) throw invalid('more than one fmt chunk');
      if (body + size > buf.length) return { needMore: true };
      fmt = parseFmt(view, body, size);
    }
    offset = next;
  }
}

function formatTagFor(encoding: PcmEncoding): { tag: number; bits: number } {
  switch (encoding) {
    case 'pcm-u8':
      return { tag: TAG_PCM, bits: 8 };
    case 'pcm-s16':
      return { tag: TAG_PCM, bits: 16 };
    case 'pcm-s24':
      return { tag: TAG_PCM, bits: 24 };
    case 'pcm-s32':
      return { tag: TAG_PCM, bits: 32 };
    case 'pcm-f32':
      return { tag: TAG_IEEE_FLOAT, bits: 32 };
    case 'alaw':
      return { tag: TAG_ALAW, bits: 8 };
    case 'mulaw':
      return { tag: TAG_MULAW, bits: 8 };
  }
}

/**
 * Builds a canonical 44-byte header (RIFF, 16-byte fmt, data). `dataBytes` undefined writes the
 * streaming sentinel 0xFFFFFFFF in both size fields. For float and G.711 the spec would want an
 * 18-byte fmt plus a fact chunk; every reader we care about (ffmpeg, the Speech SDK, browsers)
 * accepts this short form, and a fixed 44 bytes keeps offsets predictable.
 */
export function buildWavHeader(format: RawAudioFormat, dataBytes?: number): Buffer {
  const { tag, bits } = formatTagFor(format.encoding);
  if (!Number.isInteger(format.channels) || format.channels < 1 || format.channels > 0xffff) {
    throw new RangeError(`invalid channel count ${format.channels}`);
  }
  if (!Number.isInteger(format.sampleRate) || format.sampleRate < 1 || format.sampleRate > 0xffffffff) {
    throw new RangeError(`invalid sample rate ${format.sampleRate}`);
  }
  if (dataBytes !== undefined && (!Number.isInteger(dataBytes) || dataBytes < 0 || dataBytes > UNKNOWN_SIZE - 1 - 36)) {
    throw new RangeError(`invalid WAV data size ${dataBytes}`);
  }
  const blockAlign = (bits / 8) * format.channels;
  const header = Buffer.alloc(WAV_HEADER_BYTES);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(dataBytes === undefined ? UNKNOWN_SIZE : 36 + dataBytes + (dataBytes & 1), 4);
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(tag, 20);
  header.writeUInt16LE(format.channels, 22);
  header.writeUInt32LE(format.sampleRate, 24);
  header.writeUInt32LE(format.sampleRate * blockAlign, 28);
  header.writeUInt16LE(blockAlign, 32);
  header.writeUInt16LE(bits, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(dataBytes === undefined ? UNKNOWN_SIZE : dataBytes, 40);
  return header;
}
