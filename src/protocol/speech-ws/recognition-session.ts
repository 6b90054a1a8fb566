import type { WebSocket } from 'ws';
import { isServiceError, type ServiceError } from '../../kernel/errors.js';
import { newHexId } from '../../kernel/ids.js';
import type { Logger } from '../../kernel/logger.js';
import { msToTicks } from '../../kernel/time.js';
import { Errors } from '../../domain/errors.js';
import type { RecognitionRequest, RecognitionService, TurnHandle } from '../../domain/recognition/recognition-service.js';
import type { Hypothesis, PhraseResult, RecognitionMode, RecognitionOptions, TurnListener } from '../../domain/recognition/types.js';
import { hypothesisJson, phraseJson } from '../shared/recognition-json.js';
import { decodeBinaryFrame, decodeTextFrame, encodeTextFrame, isFrameError, type SpeechMessage } from './frame-codec.js';
import { applySpeechContext, getCI, modeFromString } from './speech-context.js';
import { ClientPath, ServicePath } from './wire-names.js';
import { SocketLifecycle } from './socket-lifecycle.js';

/** WebSocket close codes as Azure uses them (protocol §A.12). */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  /** Invalid payload or parameters: the JS SDK reports BadRequestParameters with our reason. */
  InvalidPayload: 1007,
  InternalError: 1011,
} as const;

/** What a recognition connection carried, for quotas and pacing. */
export interface RecognitionUsage {
  /** Audio received over the connection, summed over its turns, in ms of real time (decoded PCM). */
  audioMs: number;
  /** Date.now() when the first audio bytes arrived; undefined if none did. */
  firstAudioAt: number | undefined;
  /** Recognition turns started on the connection (each is one request for metering). */
  turns: number;
}

/** Close reasons of the connection limit (≤ 123 bytes, the most a close frame carries). */
export function connectionAgeReason(ms: number): string {
  return `Exceeded maximum connection duration (> ${ms}ms)`;
}
export function connectionAudioReason(ms: number): string {
  return `Exceeded maximum audio duration per connection (> ${ms}ms)`;
}

/**
 * A continuous turn at the connection limit may take this long to report the utterances that had
 * already ended before the socket is closed anyway (the SDK replays their audio either way).
 */
const REPORT_GRACE_MS = 5_000;
/**
 * An interactive turn in progress at the connection limit gets this long beyond its own audio limit
 * to finish before the socket is closed anyway (only a client trickling audio needs more).
 */
const INTERACTIVE_GRACE_MS = 10_000;
/**
 * Audio a turn may take past the connection's audio budget. A turn whose client already sent its end
 * of stream is finished, not cut, so its turn limit must not end it first and report an utterance cut
 * at the budget as a phrase; this only bounds that.
 */
const CONNECTION_LIMIT_SLACK_MS = 30_000;

export interface RecognitionSessionOptions {
  recognition: RecognitionService;
  /** From the URL query; speech.context overrides per turn. */
  baseRequest: RecognitionRequest;
  /** The authenticated resource (custom endpoints are looked up within it). */
  accountId: string | undefined;
  /** Mode fixed by a v1 path; undefined on the v2 (universal) path. */
  pathMode: RecognitionMode | undefined;
  maxTurnAudioMs: number;
  /** Audio of an interactive turn (Azure: 15 s); the turn's result is the utterance so far. */
  interactiveMaxAudioMs: number;
  /** The connection is closed (1000) after this much audio or this long (Azure: 10 minutes). */
  maxConnectionMs: number;
  idleTimeoutMs: number;
  logger: Logger;
  onClosed: (usage: RecognitionUsage) => void;
}

interface ActiveTurn {
  requestId: string;
  handle: TurnHandle;
  options: RecognitionOptions;
  /** Set once the zero-length audio message (end of stream) arrived. */
  streamEnded: boolean;
}

/** Pause reading the socket when this many messages wait for processing. */
const MAX_QUEUED_MESSAGES = 64;

/**
 * One recognition WebSocket connection (protocol §A). Messages are handled strictly in arrival order
 * through a promise chain; when the chain or the engine falls behind, the socket is paused (ws
 * `pause()`), which stops reading from TCP and so slows the client down.
 *
 * Turn life cycle: speech.context (optional) → audio (first bytes: WAV header) … → empty audio (end of
 * stream). The service answers turn.start, speech.startDetected, speech.hypothesis*, speech.phrase+,
 * speech.endDetected, turn.end — every frame tagged with the turn's X-RequestId.
 */
export class RecognitionSession {
  readonly #ws: WebSocket;
  readonly #opts: RecognitionSessionOptions;
  readonly #log: Logger;
  #config: unknown;
  #pendingContext: { requestId: string | undefined; body: unknown } | undefined;
  #turn: ActiveTurn | undefined;
  #chain: Promise<void> = Promise.resolve();
  #queued = 0;
  #paused = false;
  readonly #life: SocketLifecycle;
  /** Audio of the connection's earlier turns (the current one counts through its own audioMs). */
  #earlierTurnsAudioMs = 0;
  #firstAudioAt: number | undefined;
  #turns = 0;
  #ageTimer: NodeJS.Timeout | undefined;
  /** Set when the connection reached its limit; it is closed with this reason as soon as that is safe. */
  #limitReason: string | undefined;
  /** The limit waits for the current turn's turn.end, then closes. */
  #closeAfterTurn = false;
  #graceTimer: NodeJS.Timeout | undefined;
  #graceOver = false;
  /** A continuous turn past the limit is reporting its finished utterances before the close. */
  #reporting = false;
  /** End-of-stream messages received but not handled yet. */
  #pendingEnds = 0;

  constructor(ws: WebSocket, opts: RecognitionSessionOptions) {
    this.#ws = ws;
    this.#opts = opts;
    this.#log = opts.logger;
    // Listeners are attached synchronously: messages that arrive before any await would otherwise be lost.
    this.#life = new SocketLifecycle(ws, { idleTimeoutMs: opts.idleTimeoutMs, onCleanup: () => this.#cleanup() });
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on('error', (err) => this.#log.debug({ err }, 'websocket error'));
    // Azure ends every connection after 10 minutes, busy or not; the SDKs reconnect when they need to.
    this.#ageTimer = setTimeout(() => this.#limitReached(connectionAgeReason(opts.maxConnectionMs)), opts.maxConnectionMs);
    this.#ageTimer.unref();
  }

  /** Audio received over this connection so far, summed over its turns, in ms of real time. */
  get audioMs(): number {
    return this.#earlierTurnsAudioMs + (this.#turn?.handle.turn.audioMs ?? 0);
  }

  /** Date.now() when the first audio bytes arrived; undefined before. */
  get firstAudioAt(): number | undefined {
    return this.#firstAudioAt;
  }

  /** Ends the connection from the server side (shutdown): the open turn is cut, the socket closed. */
  shutdown(reason = 'Service is shutting down'): void {
    this.#life.close(CloseCode.GoingAway, reason);
  }

  /** Whether a turn is in progress (shutdown waits for these). */
  get busy(): boolean {
    return this.#turn !== undefined && !this.#turn.handle.turn.finished;
  }

  #onMessage(data: unknown, isBinary: boolean): void {
    if (this.#life.closed) return;
    this.#life.touch();
    let msg: SpeechMessage;
    try {
      const buf = toBuffer(data);
      msg = isBinary ? decodeBinaryFrame(buf) : decodeTextFrame(buf.toString('utf8'));
    } catch (err) {
      const reason = isFrameError(err) ? err.message : 'malformed message';
      this.#log.info({ reason }, 'invalid frame');
      this.#life.close(CloseCode.InvalidPayload, `Invalid message: ${reason}`);
      return;
    }
    const audioBytes = typeof msg.body !== 'string' && msg.path.toLowerCase() === ClientPath.Audio ? msg.body.length : undefined;
    if (this.#firstAudioAt === undefined && audioBytes !== undefined && audioBytes > 0) this.#firstAudioAt = Date.now();
    const endOfStream = audioBytes === 0;
    if (endOfStream) this.#pendingEnds++;
    this.#queued++;
    if (this.#queued > MAX_QUEUED_MESSAGES && !this.#paused) {
      this.#paused = true;
      this.#ws.pause();
    }
    this.#chain = this.#chain
      .then(() => {
        if (endOfStream) this.#pendingEnds--;
        return this.#handle(msg);
      })
      .catch((err: unknown) => this.#fail(err))
      .finally(() => {
        this.#queued--;
        if (this.#paused && this.#queued <= MAX_QUEUED_MESSAGES / 2) {
          this.#paused = false;
          if (!this.#life.closed) this.#ws.resume();
        }
      });
  }

  async #handle(msg: SpeechMessage): Promise<void> {
    if (this.#life.closed) return;
    const path = msg.path.toLowerCase();
    if (path === ClientPath.SpeechConfig) {
      this.#config = parseJson(msg.body);
      return;
    }
    if (path === ClientPath.SpeechContext) {
      this.#pendingContext = { requestId: msg.requestId, body: parseJson(msg.body) };
      return;
    }
    if (path === ClientPath.Audio) {
      if (typeof msg.body === 'string') return;
      await this.#onAudio(msg.requestId, msg.body);
      return;
    }
    // telemetry and any unknown path: accepted and ignored (protocol §A.5.4, §A.5.5).
  }

  async #onAudio(requestId: string | undefined, body: Buffer): Promise<void> {
    let turn = this.#turn;
    const id = requestId ?? turn?.requestId ?? newHexId();
    if (!turn || turn.requestId.toLowerCase() !== id.toLowerCase()) {
      // Late audio of a finished turn (JS sends a second end-of-stream after turn.end): ignore it.
      if (body.length === 0) return;
      if (turn && !turn.handle.turn.finished) {
        // A new request id supersedes the old turn (C++: "the service discards queued messages of the previous turn").
        turn.handle.turn.abort();
        turn.handle.input.destroy();
      }
      turn = this.#startTurn(id);
      if (!turn) return;
    }
    if (turn.handle.turn.finished || turn.streamEnded) return;
    const { input, turn: rt } = turn.handle;
    try {
      if (body.length === 0) {
        turn.streamEnded = true;
        await input.end();
        await rt.end();
        return;
      }
      await input.write(body);
      if (this.audioMs >= this.#opts.maxConnectionMs) this.#limitReached(connectionAudioReason(this.#opts.maxConnectionMs));
      if (rt.backlogged) await rt.whenDrained();
    } catch (err) {
      this.#turnFailed(turn, err);
    }
  }

  /**
   * The connection reached its audio or age limit. It is closed with 1000, which the SDKs take as a
   * cue to reconnect and replay the audio after their last recognized phrase (protocol §A.12), so the
   * utterance in progress gets no phrase here: it is recognized whole on the next connection.
   */
  #limitReached(reason: string): void {
    if (this.#limitReason !== undefined || this.#life.closed) return;
    this.#limitReason = reason;
    this.#log.info({ reason, audioMs: Math.round(this.audioMs) }, 'connection limit reached');
    this.#closeForLimit();
  }

  /** Closes the connection past its limit now, or arranges for it once that loses nothing. */
  #closeForLimit(): void {
    const reason = this.#limitReason;
    if (reason === undefined || this.#life.closed) return;
    if (this.#pendingEnds > 0) {
      // An end of stream already received waits behind other messages: decide after it was handled.
      this.#chain = this.#chain.then(() => this.#closeForLimit()).catch((err: unknown) => this.#fail(err));
      return;
    }
    const turn = this.#turn;
    const rt = turn?.handle.turn;
    if (turn && rt && !rt.finished) {
      if (turn.streamEnded || rt.ending) {
        // The client sent its end of stream: it will not replay this audio and would wait forever on
        // a closed socket (JS), so the turn finishes first; it takes no more audio, so that is bounded.
        this.#closeAfterTurn = true;
        return;
      }
      if (turn.options.mode === 'interactive' && !this.#graceOver) {
        // A single-shot turn is short (interactiveMaxAudioMs), and the JS SDK does not resume one on a
        // new connection (an audio send failing on the closed socket completes the request without a
        // result): let it finish, for as long as it could take at real time.
        this.#closeAfterTurn = true;
        this.#graceTimer ??= setTimeout(() => {
          this.#graceOver = true;
          this.#closeForLimit();
        }, this.#opts.interactiveMaxAudioMs + INTERACTIVE_GRACE_MS).unref();
        return;
      }
      if (turn.options.mode !== 'interactive' && !this.#reporting) {
        // Continuous recognition: the phrases of utterances that already ended go out first, so the
        // SDK's replay starts after them and they are not decoded again. The turn keeps taking audio
        // meanwhile (an end of stream may still come, and then the turn must finish instead); the
        // utterance in progress gets no phrase: its audio is replayed on the next connection.
        this.#reporting = true;
        const grace = new Promise<void>((resolve) => setTimeout(resolve, REPORT_GRACE_MS).unref());
        void Promise.race([rt.reported(), grace]).then(() => this.#closeForLimit());
        return;
      }
    }
    this.#life.close(CloseCode.Normal, reason);
  }

  /** After a turn.end: a connection past its limit closes now that the client has its results. */
  #afterTurnEnd(): void {
    if (this.#closeAfterTurn && this.#limitReason !== undefined) this.#life.close(CloseCode.Normal, this.#limitReason);
  }

  #startTurn(requestId: string): ActiveTurn | undefined {
    const ctx = this.#pendingContext;
    this.#pendingContext = undefined;
    const configMode = modeFromString(getCI(this.#config, 'recognition'));
    const base: RecognitionRequest = {
      ...this.#opts.baseRequest,
      mode: this.#opts.pathMode ?? configMode ?? this.#opts.baseRequest.mode,
    };
    let options: RecognitionOptions;
    try {
      options = this.#opts.recognition.resolveOptions(ctx ? applySpeechContext(base, ctx.body, this.#opts.pathMode) : base, this.#opts.accountId);
    } catch (err) {
      // Invalid parameters (unsupported locale …): close 1007 with a readable reason, which the SDKs
      // surface as BadRequestParameters plus our text (protocol §F.2).
      const se = isServiceError(err) ? err : Errors.internal(err);
      this.#life.close(se.status >= 500 ? CloseCode.InternalError : CloseCode.InvalidPayload, se.message);
      return undefined;
    }
    const listener = this.#listenerFor(requestId, options);
    const handle = this.#opts.recognition.startTurn(options, listener, { maxTurnAudioMs: this.#turnAudioLimit(options.mode) });
    const turn: ActiveTurn = { requestId, handle, options, streamEnded: false };
    if (this.#turn) this.#earlierTurnsAudioMs += this.#turn.handle.turn.audioMs;
    this.#turn = turn;
    this.#turns++;
    this.#send(ServicePath.TurnStart, requestId, { context: { serviceTag: newHexId() } });
    return turn;
  }

  /** Audio the next turn takes before it ends itself, reporting the utterance so far. */
  #turnAudioLimit(mode: RecognitionMode): number {
    const own = this.#opts.maxTurnAudioMs;
    // Azure's single-shot recognition stops at 15 s of audio with the utterance so far as its result.
    if (mode === 'interactive') return Math.min(this.#opts.interactiveMaxAudioMs, own);
    // Where the connection's audio limit comes first (or together), it governs: the connection is cut
    // without a phrase for the utterance in progress, so the turn must not end itself there first.
    const budget = Math.max(0, this.#opts.maxConnectionMs - this.audioMs);
    return own >= budget ? Math.max(own, budget + CONNECTION_LIMIT_SLACK_MS) : own;
  }

  #listenerFor(requestId: string, options: RecognitionOptions): TurnListener {
    const jsonOpts = { format: options.format, wordTimings: options.wordTimings, includeChannel: true };
    return {
      speechStartDetected: (offsetMs: number) => this.#send(ServicePath.SpeechStartDetected, requestId, { Offset: msToTicks(offsetMs) }),
      hypothesis: (h: Hypothesis) => this.#send(ServicePath.SpeechHypothesis, requestId, hypothesisJson(h)),
      phrase: (p: PhraseResult) => this.#send(ServicePath.SpeechPhrase, requestId, phraseJson(p, jsonOpts)),
      speechEndDetected: (offsetMs: number) => this.#send(ServicePath.SpeechEndDetected, requestId, { Offset: msToTicks(offsetMs) }),
      turnEnd: () => {
        this.#send(ServicePath.TurnEnd, requestId, {});
        this.#afterTurnEnd();
      },
    };
  }

  /** A failure inside a turn: an in-band error result, then turn.end (protocol §A.6.5). */
  #turnFailed(turn: ActiveTurn, err: unknown): void {
    const se: ServiceError = isServiceError(err) ? err : Errors.internal(err);
    if (se.status >= 500) this.#log.error({ err }, 'recognition turn failed');
    else this.#log.info({ code: se.code }, se.message);
    const rt = turn.handle.turn;
    if (rt.finished) return;
    rt.abort();
    turn.handle.input.destroy();
    const phrase: PhraseResult = { status: 'error', offsetMs: 0, durationMs: 0, displayText: '', alternatives: [], error: se };
    this.#send(ServicePath.SpeechPhrase, turn.requestId, phraseJson(phrase, { format: 'simple', wordTimings: false, includeChannel: true }));
    this.#send(ServicePath.TurnEnd, turn.requestId, {});
    this.#afterTurnEnd();
  }

  #fail(err: unknown): void {
    this.#log.error({ err }, 'recognition session failed');
    this.#life.close(CloseCode.InternalError, 'Internal server error');
  }

  #send(path: string, requestId: string, body: object): void {
    if (!this.#life.open) return;
    this.#ws.send(encodeTextFrame(path, requestId, body));
  }

  #cleanup(): void {
    clearTimeout(this.#ageTimer);
    clearTimeout(this.#graceTimer);
    const turn = this.#turn;
    if (turn) {
      turn.handle.turn.abort();
      turn.handle.input.destroy();
    }
    this.#opts.onClosed({ audioMs: this.audioMs, firstAudioAt: this.#firstAudioAt, turns: this.#turns });
  }
}

function parseJson(body: string | Buffer): unknown {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // A malformed context is treated as absent; the turn still runs with the URL's settings.
    return undefined;
  }
}

function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data.filter((d): d is Buffer => Buffer.isBuffer(d)));
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.alloc(0);
}
