import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { Duplex } from 'node:stream';
import type { CompressedAudioDecoder } from '../../domain/ports/audio.js';
import { ENGINE_SAMPLE_RATE, type CompressedContainer } from '../../kernel/audio/format.js';
import { ServiceError } from '../../kernel/errors.js';
import { silentLogger, type Logger } from '../../kernel/logger.js';

export interface FfmpegAudioDecoderOptions {
  /** Executable to run; resolved through PATH when not absolute. */
  ffmpegPath?: string;
  /** How much of ffmpeg's stderr is kept for error messages and logs (the rest is discarded). */
  maxStderrBytes?: number;
  logger?: Logger;
}

const DEFAULT_MAX_STDERR_BYTES = 8 * 1024;
/** Length of the stderr excerpt that goes into the client-visible error message. */
const MESSAGE_EXCERPT_CHARS = 300;

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
 * Turns ffmpeg's stderr into a short single line for an error message: distinct lines only (a bad
 * MP3 repeats "Header missing" dozens of times), no heap addresses (they make every message unique),
 * no control characters, and the head, where ffmpeg names the first thing that went wrong.
 */
export function stderrExcerpt(stderr: string, maxChars = MESSAGE_EXCERPT_CHARS): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const raw of stderr.split(/\r?\n|\r/)) {
    const line = raw
      .replace(/\u001b\[[0-9;]*[A-Za-z]/g, '')
      .replace(/ @ 0x[0-9a-f]+\]/gi, ']')
      .replace(/[\u0000-\u001f\u007f]+/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    if (line === '' || /^Last message repeated/.test(line) || seen.has(line)) continue;
    seen.add(line);
    lines.push(line);
  }
  const text = lines.join('; ');
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1)}…`;
}

/**
 * One ffmpeg process seen as a Duplex: compressed bytes in, 16 kHz mono s16le PCM out.
 * Backpressure: a write is acknowledged only once ffmpeg's stdin accepts more ('drain'); ffmpeg's
 * stdout is paused whenever our readable buffer is full and resumed on the next read.
 */
export class FfmpegDecodeStream extends Duplex {
  readonly container: CompressedContainer;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly logger: Logger;
  private readonly maxStderrBytes: number;
  private readonly stderrChunks: Buffer[] = [];
  private stderrBytes = 0;
  private exited = false;
  /** Write callback waiting for stdin to drain. */
  private pendingWrite: ((error?: Error | null) => void) | undefined;

  constructor(container: CompressedContainer, ffmpegPath: string, maxStderrBytes: number, logger: Logger) {
    super();
    this.container = container;
    this.logger = logger;
    this.maxStderrBytes = maxStderrBytes;
    const args = ffmpegDecodeArgs(container);
    this.child = spawn(ffmpegPath, args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    const { stdin, stdout, stderr } = this.child;
    logger.debug({ pid: this.child.pid, container, args }, 'ffmpeg decoder started');

    // EPIPE/ECONNRESET here just mean ffmpeg stopped reading (it exited, or gave up on bad input);
    // the exit code is the authority on success, so these errors are swallowed.
    stdin.on('error', (err: NodeJS.ErrnoException) => {
      logger.debug({ pid: this.child.pid, code: err.code }, 'ffmpeg stdin closed early');
      this.releaseWrite();
    });
    stdin.on('drain', () => this.releaseWrite());
    stdin.on('close', () => this.releaseWrite());

    stdout.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) stdout.pause();
    });
    stdout.on('error', (err) => logger.debug({ pid: this.child.pid, err }, 'ffmpeg stdout error'));

    stderr.on('data', (chunk: Buffer) => {
      const room = this.maxStderrBytes - this.stderrBytes;
      if (room <= 0) return;
      const kept = chunk.length <= room ? chunk : chunk.subarray(0, room);
      this.stderrChunks.push(kept);
      this.stderrBytes += kept.length;
    });
    stderr.on('error', (err) => logger.debug({ pid: this.child.pid, err }, 'ffmpeg stderr error'));

    this.child.on('error', (err: NodeJS.ErrnoException) => this.onSpawnError(err));
    // 'close' (not 'exit') fires once stdout/stderr are drained, so all PCM has been pushed and all
    // of stderr collected by then.
    this.child.on('close', (code: number | null, signal: NodeJS.Signals | null) => this.onClose(code, signal));
  }

  /** Child process id (undefined if spawning failed). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const stdin = this.child.stdin;
    if (this.exited || stdin.destroyed || stdin.writableEnded) {
      // ffmpeg is gone or stopped reading; its exit status decides whether this is an error, and
      // that is reported on the readable side. Dropping the bytes keeps writers from hanging.
      callback();
      return;
    }
    if (stdin.write(chunk)) {
      callback();
    } else {
      this.pendingWrite = callback;
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    const stdin = this.child.stdin;
    if (!stdin.destroyed && !stdin.writableEnded) stdin.end();
    callback();
  }

  override _read(): void {
    const stdout = this.child.stdout;
    if (stdout.isPaused()) stdout.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.releaseWrite();
    if (!this.exited && this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined) {
      // SIGKILL: a decoder has nothing to clean up, and SIGTERM could leave it blocked on a pipe.
      this.child.kill('SIGKILL');
    }
    // Closing our pipe ends frees the fds now instead of when the child is reaped.
    this.child.stdin.destroy();
    this.child.stdout.destroy();
    this.child.stderr.destroy();
    callback(error);
  }

  private describe(): string {
    return this.container === 'unknown' ? 'the audio' : `${this.container} audio`;
  }

  private releaseWrite(): void {
    const pending = this.pendingWrite;
    this.pendingWrite = undefined;
    pending?.();
  }

  private stderrText(): string {
    return Buffer.concat(this.stderrChunks).toString('utf8');
  }

  private onSpawnError(err: NodeJS.ErrnoException): void {
    if (this.exited || this.destroyed) return;
    this.exited = true;
    this.logger.error({ err, code: err.code }, 'ffmpeg could not be started');
    this.destroy(
      new ServiceError('InvalidAudio', 400, `Cannot decode ${this.describe()}: the audio decoder could not be started (${err.code ?? err.message})`, {
        details: { reason: 'decoder-unavailable' },
        cause: err,
      }),
    );
  }

  private onClose(code: number | null, signal: NodeJS.Signals | null): void {
    const wasExited = this.exited;
    this.exited = true;
    this.releaseWrite();
    if (wasExited || this.destroyed) return;
    if (code === 0) {
      this.logger.debug({ pid: this.child.pid }, 'ffmpeg decoder finished');
      this.push(null);
      return;
    }
    const stderr = this.stderrText();
    const excerpt = stderrExcerpt(stderr);
    this.logger.warn({ pid: this.child.pid, exitCode: code, signal, stderr }, 'ffmpeg decoder failed');
    const reason = excerpt.length > 0 ? excerpt : signal !== null ? `decoder killed by ${signal}` : `decoder exited with code ${code ?? 'unknown'}`;
    this.destroy(
      new ServiceError('InvalidAudio', 400, `Cannot decode ${this.describe()}: ${reason}`, {
        details: { exitCode: code, signal },
      }),
    );
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
