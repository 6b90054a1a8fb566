import type { WebSocket } from 'ws';
import { isServiceError, type ServiceError } from '../../kernel/errors.js';
import { newHexId } from '../../kernel/ids.js';
import type { Logger } from '../../kernel/logger.js';
import { Errors } from '../../domain/errors.js';
import type { SynthesisOptions, SynthesisService } from '../../domain/synthesis/synthesis-service.js';
import { metadataItem } from '../shared/synthesis-json.js';
import { decodeBinaryFrame, decodeTextFrame, encodeBinaryFrame, encodeTextFrame, isFrameError, type SpeechMessage } from './frame-codec.js';
import { CloseCode } from './recognition-session.js';
import { getCI } from './speech-context.js';
import { ClientPath, ServicePath } from './wire-names.js';
import { SocketLifecycle } from './socket-lifecycle.js';

export interface SynthesisSessionOptions {
  synthesis: SynthesisService;
  idleTimeoutMs: number;
  /** SSML messages waiting behind the one being synthesized before the connection is refused more. */
  maxQueuedRequests: number;
  logger: Logger;
  onClosed: () => void;
  /** Admits one synthesis request against the resource's pricing-tier limits (throws when over). */
  admit: () => Promise<void>;
  /** Counts a synthesis that produced audio: the SSML's billable characters. */
  served: (ssml: string) => void;
}

/** Socket send buffer above which audio frames wait for the peer (backpressure, architecture §2.8). */
const HIGH_WATER_BYTES = 256 * 1024;

/** The JS SDK's wire default in Node (it adds the RIFF header itself), protocol §B.5. */
const DEFAULT_FORMAT = 'raw-16khz-16bit-mono-pcm';

interface Request {
  requestId: string;
  ssml: string;
  context: unknown;
}

/**
 * One synthesis WebSocket connection (protocol §B): speech.config → synthesis.context → ssml per request;
 * the service answers turn.start, response (with the stream id the JS SDK requires), audio frames with
 * X-StreamId, audio.metadata in audio-time order, SessionEnd, turn.end. Requests run one at a time, in
 * order; invalid voice, SSML or output format close the socket with 1007 and a readable reason, which
 * the SDKs report as a canceled result with that text (§B.6).
 */
export class SynthesisSession {
  readonly #ws: WebSocket;
  readonly #opts: SynthesisSessionOptions;
  readonly #log: Logger;
  #contexts = new Map<string, unknown>();
  #queue: Request[] = [];
  #running = false;
  #current: AbortController | undefined;
  readonly #life: SocketLifecycle;

  constructor(ws: WebSocket, opts: SynthesisSessionOptions) {
    this.#ws = ws;
    this.#opts = opts;
    this.#log = opts.logger;
    this.#life = new SocketLifecycle(ws, { idleTimeoutMs: opts.idleTimeoutMs, onCleanup: () => this.#cleanup(), busy: () => this.#running });
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on('error', (err) => this.#log.debug({ err }, 'websocket error'));
  }

  get busy(): boolean {
    return this.#running;
  }

  shutdown(reason = 'Service is shutting down'): void {
    this.#life.close(CloseCode.GoingAway, reason);
  }

  #onMessage(data: unknown, isBinary: boolean): void {
    if (this.#life.closed) return;
    this.#life.touch();
    let msg: SpeechMessage;
    try {
      const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data as Buffer[]) : Buffer.from(data as ArrayBuffer);
      msg = isBinary ? decodeBinaryFrame(buf) : decodeTextFrame(buf.toString('utf8'));
    } catch (err) {
      this.#life.close(CloseCode.InvalidPayload, `Invalid message: ${isFrameError(err) ? err.message : 'malformed message'}`);
      return;
    }
    const path = msg.path.toLowerCase();
    const body = typeof msg.body === 'string' ? msg.body : msg.body.toString('utf8');
    const requestId = msg.requestId ?? newHexId();
    if (path === ClientPath.SynthesisContext) {
      this.#contexts.set(requestId.toLowerCase(), parseJson(body));
      // Bounded: contexts are consumed by their ssml message; a client that only sends contexts is capped.
      if (this.#contexts.size > 16) this.#contexts.delete(this.#contexts.keys().next().value ?? '');
    } else if (path === ClientPath.Ssml) {
      if (this.#queue.length >= this.#opts.maxQueuedRequests) {
        this.#life.close(CloseCode.InvalidPayload, 'Too many queued synthesis requests on this connection.');
        return;
      }
      const context = this.#contexts.get(requestId.toLowerCase());
      this.#contexts.delete(requestId.toLowerCase());
      this.#queue.push({ requestId, ssml: body, context });
      void this.#drainQueue();
    } else if (path === ClientPath.SynthesisControl) {
      const action = getCI(parseJson(body), 'action');
      if (typeof action === 'string' && action.toLowerCase() === 'stop') this.#current?.abort();
    }
    // speech.config, telemetry, text streaming (not supported: no text.piece synthesis) and unknown paths: ignored.
  }

  async #drainQueue(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (let req = this.#queue.shift(); req && !this.#life.closed; req = this.#queue.shift()) {
        await this.#run(req);
      }
    } finally {
      this.#running = false;
    }
  }

  async #run(req: Request): Promise<void> {
    const audio = getCI(req.context, 'synthesis', 'audio');
    const formatName = getCI(audio, 'outputFormat');
    const meta = getCI(audio, 'metadataOptions');
    const options: SynthesisOptions = {
      wordBoundary: flag(getCI(meta, 'wordBoundaryEnabled'), true),
      punctuationBoundary: flag(getCI(meta, 'punctuationBoundaryEnabled'), false),
      sentenceBoundary: flag(getCI(meta, 'sentenceBoundaryEnabled'), false),
      bookmarks: flag(getCI(meta, 'bookmarkEnabled'), true),
      visemes: flag(getCI(meta, 'visemeEnabled'), false),
    };
    let plan;
    let format;
    try {
      format = this.#opts.synthesis.outputFormat(typeof formatName === 'string' && formatName !== '' ? formatName : DEFAULT_FORMAT);
      plan = this.#opts.synthesis.planSsml(req.ssml);
      // Call rate and monthly allowance, per request (a connection may carry many).
      await this.#opts.admit();
    } catch (err) {
      this.#reject(err);
      return;
    }
    const abort = new AbortController();
    this.#current = abort;
    const streamId = newHexId();
    const serviceTag = newHexId();
    this.#sendText(ServicePath.TurnStart, req.requestId, { context: { serviceTag } });
    this.#sendText(ServicePath.Response, req.requestId, { context: { serviceTag }, audio: { type: 'inline', streamId } });
    let audible = false;
    try {
      for await (const ev of this.#opts.synthesis.synthesize(plan, format, { ...options, signal: abort.signal })) {
        if (this.#life.closed) break;
        if (ev.type === 'audio') {
          if (!audible) {
            audible = true;
            this.#opts.served(req.ssml);
          }
          await this.#sendAudio(req.requestId, streamId, ev.data);
        } else {
          this.#sendText(ServicePath.AudioMetadata, req.requestId, { Metadata: [metadataItem(ev)] });
        }
      }
    } catch (err) {
      // A stop request ends the turn normally; anything else is logged, and the turn still ends so the
      // SDK's promise resolves (a close mid-request would leave JS waiting, §B.6).
      if (!abort.signal.aborted) {
        const se: ServiceError = isServiceError(err) ? err : Errors.internal(err);
        if (se.status >= 500) this.#log.error({ err }, 'synthesis failed');
        else this.#log.info({ code: se.code }, se.message);
      }
    } finally {
      this.#current = undefined;
    }
    this.#sendText(ServicePath.TurnEnd, req.requestId, {});
  }

  /**
   * Invalid voice, SSML or format, or a pricing-tier limit: close 1007 with the message (SDKs report
   * it as BadRequestParameters); limits use Azure's short reasons ("Throttled due to too many
   * requests", "Quota exceeded.", protocol §F.3).
   */
  #reject(err: unknown): void {
    const se = isServiceError(err) ? err : Errors.internal(err);
    this.#log.info({ code: se.code }, se.message);
    const wsReason = se.details?.['wsReason'];
    this.#life.close(se.status >= 500 ? CloseCode.InternalError : CloseCode.InvalidPayload, typeof wsReason === 'string' ? wsReason : se.message);
  }

  async #sendAudio(requestId: string, streamId: string, data: Buffer): Promise<void> {
    if (!this.#life.open) return;
    this.#ws.send(encodeBinaryFrame(ServicePath.Audio, requestId, data, { 'X-StreamId': streamId }));
    // Respect the peer's pace: wait for the socket buffer to drain instead of queueing audio in memory.
    while (this.#ws.bufferedAmount > HIGH_WATER_BYTES && this.#life.open) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  #sendText(path: string, requestId: string, body: object): void {
    if (!this.#life.open) return;
    this.#ws.send(encodeTextFrame(path, requestId, body));
  }

  #cleanup(): void {
    this.#current?.abort();
    this.#queue = [];
    this.#opts.onClosed();
  }
}

/** JS sends some metadata switches as the strings "true"/"false", C++ as booleans (protocol §B.2). */
function flag(v: unknown, dflt: boolean): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return v.toLowerCase() === 'true';
  return dflt;
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
