import type { WebSocket } from 'ws';

/** Azure's idle limit message (protocol §F.2), with the configured duration. */
export function idleReason(ms: number): string {
  return `Exceeded maximum websocket connection idle duration(> ${ms}ms)`;
}

/**
 * The part of a Speech WebSocket session that is the same for recognition and synthesis: the idle
 * timer, closing with a bounded reason, and cleaning up exactly once however the socket ends.
 */
export class SocketLifecycle {
  readonly #ws: WebSocket;
  readonly #idleTimeoutMs: number;
  readonly #onCleanup: () => void;
  readonly #busy: () => boolean;
  #closed = false;
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(ws: WebSocket, opts: { idleTimeoutMs: number; onCleanup: () => void; busy?: () => boolean }) {
    this.#ws = ws;
    this.#idleTimeoutMs = opts.idleTimeoutMs;
    this.#onCleanup = opts.onCleanup;
    this.#busy = opts.busy ?? (() => false);
    ws.on('close', () => this.cleanup());
    this.touch();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Whether frames can still be sent. */
  get open(): boolean {
    return !this.#closed && this.#ws.readyState === this.#ws.OPEN;
  }

  /** Restarts the idle timer (on every client message). A session busy with a request is never idle. */
  touch(): void {
    if (this.#closed) return;
    if (this.#idleTimer) {
      this.#idleTimer.refresh();
      return;
    }
    this.#idleTimer = setTimeout(() => {
      if (this.#busy()) {
        this.#idleTimer = undefined;
        this.touch();
      } else this.close(1000, idleReason(this.#idleTimeoutMs));
    }, this.#idleTimeoutMs);
    this.#idleTimer.unref();
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    // Close reasons are limited to 123 bytes by RFC 6455.
    const bounded = Buffer.from(reason, 'utf8').subarray(0, 123).toString('utf8').replace(/\uFFFD+$/, '');
    this.cleanup();
    this.#ws.close(code, bounded);
    // A peer that never answers the close handshake must not keep the socket forever.
    setTimeout(() => this.#ws.terminate(), 5_000).unref();
  }

  /** Runs the session's cleanup once (socket closed by either side). */
  cleanup(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#onCleanup();
  }
}
