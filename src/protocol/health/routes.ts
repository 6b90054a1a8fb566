import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../../domain/auth/auth-service.js';
import { credentialsFromRequest } from '../http/credentials.js';
import { gatewayErrorBody, toServiceError } from '../http/error-envelope.js';

export interface HealthOptions {
  version: string;
  auth: AuthService;
  /** Whether engines are loaded and the server takes requests. */
  isReady: () => boolean;
}

/**
 * Housekeeping endpoints as the Speech containers have them (protocol §C.5): `/` home, `/ready`
 * (readiness probe) and `/status` (checks the key given, if any, without doing any recognition).
 * No credentials are needed for `/` and `/ready`.
 */
export async function healthRoutes(app: FastifyInstance, opts: HealthOptions): Promise<void> {
  app.get('/', async (_req, reply) =>
    reply.type('text/plain; charset=utf-8').send(`Parlance ${opts.version}: Azure AI Speech compatible service. See /ready and /status.\n`),
  );

  app.get('/ready', async (_req, reply) => {
    const ready = opts.isReady();
    return reply.code(ready ? 200 : 503).send({ service: 'parlance', status: ready ? 'ready' : 'starting' });
  });

  app.get('/status', async (req, reply) => {
    const creds = credentialsFromRequest(req);
    if (creds.subscriptionKey === undefined && creds.bearerToken === undefined) {
      return reply.send({ service: 'parlance', version: opts.version, status: opts.isReady() ? 'ready' : 'starting', apiStatus: 'NotChecked' });
    }
    try {
      const principal = await opts.auth.authenticate(creds);
      return reply.send({
        service: 'parlance',
        version: opts.version,
        status: opts.isReady() ? 'ready' : 'starting',
        apiStatus: 'Valid',
        resource: principal.account.name,
        region: principal.account.region,
      });
    } catch (err) {
      const se = toServiceError(err);
      return reply.code(se.status).send(gatewayErrorBody(se));
    }
  });
}
