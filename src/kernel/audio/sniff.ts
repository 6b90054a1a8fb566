import { ENGINE_SAMPLE_RATE, type CompressedContainer, type PcmEncoding, type RawAudioFormat } from './format.js';

/**
 * Feed sniffContainer at least this many bytes when the stream has them: 12 decide every magic
 * number; an MP3 frame sync is only trusted without a second header when fewer bytes are given.
 */
export const SNIFF_MIN_BYTES = 12;
/** Covers the largest MPEG audio frame (2,881 bytes: MPEG-2.5 Layer II, 160 kbit/s at 8 kHz) plus the next header. */
export const SNIFF_PREFERRED_BYTES = 4096;

export type SniffedContainer = 'wav' | Exclude<CompressedContainer, 'unknown'> | 'raw';

function startsWith(bytes: Uint8Array, ascii: string, at = 0): boolean {
  if (bytes.length < at + ascii.length) return false;
  for (let i = 0; i < ascii.length; i++) if (bytes[at + i] !== ascii.charCodeAt(i)) return false;
  return true;
}

// Bit rates in kbit/s, indexed [versionGroup][layer][index]; versionGroup 0 = MPEG-1, 1 = MPEG-2/2.5.
const BITRATES: readonly (readonly (readonly number[])[])[] = [
  [
    [],
    [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320], // Layer III
    [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384], // Layer II
    [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448], // Layer I
  ],
  [
    [],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160], // Layer III
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160], // Layer II
    [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256], // Layer I
  ],
];
// Sample rates indexed [versionBits][index]; versionBits 0 = MPEG-2.5, 2 = MPEG-2, 3 = MPEG-1.
const SAMPLE_RATES: readonly (readonly number[])[] = [[11025, 12000, 8000], [], [22050, 24000, 16000], [44100, 48000, 32000]];

interface MpegFrame {
  /** Frame length in bytes, or undefined for free-format streams (bit-rate index 0). */
  length: number | undefined;
}

/** Parses a 4-byte MPEG audio frame header at `at`, or returns undefined when it is not one. */
function mpegFrameAt(bytes: Uint8Array, at: number): MpegFrame | undefined {
  if (bytes.length < at + 4) return undefined;
  const b1 = bytes[at + 1] ?? 0;
  const b2 = bytes[at + 2] ?? 0;
  if (bytes[at] !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const versionBits = (b1 >> 3) & 0x03;
  const layerBits = (b1 >> 1) & 0x03; // 3 = Layer I, 2 = Layer II, 1 = Layer III, 0 = reserved (and AAC ADTS)
  const bitrateIndex = (b2 >> 4) & 0x0f;
  const rateIndex = (b2 >> 2) & 0x03;
  if (versionBits === 1 || layerBits === 0 || bitrateIndex === 0x0f || rateIndex === 3) return undefined;
  const sampleRate = SAMPLE_RATES[versionBits]?.[rateIndex];
  if (sampleRate === undefined) return undefined;
  if (bitrateIndex === 0) return { length: undefined };
  const group = versionBits === 3 ? 0 : 1;
  const kbps = BITRATES[group]?.[layerBits]?.[bitrateIndex];
  if (kbps === undefined) return undefined;
  const padding = (b2 >> 1) & 0x01;
  const bitrate = kbps * 1000;
  let length: number;
  if (layerBits === 3) length = (Math.floor((12 * bitrate) / sampleRate) + padding) * 4;
  else if (layerBits === 1 && group === 1) length = Math.floor((72 * bitrate) / sampleRate) + padding;
  else length = Math.floor((144 * bitrate) / sampleRate) + padding;
  return { length };
}

function looksLikeMpegAudio(bytes: Uint8Array): boolean {
  const frame = mpegFrameAt(bytes, 0);
  if (frame === undefined) return false;
  // A lone frame header is only 11 fixed bits, which raw PCM hits by chance; when the buffer
  // reaches the next frame, require a second valid header there.
  if (frame.length === undefined || bytes.length < frame.length + 4) return true;
  return mpegFrameAt(bytes, frame.length) !== undefined;
}

/**
 * Identifies the container from the first bytes of a stream. Anything unrecognised is 'raw'
 * (headerless PCM, the Speech SDK's default when no WAV header is sent).
 */
export function sniffContainer(firstBytes: Uint8Array): SniffedContainer {
  if (startsWith(firstBytes, 'RIFF') && startsWith(firstBytes, 'WAVE', 8)) return 'wav';
  if (startsWith(firstBytes, 'OggS')) return 'ogg';
  if (firstBytes.length >= 4 && firstBytes[0] === 0x1a && firstBytes[1] === 0x45 && firstBytes[2] === 0xdf && firstBytes[3] === 0xa3) {
    return 'webm';
  }
  if (startsWith(firstBytes, 'fLaC')) return 'flac';
  if (startsWith(firstBytes, 'ID3')) return 'mp3';
  if (looksLikeMpegAudio(firstBytes)) return 'mp3';
  return 'raw';
}

export type ContentTypeAudio =
  /**
   * A WAV body (RIFF header expected). `rawFallback` is the format the parameters describe, for a
   * body that turns out to be headerless.
   */
  | { kind: 'wav'; rawFallback: RawAudioFormat }
  /** Headerless audio in exactly this format. */
  | { kind: 'raw'; format: RawAudioFormat }
  /** Needs the compressed decoder. */
  | { kind: 'compressed'; container: CompressedContainer };

const WAV_TYPES = new Set(['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/vnd.wave']);
const COMPRESSED_TYPES: ReadonlyMap<string, CompressedContainer> = new Map<string, CompressedContainer>([
  ['audio/ogg', 'ogg'],
  ['application/ogg', 'ogg'],
  // RFC 7587 audio/opus names raw RTP payloads, but uploads labelled so are nearly always Ogg/Opus
  // files; let ffmpeg probe rather than commit to a demuxer.
  ['audio/opus', 'unknown'],
  ['audio/webm', 'webm'],
  ['video/webm', 'webm'],
  ['audio/x-matroska', 'webm'],
  ['audio/mpeg', 'mp3'],
  ['audio/mp3', 'mp3'],
  ['audio/mpeg3', 'mp3'],
  ['audio/x-mpeg-3', 'mp3'],
  ['audio/flac', 'flac'],
  ['audio/x-flac', 'flac'],
]);
/** Headerless types and their default encoding and rate (RFC 3551 defaults: G.711 at 8 kHz). */
const RAW_TYPES: ReadonlyMap<string, { encoding: PcmEncoding; sampleRate: number }> = new Map([
  ['audio/l16', { encoding: 'pcm-s16', sampleRate: ENGINE_SAMPLE_RATE }],
  ['audio/pcm', { encoding: 'pcm-s16', sampleRate: ENGINE_SAMPLE_RATE }],
  ['audio/x-pcm', { encoding: 'pcm-s16', sampleRate: ENGINE_SAMPLE_RATE }],
  ['audio/basic', { encoding: 'mulaw', sampleRate: 8000 }],
  ['audio/pcmu', { encoding: 'mulaw', sampleRate: 8000 }],
  ['audio/mulaw', { encoding: 'mulaw', sampleRate: 8000 }],
  ['audio/x-mulaw', { encoding: 'mulaw', sampleRate: 8000 }],
  ['audio/pcma', { encoding: 'alaw', sampleRate: 8000 }],
  ['audio/alaw', { encoding: 'alaw', sampleRate: 8000 }],
  ['audio/x-alaw', { encoding: 'alaw', sampleRate: 8000 }],
]);
/** Values of the `codecs` parameter that name a raw encoding (Azure uses `codecs=audio/pcm`). */
const CODEC_ENCODINGS: ReadonlyMap<string, PcmEncoding> = new Map<string, PcmEncoding>([
  ['audio/pcm', 'pcm-s16'],
  ['pcm', 'pcm-s16'],
  ['audio/l16', 'pcm-s16'],
  ['audio/mulaw', 'mulaw'],
  ['mulaw', 'mulaw'],
  ['audio/pcmu', 'mulaw'],
  ['audio/alaw', 'alaw'],
  ['alaw', 'alaw'],
  ['audio/pcma', 'alaw'],
]);

const MAX_CONTENT_TYPE_LENGTH = 512;

function parseParameters(parts: string[]): Map<string, string> {
  const params = new Map<string, string>();
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (!params.has(key)) params.set(key, value.toLowerCase());
  }
  return params;
}

/** A positive integer parameter, `fallback` when absent, undefined when present but not an integer in range. */
function intParam(value: string | undefined, fallback: number, min: number, max: number): number | undefined {
  if (value === undefined) return fallback;
  if (!/^\d{1,7}$/.test(value)) return undefined;
  const n = Number(value);
  return n >= min && n <= max ? n : undefined;
}

/**
 * Maps an HTTP Content-Type to the container (and, for headerless audio, the format) to expect.
 * Returns undefined for types we cannot decode, or for malformed rate/channel parameters, so the
 * caller can answer 415. `audio/l16` is taken as little-endian s16 like the Speech service does,
 * although RFC 2586 L16 is big-endian.
 */
export function containerFromContentType(contentType: string): ContentTypeAudio | undefined {
  if (contentType.length > MAX_CONTENT_TYPE_LENGTH) return undefined;
  const [rawType = '', ...rest] = contentType.split(';');
  const type = rawType.trim().toLowerCase();
  const params = parseParameters(rest);

  const compressed = COMPRESSED_TYPES.get(type);
  if (compressed !== undefined) return { kind: 'compressed', container: compressed };

  const rawDefaults = RAW_TYPES.get(type);
  if (!WAV_TYPES.has(type) && rawDefaults === undefined) return undefined;

  const codec = params.get('codecs') ?? params.get('codec');
  let encoding: PcmEncoding = rawDefaults?.encoding ?? 'pcm-s16';
  if (codec !== undefined) {
    const fromCodec = CODEC_ENCODINGS.get(codec);
    if (fromCodec === undefined) return undefined;
    encoding = fromCodec;
  }
  const sampleRate = intParam(
    params.get('rate') ?? params.get('samplerate') ?? params.get('sample-rate') ?? params.get('sample_rate'),
    rawDefaults?.sampleRate ?? ENGINE_SAMPLE_RATE,
    1000,
    768_000,
  );
  const channels = intParam(params.get('channels') ?? params.get('channel'), 1, 1, 32);
  if (sampleRate === undefined || channels === undefined) return undefined;
  const format: RawAudioFormat = { encoding, sampleRate, channels };
  return WAV_TYPES.has(type) ? { kind: 'wav', rawFallback: format } : { kind: 'raw', format };
}
