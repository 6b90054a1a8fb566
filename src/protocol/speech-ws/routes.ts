import type { QuotaService } from '../../domain/quota/quota-service.js';
import { billableCharacters } from '../../domain/synthesis/billing.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { Logger } from '../../kernel/logger.js';
import { Errors } from '../../domain/errors.js';
import type { RecognitionService } from '../../domain/recognition/recognition-service.js';
import { parseMode, recognitionRequestFromQuery } from '../shared/recognition-query.js';
import { CloseCode, RecognitionSession } from './recognition-session.js';
import { SynthesisSession } from './synthesis-session.js';
import type { SynthesisService } from '../../domain/synthesis/synthesis-service.js';

export interface SpeechWsOptions {
  recognition: RecognitionService;
  synthesis: SynthesisService;
  sessions: SessionRegistry;
  /** Pricing-tier limits and usage metering (issue #6). */
  quotas: QuotaService;
  maxTurnAudioMs: number;
  /** Audio of one interactive recognition turn (Azure: 15 s). */
  interactiveMaxAudioMs: number;
  /** Audio or age after which a recognition connection is closed (Azure: 10 minutes). */
  maxConnectionMs: number;
  idleTimeoutMs: number;
}

/** What the registry needs of a session, recognition or synthesis. */
export interface Session {
  readonly busy: boolean;
  shutdown(reason?: string): void;
}

/**
 * Open sessions of this process: admission control at upgrade time and graceful shutdown.
 * Refusing early (before the 101) is what lets every SDK report a clean failure (protocol §F.2).
 */
export class SessionRegistry {
  readonly #sessions = new Set<Session>();
  #accepting = true;

  constructor(readonly maxSessions: number) {}

  get size(): number {
    return this.#sessions.size;
  }

  admit(): void {
    if (!this.#accepting) throw Errors.shuttingDown();
    if (this.#sessions.size >= this.maxSessions) {
      throw Errors.tooManyRequests(1);
    }
  }

  add(s: Session): void {
    this.#sessions.add(s);
  }

  delete(s: Session): void {
    this.#sessions.delete(s);
  }

  /** Stops admitting, lets busy sessions finish their turn for up to `graceMs`, then closes all. */
  async drain(graceMs: number): Promise<void> {
    this.#accepting = false;
    const deadline = Date.now() + graceMs;
    while ([...this.#sessions].some((s) => s.busy) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const s of [...this.#sessions]) s.shutdown();
  }
}

/**
 * Recognition WebSocket paths (protocol §1.2): the v1 per-mode paths (fromHost, containers, custom
 * endpoints) and the v2 universal path, each also under the `/stt` offering prefix that custom
 * domains and newer SDKs use.
 */
export async function speechWsRoutes(app: FastifyInstance, opts: SpeechWsOptions): Promise<void> {
  const open = (pathMode: ReturnType<typeof parseMode>, socket: WebSocket, req: FastifyRequest): void => {
    const log = req.log as unknown as Logger;
    // The connection owns the recognition slot the admission step took (protocol/http/data-plane.ts)
    // and frees it when it ends, paced to the real-time duration of the audio it received.
    const lease = req.quotaLease;
    req.quotaLeaseTaken = true;
    if (req.quotaRefusal) {
      const wsReason = req.quotaRefusal.details?.['wsReason'];
      const reason = typeof wsReason === 'string' ? wsReason : req.quotaRefusal.message;
      // Closed once the client has spoken (its first message): an SDK that finds the socket closed
      // before it could send its configuration reports a send error instead of the reason.
      const refuse = (): void => socket.close(CloseCode.InvalidPayload, reason);
      socket.once('message', refuse);
      setTimeout(refuse, 5_000).unref();
      return;
    }
    const base = recognitionRequestFromQuery(req.query, pathMode ?? 'interactive');
    const session: RecognitionSession = new RecognitionSession(socket, {
      recognition: opts.recognition,
      baseRequest: base,
      accountId: req.principal?.account.id,
      pathMode,
      maxTurnAudioMs: opts.maxTurnAudioMs,
      interactiveMaxAudioMs: opts.interactiveMaxAudioMs,
      maxConnectionMs: opts.maxConnectionMs,
      idleTimeoutMs: opts.idleTimeoutMs,
      logger: log.child({ connectionId: headerOrQuery(req, 'x-connectionid') }),
      onClosed: (usage) => {
        opts.sessions.delete(session);
        if (lease) void opts.quotas.finishRecognition(lease, { audioMs: usage.audioMs, audioStartedAtWallMs: usage.firstAudioAt, requests: usage.turns });
      },
    });
    opts.sessions.add(session);
  };

  const admit = async (req: FastifyRequest): Promise<void> => {
    opts.sessions.admit();
    // Query values are validated before the upgrade, so a bad format/profanity value is a clean 400.
    recognitionRequestFromQuery(req.query, 'interactive');
  };

  for (const prefix of ['', '/stt']) {
    app.get<{ Params: { mode: string } }>(
      `${prefix}/speech/recognition/:mode/cognitiveservices/v1`,
      {
        websocket: true,
        // Every connection is a real-time recognition: it takes a concurrency slot at the upgrade.
        config: { quota: 'recognition' },
        preHandler: async (req) => {
          if (!parseMode(req.params.mode)) throw Errors.notFound();
          await admit(req);
        },
      },
      (socket, req) => open(parseMode(req.params.mode), socket, req),
    );
    app.get(`${prefix}/speech/universal/v2`, { websocket: true, config: { quota: 'recognition' }, preHandler: admit }, (socket, req) => open(undefined, socket, req));
  }

  // Text-to-speech (protocol §B.1): JS ≥ 1.44 and C++ defaults use the /tts form, older clients and
  // containers the bare one.
  const openSynthesis = (socket: WebSocket, req: FastifyRequest): void => {
    const log = req.log as unknown as Logger;
    const account = req.admission?.account;
    const session: SynthesisSession = new SynthesisSession(socket, {
      synthesis: opts.synthesis,
      idleTimeoutMs: opts.idleTimeoutMs,
      maxQueuedRequests: 16,
      logger: log.child({ connectionId: headerOrQuery(req, 'x-connectionid') }),
      onClosed: () => opts.sessions.delete(session),
      admit: async () => {
        if (account) await opts.quotas.admitSynthesis(account);
      },
      served: (ssml) => {
        if (account) void opts.quotas.recordSynthesis(account.id, billableCharacters(ssml));
      },
    });
    opts.sessions.add(session);
  };
  const admitSynthesis = async (): Promise<void> => opts.sessions.admit();
  for (const path of ['/cognitiveservices/websocket/v1', '/tts/cognitiveservices/websocket/v1']) {
    app.get(path, { websocket: true, preHandler: admitSynthesis }, (socket, req) => openSynthesis(socket, req));
  }
}

function headerOrQuery(req: FastifyRequest, name: string): string | undefined {
  const h = req.headers[name];
  if (typeof h === 'string') return h;
  const q = req.query as Record<string, unknown> | undefined;
  const v = q?.['X-ConnectionId'] ?? q?.['connectionId'];
  return typeof v === 'string' ? v : undefined;
}
