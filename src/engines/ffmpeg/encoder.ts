import type { AudioEncoderSpec, CompressedAudioEncoder } from '../../domain/ports/audio.js';
import { ServiceError } from '../../kernel/errors.js';
import { silentLogger, type Logger } from '../../kernel/logger.js';
import { DEFAULT_MAX_STDERR_BYTES, FfmpegChildStream } from './child-stream.js';

export interface FfmpegAudioEncoderOptions {
  /** Executable to run; resolved through PATH when not absolute. */
  ffmpegPath?: string;
  /** How much of ffmpeg's stderr is kept for error messages and logs (the rest is discarded). */
  maxStderrBytes?: number;
  logger?: Logger;
}

/**
 * Ogg page length for Opus. The muxer's default (1 s) holds audio back for a second; one page per
 * 20 ms packet costs ~9 kbit/s of page headers at these low bitrates. 60 ms (three packets per page)
 * keeps the overhead near 4 kbit/s while audio still leaves within a few frames.
 */
const OGG_PAGE_DURATION_US = 60_000;
/** WebM cluster length; the muxer's default for a pipe buffers up to 5 s before writing anything. */
const WEBM_CLUSTER_MS = 100;
/**
 * FLAC block length. ffmpeg's default (4608 samples at 48 kHz, ~100 ms, and more below) is fine
 * for files; ~48 ms blocks let a streaming client start sooner at a small cost in compression.
 */
const FLAC_BLOCK_MS = 48;
/** libopus only accepts these input rates. */
const OPUS_RATES = new Set([8_000, 12_000, 16_000, 24_000, 48_000]);
/** MPEG-1/2/2.5 layer III rates libmp3lame accepts. */
const MP3_RATES = new Set([8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000]);

function internal(message: string, details?: Record<string, unknown>, cause?: unknown): ServiceError {
  return new ServiceError('InternalError', 500, message, {
    ...(details === undefined ? {} : { details }),
    ...(cause === undefined ? {} : { cause }),
  });
}

function describe(spec: AudioEncoderSpec): string {
  return spec.codec === spec.container ? spec.codec : `${spec.container}/${spec.codec}`;
}

/** Rejects specs ffmpeg would refuse, so the caller gets a clear error instead of an ffmpeg exit. */
function validate(spec: AudioEncoderSpec): void {
  const { codec, container, sampleRate, bitrateKbps } = spec;
  const fail = (why: string): never => {
    throw internal(`Invalid audio encoder settings for ${describe(spec)}: ${why}`, { codec, container, sampleRate, bitrateKbps });
  };
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) fail(`sample rate ${sampleRate} is not a positive integer`);
  if (bitrateKbps !== undefined && (!Number.isFinite(bitrateKbps) || bitrateKbps <= 0)) fail(`bitrate ${bitrateKbps} kbit/s is not positive`);
  switch (codec) {
    case 'mp3':
      if (container !== 'mp3') fail('MP3 is only produced as a bare MP3 stream');
      if (!MP3_RATES.has(sampleRate)) fail(`MP3 cannot be encoded at ${sampleRate} Hz`);
      if (bitrateKbps === undefined) fail('MP3 needs a bitrate');
      return;
    case 'opus':
      if (container !== 'ogg' && container !== 'webm') fail('Opus is only produced in Ogg or WebM');
      if (!OPUS_RATES.has(sampleRate)) fail(`Opus cannot be encoded at ${sampleRate} Hz`);
      if (bitrateKbps === undefined) fail('Opus needs a bitrate');
      return;
    case 'flac':
      if (container !== 'flac') fail('FLAC is only produced as a native FLAC stream');
      return;
    case 'g722':
      if (container !== 'g722') fail('G.722 is only produced as a raw G.722 stream');
      // G.722 is defined for 16 kHz input only (it codes 0-7 kHz in two sub-bands).
      if (sampleRate !== 16_000) fail(`G.722 needs 16000 Hz input, not ${sampleRate} Hz`);
      return;
  }
}

function codecArgs(spec: AudioEncoderSpec): string[] {
  const bitrate = spec.bitrateKbps === undefined ? [] : ['-b:a', `${spec.bitrateKbps}k`];
  switch (spec.codec) {
    case 'mp3':
      return ['-c:a', 'libmp3lame', ...bitrate];
    case 'opus':
      // 20 ms frames: the usual speech frame, small enough for prompt pages/clusters. Constrained
      // VBR: the names promise a bitrate, and unconstrained VBR overshoots it by up to ~65 % on
      // tonal (voiced) audio at 48 kHz.
      return ['-c:a', 'libopus', ...bitrate, '-vbr', 'constrained', '-frame_duration', '20', '-application', 'audio'];
    case 'flac':
      return ['-c:a', 'flac', '-frame_size', String(Math.round((spec.sampleRate * FLAC_BLOCK_MS) / 1000))];
    case 'g722':
      return ['-c:a', 'g722'];
  }
}

function muxerArgs(spec: AudioEncoderSpec): string[] {
  switch (spec.container) {
    case 'mp3':
      // No ID3v2 tag and no Xing/Info frame: Azure streams bare MPEG frames, and on a pipe the muxer
      // could not go back to fill in the Xing frame's totals anyway.
      return ['-f', 'mp3', '-id3v2_version', '0', '-write_xing', '0'];
    case 'ogg':
      return ['-f', 'ogg', '-page_duration', String(OGG_PAGE_DURATION_US)];
    case 'webm':
      // live: no Cues/SeekHead that would need seeking back; clusters are written as they close.
      return ['-f', 'webm', '-live', '1', '-cluster_time_limit', String(WEBM_CLUSTER_MS)];
    case 'flac':
      return ['-f', 'flac'];
    case 'g722':
      return ['-f', 'g722'];
  }
}

/** The ffmpeg command line for one encoder stream (exported for tests and diagnostics). */
export function ffmpegEncodeArgs(spec: AudioEncoderSpec): string[] {
  validate(spec);
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    // The input format is fully declared, so nothing needs probing. Without these ffmpeg reads its
    // default probe size (~2 s of 16 kHz PCM) before encoding the first frame, which defeats streaming.
    '-probesize',
    '32',
    '-analyzeduration',
    '0',
    '-f',
    's16le',
    '-ar',
    String(spec.sampleRate),
    '-ac',
    '1',
    '-i',
    'pipe:0',
    // No "encoder: Lavf59..." tags or creation times: output depends only on the audio.
    '-map_metadata',
    '-1',
    '-fflags',
    '+bitexact',
    ...codecArgs(spec),
    '-ac',
    '1',
    ...muxerArgs(spec),
    // Write every packet to the pipe as soon as it is muxed instead of filling a 32 KiB buffer first.
    '-flush_packets',
    '1',
    'pipe:1',
  ];
}

/**
 * One ffmpeg process seen as a Duplex: s16le mono PCM in, encoded bytes out. Backpressure both ways
 * (see FfmpegChildStream); errors are InternalError (500) ServiceErrors.
 */
export class FfmpegEncodeStream extends FfmpegChildStream {
  readonly spec: Readonly<AudioEncoderSpec>;

  constructor(spec: AudioEncoderSpec, ffmpegPath: string, maxStderrBytes: number, logger: Logger) {
    const what = describe(spec);
    super({
      ffmpegPath,
      args: ffmpegEncodeArgs(spec),
      maxStderrBytes,
      logger,
      role: 'encoder',
      logContext: { codec: spec.codec, container: spec.container, sampleRate: spec.sampleRate, bitrateKbps: spec.bitrateKbps },
      spawnError: (err) =>
        internal(`Cannot encode ${what} audio: the audio encoder could not be started (${err.code ?? err.message})`, { reason: 'encoder-unavailable' }, err),
      exitError: (reason, code, signal) => internal(`Cannot encode ${what} audio: ${reason}`, { exitCode: code, signal }),
    });
    this.spec = { ...spec };
  }
}

/** CompressedAudioEncoder backed by the ffmpeg CLI, one child process per stream. */
export class FfmpegAudioEncoder implements CompressedAudioEncoder {
  private readonly ffmpegPath: string;
  private readonly maxStderrBytes: number;
  private readonly logger: Logger;

  constructor(options: FfmpegAudioEncoderOptions = {}) {
    this.ffmpegPath = options.ffmpegPath ?? 'ffmpeg';
    this.maxStderrBytes = Math.max(0, options.maxStderrBytes ?? DEFAULT_MAX_STDERR_BYTES);
    this.logger = (options.logger ?? silentLogger).child({ component: 'ffmpeg-encoder' });
  }

  /** Throws an InternalError ServiceError synchronously for settings the encoder cannot produce. */
  open(spec: AudioEncoderSpec): FfmpegEncodeStream {
    return new FfmpegEncodeStream(spec, this.ffmpegPath, this.maxStderrBytes, this.logger);
  }
}
