import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../domain/auth/auth-service.js';
import type { AccessService, Admission, Surface } from '../../domain/resources/access-service.js';
import type { QuotaService, RecognitionLease } from '../../domain/quota/quota-service.js';
import type { Account } from '../../domain/resources/account.js';
import { credentialsFromRequest } from './credentials.js';
import { isServiceError, type ServiceError } from '../../kernel/errors.js';
import { ErrorCodes } from '../../domain/errors.js';
import { gatewayErrorBody, retryAfterSeconds, toServiceError } from './error-envelope.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the data-plane admission hook. */
    principal?: Principal;
    admission?: Admission;
    /** A real-time recognition's concurrency slot (routes with `quota: 'recognition'`). */
    quotaLease?: RecognitionLease;
    /** Set by a WebSocket route whose session now owns `quotaLease` (and finishes it at close). */
    quotaLeaseTaken?: boolean;
    /** A monthly allowance refusal a WebSocket route must deliver after the upgrade (close 1007). */
    quotaRefusal?: ServiceError;
    /** What a REST request used, set by its route for metering. */
    metered?: { sttAudioMs?: number; ttsCharacters?: number };
  }
  interface FastifyContextConfig {
    /** Which admission rules apply (default `speech`). */
    surface?: Surface;
    /** Which pricing-tier limits the route is subject to (issue #6): none by default. */
    quota?: 'recognition' | 'synthesis';
  }
}

export interface DataPlaneOptions {
  access: AccessService;
  quotas: QuotaService;
}

/**
 * The data-plane request pipeline, in order, for every REST request and WebSocket upgrade a surface
 * registers inside this plugin's scope:
 *   1. onRequest: AccessService.admit — resource from the Host (custom domain) or the credentials,
 *      path form for the host, network rules from the real TCP addresses (the peer, and the local
 *      address a private endpoint is reached on), then credentials → request.principal. Failures
 *      are Azure's statuses (401/403/404) before any route work; a WebSocket upgrade is refused.
 *   2. onRequest: pricing-tier limits for routes that declare `quota` (QuotaService): recognitions
 *      take a concurrency slot (429 + Retry-After; 403 once a free monthly allowance is used up),
 *      synthesis requests count against the call rate. A REST recognition's slot is freed when its
 *      response closes — paced to its audio's real-time duration — and its usage counted then; a
 *      WebSocket session takes the slot over and frees it when the connection ends.
 *   3. the surface's own routes.
 * Errors anywhere are rendered in the Cognitive Services gateway envelope, with Retry-After for 429.
 *
 * Applied to a scope (not registered as a plugin) so its hooks and error handler cover exactly the
 * routes registered in that scope and its children; health checks and the control plane live outside it.
 */
export function applyDataPlane(app: FastifyInstance, opts: DataPlaneOptions): void {
  app.decorateRequest('principal', undefined);
  app.decorateRequest('admission', undefined);
  app.decorateRequest('quotaLease', undefined);
  app.decorateRequest('quotaLeaseTaken', undefined);
  app.decorateRequest('metered', undefined);
  app.decorateRequest('quotaRefusal', undefined);
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const admission = await opts.access.admit({
      host: req.headers.host,
      path: req.url.split('?')[0] ?? '/',
      // req.ip is the TCP peer, or X-Forwarded-For's client when trustProxy is configured.
      sourceIp: req.ip,
      localIp: req.socket.localAddress ?? '',
      credentials: credentialsFromRequest(req),
      surface: req.routeOptions.config.surface ?? 'speech',
    });
    req.admission = admission;
    req.principal = admission.principal;

    await admitToQuota(req, reply, opts.quotas, admission.account);
  });
  app.setErrorHandler(async (err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const se = toServiceError(err);
    if (se.status >= 500) req.log.error({ err }, 'request failed');
    else req.log.info({ code: se.code, status: se.status }, se.message);
    const retry = retryAfterSeconds(se);
    if (retry !== undefined) void reply.header('Retry-After', String(retry));
    return reply.code(se.status).type('application/json; charset=utf-8').send(gatewayErrorBody(se));
  });
}

/**
 * Step 2 of the pipeline: the pricing-tier limits of routes that declare `quota` (docs/quotas.md).
 * A recognition's slot is finished exactly once, by whatever ends the exchange (finishRecognition is
 * idempotent): a REST response, the client going away, or — for an upgrade — a socket that closes
 * before its session took the lease over (refused or broken handshake).
 */
async function admitToQuota(req: FastifyRequest, reply: FastifyReply, quotas: QuotaService, account: Account): Promise<void> {
  const quota = req.routeOptions.config.quota;
  if (quota === 'synthesis' && !isUpgrade(req)) {
    // REST synthesis is one request; a WebSocket's requests are admitted one by one by its session.
    await quotas.admitSynthesis(account);
    reply.raw.once('close', () => {
      const characters = req.metered?.ttsCharacters;
      if (characters !== undefined) void quotas.recordSynthesis(account.id, characters);
    });
  }
  if (quota === 'recognition') {
    let lease: RecognitionLease;
    try {
      lease = await quotas.admitRecognition(account, endpointIdOf(req));
    } catch (err) {
      // Azure accepts the connection and closes it with 1007 "Quota exceeded." (protocol §F.3), which
      // every SDK reports with that text; the WebSocket route does so.
      if (isUpgrade(req) && isServiceError(err) && err.code === ErrorCodes.QuotaExceeded) {
        req.quotaRefusal = err;
        return;
      }
      throw err;
    }
    req.quotaLease = lease;
    const startedAt = Date.now();
    const finish = (): void => {
      if (req.quotaLeaseTaken) return;
      const audioMs = req.metered?.sttAudioMs ?? 0;
      void quotas.finishRecognition(lease, { audioMs, audioStartedAtWallMs: startedAt, requests: req.metered?.sttAudioMs !== undefined ? 1 : 0 });
    };
    if (isUpgrade(req)) req.raw.socket.once('close', finish);
    else {
      // 'finish': the response was handed over; 'close' alone can come much later on a kept-alive
      // connection, or is the only event when the client went away.
      reply.raw.once('finish', finish);
      reply.raw.once('close', finish);
    }
  }
}

/** Whether the request is a WebSocket upgrade (its reply is never a normal HTTP response). */
function isUpgrade(req: FastifyRequest): boolean {
  return typeof req.headers.upgrade === 'string' && req.headers.upgrade.toLowerCase() === 'websocket';
}

/** The custom endpoint a recognition names (`cid`), which has its own concurrency limit. */
function endpointIdOf(req: FastifyRequest): string | undefined {
  const q = req.query as Record<string, unknown> | undefined;
  const cid = q?.['cid'];
  return typeof cid === 'string' && cid !== '' ? cid : undefined;
}
