/**
 * The text-to-speech output formats of Azure AI Speech (protocol §B.5): every name a client may
 * send in `X-Microsoft-OutputFormat` (REST) or `synthesis.context.synthesis.audio.outputFormat`
 * (WebSocket), what each one means, and whether this server can produce it.
 *
 * Content types (REST `Content-Type` of the response; Azure's exact values are not documented, so
 * these are the registered or customary types for what we actually send):
 * - `riff-*` (any codec): `audio/x-wav`, what Azure and most tools use for WAV.
 * - `raw-*-pcm`: `audio/x-raw` (headerless s16le; `audio/L16` would be wrong: L16 is big-endian).
 * - `raw-8khz-8bit-mono-mulaw`: `audio/basic` (RFC 2046: exactly 8 kHz mono µ-law, no header).
 * - `raw-8khz-8bit-mono-alaw`: `audio/x-alaw-basic` (the customary A-law counterpart).
 * - MP3 `audio/mpeg`, Ogg `audio/ogg`, WebM `audio/webm`, FLAC `audio/flac`, G.722 `audio/G722`
 *   (RFC 4856), AMR-WB `audio/AMR-WB` (RFC 4867), SILK `audio/SILK`, Siren `audio/x-siren`.
 *
 * Raw Opus (`audio-*-opus`): Azure sends "Opus without container", whose packet framing it never
 * documented (clients that tried to decode it report garbled output, Azure-Samples/
 * cognitive-services-speech-sdk#1653). A stream of Opus packets without boundaries is undecodable,
 * so these names are produced as Ogg/Opus at the named rate and bitrate (container 'ogg', content
 * type `audio/ogg`): any Opus library can decode it, and the packets inside are the same Opus
 * packets. This is a documented deviation (see `note`).
 */

import { Errors } from '../errors.js';
import type { EncodedAudioCodec, EncodedAudioContainer } from '../ports/audio.js';

export type OutputContainer = 'raw' | 'riff' | 'mp3' | 'ogg' | 'webm' | 'flac' | 'g722' | 'amr' | 'silk' | 'siren';
export type OutputCodec = 'pcm' | 'mulaw' | 'alaw' | 'mp3' | 'opus' | 'flac' | 'g722' | 'amr-wb' | 'silk' | 'siren';

export interface OutputFormat {
  /** Canonical (lower-case) Azure name. */
  readonly name: string;
  /** What the bytes look like: 'raw' = headerless samples, 'riff' = 44-byte WAV header + samples. */
  readonly container: OutputContainer;
  readonly codec: OutputCodec;
  /** Rate of the delivered audio, Hz. */
  readonly sampleRate: number;
  /** Always mono: Azure has no multi-channel TTS output. */
  readonly channels: 1;
  /** Sample size of uncompressed formats (16 for PCM, 8 for G.711); absent for compressed ones. */
  readonly bitsPerSample?: number;
  /** Nominal bitrate of compressed formats (what the name says, or the SDK's assumption). */
  readonly bitrateKbps?: number;
  /**
   * Average bytes per second of the audio payload, for formats whose size is a function of duration
   * (PCM, G.711, G.722, CBR MP3); absent for variable-rate ones (Opus, FLAC). Headers are excluded.
   */
  readonly bytesPerSecond?: number;
  /** REST response Content-Type (see the module comment). */
  readonly mimeType: string;
  /** Azure's classification: every format streams except `riff-*` (the header wants the total size). */
  readonly streaming: boolean;
  /** False for formats this server knows but cannot produce. */
  readonly supported: boolean;
  /** Why an unsupported format cannot be produced; a full sentence for error messages. */
  readonly unsupportedReason?: string;
  /** A deliberate difference from Azure in how this format is produced. */
  readonly note?: string;
}

/** What createAudioOutput hands to the CompressedAudioEncoder port for compressed formats. */
export interface EncodedFormat {
  codec: EncodedAudioCodec;
  container: EncodedAudioContainer;
}

// Kept short: the reason ends up in a WebSocket close frame (at most 123 bytes with the prefix
// "Unsupported output format: <name>. ").
const NO_AMR = 'AMR-WB cannot be produced here: no AMR-WB encoder is available.';
const NO_SILK = 'SILK cannot be produced here: no SILK encoder is available.';
const NO_SIREN = 'Siren is not supported (Azure does not support it either).';
/** Longest unknown name repeated back in an error message. */
const MAX_ECHOED_NAME = 48;
const RAW_OPUS_NOTE =
  'Azure sends headerless Opus packets for this name; Parlance sends Ogg/Opus at the same rate and bitrate, since unframed Opus cannot be decoded.';

function pcm(container: 'raw' | 'riff', sampleRate: number): OutputFormat {
  const rate = sampleRate % 1000 === 0 ? `${sampleRate / 1000}khz` : `${sampleRate}hz`;
  return {
    name: `${container}-${rate}-16bit-mono-pcm`,
    container,
    codec: 'pcm',
    sampleRate,
    channels: 1,
    bitsPerSample: 16,
    bytesPerSecond: sampleRate * 2,
    mimeType: container === 'riff' ? 'audio/x-wav' : 'audio/x-raw',
    streaming: container === 'raw',
    supported: true,
  };
}

function g711(container: 'raw' | 'riff', codec: 'mulaw' | 'alaw'): OutputFormat {
  return {
    name: `${container}-8khz-8bit-mono-${codec}`,
    container,
    codec,
    sampleRate: 8000,
    channels: 1,
    bitsPerSample: 8,
    bytesPerSecond: 8000,
    mimeType: container === 'riff' ? 'audio/x-wav' : codec === 'mulaw' ? 'audio/basic' : 'audio/x-alaw-basic',
    streaming: container === 'raw',
    supported: true,
  };
}

function mp3(sampleRate: number, bitrateKbps: number): OutputFormat {
  return {
    name: `audio-${sampleRate / 1000}khz-${bitrateKbps}kbitrate-mono-mp3`,
    container: 'mp3',
    codec: 'mp3',
    sampleRate,
    channels: 1,
    bitrateKbps,
    bytesPerSecond: bitrateKbps * 125,
    mimeType: 'audio/mpeg',
    streaming: true,
    supported: true,
  };
}

function opus(name: string, container: 'ogg' | 'webm', sampleRate: number, bitrateKbps: number, note?: string): OutputFormat {
  return {
    name,
    container,
    codec: 'opus',
    sampleRate,
    channels: 1,
    bitrateKbps,
    mimeType: container === 'ogg' ? 'audio/ogg' : 'audio/webm',
    streaming: true,
    supported: true,
    ...(note === undefined ? {} : { note }),
  };
}

function flac(sampleRate: number): OutputFormat {
  return {
    name: `audio-${sampleRate / 1000}khz-16bit-mono-flac`,
    container: 'flac',
    codec: 'flac',
    sampleRate,
    channels: 1,
    bitsPerSample: 16,
    mimeType: 'audio/flac',
    streaming: true,
    supported: true,
  };
}

function unsupported(
  name: string,
  container: OutputContainer,
  codec: OutputCodec,
  sampleRate: number,
  mimeType: string,
  reason: string,
  bitrateKbps?: number,
): OutputFormat {
  return {
    name,
    container,
    codec,
    sampleRate,
    channels: 1,
    ...(bitrateKbps === undefined ? {} : { bitrateKbps }),
    mimeType,
    streaming: container !== 'riff',
    supported: false,
    unsupportedReason: reason,
  };
}

/**
 * Every §B.5 name. Bitrates for Opus names that carry none follow the JS SDK's `avgBytesPerSec`
 * where it is plausible (WebM 16 kHz 32k, 24 kHz 48k; Ogg 48 kHz 96k) and the same per-rate choice
 * for Ogg 16/24 kHz (the SDK's 8192 bytes/s there is a placeholder, not a real bitrate).
 */
const FORMATS: readonly OutputFormat[] = Object.freeze(
  (
    [
      // Streaming, headerless PCM and G.711.
      g711('raw', 'mulaw'),
      g711('raw', 'alaw'),
      pcm('raw', 8000),
      pcm('raw', 16000),
      pcm('raw', 22050),
      pcm('raw', 24000),
      pcm('raw', 44100),
      pcm('raw', 48000),
      // RIFF (WAV header) variants.
      g711('riff', 'mulaw'),
      g711('riff', 'alaw'),
      pcm('riff', 8000),
      pcm('riff', 16000),
      pcm('riff', 22050),
      pcm('riff', 24000),
      pcm('riff', 44100),
      pcm('riff', 48000),
      // MP3 (CBR).
      mp3(16000, 32),
      mp3(16000, 64),
      mp3(16000, 128),
      mp3(24000, 48),
      mp3(24000, 96),
      mp3(24000, 160),
      mp3(48000, 96),
      mp3(48000, 192),
      // Opus.
      opus('audio-16khz-16bit-32kbps-mono-opus', 'ogg', 16000, 32, RAW_OPUS_NOTE),
      opus('audio-24khz-16bit-24kbps-mono-opus', 'ogg', 24000, 24, RAW_OPUS_NOTE),
      opus('audio-24khz-16bit-48kbps-mono-opus', 'ogg', 24000, 48, RAW_OPUS_NOTE),
      opus('ogg-16khz-16bit-mono-opus', 'ogg', 16000, 32),
      opus('ogg-24khz-16bit-mono-opus', 'ogg', 24000, 48),
      opus('ogg-48khz-16bit-mono-opus', 'ogg', 48000, 96),
      opus('webm-16khz-16bit-mono-opus', 'webm', 16000, 32),
      opus('webm-24khz-16bit-mono-opus', 'webm', 24000, 48),
      opus('webm-24khz-16bit-24kbps-mono-opus', 'webm', 24000, 24),
      // FLAC, G.722.
      flac(24000),
      flac(48000),
      {
        name: 'g722-16khz-64kbps',
        container: 'g722',
        codec: 'g722',
        sampleRate: 16000,
        channels: 1,
        bitrateKbps: 64,
        bytesPerSecond: 8000,
        mimeType: 'audio/G722',
        streaming: true,
        supported: true,
      },
      // Known, not producible.
      unsupported('amr-wb-16000hz', 'amr', 'amr-wb', 16000, 'audio/AMR-WB', NO_AMR),
      unsupported('raw-16khz-16bit-mono-truesilk', 'silk', 'silk', 16000, 'audio/SILK', NO_SILK),
      unsupported('raw-24khz-16bit-mono-truesilk', 'silk', 'silk', 24000, 'audio/SILK', NO_SILK),
      unsupported('audio-16khz-16kbps-mono-siren', 'siren', 'siren', 16000, 'audio/x-siren', NO_SIREN, 16),
      unsupported('riff-16khz-16kbps-mono-siren', 'riff', 'siren', 16000, 'audio/x-wav', NO_SIREN, 16),
    ] satisfies OutputFormat[]
  ).map((format) => Object.freeze(format)),
);

const BY_NAME: ReadonlyMap<string, OutputFormat> = new Map(FORMATS.map((f) => [f.name, f]));

/** Every known format name, canonical spelling, in §B.5 order within each group. */
export const OUTPUT_FORMAT_NAMES: readonly string[] = Object.freeze(FORMATS.map((f) => f.name));

/** Formats this server can produce. */
export const SUPPORTED_OUTPUT_FORMATS: readonly OutputFormat[] = Object.freeze(FORMATS.filter((f) => f.supported));

/**
 * Looks a format up by name, case-insensitively (surrounding whitespace ignored, as header values
 * may carry it). Unknown names give undefined; known but unproducible ones come back with
 * `supported: false`.
 */
export function parseOutputFormat(name: string): OutputFormat | undefined {
  return BY_NAME.get(name.trim().toLowerCase());
}

/**
 * Resolves a client-supplied name to a format this server can produce, or throws the
 * UnsupportedOutputFormat ServiceError (400; WebSocket close 1007) for unknown and unproducible names.
 */
export function requireOutputFormat(name: string): OutputFormat {
  const format = parseOutputFormat(name);
  if (format === undefined) {
    // The name is client input echoed into a message (and maybe a close reason): keep it short.
    const shown = name.trim();
    throw Errors.unsupportedOutputFormat(shown.length <= MAX_ECHOED_NAME ? shown : `${shown.slice(0, MAX_ECHOED_NAME - 1)}…`);
  }
  if (!format.supported) throw Errors.unsupportedOutputFormat(format.name, format.unsupportedReason);
  return format;
}

/**
 * What SDKs use when the application sets nothing: `riff-16khz-16bit-mono-pcm` (JS in Node, C++).
 * REST clients must send X-Microsoft-OutputFormat; this is the fallback if one does not.
 */
export const DEFAULT_OUTPUT_FORMAT: OutputFormat = lookup('riff-16khz-16bit-mono-pcm');

/**
 * What actually arrives on the WebSocket for the default: the SDKs request the raw variant and
 * prepend the WAV header themselves (§B.5). Use it when `synthesis.context` names no format.
 */
export const DEFAULT_WS_OUTPUT_FORMAT: OutputFormat = lookup('raw-16khz-16bit-mono-pcm');

function lookup(name: string): OutputFormat {
  const format = BY_NAME.get(name);
  if (format === undefined) throw new Error(`output format table has no ${name}`);
  return format;
}

/**
 * The headerless variant of a `riff-*` format (what the SDKs request on the WebSocket for it:
 * `riff-X` → `raw-X`, `riff-16khz-16kbps-mono-siren` → `audio-16khz-16kbps-mono-siren`). Any other
 * format is returned unchanged.
 */
export function rawEquivalent(format: OutputFormat): OutputFormat {
  if (format.container !== 'riff') return format;
  const name = format.codec === 'siren' ? 'audio-16khz-16kbps-mono-siren' : format.name.replace(/^riff-/, 'raw-');
  return BY_NAME.get(name) ?? format;
}

/** The `riff-*` variant of a headerless PCM, G.711 or Siren format; undefined when there is none. */
export function riffEquivalent(format: OutputFormat): OutputFormat | undefined {
  if (format.container === 'riff') return format;
  if (format.codec === 'siren') return BY_NAME.get('riff-16khz-16kbps-mono-siren');
  if (format.container !== 'raw') return undefined;
  return BY_NAME.get(format.name.replace(/^raw-/, 'riff-'));
}

/**
 * The CompressedAudioEncoder settings for a format that needs one, or undefined for formats encoded
 * in-process (PCM, G.711) and for unsupported ones.
 */
export function encodedFormatOf(format: OutputFormat): EncodedFormat | undefined {
  if (!format.supported) return undefined;
  switch (format.codec) {
    case 'mp3':
      return { codec: 'mp3', container: 'mp3' };
    case 'opus':
      return { codec: 'opus', container: format.container === 'webm' ? 'webm' : 'ogg' };
    case 'flac':
      return { codec: 'flac', container: 'flac' };
    case 'g722':
      return { codec: 'g722', container: 'g722' };
    default:
      return undefined;
  }
}
