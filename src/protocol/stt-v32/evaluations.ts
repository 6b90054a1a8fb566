import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Evaluation, EvaluationFile, EvaluationTotals } from '../../domain/customspeech/entities.js';
import type { EvaluationChanges, EvaluationService } from '../../domain/customspeech/evaluation-service.js';
import { sentenceErrorRate, wordErrorRate } from '../../domain/customspeech/word-errors.js';
import { Errors } from '../../domain/errors.js';
import type { DownloadSigner } from '../../domain/ports/download-signer.js';
import type { HostSuffixes } from '../../domain/resources/hosts.js';
import { systemClock, type Clock } from '../../kernel/time.js';
import { signedDownloadUrl } from './downloads.js';
import { accountOf, applyV32Conventions, guid, objectBody, optionalStrings, sasValiditySeconds, str, type Body } from './http.js';
import { listPage } from './paging.js';
import { datasetFromReference, isGuid, modelFromReference, projectFromReference, Urls } from './urls.js';
import { optional, trackedEntityFields } from './views.js';

export interface EvaluationRoutesOptions {
  evaluations: EvaluationService;
  suffixes: HostSuffixes;
  /** Signs the files' `links.contentUrl` (served by downloadRoutes). */
  signer: DownloadSigner;
  clock?: Clock;
  /** API versions served (default v3.2 and v3.1, whose evaluation shapes are the same). */
  versions?: readonly string[];
}

type IdParams = { Params: { id: string } };

/**
 * Evaluations of the Speech-to-text REST API v3.2 (operationIds `Evaluations_*` and
 * `Projects_ListEvaluations`): two models compared on an Acoustic dataset, with word error counts per
 * model and an EvaluationDetails file behind a signed link. A plugin of its own, registered inside
 * the data-plane scope next to datasetRoutes.
 */
export async function evaluationRoutes(app: FastifyInstance, opts: EvaluationRoutesOptions): Promise<void> {
  const ev = opts.evaluations;
  const downloadUrl = signedDownloadUrl(opts.signer, opts.clock ?? systemClock);
  applyV32Conventions(app);

  for (const version of opts.versions ?? ['v3.2', 'v3.1']) {
    const prefix = `/speechtotext/${version}`;
    const urls = (req: FastifyRequest): Urls => new Urls(req, version, opts.suffixes);
    const account = accountOf;
    const config = { surface: 'management' as const };
    const files = (req: FastifyRequest, e: Evaluation, list: readonly EvaluationFile[]): Record<string, unknown>[] => {
      const self = urls(req).entity(`evaluations/${e.id}`);
      const validity = sasValiditySeconds(req);
      return list.map((f) => ({
        self: `${self}/files/${f.id}`,
        name: f.name,
        kind: f.fileKind,
        properties: { size: f.size },
        createdDateTime: f.createdAt,
        links: { contentUrl: downloadUrl(req, f.key, validity) },
      }));
    };

    app.get(`${prefix}/evaluations/locales`, { config }, async () => ev.supportedLocales());

    app.get(`${prefix}/evaluations`, { config }, async (req) => {
      const u = urls(req);
      return listPage(req, u, 'evaluations', (await ev.list(account(req))).map((e) => evaluationView(e, u)), 'evaluations');
    });

    app.get<IdParams>(`${prefix}/projects/:id/evaluations`, { config }, async (req) => {
      const id = guid(req.params.id);
      const u = urls(req);
      const views = (await ev.listByProject(account(req), id)).map((e) => evaluationView(e, u));
      return listPage(req, u, `projects/${id}/evaluations`, views, 'evaluations');
    });

    app.post<{ Body: Body }>(`${prefix}/evaluations`, { config }, async (req, reply) => {
      const b = objectBody(req.body);
      if (b['model1'] === undefined || b['model1'] === null) throw Errors.invalidArgument('The model1 property is required.', { innerCode: 'InvalidModel' });
      if (b['model2'] === undefined || b['model2'] === null) throw Errors.invalidArgument('The model2 property is required.', { innerCode: 'InvalidModel' });
      if (b['dataset'] === undefined || b['dataset'] === null) throw Errors.invalidArgument('The dataset property is required.', { innerCode: 'InvalidDataset' });
      if (b['transcription1'] !== undefined || b['transcription2'] !== undefined) {
        throw Errors.invalidArgument('Evaluations of existing transcriptions are not supported; give model1, model2 and an Acoustic dataset.', { innerCode: 'InvalidTranscription' });
      }
      const e = await ev.create(account(req), {
        displayName: str(b, 'displayName') ?? '',
        locale: str(b, 'locale') ?? '',
        ...optionalStrings(b),
        model1: modelFromReference(b['model1']),
        model2: modelFromReference(b['model2']),
        datasetId: datasetFromReference(b['dataset']),
        ...(b['project'] !== undefined && b['project'] !== null ? { projectId: projectFromReference(b['project']) } : {}),
      });
      const view = evaluationView(e, urls(req));
      return reply.code(201).header('Location', view['self'] as string).send(view);
    });

    app.get<IdParams>(`${prefix}/evaluations/:id`, { config }, async (req) => evaluationView(await ev.get(account(req), guid(req.params.id)), urls(req)));

    app.patch<IdParams & { Body: Body }>(`${prefix}/evaluations/:id`, { config }, async (req) => {
      const b = objectBody(req.body);
      const changes: EvaluationChanges = { ...optionalStrings(b) };
      const displayName = str(b, 'displayName');
      if (displayName !== undefined) changes.displayName = displayName;
      if (b['project'] !== undefined && b['project'] !== null) changes.projectId = projectFromReference(b['project']);
      return evaluationView(await ev.update(account(req), guid(req.params.id), changes), urls(req));
    });

    app.delete<IdParams>(`${prefix}/evaluations/:id`, { config }, async (req, reply) => {
      if (isGuid(req.params.id)) await ev.delete(account(req), req.params.id.toLowerCase());
      return reply.code(204).send();
    });

    app.get<IdParams>(`${prefix}/evaluations/:id/files`, { config }, async (req) => {
      const id = guid(req.params.id);
      const e = await ev.get(account(req), id);
      return listPage(req, urls(req), `evaluations/${id}/files`, files(req, e, e.files ?? []), 'files', ['sasValidityInSeconds']);
    });

    app.get<{ Params: { id: string; fileId: string } }>(`${prefix}/evaluations/:id/files/:fileId`, { config }, async (req) => {
      const id = guid(req.params.id);
      const a = account(req);
      const f = await ev.file(a, id, guid(req.params.fileId));
      return files(req, await ev.get(a, id), [f])[0];
    });
  }
}

// --- views -------------------------------------------------------------------------------------------

/** Rates as Azure reports them: fractions (0.065 for 3 errors in 46 words), here to 4 decimals. */
const rate = (x: number): number => Math.round(x * 10_000) / 10_000;

function modelProperties(t: EvaluationTotals, n: 1 | 2): Record<string, number> {
  return {
    [`wordErrorRate${n}`]: rate(wordErrorRate(t)),
    [`sentenceErrorRate${n}`]: rate(sentenceErrorRate(t)),
    [`sentenceCount${n}`]: t.sentenceCount,
    [`wordCount${n}`]: t.wordCount,
    [`correctWordCount${n}`]: t.correctWordCount,
    [`wordSubstitutionCount${n}`]: t.substitutions,
    [`wordDeletionCount${n}`]: t.deletions,
    [`wordInsertionCount${n}`]: t.insertions,
  };
}

export function evaluationView(e: Evaluation, urls: Urls): Record<string, unknown> {
  const self = urls.entity(`evaluations/${e.id}`);
  return optional({
    self,
    model1: { self: urls.model(e.model1) },
    model2: { self: urls.model(e.model2) },
    dataset: { self: urls.entity(`datasets/${e.datasetId}`) },
    links: { files: `${self}/files` },
    properties: optional({
      ...(e.results ? { ...modelProperties(e.results.model1, 1), ...modelProperties(e.results.model2, 2) } : {}),
      error: e.error,
    }),
    ...trackedEntityFields(e, urls),
  });
}
