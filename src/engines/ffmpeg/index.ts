import type { CompressedAudioDecoder } from '../../domain/ports/audio.js';
import { ENGINE_SAMPLE_RATE, type CompressedContainer } from '../../kernel/audio/format.js';
import { ServiceError } from '../../kernel/errors.js';
import { silentLogger, type Logger } from '../../kernel/logger.js';
import { DEFAULT_MAX_STDERR_BYTES, FfmpegChildStream } from './child-stream.js';

export { stderrExcerpt } from './child-stream.js';

export interface FfmpegAudioDecoderOptions {
  /** Executable to run; resolved through PATH when not absolute. */
  ffmpegPath?: string;
  /** How much of ffmpeg's stderr is kept for error messages and logs (the rest is discarded). */
  maxStderrBytes?: number;
  logger?: Logger;
}

/** ffmpeg demuxer names (`-f`) per container; `unknown` lets ffmpeg probe the input. */
const DEMUXERS: Record<CompressedContainer, string | undefined> = {
  ogg: 'ogg',
  // ffmpeg has one demuxer for both, registered as "matroska,webm".
  webm: 'matroska',
  mp3: 'mp3',
  flac: 'flac',
  unknown: undefined,
};

export function ffmpegDecodeArgs(container: CompressedContainer): string[] {
  const demuxer = DEMUXERS[container];
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    ...(demuxer === undefined ? [] : ['-f', demuxer]),
    '-i',
    'pipe:0',
    '-f',
    's16le',
    '-acodec',
    'pcm_s16le',
    '-ac',
    '1',
    '-ar',
    String(ENGINE_SAMPLE_RATE),
    'pipe:1',
  ];
}

/**
 * One ffmpeg process seen as a Duplex: compressed bytes in, 16 kHz mono s16le PCM out.
 * Backpressure: a write is acknowledged only once ffmpeg's stdin accepts more ('drain'); ffmpeg's
 * stdout is paused whenever our readable buffer is full and resumed on the next read.
 */
export class FfmpegDecodeStream extends FfmpegChildStream {
  readonly container: CompressedContainer;

  constructor(container: CompressedContainer, ffmpegPath: string, maxStderrBytes: number, logger: Logger) {
    const what = container === 'unknown' ? 'the audio' : `${container} audio`;
    super({
      ffmpegPath,
      args: ffmpegDecodeArgs(container),
      maxStderrBytes,
      logger,
      role: 'decoder',
      logContext: { container },
      spawnError: (err) =>
        new ServiceError('InvalidAudio', 400, `Cannot decode ${what}: the audio decoder could not be started (${err.code ?? err.message})`, {
          details: { reason: 'decoder-unavailable' },
          cause: err,
        }),
      exitError: (reason, code, signal) =>
        new ServiceError('InvalidAudio', 400, `Cannot decode ${what}: ${reason}`, {
          details: { exitCode: code, signal },
        }),
    });
    this.container = container;
  }
}

/** CompressedAudioDecoder backed by the ffmpeg CLI, one child process per stream. */
export class FfmpegAudioDecoder implements CompressedAudioDecoder {
  private readonly ffmpegPath: string;
  private readonly maxStderrBytes: number;
  private readonly logger: Logger;

  constructor(options: FfmpegAudioDecoderOptions = {}) {
    this.ffmpegPath = options.ffmpegPath ?? 'ffmpeg';
    this.maxStderrBytes = Math.max(0, options.maxStderrBytes ?? DEFAULT_MAX_STDERR_BYTES);
    this.logger = (options.logger ?? silentLogger).child({ component: 'ffmpeg-decoder' });
  }

  open(container: CompressedContainer): FfmpegDecodeStream {
    return new FfmpegDecodeStream(container, this.ffmpegPath, this.maxStderrBytes, this.logger);
  }
}
