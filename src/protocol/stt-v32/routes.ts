import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CustomSpeechService, EndpointChanges } from '../../domain/customspeech/custom-speech-service.js';
import type { ModelService } from '../../domain/customspeech/model-service.js';
import type { EndpointLogService } from '../../domain/customspeech/endpoint-logs.js';
import type { CustomModel, EndpointLog } from '../../domain/customspeech/entities.js';
import { paginateByToken, parsePagingQuery } from '../../domain/filter/index.js';
import { queryValue } from '../shared/query.js';
import { Errors } from '../../domain/errors.js';
import type { HostSuffixes } from '../../domain/resources/hosts.js';
import { isoDuration } from '../../domain/customspeech/dataset-validation.js';
import { accountOf, applyV32Conventions, bool, guid, objectBody, optionalStrings, sasValiditySeconds, str, type Body } from './http.js';
import { listPage } from './paging.js';
import { datasetFromReference, isGuid, modelFromReference, projectFromReference, Urls } from './urls.js';
import { baseModelView, customModelView, endpointView, projectView } from './views.js';

export interface SttV32Options {
  customSpeech: CustomSpeechService;
  models: ModelService;
  endpointLogs: EndpointLogService;
  /** A time-limited download URL for a blob (what Azure's SAS links are), or undefined when downloads are off. */
  downloadUrl: (req: FastifyRequest, key: string, validitySeconds: number) => string;
  /** Datasets live in their own plugin; projects count them and let go of them on delete. */
  projectDatasets: ProjectChildren;
  projectEvaluations: ProjectChildren;
  suffixes: HostSuffixes;
}

type IdParams = { Params: { id: string } };

/** Entities served by other plugins that belong to projects: counted in the project, let go on its delete. */
export interface ProjectChildren {
  count(accountId: string, projectId: string): Promise<number>;
  detach(accountId: string, projectId: string): Promise<void>;
}

/**
 * Speech-to-text REST API v3.2 (and the v3.1 paths, which share these shapes): projects, base
 * models and endpoints (protocol §D, seed 003). Admission (resource, network rules, key) is the
 * data-plane hook's; errors other than the gateway's use the API's own top-level shape.
 */
export async function sttV32Routes(app: FastifyInstance, opts: SttV32Options): Promise<void> {
  const cs = opts.customSpeech;

  applyV32Conventions(app);

  for (const version of ['v3.2', 'v3.1']) {
    const prefix = `/speechtotext/${version}`;
    const urls = (req: FastifyRequest): Urls => new Urls(req, version, opts.suffixes);
    const account = accountOf;
    const config = { surface: 'management' as const };
    const counts = async (a: string, projectId: string): Promise<{ endpoints: number; models: number; datasets: number; evaluations: number }> => ({
      evaluations: await opts.projectEvaluations.count(a, projectId),
      endpoints: (await cs.listEndpoints(a)).filter((e) => e.projectId === projectId).length,
      models: (await opts.models.list(a)).filter((m) => m.projectId === projectId).length,
      datasets: await opts.projectDatasets.count(a, projectId),
    });

    // --- projects ---
    app.get(`${prefix}/projects/locales`, { config }, async () => cs.baseModels.map((m) => m.locale));
    app.get(`${prefix}/projects`, { config }, async (req) => {
      const a = account(req);
      const endpoints = await cs.listEndpoints(a);
      const u = urls(req);
      const modelList = await opts.models.list(a);
      const views = await Promise.all(
        (await cs.listProjects(a)).map(async (p) =>
          projectView(p, u, {
            endpoints: endpoints.filter((e) => e.projectId === p.id).length,
            models: modelList.filter((m) => m.projectId === p.id).length,
            datasets: await opts.projectDatasets.count(a, p.id),
            evaluations: await opts.projectEvaluations.count(a, p.id),
          }),
        ),
      );
      return listPage(req, u, 'projects', views, 'projects');
    });
    app.post<{ Body: Body }>(`${prefix}/projects`, { config }, async (req, reply) => {
      const b = objectBody(req.body);
      const p = await cs.createProject(account(req), {
        displayName: str(b, 'displayName') ?? '',
        locale: str(b, 'locale') ?? '',
        ...optionalStrings(b),
      });
      const view = projectView(p, urls(req), { endpoints: 0, models: 0, datasets: 0, evaluations: 0 });
      return reply.code(201).header('Location', view['self'] as string).send(view);
    });
    app.get<IdParams>(`${prefix}/projects/:id`, { config }, async (req) => {
      const a = account(req);
      return projectView(await cs.getProject(a, guid(req.params.id)), urls(req), await counts(a, guid(req.params.id)));
    });
    app.patch<IdParams & { Body: Body }>(`${prefix}/projects/:id`, { config }, async (req) => {
      const a = account(req);
      const b = objectBody(req.body);
      const displayName = str(b, 'displayName');
      const p = await cs.updateProject(a, guid(req.params.id), { ...(displayName !== undefined ? { displayName } : {}), ...optionalStrings(b) });
      return projectView(p, urls(req), await counts(a, p.id));
    });
    app.delete<IdParams>(`${prefix}/projects/:id`, { config }, async (req, reply) => {
      const a = account(req);
      if (isGuid(req.params.id)) {
        await opts.projectDatasets.detach(a, req.params.id.toLowerCase());
        await opts.projectEvaluations.detach(a, req.params.id.toLowerCase());
        await cs.deleteProject(a, req.params.id.toLowerCase());
      }
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

    app.get<IdParams>(`${prefix}/projects/:id/models`, { config }, async (req) => {
      const a = account(req);
      const id = guid(req.params.id);
      await cs.getProject(a, id);
      const u = urls(req);
      const views = (await opts.models.list(a)).filter((m) => m.projectId === id).map((m) => customModelView(m, u));
      return listPage(req, u, `projects/${id}/models`, views, 'models');
    });

    // --- base models ---
    app.get(`${prefix}/models/locales`, { config }, async () => cs.baseModels.map((m) => m.locale));
    app.get(`${prefix}/models/base`, { config }, async (req) => {
      const u = urls(req);
      return listPage(req, u, 'models/base', cs.baseModels.map((m) => baseModelView(m, u)), 'models');
    });
    app.get<IdParams>(`${prefix}/models/base/:id`, { config }, async (req) => baseModelView(cs.getBaseModel(guid(req.params.id)), urls(req)));

    // --- custom models ---
    app.get(`${prefix}/models`, { config }, async (req) => {
      const u = urls(req);
      return listPage(req, u, 'models', (await opts.models.list(account(req))).map((m) => customModelView(m, u)), 'models');
    });
    app.post<{ Body: Body }>(`${prefix}/models`, { config }, async (req, reply) => {
      const b = objectBody(req.body);
      const baseRef = modelFromReference(b['baseModel']);
      if (baseRef.kind !== 'base') throw Errors.invalidArgument('baseModel must reference a base model.', { innerCode: 'InvalidBaseModel' });
      const datasets = b['datasets'];
      if (datasets !== undefined && !Array.isArray(datasets)) throw Errors.invalidArgument("'datasets' must be an array of references.", { innerCode: 'InvalidParameterValue' });
      const text = str(b, 'text');
      const m = await opts.models.create(account(req), {
        displayName: str(b, 'displayName') ?? '',
        locale: str(b, 'locale') ?? '',
        ...optionalStrings(b),
        baseModelId: baseRef.id,
        datasetIds: (datasets ?? []).map((d) => datasetFromReference(d)),
        ...(text !== undefined ? { text } : {}),
        ...(b['project'] !== undefined ? { projectId: projectFromReference(b['project']) } : {}),
      });
      const view = customModelView(m, urls(req));
      return reply.code(201).header('Location', view['self'] as string).send(view);
    });
    app.get<IdParams>(`${prefix}/models/:id`, { config }, async (req) => customModelView(await opts.models.get(account(req), guid(req.params.id)), urls(req)));
    app.get<IdParams>(`${prefix}/models/:id/manifest`, { config }, async (req) => {
      const m = await opts.models.get(account(req), guid(req.params.id));
      if (m.status !== 'Succeeded') throw Errors.invalidArgument(`Model ${m.id} is ${m.status}; a manifest exists once it is trained.`, { innerCode: 'InvalidModel' });
      const validity = sasValiditySeconds(req);
      return {
        model: { self: urls(req).entity(`models/${m.id}`) },
        modelFiles: opts.models.fileKeys(m).map((f) => ({ name: f.name, contentUrl: opts.downloadUrl(req, f.key, validity) })),
        properties: { engine: 'pocketsphinx', baseModel: urls(req).entity(`models/base/${m.baseModelId}`) },
      };
    });
    app.get<IdParams>(`${prefix}/models/base/:id/manifest`, { config }, async (req) => {
      const m = cs.getBaseModel(guid(req.params.id));
      // The base model's files are the engine's installed package, not served (Debian's pocketsphinx-en-us).
      return { model: { self: urls(req).entity(`models/base/${m.id}`) }, modelFiles: [], properties: { engine: 'pocketsphinx', package: 'pocketsphinx-en-us' } };
    });
    const modelReport = (req: FastifyRequest, m: CustomModel): Record<string, unknown> => ({
      self: urls(req).entity(`models/${m.id}/files/report`),
      name: 'report.json',
      kind: 'ModelReport',
      properties: { size: Buffer.byteLength(JSON.stringify(m.build ?? {})) },
      createdDateTime: m.lastActionAt,
      links: { contentUrl: urls(req).entity(`models/${m.id}/files/report/content`) },
    });
    app.get<IdParams>(`${prefix}/models/:id/files`, { config }, async (req) => {
      const m = await opts.models.get(account(req), guid(req.params.id));
      const u = urls(req);
      return listPage(req, u, `models/${m.id}/files`, m.status === 'Succeeded' ? [modelReport(req, m)] : [], 'files', ['sasValidityInSeconds']);
    });
    app.get<{ Params: { id: string; fileId: string } }>(`${prefix}/models/:id/files/:fileId`, { config }, async (req) => {
      const m = await opts.models.get(account(req), guid(req.params.id));
      if (req.params.fileId !== 'report' || m.status !== 'Succeeded') throw Errors.notFound(`File ${req.params.fileId} was not found.`);
      return modelReport(req, m);
    });
    app.get<IdParams>(`${prefix}/models/:id/files/report/content`, { config }, async (req) => {
      const m = await opts.models.get(account(req), guid(req.params.id));
      return { model: m.id, status: m.status, ...(m.build ?? {}) };
    });
    app.patch<IdParams & { Body: Body }>(`${prefix}/models/:id`, { config }, async (req) => {
      const b = objectBody(req.body);
      const displayName = str(b, 'displayName');
      const m = await opts.models.update(account(req), guid(req.params.id), {
        ...optionalStrings(b),
        ...(displayName !== undefined ? { displayName } : {}),
        ...(b['project'] !== undefined ? { projectId: projectFromReference(b['project']) } : {}),
      });
      return customModelView(m, urls(req));
    });
    app.delete<IdParams>(`${prefix}/models/:id`, { config }, async (req, reply) => {
      const a = account(req);
      if (isGuid(req.params.id)) await opts.models.delete(a, req.params.id.toLowerCase(), (id) => cs.modelInUse(a, id));
      return reply.code(204).send();
    });

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
      const a = account(req);
      if (isGuid(req.params.id)) {
        await cs.deleteEndpoint(a, req.params.id.toLowerCase());
        await opts.endpointLogs.deleteAll(a, req.params.id.toLowerCase());
      }
      return reply.code(204).send();
    });

    // --- endpoint content logs (seed 003 "View logging data") ---
    const logFiles = (req: FastifyRequest, endpointId: string, log: EndpointLog): Record<string, unknown>[] => {
      const validity = sasValiditySeconds(req);
      const self = `${urls(req).entity(`endpoints/${endpointId}/files/logs`)}`;
      return [
        {
          self: `${self}/${log.id}-audio`,
          name: `${log.id}.wav`,
          kind: 'Audio',
          properties: { size: log.audioBytes, duration: isoDuration(log.durationMs) },
          createdDateTime: log.createdAt,
          links: { contentUrl: opts.downloadUrl(req, log.audioKey, validity) },
        },
        {
          self: `${self}/${log.id}-transcription`,
          name: `${log.id}.json`,
          kind: 'Transcription',
          properties: { size: log.resultBytes },
          createdDateTime: log.createdAt,
          links: { contentUrl: opts.downloadUrl(req, log.resultKey, validity) },
        },
      ];
    };
    app.get<IdParams>(`${prefix}/endpoints/:id/files/logs`, { config }, async (req) => {
      const a = account(req);
      const id = guid(req.params.id);
      await cs.getEndpoint(a, id);
      const files = (await opts.endpointLogs.list(a, id)).flatMap((l) => logFiles(req, id, l));
      const { top } = parsePagingQuery({ top: queryValue(req.query, 'top') });
      const result = paginateByToken(files, { skipToken: queryValue(req.query, 'skipToken'), top });
      const out: Record<string, unknown> = { values: result.page };
      if (result.nextToken) {
        const next = new URL(urls(req).entity(`endpoints/${id}/files/logs`));
        next.searchParams.set('skipToken', result.nextToken);
        next.searchParams.set('top', String(result.top));
        out['@nextLink'] = next.toString();
      }
      return out;
    });
    app.get<{ Params: { id: string; logId: string } }>(`${prefix}/endpoints/:id/files/logs/:logId`, { config }, async (req) => {
      const a = account(req);
      const id = guid(req.params.id);
      const m = /^([0-9a-fA-F-]{36})-(audio|transcription)$/.exec(req.params.logId);
      if (!m?.[1]) throw Errors.notFound(`Log ${req.params.logId} was not found.`);
      const files = logFiles(req, id, await opts.endpointLogs.get(a, id, m[1]));
      return m[2] === 'audio' ? files[0] : files[1];
    });
    app.delete<{ Params: { id: string; logId: string } }>(`${prefix}/endpoints/:id/files/logs/:logId`, { config }, async (req, reply) => {
      const m = /^([0-9a-fA-F-]{36})(-(audio|transcription))?$/.exec(req.params.logId);
      if (m?.[1] && isGuid(req.params.id)) await opts.endpointLogs.delete(account(req), req.params.id.toLowerCase(), m[1].toLowerCase());
      return reply.code(204).send();
    });
    app.delete<IdParams>(`${prefix}/endpoints/:id/files/logs`, { config }, async (req, reply) => {
      const a = account(req);
      const id = guid(req.params.id);
      await cs.getEndpoint(a, id);
      const endDate = queryValue(req.query, 'endDate');
      if (endDate === undefined) await opts.endpointLogs.deleteAll(a, id);
      else await opts.endpointLogs.deleteUpTo(a, id, endDate);
      return reply.code(202).send();
    });
  }
}
