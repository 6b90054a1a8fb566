import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthService, Principal } from '../../domain/auth/auth-service.js';
import { credentialsFromRequest } from './credentials.js';
import { gatewayErrorBody, retryAfterSeconds, toServiceError } from './error-envelope.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the data-plane authentication hook. */
    principal?: Principal;
  }
}

export interface DataPlaneOptions {
  auth: AuthService;
}

/**
 * The data-plane request pipeline, in order, for every REST request and WebSocket upgrade a surface
 * registers inside this plugin's scope:
 *   1. onRequest: credentials from headers or query → AuthService chain → request.principal
 *      (401 with Azure's body before any route work; on a WebSocket the upgrade is refused).
 *   2. the surface's own routes.
 * Errors anywhere are rendered in the Cognitive Services gateway envelope, with Retry-After for 429.
 * (Resource resolution by host and network rules slot in before step 1 with the resources issue.)
 *
 * Applied to a scope (not registered as a plugin) so its hooks and error handler cover exactly the
 * routes registered in that scope and its children; health checks live outside it.
 */
export function applyDataPlane(app: FastifyInstance, opts: DataPlaneOptions): void {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (req: FastifyRequest) => {
    req.principal = await opts.auth.authenticate(credentialsFromRequest(req));
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
