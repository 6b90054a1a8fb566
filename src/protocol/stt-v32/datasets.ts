import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import type { Dataset, DatasetFile } from '../../domain/customspeech/dataset.js';
import { BLOCK_LIMITS, type CommitEntry, type DatasetChanges, type DatasetInput, type DatasetService } from '../../domain/customspeech/dataset-service.js';
import { isoDuration } from '../../domain/customspeech/dataset-validation.js';
import { Errors } from '../../domain/errors.js';
import type { DownloadSigner } from '../../domain/ports/download-signer.js';
import type { HostSuffixes } from '../../domain/resources/hosts.js';
import { systemClock, type Clock } from '../../kernel/time.js';
import { queryValue } from '../shared/query.js';
import { signedDownloadUrl } from './downloads.js';
import { accountOf, applyV32Conventions, guid, objectBody, objectOrEmpty, optionalStrings, sasValiditySeconds, str, type Body } from './http.js';
import { listPage } from './paging.js';
import { isGuid, projectFromReference, Urls } from './urls.js';
import { optional, trackedEntityFields } from './views.js';

export interface DatasetRoutesOptions {
  datasets: DatasetService;
  suffixes: HostSuffixes;
  /** Signs the files' `links.contentUrl` (served by downloadRoutes). */
  signer: DownloadSigner;
  clock?: Clock;
  /** API versions served (default v3.2 and v3.1, whose dataset shapes are the same). */
  versions?: readonly string[];
}

/** `sasValidityInSeconds`: default 12 hours (as Azure), at most 7 days. */
export { SAS_VALIDITY } from './http.js';

type IdParams = { Params: { id: string } };

/**
 * Datasets of the Speech-to-text REST API v3.2 (protocol §D.3, §D.6; operationIds `Datasets_*`, and
 * `Projects_ListDatasets`): JSON create with contentUrl or for a block upload, multipart upload,
 * blocks, files with signed download links. A plugin of its own (error handler, body parsers,
 * multipart) registered inside the data-plane scope next to sttV32Routes.
 */
export async function datasetRoutes(app: FastifyInstance, opts: DatasetRoutesOptions): Promise<void> {
  const ds = opts.datasets;
  const downloadUrl = signedDownloadUrl(opts.signer, opts.clock ?? systemClock);

  await app.register(multipart, {
    limits: { fieldNameSize: 100, fieldSize: 64 * 1024, fields: 20, files: 1, parts: 25, fileSize: ds.maxContentBytes(), headerPairs: 100 },
  });
  applyV32Conventions(app);
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: BLOCK_LIMITS.maxBlockBytes }, (_req, body, done) => done(null, body));

  for (const version of opts.versions ?? ['v3.2', 'v3.1']) {
    const prefix = `/speechtotext/${version}`;
    const urls = (req: FastifyRequest): Urls => new Urls(req, version, opts.suffixes);
    const account = accountOf;
    const config = { surface: 'management' as const };
    const files = (req: FastifyRequest, d: Dataset, list: readonly DatasetFile[]): Record<string, unknown>[] => {
      const self = urls(req).entity(`datasets/${d.id}`);
      const validity = sasValiditySeconds(req);
      return list.map((f) => fileView(f, self, downloadUrl(req, f.key, validity)));
    };

    app.get(`${prefix}/datasets/locales`, { config }, async () => ds.supportedLocales());

    app.get(`${prefix}/datasets`, { config }, async (req) => {
      const u = urls(req);
      const views = (await ds.list(account(req))).map((d) => datasetView(d, u));
      return listPage(req, u, 'datasets', views, 'datasets');
    });

    app.get<IdParams>(`${prefix}/projects/:id/datasets`, { config }, async (req) => {
      const id = guid(req.params.id);
      const u = urls(req);
      const views = (await ds.listByProject(account(req), id)).map((d) => datasetView(d, u));
      return listPage(req, u, `projects/${id}/datasets`, views, 'datasets');
    });

    app.post<{ Body: Body }>(`${prefix}/datasets`, { config }, async (req, reply) => {
      const b = objectBody(req.body);
      const properties = objectOrEmpty(b, 'properties');
      const input: DatasetInput = {
        ...commonInput(b),
        ...(str(b, 'contentUrl') !== undefined ? { contentUrl: str(b, 'contentUrl') as string } : {}),
        ...(b['project'] !== undefined && b['project'] !== null ? { projectId: projectFromReference(b['project']) } : {}),
        ...(str(properties, 'textNormalizationKind') !== undefined ? { textNormalizationKind: str(properties, 'textNormalizationKind') as string } : {}),
        ...(str(properties, 'email') !== undefined ? { email: str(properties, 'email') as string } : {}),
      };
      const d = await ds.create(account(req), input);
      const view = datasetView(d, urls(req));
      return reply.code(201).header('Location', view['self'] as string).send(view);
    });

    app.post(`${prefix}/datasets/upload`, { config }, async (req, reply) => {
      const a = account(req);
      if (!req.isMultipart()) throw Errors.unsupportedMediaType(req.headers['content-type'], "'multipart/form-data'");
      const id = ds.newUploadId();
      try {
        const fields: Record<string, string> = {};
        let upload: { size: number; fileName?: string } | undefined;
        for await (const part of req.parts()) {
          if (part.type === 'file') {
            if (part.fieldname !== 'data') {
              part.file.resume();
              throw Errors.invalidArgument(`Unexpected file field '${part.fieldname}': the dataset content goes in 'data'.`, { innerCode: 'InvalidParameterValue' });
            }
            const { size } = await ds.storeUpload(id, part.file);
            if (part.file.truncated) throw Errors.payloadTooLarge(ds.maxContentBytes());
            upload = { size, ...(part.filename ? { fileName: part.filename } : {}) };
          } else {
            fields[part.fieldname] = typeof part.value === 'string' ? part.value : String(part.value);
          }
        }
        if (!upload) throw Errors.invalidArgument("The dataset content is missing: send it as the file field 'data'.", { innerCode: 'InvalidParameterValue' });
        const input: DatasetInput = {
          displayName: fields['displayName'] ?? '',
          locale: fields['locale'] ?? '',
          kind: fields['kind'] ?? '',
          ...(fields['description'] !== undefined ? { description: fields['description'] } : {}),
          ...(fields['email'] ? { email: fields['email'] } : {}),
          ...(fields['project'] ? { projectId: projectFromReference({ self: fields['project'] }) } : {}),
          ...(fields['customProperties'] ? { customProperties: parseCustomProperties(fields['customProperties']) } : {}),
        };
        const d = await ds.createFromUpload(a, id, input, upload);
        const view = datasetView(d, urls(req));
        return reply.code(201).header('Location', view['self'] as string).send(view);
      } catch (err) {
        await ds.discardUpload(id).catch(() => undefined);
        throw err;
      }
    });

    app.get<IdParams>(`${prefix}/datasets/:id`, { config }, async (req) => datasetView(await ds.get(account(req), guid(req.params.id)), urls(req)));

    app.patch<IdParams & { Body: Body }>(`${prefix}/datasets/:id`, { config }, async (req) => {
      const b = objectBody(req.body);
      const changes: DatasetChanges = { ...optionalStrings(b) };
      const displayName = str(b, 'displayName');
      if (displayName !== undefined) changes.displayName = displayName;
      if (b['project'] !== undefined && b['project'] !== null) changes.projectId = projectFromReference(b['project']);
      return datasetView(await ds.update(account(req), guid(req.params.id), changes), urls(req));
    });

    app.delete<IdParams>(`${prefix}/datasets/:id`, { config }, async (req, reply) => {
      if (isGuid(req.params.id)) await ds.delete(account(req), req.params.id.toLowerCase());
      return reply.code(204).send();
    });

    app.get<IdParams>(`${prefix}/datasets/:id/blocks`, { config }, async (req) => {
      const { committed, uncommitted } = await ds.listBlocks(account(req), guid(req.params.id));
      return {
        committedBlocks: committed.map((b) => ({ name: b.id, size: b.size })),
        uncommittedBlocks: uncommitted.map((b) => ({ name: b.id, size: b.size })),
      };
    });

    app.put<IdParams>(`${prefix}/datasets/:id/blocks`, { config, bodyLimit: BLOCK_LIMITS.maxBlockBytes }, async (req, reply) => {
      const id = guid(req.params.id);
      const blockId = queryValue(req.query, 'blockid');
      if (blockId === undefined || blockId === '') throw Errors.invalidArgument("The 'blockid' query parameter is required.", { innerCode: 'InvalidParameterValue' });
      if (!Buffer.isBuffer(req.body)) throw Errors.unsupportedMediaType(req.headers['content-type'], "'application/octet-stream'");
      await ds.putBlock(account(req), id, blockId, req.body);
      return reply.code(201).send();
    });

    // `::` is find-my-way's escaped colon: the path is literally `/blocks:commit`.
    app.post<IdParams & { Body: unknown }>(`${prefix}/datasets/:id/blocks::commit`, { config }, async (req, reply) => {
      const id = guid(req.params.id);
      if (!Array.isArray(req.body)) throw Errors.invalidArgument('The request body must be a JSON array of {"kind", "id"} entries.', { innerCode: 'InvalidDocument' });
      const entries: CommitEntry[] = req.body.map((e: unknown, i: number) => {
        const o = typeof e === 'object' && e !== null && !Array.isArray(e) ? (e as Body) : undefined;
        if (!o || typeof o['id'] !== 'string' || typeof o['kind'] !== 'string') {
          throw Errors.invalidArgument(`Entry ${i} of the block list must be an object with string 'kind' and 'id'.`, { innerCode: 'InvalidDocument' });
        }
        return { kind: o['kind'], id: o['id'] };
      });
      await ds.commitBlocks(account(req), id, entries);
      return reply.code(200).send();
    });

    app.get<IdParams>(`${prefix}/datasets/:id/files`, { config }, async (req) => {
      const id = guid(req.params.id);
      const d = await ds.get(account(req), id);
      const u = urls(req);
      return listPage(req, u, `datasets/${id}/files`, files(req, d, d.files ?? []), 'files', ['sasValidityInSeconds']);
    });

    app.get<{ Params: { id: string; fileId: string } }>(`${prefix}/datasets/:id/files/:fileId`, { config }, async (req) => {
      const id = guid(req.params.id);
      const a = account(req);
      const f = await ds.file(a, id, guid(req.params.fileId));
      return files(req, await ds.get(a, id), [f])[0];
    });
  }
}

// --- views -------------------------------------------------------------------------------------------

export function datasetView(d: Dataset, urls: Urls): Record<string, unknown> {
  const self = urls.entity(`datasets/${d.id}`);
  return optional({
    self,
    kind: d.datasetKind,
    links: {
      files: `${self}/files`,
      ...(d.uploading ? { commitBlocks: `${self}/blocks:commit`, listBlocks: `${self}/blocks`, uploadBlocks: `${self}/blocks` } : {}),
    },
    properties: optional({
      textNormalizationKind: d.textNormalizationKind,
      acceptedLineCount: d.acceptedLineCount,
      rejectedLineCount: d.rejectedLineCount,
      duration: d.durationMs !== undefined ? isoDuration(d.durationMs) : undefined,
      email: d.email,
      error: d.error,
    }),
    contentUrl: d.contentUrl !== undefined ? withoutSecrets(d.contentUrl) : undefined,
    ...trackedEntityFields(d, urls),
  });
}

function fileView(f: DatasetFile, datasetSelf: string, contentUrl: string): Record<string, unknown> {
  return {
    self: `${datasetSelf}/files/${f.id}`,
    name: f.name,
    kind: f.fileKind,
    properties: { size: f.size },
    createdDateTime: f.createdAt,
    links: { contentUrl },
  };
}

/** A contentUrl as echoed: without user info and query (a SAS token is a credential). */
function withoutSecrets(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url;
  }
}

// --- request helpers ------------------------------------------------------------------------------------

function commonInput(b: Body): Pick<DatasetInput, 'displayName' | 'locale' | 'kind' | 'description' | 'customProperties'> {
  return { displayName: str(b, 'displayName') ?? '', locale: str(b, 'locale') ?? '', kind: str(b, 'kind') ?? '', ...optionalStrings(b) };
}

/** The multipart `customProperties` field: a JSON object of strings. */
function parseCustomProperties(text: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw Errors.invalidArgument("'customProperties' must be a JSON object of strings.", { innerCode: 'InvalidParameterValue' });
  }
  return optionalStrings({ customProperties: parsed }).customProperties ?? {};
}
