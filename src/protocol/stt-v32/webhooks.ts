import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebHook, WebHookEvents } from '../../domain/customspeech/webhook.js';
import type { WebHookChanges, WebHookService } from '../../domain/customspeech/webhook-service.js';
import { Errors } from '../../domain/errors.js';
import type { HostSuffixes } from '../../domain/resources/hosts.js';
import { accountOf, applyV32Conventions, guid, objectBody, objectOrEmpty, optionalStrings, str, type Body } from './http.js';
import { listPage } from './paging.js';
import { isGuid, Urls } from './urls.js';

export interface WebhookRoutesOptions {
  webhooks: WebHookService;
  suffixes: HostSuffixes;
  /** API versions served (default v3.2 and v3.1). */
  versions?: readonly string[];
}

type IdParams = { Params: { id: string } };

/**
 * Web hooks of the Speech-to-text REST API v3.2 (protocol §D.7; operationIds `WebHooks_*`):
 * registrations with a challenge handshake, `:ping` and `:test`. Deliveries are the WebHookService's.
 */
export async function webhookRoutes(app: FastifyInstance, opts: WebhookRoutesOptions): Promise<void> {
  const wh = opts.webhooks;
  applyV32Conventions(app);

  for (const version of opts.versions ?? ['v3.2', 'v3.1']) {
    const prefix = `/speechtotext/${version}`;
    const urls = (req: FastifyRequest): Urls => new Urls(req, version, opts.suffixes);
    const config = { surface: 'management' as const };

    app.get(`${prefix}/webhooks`, { config }, async (req) => {
      const u = urls(req);
      const views = (await wh.list(accountOf(req))).map((h) => webhookView(h, u));
      return listPage(req, u, 'webhooks', views, 'webhooks');
    });

    app.post<{ Body: Body }>(`${prefix}/webhooks`, { config }, async (req, reply) => {
      const b = objectBody(req.body);
      const webUrl = str(b, 'webUrl');
      if (webUrl === undefined || webUrl === '') throw Errors.invalidArgument('webUrl is required.', { innerCode: 'InvalidParameterValue' });
      if (b['events'] === undefined || b['events'] === null) throw Errors.invalidArgument('events is required.', { innerCode: 'InvalidParameterValue' });
      const secret = str(objectOrEmpty(b, 'properties'), 'secret');
      const h = await wh.create(accountOf(req), {
        webUrl,
        displayName: str(b, 'displayName') ?? '',
        ...optionalStrings(b),
        events: eventsOf(b),
        ...(secret !== undefined ? { secret } : {}),
        apiVersion: version,
        origin: originOf(req),
      });
      const view = webhookView(h, urls(req));
      return reply.code(201).header('Location', view['self'] as string).send(view);
    });

    app.get<IdParams>(`${prefix}/webhooks/:id`, { config }, async (req) => webhookView(await wh.get(accountOf(req), guid(req.params.id)), urls(req)));

    app.patch<IdParams & { Body: Body }>(`${prefix}/webhooks/:id`, { config }, async (req) => {
      const b = objectBody(req.body);
      const changes: WebHookChanges = { ...optionalStrings(b) };
      const displayName = str(b, 'displayName');
      if (displayName !== undefined) changes.displayName = displayName;
      const webUrl = str(b, 'webUrl');
      if (webUrl !== undefined) changes.webUrl = webUrl;
      if (b['events'] !== undefined && b['events'] !== null) changes.events = eventsOf(b);
      const secret = str(objectOrEmpty(b, 'properties'), 'secret');
      if (secret !== undefined) changes.secret = secret;
      return webhookView(await wh.update(accountOf(req), guid(req.params.id), changes), urls(req));
    });

    app.delete<IdParams>(`${prefix}/webhooks/:id`, { config }, async (req, reply) => {
      if (isGuid(req.params.id)) await wh.delete(accountOf(req), req.params.id.toLowerCase());
      return reply.code(204).send();
    });

    // `{id}:ping` and `{id}:test`: one path segment, split here (a ':' in a route is a parameter).
    app.post<IdParams>(`${prefix}/webhooks/:id`, { config }, async (req, reply) => {
      const m = /^(.+):(ping|test)$/.exec(req.params.id);
      if (!m?.[1]) throw Errors.notFound(`No operation at webhooks/${req.params.id}.`);
      const id = guid(m[1]);
      if (m[2] === 'ping') {
        await wh.ping(accountOf(req), id);
        return reply.code(202).send();
      }
      const sent = await wh.test(accountOf(req), id);
      return reply.code(sent > 0 ? 202 : 204).send();
    });
  }
}

export function webhookView(h: WebHook, urls: Urls): Record<string, unknown> {
  const self = urls.entity(`webhooks/${h.id}`);
  return Object.fromEntries(
    Object.entries({
      self,
      links: { ping: `${self}:ping`, test: `${self}:test` },
      properties: Object.fromEntries(Object.entries({ apiVersion: h.apiVersion, error: h.error }).filter(([, v]) => v !== undefined)),
      webUrl: h.webUrl,
      events: h.events,
      lastActionDateTime: h.lastActionAt,
      status: h.status,
      createdDateTime: h.createdAt,
      displayName: h.displayName,
      description: h.description,
      customProperties: h.customProperties,
    }).filter(([, v]) => v !== undefined),
  );
}

function eventsOf(b: Body): WebHookEvents {
  const e = b['events'];
  if (typeof e !== 'object' || e === null || Array.isArray(e)) throw Errors.invalidArgument("'events' must be an object of flags.", { innerCode: 'InvalidParameterValue' });
  return e as WebHookEvents;
}

/** The scheme and Host the request came through: the base of `self` URLs in this hook's payloads. */
function originOf(req: FastifyRequest): string {
  return `${req.protocol}://${req.headers.host ?? req.hostname}`;
}
