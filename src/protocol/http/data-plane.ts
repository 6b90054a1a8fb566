import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../domain/auth/auth-service.js';
import type { AccessService, Admission, Surface } from '../../domain/resources/access-service.js';
import { credentialsFromRequest } from './credentials.js';
import { gatewayErrorBody, retryAfterSeconds, toServiceError } from './error-envelope.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the data-plane admission hook. */
    principal?: Principal;
    admission?: Admission;
  }
  interface FastifyContextConfig {
    /** Which admission rules apply (default `speech`). */
    surface?: Surface;
  }
}

export interface DataPlaneOptions {
  access: AccessService;
}

/**
 * The data-plane request pipeline, in order, for every REST request and WebSocket upgrade a surface
 * registers inside this plugin's scope:
 *   1. onRequest: AccessService.admit — resource from the Host (custom domain) or the credentials,
 *      path form for the host, network rules from the real TCP addresses (the peer, and the local
 *      address a private endpoint is reached on), then credentials → request.principal. Failures
 *      are Azure's statuses (401/403/404) before any route work; a WebSocket upgrade is refused.
 *   2. the surface's own routes.
 * Errors anywhere are rendered in the Cognitive Services gateway envelope, with Retry-After for 429.
 *
 * Applied to a scope (not registered as a plugin) so its hooks and error handler cover exactly the
 * routes registered in that scope and its children; health checks and the control plane live outside it.
 */
export function applyDataPlane(app: FastifyInstance, opts: DataPlaneOptions): void {
  app.decorateRequest('principal', undefined);
  app.decorateRequest('admission', undefined);
  app.addHook('onRequest', async (req: FastifyRequest) => {
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
