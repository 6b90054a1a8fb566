import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { Duplex } from 'node:stream';
import type { ServiceError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/logger.js';

export const DEFAULT_MAX_STDERR_BYTES = 8 * 1024;
/** Length of the stderr excerpt that goes into an error message. */
const MESSAGE_EXCERPT_CHARS = 300;

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

export interface FfmpegChildOptions {
  /** Executable to run; resolved through PATH when not absolute. */
  ffmpegPath: string;
  args: readonly string[];
  /** How much of ffmpeg's stderr is kept for error messages and logs (the rest is discarded). */
  maxStderrBytes: number;
  logger: Logger;
  /** What the process does, for log lines and default failure reasons: 'decoder', 'encoder'. */
  role: string;
  /** Extra fields for the "started" log line. */
  logContext?: Record<string, unknown>;
  /** The error reported on the stream when ffmpeg cannot be started at all (ENOENT, EACCES ...). */
  spawnError(err: NodeJS.ErrnoException): ServiceError;
  /** The error reported when ffmpeg exits unsuccessfully; `reason` is a stderr excerpt or exit description. */
  exitError(reason: string, code: number | null, signal: NodeJS.Signals | null): ServiceError;
}

/**
 * One ffmpeg process seen as a Duplex: bytes written go to its stdin, its stdout comes out of the
 * readable side. Backpressure: a write is acknowledged only once ffmpeg's stdin accepts more
 * ('drain'); ffmpeg's stdout is paused whenever our readable buffer is full and resumed on the next
 * read. The exit status decides success: code 0 ends the readable side, anything else destroys the
 * stream with the error built by `exitError`. destroy() kills the child (SIGKILL) and closes the pipes.
 */
export class FfmpegChildStream extends Duplex {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly childLogger: Logger;
  private readonly role: string;
  private readonly maxStderrBytes: number;
  private readonly buildSpawnError: (err: NodeJS.ErrnoException) => ServiceError;
  private readonly buildExitError: (reason: string, code: number | null, signal: NodeJS.Signals | null) => ServiceError;
  private readonly stderrChunks: Buffer[] = [];
  private stderrBytes = 0;
  private exited = false;
  /** Write callback waiting for stdin to drain. */
  private pendingWrite: ((error?: Error | null) => void) | undefined;

  constructor(options: FfmpegChildOptions) {
    super();
    const { logger, role } = options;
    this.childLogger = logger;
    this.role = role;
    this.maxStderrBytes = options.maxStderrBytes;
    this.buildSpawnError = options.spawnError;
    this.buildExitError = options.exitError;
    const args = [...options.args];
    this.child = spawn(options.ffmpegPath, args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    const { stdin, stdout, stderr } = this.child;
    logger.debug({ pid: this.child.pid, ...options.logContext, args }, `ffmpeg ${role} started`);

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
    // 'close' (not 'exit') fires once stdout/stderr are drained, so all output has been pushed and
    // all of stderr collected by then.
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
      // SIGKILL: ffmpeg has nothing worth cleaning up on a pipe, and SIGTERM could leave it blocked
      // on a full pipe. Node still reaps it (the 'close' handler), so no zombie is left behind.
      this.child.kill('SIGKILL');
    }
    // Closing our pipe ends frees the fds now instead of when the child is reaped.
    this.child.stdin.destroy();
    this.child.stdout.destroy();
    this.child.stderr.destroy();
    callback(error);
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
    this.childLogger.error({ err, code: err.code }, 'ffmpeg could not be started');
    this.destroy(this.buildSpawnError(err));
  }

  private onClose(code: number | null, signal: NodeJS.Signals | null): void {
    const wasExited = this.exited;
    this.exited = true;
    this.releaseWrite();
    if (wasExited || this.destroyed) return;
    if (code === 0) {
      this.childLogger.debug({ pid: this.child.pid }, `ffmpeg ${this.role} finished`);
      this.push(null);
      return;
    }
    const stderr = this.stderrText();
    const excerpt = stderrExcerpt(stderr);
    this.childLogger.warn({ pid: this.child.pid, exitCode: code, signal, stderr }, `ffmpeg ${this.role} failed`);
    const reason =
      excerpt.length > 0 ? excerpt : signal !== null ? `${this.role} killed by ${signal}` : `${this.role} exited with code ${code ?? 'unknown'}`;
    this.destroy(this.buildExitError(reason, code, signal));
  }
}
