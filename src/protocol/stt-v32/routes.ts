import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CustomSpeechService, EndpointChanges } from '../../domain/customspeech/custom-speech-service.js';
import { Errors } from '../../domain/errors.js';
import type { HostSuffixes } from '../../domain/resources/hosts.js';
import { ServiceError } from '../../kernel/errors.js';
import { gatewayErrorBody, retryAfterSeconds, toServiceError } from '../http/error-envelope.js';
import { v32ErrorBody } from './errors.js';
import { listPage } from './paging.js';
import { isGuid, modelFromReference, projectFromReference, Urls } from './urls.js';
import { baseModelView, endpointView, projectView } from './views.js';

export interface SttV32Options {
  customSpeech: CustomSpeechService;
  suffixes: HostSuffixes;
}

type Body = Record<string, unknown>;
type IdParams = { Params: { id: string } };

/**
 * Speech-to-text REST API v3.2 (and the v3.1 paths, which share these shapes): projects, base
 * models and endpoints (protocol §D, seed 003). Admission (resource, network rules, key) is the
 * data-plane hook's; errors other than the gateway's use the API's own top-level shape.
 */
export async function sttV32Routes(app: FastifyInstance, opts: SttV32Options): Promise<void> {
  const cs = opts.customSpeech;

  app.setErrorHandler(async (err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const se = toV32Error(err);
    if (se.status >= 500) req.log.error({ err }, 'request failed');
    else req.log.info({ code: se.code, status: se.status }, se.message);
    const retry = retryAfterSeconds(se);
    if (retry !== undefined) void reply.header('Retry-After', String(retry));
    // Credentials and firewall refusals come from the gateway, in its envelope (protocol §F.1).
    const body = se.status === 401 || se.status === 403 ? gatewayErrorBody(se) : v32ErrorBody(se);
    return reply.code(se.status).type('application/json; charset=utf-8').send(body);
  });
  app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, (req, body, done) => {
    try {
      done(null, JSON.parse(typeof body === 'string' ? body : body.toString('utf8')));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  for (const version of ['v3.2', 'v3.1']) {
    const prefix = `/speechtotext/${version}`;
    const urls = (req: FastifyRequest): Urls => new Urls(req, version, opts.suffixes);
    const account = (req: FastifyRequest): string => {
      const id = req.principal?.account.id;
      if (!id) throw Errors.internal(new Error('speech-to-text API outside the data-plane scope'));
      return id;
    };
    const config = { surface: 'management' as const };

    // --- projects ---
    app.get(`${prefix}/projects/locales`, { config }, async () => cs.baseModels.map((m) => m.locale));
    app.get(`${prefix}/projects`, { config }, async (req) => {
      const a = account(req);
      const endpoints = await cs.listEndpoints(a);
      const u = urls(req);
      const views = (await cs.listProjects(a)).map((p) => projectView(p, u, { endpoints: endpoints.filter((e) => e.projectId === p.id).length }));
      return listPage(req, u, 'projects', views, 'projects');
    });
    app.post<{ Body: Body }>(`${prefix}/projects`, { config }, async (req, reply) => {
      const b = objectBody(req.body);
      const p = await cs.createProject(account(req), {
        displayName: str(b, 'displayName') ?? '',
        locale: str(b, 'locale') ?? '',
        ...optionalStrings(b),
      });
      const view = projectView(p, urls(req), { endpoints: 0 });
      return reply.code(201).header('Location', view['self'] as string).send(view);
    });
    app.get<IdParams>(`${prefix}/projects/:id`, { config }, async (req) => {
      const a = account(req);
      const p = await cs.getProject(a, guid(req.params.id));
      return projectView(p, urls(req), { endpoints: (await cs.listEndpoints(a)).filter((e) => e.projectId === p.id).length });
    });
    app.patch<IdParams & { Body: Body }>(`${prefix}/projects/:id`, { config }, async (req) => {
      const a = account(req);
      const b = objectBody(req.body);
      const displayName = str(b, 'displayName');
      const p = await cs.updateProject(a, guid(req.params.id), { ...(displayName !== undefined ? { displayName } : {}), ...optionalStrings(b) });
      return projectView(p, urls(req), { endpoints: (await cs.listEndpoints(a)).filter((e) => e.projectId === p.id).length });
    });
    app.delete<IdParams>(`${prefix}/projects/:id`, { config }, async (req, reply) => {
      if (isGuid(req.params.id)) await cs.deleteProject(account(req), req.params.id.toLowerCase());
      return reply.code(204).send();
    });
    app.get<IdParams>(`${prefix}/projects/:id/endpoints`, { config }, async (req) => {
      const a = account(req);
      const id = guid(req.params.id);
      await cs.getProject(a, id);
      const u = urls(req);
      const views = (await cs.listEndpoints(a)).filter((e) => e.projectId === id).map((e) => endpointView(e, u));
      return listPage(req, u, `projects/${id}/endpoints`, views, 'endpoints');
    });

    // --- base models ---
    app.get(`${prefix}/models/locales`, { config }, async () => cs.baseModels.map((m) => m.locale));
    app.get(`${prefix}/models/base`, { config }, async (req) => {
      const u = urls(req);
      return listPage(req, u, 'models/base', cs.baseModels.map((m) => baseModelView(m, u)), 'models');
    });
    app.get<IdParams>(`${prefix}/models/base/:id`, { config }, async (req) => baseModelView(cs.getBaseModel(guid(req.params.id)), urls(req)));

    // --- endpoints ---
    app.get(`${prefix}/endpoints/locales`, { config }, async () => cs.baseModels.map((m) => m.locale));
    app.get(`${prefix}/endpoints`, { config }, async (req) => {
      const u = urls(req);
      const views = (await cs.listEndpoints(account(req))).map((e) => endpointView(e, u));
      return listPage(req, u, 'endpoints', views, 'endpoints');
    });
    app.post<{ Body: Body }>(`${prefix}/endpoints`, { config }, async (req, reply) => {
      const b = objectBody(req.body);
      if (b['model'] === undefined) throw Errors.invalidArgument('The model property is required.', { innerCode: 'InvalidModel' });
      const properties = (typeof b['properties'] === 'object' && b['properties'] !== null ? b['properties'] : {}) as Body;
      const e = await cs.createEndpoint(account(req), {
        displayName: str(b, 'displayName') ?? '',
        locale: str(b, 'locale') ?? '',
        ...optionalStrings(b),
        model: modelFromReference(b['model']),
        ...(b['project'] !== undefined ? { projectId: projectFromReference(b['project']) } : {}),
        loggingEnabled: bool(properties, 'loggingEnabled') ?? false,
        ...(str(properties, 'timeToLive') !== undefined ? { timeToLive: str(properties, 'timeToLive') as string } : {}),
      });
      const view = endpointView(e, urls(req));
      return reply.code(201).header('Location', view['self'] as string).send(view);
    });
    app.get<IdParams>(`${prefix}/endpoints/:id`, { config }, async (req) => endpointView(await cs.getEndpoint(account(req), guid(req.params.id)), urls(req)));
    app.patch<IdParams & { Body: Body }>(`${prefix}/endpoints/:id`, { config }, async (req) => {
      const b = objectBody(req.body);
      const properties = (typeof b['properties'] === 'object' && b['properties'] !== null ? b['properties'] : {}) as Body;
      const changes: EndpointChanges = { ...optionalStrings(b) };
      const displayName = str(b, 'displayName');
      if (displayName !== undefined) changes.displayName = displayName;
      if (b['model'] !== undefined) changes.model = modelFromReference(b['model']);
      if (b['project'] !== undefined) changes.projectId = projectFromReference(b['project']);
      const logging = bool(properties, 'contentLoggingEnabled') ?? bool(properties, 'loggingEnabled');
      if (logging !== undefined) changes.loggingEnabled = logging;
      return endpointView(await cs.updateEndpoint(account(req), guid(req.params.id), changes), urls(req));
    });
    app.delete<IdParams>(`${prefix}/endpoints/:id`, { config }, async (req, reply) => {
      if (isGuid(req.params.id)) await cs.deleteEndpoint(account(req), req.params.id.toLowerCase());
      return reply.code(204).send();
    });
  }
}

function toV32Error(err: unknown): ServiceError {
  const e = err as { statusCode?: number; code?: string; message?: string };
  // Fastify's own body errors (bad JSON, wrong content type) as the API's InvalidRequest.
  if (!(err instanceof ServiceError) && typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return e.statusCode === 415
      ? new ServiceError('UnsupportedMediaType', 415, e.message ?? 'Unsupported media type.')
      : Errors.invalidArgument(`The request body is not valid: ${e.message ?? ''}`, { innerCode: 'InvalidDocument' });
  }
  return toServiceError(err);
}

function objectBody(body: unknown): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw Errors.invalidArgument('The request body must be a JSON object.', { innerCode: 'InvalidDocument' });
  return body as Body;
}

function str(b: Body, name: string): string | undefined {
  const v = b[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw Errors.invalidArgument(`'${name}' must be a string.`, { innerCode: 'InvalidParameterValue' });
  return v;
}

function bool(b: Body, name: string): boolean | undefined {
  const v = b[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw Errors.invalidArgument(`'${name}' must be true or false.`, { innerCode: 'InvalidParameterValue' });
  return v;
}

function optionalStrings(b: Body): { description?: string; customProperties?: Record<string, string> } {
  const out: { description?: string; customProperties?: Record<string, string> } = {};
  const description = str(b, 'description');
  if (description !== undefined) out.description = description;
  const cp = b['customProperties'];
  if (cp !== undefined && cp !== null) {
    if (typeof cp !== 'object' || Array.isArray(cp)) throw Errors.invalidArgument("'customProperties' must be an object of strings.", { innerCode: 'InvalidParameterValue' });
    out.customProperties = cp as Record<string, string>;
  }
  return out;
}

function guid(id: string): string {
  if (!isGuid(id)) throw Errors.notFound(`No entity with id '${id}' exists.`);
  return id.toLowerCase();
}
