import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes, Errors } from '../../domain/errors.js';
import { ServiceError } from '../../kernel/errors.js';
import { secretsEqual } from '../../kernel/secrets.js';
import type { AccountService } from '../../domain/resources/account-service.js';
import type { NetworkService } from '../../domain/resources/network-service.js';
import { armErrorBody, toArmError } from './arm-envelope.js';
import type { AdminRoutesOptions } from './arm.js';
import { cognitiveServicesRoutes } from './cognitive-services-routes.js';
import { networkRoutes } from './network-routes.js';
import { quotaRoutes } from './quota-routes.js';
import { metricsText } from './metrics.js';
import type { QuotaService } from '../../domain/quota/quota-service.js';
import type { HostSuffixes } from './views.js';

export type { AdminRoutesOptions } from './arm.js';
export type { HostSuffixes } from './views.js';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * The control plane: an emulation of Azure Resource Manager for Microsoft.CognitiveServices
 * accounts (2024-10-01 shapes) and the minimum of Microsoft.Network that Speech networking needs.
 * Every route lives under /subscriptions, in its own encapsulated scope, so that its hook, error
 * handler, 404 handler and JSON parser leave the data plane (registered beside it) untouched.
 *
 * Deviations from ARM, by design:
 * - Authentication is one static admin token (`Authorization: Bearer <token>`), not Entra ID.
 *   Resource keys are never accepted here; an empty admin token refuses every request.
 * - `api-version` is required (400 MissingApiVersionParameter) but any value is accepted: the
 *   shapes are those of 2024-10-01 whatever the client asks for.
 * - Paths are matched with the casing of the specification (Fastify's router is case-sensitive for
 *   the whole server, not per route); names and ids inside them compare case-insensitively.
 * - Account names are unique within an installation, not per resource group (the data plane finds
 *   an account by name): the same name under another subscription or group is 404 on GET and 409 on PUT.
 * - Every operation completes synchronously: 200/201/204, never 202 with an async operation header.
 */
export async function adminRoutes(
  app: FastifyInstance,
  opts: { accounts: AccountService; network: NetworkService; quotas: QuotaService; adminToken: string; suffixes: HostSuffixes },
): Promise<void> {
  const options: AdminRoutesOptions = opts;
  const assertAdmin = (req: FastifyRequest): void => {
    const match = BEARER.exec(req.headers.authorization ?? '');
    const token = match?.[1];
    if (token === undefined || options.adminToken === '' || !secretsEqual(token, options.adminToken)) throw Errors.adminAuthRequired();
  };
  await app.register(
    async (scope) => {
      // ARM clients send `Content-Type: application/json` with an empty body on POST actions such
      // as listKeys; Fastify's parser would refuse that.
      const json = scope.getDefaultJsonParser('error', 'error');
      scope.removeContentTypeParser('application/json');
      scope.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
        const text = typeof body === 'string' ? body : body.toString('utf8');
        if (text.trim() === '') done(null, undefined);
        else json(req, text, done);
      });

      // onRequest: before the body is read, so nothing unauthenticated is parsed.
      scope.addHook('onRequest', async (req: FastifyRequest) => {
        assertAdmin(req);
        const apiVersion = (req.query as Record<string, unknown> | undefined)?.['api-version'];
        if (apiVersion === undefined || apiVersion === '') {
          throw Errors.invalidArgument("The api-version query parameter (?api-version=) is required for all requests.", { armCode: 'MissingApiVersionParameter' });
        }
      });

      scope.setErrorHandler(async (err: unknown, req: FastifyRequest, reply: FastifyReply) => {
        const se = toArmError(err);
        if (se.status >= 500) req.log.error({ err }, 'control-plane request failed');
        else req.log.info({ code: se.code, status: se.status }, se.message);
        if (se.status === 401) void reply.header('WWW-Authenticate', 'Bearer realm="parlance-admin"');
        return reply.code(se.status).type('application/json; charset=utf-8').send(armErrorBody(se));
      });

      // A path without an operation is not a missing resource: its own code, and a hint about casing.
      scope.setNotFoundHandler(async (req: FastifyRequest) => {
        throw new ServiceError(
          ErrorCodes.NotFound,
          404,
          `No control-plane operation matches ${req.method} ${req.url.split('?')[0] ?? ''}. Paths use the casing of the ARM specification (e.g. resourceGroups, Microsoft.CognitiveServices).`,
          { details: { armCode: 'NotFound' } },
        );
      });

      await scope.register(cognitiveServicesRoutes, options);
      await scope.register(networkRoutes, options);
      await scope.register(quotaRoutes, options);
    },
    { prefix: '/subscriptions' },
  );

  // Prometheus metrics: usage counters and live quota gauges, behind the same admin token (scrapers
  // send it with `authorization: { credentials: … }`).
  await app.register(async (scope) => {
    scope.addHook('onRequest', async (req: FastifyRequest) => assertAdmin(req));
    scope.setErrorHandler(async (err: unknown, _req: FastifyRequest, reply: FastifyReply) => {
      const se = toArmError(err);
      if (se.status === 401) void reply.header('WWW-Authenticate', 'Bearer realm="parlance-admin"');
      return reply.code(se.status).type('application/json; charset=utf-8').send(armErrorBody(se));
    });
    scope.get('/metrics', async (_req, reply) => {
      const all = await options.accounts.list();
      const live = await Promise.all(
        all.map(async (account) => ({
          account,
          recognitionsInUse: await options.quotas.recognitionsInUse(account.id),
          concurrencyLimit: options.quotas.limitsOf(account).sttConcurrency,
        })),
      );
      return reply.type('text/plain; version=0.0.4; charset=utf-8').send(metricsText(await options.quotas.allTimeUsage(), all, live));
    });
  });
}
