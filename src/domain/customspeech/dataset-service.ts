import { newUuid } from '../../kernel/ids.js';
import type { Clock } from '../../kernel/time.js';
import type { Logger } from '../../kernel/logger.js';
import { Errors } from '../errors.js';
import { ArchiveError, type ArchiveReader } from '../ports/archive-reader.js';
import type { BlobStore } from '../ports/blob-store.js';
import { ContentFetchError, type ContentFetcher } from '../ports/content-fetcher.js';
import type { SpeechEntityRepository } from '../ports/repositories.js';
import { emitSpeechEvent, type SpeechEventSink } from '../ports/speech-events.js';
import { DATASET_KINDS, type Dataset, type DatasetBlock, type DatasetFile, type DatasetFileKind, type DatasetKind } from './dataset.js';
import {
  DATASET_LIMITS,
  datasetReport,
  failedOutcome,
  validateArchiveDataset,
  validateTextDataset,
  type DatasetLimits,
  type ValidationOutcome,
} from './dataset-validation.js';
import { apiTimestamp, customPropertiesProblem } from './common.js';
import { assertProjectExists, fileById, updateEntity, withoutProject } from './entity-updates.js';

export { DATASET_LIMITS, type DatasetLimits } from './dataset-validation.js';

/** Block uploads (Azure's block blob rules): at most 8 MiB per block and 50,000 blocks. */
export const BLOCK_LIMITS = { maxBlockBytes: 8 * 1024 * 1024, maxBlocks: 50_000, maxBlockIdBytes: 64 } as const;

export interface DatasetInput {
  displayName: string;
  description?: string;
  locale: string;
  /** DatasetKind as sent (validated here). */
  kind: string;
  customProperties?: Record<string, string>;
  projectId?: string;
  contentUrl?: string;
  textNormalizationKind?: string;
  email?: string;
}

export interface DatasetChanges {
  displayName?: string;
  description?: string;
  customProperties?: Record<string, string>;
  projectId?: string;
}

export interface CommitEntry {
  kind: string;
  id: string;
}

export interface DatasetServiceDeps {
  repo: SpeechEntityRepository;
  blobs: BlobStore;
  fetcher: ContentFetcher;
  archives: ArchiveReader;
  clock: Clock;
  logger: Logger;
  /** Locales datasets may have: those of the engine's base models. */
  locales: readonly string[];
  limits?: Partial<DatasetLimits>;
  /** Datasets validated at once (default 2). */
  concurrency?: number;
  /** Told of creation, processing, completion and deletion (web hooks). */
  events?: SpeechEventSink;
}

const UNSUPPORTED_KINDS = ['LanguageMarkdown', 'OutputFormatting'];

const FILE_KIND: Record<DatasetKind, DatasetFileKind> = {
  Language: 'LanguageData',
  Pronunciation: 'PronunciationData',
  Acoustic: 'AcousticDataArchive',
  AudioFiles: 'Audio',
};

export const contentKey = (id: string): string => `datasets/${id}/content`;
const reportKey = (id: string): string => `datasets/${id}/report.json`;
const blockKey = (id: string, blockId: string): string => `datasets/${id}/blocks/${Buffer.from(blockId, 'utf8').toString('hex')}`;

function isArchiveKind(kind: DatasetKind): boolean {
  return kind === 'Acoustic' || kind === 'AudioFiles';
}

/**
 * Datasets (protocol §D.6, issue #5): created from a URL, a multipart upload or blocks, then
 * validated in the background (NotStarted → Running → Succeeded | Failed with line counts and a
 * DatasetReport file). Content and report live in the blob store under `datasets/{id}/`; the entity
 * records them, so a restart resumes (resume()) whatever was left NotStarted or Running.
 */
export class DatasetService {
  readonly limits: DatasetLimits;
  private readonly repo: SpeechEntityRepository;
  private readonly blobs: BlobStore;
  private readonly fetcher: ContentFetcher;
  private readonly archives: ArchiveReader;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly locales: readonly string[];
  private readonly concurrency: number;
  private readonly events: SpeechEventSink | undefined;

  private readonly locks = new Map<string, Promise<void>>();
  private readonly queue: { accountId: string; id: string }[] = [];
  private readonly queued = new Set<string>();
  private readonly active = new Set<Promise<void>>();
  private running = 0;
  private closed = false;
  private readonly aborter = new AbortController();

  constructor(deps: DatasetServiceDeps) {
    this.repo = deps.repo;
    this.blobs = deps.blobs;
    this.fetcher = deps.fetcher;
    this.archives = deps.archives;
    this.clock = deps.clock;
    this.logger = deps.logger;
    this.locales = [...new Set(deps.locales)];
    this.limits = { ...DATASET_LIMITS, ...deps.limits };
    this.concurrency = Math.max(1, deps.concurrency ?? 2);
    this.events = deps.events;
  }

  private now(): string {
    return apiTimestamp(this.clock.now());
  }

  /** `GET /datasets/locales`: kind → locales. */
  supportedLocales(): Record<DatasetKind, string[]> {
    return Object.fromEntries(DATASET_KINDS.map((k) => [k, [...this.locales]])) as Record<DatasetKind, string[]>;
  }

  /** Largest content accepted for a kind (text files, or archives). */
  maxContentBytes(kind?: DatasetKind): number {
    if (kind === undefined) return Math.max(this.limits.maxTextBytes, this.limits.maxArchiveBytes);
    return isArchiveKind(kind) ? this.limits.maxArchiveBytes : this.limits.maxTextBytes;
  }

  // --- creation ---------------------------------------------------------------------------------------

  /** `POST /datasets`: with contentUrl the content is fetched and validated; without, a block upload starts. */
  async create(accountId: string, input: DatasetInput): Promise<Dataset> {
    const base = await this.validateInput(accountId, input);
    let contentUrl: string | undefined;
    if (input.contentUrl !== undefined) contentUrl = checkContentUrl(input.contentUrl);
    const dataset: Dataset = contentUrl !== undefined ? { ...base, contentUrl } : { ...base, uploading: true, uncommittedBlocks: [] };
    await this.repo.insert(dataset);
    emitSpeechEvent(this.events, 'DatasetCreation', dataset);
    if (contentUrl !== undefined) this.schedule(accountId, dataset.id);
    return dataset;
  }

  /** A fresh id for a multipart upload, whose content is stored (storeUpload) before the entity exists. */
  newUploadId(): string {
    return newUuid();
  }

  /** Stores an upload's content under the dataset id (bounded by the largest kind's limit). */
  async storeUpload(id: string, data: AsyncIterable<Uint8Array>): Promise<{ size: number }> {
    const { size } = await this.blobs.put(contentKey(id), data, { maxBytes: this.maxContentBytes() });
    return { size };
  }

  /** Removes a stored upload whose dataset was not created. */
  async discardUpload(id: string): Promise<void> {
    await this.blobs.deletePrefix(`datasets/${id}/`);
  }

  /** `POST /datasets/upload`: the content is already stored (storeUpload); validation starts. */
  async createFromUpload(accountId: string, id: string, input: DatasetInput, upload: { size: number; fileName?: string }): Promise<Dataset> {
    if (input.contentUrl !== undefined) throw Errors.invalidArgument('contentUrl cannot be combined with an uploaded file.', { innerCode: 'InvalidParameterValue' });
    const base = await this.validateInput(accountId, input, id);
    const max = this.maxContentBytes(base.datasetKind);
    if (upload.size > max) throw Errors.payloadTooLarge(max);
    const file: DatasetFile = {
      id: newUuid(),
      name: fileName(upload.fileName, base.datasetKind),
      fileKind: FILE_KIND[base.datasetKind],
      key: contentKey(id),
      size: upload.size,
      createdAt: base.createdAt,
    };
    const dataset: Dataset = { ...base, files: [file] };
    await this.repo.insert(dataset);
    emitSpeechEvent(this.events, 'DatasetCreation', dataset);
    this.schedule(accountId, id);
    return dataset;
  }

  // --- reading, updating, deleting ----------------------------------------------------------------------

  async get(accountId: string, id: string): Promise<Dataset> {
    const found = await this.repo.get(accountId, 'dataset', id);
    if (!found) throw Errors.notFound(`Dataset ${id} was not found.`);
    return found.value;
  }

  list(accountId: string): Promise<Dataset[]> {
    return this.repo.list(accountId, 'dataset');
  }

  /** `GET /projects/{id}/datasets` (404 when the project does not exist). */
  async listByProject(accountId: string, projectId: string): Promise<Dataset[]> {
    if (!(await this.repo.get(accountId, 'project', projectId))) throw Errors.notFound(`Project ${projectId} was not found.`);
    return (await this.repo.list(accountId, 'dataset')).filter((d) => d.projectId === projectId);
  }

  async update(accountId: string, id: string, changes: DatasetChanges): Promise<Dataset> {
    if (changes.projectId !== undefined) await assertProjectExists(this.repo, accountId, changes.projectId);
    const updated = await this.mutate(accountId, id, (d) => {
      const next: Dataset = { ...d, ...defined(changes), lastActionAt: this.now() };
      validateCommon(next);
      return next;
    });
    if (!updated) throw Errors.notFound(`Dataset ${id} was not found.`);
    return updated;
  }

  /** Deletes the entity and its blobs (204 also when it did not exist). */
  async delete(accountId: string, id: string): Promise<void> {
    const found = await this.repo.get(accountId, 'dataset', id);
    if (!found) return;
    await this.locked(id, async () => {
      await this.repo.delete(accountId, 'dataset', id);
    });
    emitSpeechEvent(this.events, 'DatasetDeletion', found.value);
    await this.blobs.deletePrefix(`datasets/${id}/`);
  }

  /** A deleted project's datasets keep working without it, as Azure's do. */
  async detachProject(accountId: string, projectId: string): Promise<void> {
    for (const d of await this.repo.list(accountId, 'dataset')) {
      if (d.projectId === projectId) await this.mutate(accountId, d.id, (cur) => withoutProject(cur, projectId));
    }
  }

  async files(accountId: string, id: string): Promise<DatasetFile[]> {
    return (await this.get(accountId, id)).files ?? [];
  }

  async file(accountId: string, id: string, fileId: string): Promise<DatasetFile> {
    return fileById(await this.files(accountId, id), fileId, `dataset ${id}`);
  }

  /**
   * The accepted lines of a Succeeded Language or Pronunciation dataset of the account, for training:
   * sentences, or (display form, spoken form) pairs. ServiceErrors (400 InvalidDataset / InvalidLocale)
   * say why a dataset cannot be used.
   */
  async readForTraining(
    accountId: string,
    id: string,
    locale: string,
  ): Promise<{ kind: 'Language' | 'Pronunciation'; sentences: string[]; pronunciations: { displayForm: string; spokenForm: string }[] }> {
    const found = await this.repo.get(accountId, 'dataset', id.toLowerCase());
    if (!found) throw Errors.invalidArgument(`The dataset ${id} does not exist.`, { innerCode: 'InvalidDataset' });
    const d = found.value;
    if (d.status !== 'Succeeded') throw Errors.invalidArgument(`The dataset ${id} is ${d.status}; only Succeeded datasets can be used.`, { innerCode: 'InvalidDataset' });
    if (d.locale.toLowerCase() !== locale.toLowerCase()) {
      throw Errors.invalidArgument(`The locale of the dataset ${id} (${d.locale}) does not match ${locale}.`, { innerCode: 'InvalidLocale' });
    }
    const kind = d.datasetKind;
    if (kind !== 'Language' && kind !== 'Pronunciation') {
      throw Errors.invalidArgument(`${kind} datasets cannot be used to train models with this engine (use Language or Pronunciation datasets).`, { innerCode: 'InvalidDataset' });
    }
    const content = d.files?.find((f) => f.fileKind !== 'DatasetReport');
    const stream = content ? await this.blobs.get(content.key) : undefined;
    if (!stream) throw Errors.invalidArgument(`The content of dataset ${id} is missing.`, { innerCode: 'InvalidDataset' });
    const sentences: string[] = [];
    const pronunciations: { displayForm: string; spokenForm: string }[] = [];
    await validateTextDataset(kind, stream, this.limits, undefined, (text) => {
      if (kind === 'Language') sentences.push(text.trim());
      else {
        const [displayForm = '', spokenForm = ''] = text.split('\t').map((p) => p.trim());
        pronunciations.push({ displayForm, spokenForm: spokenForm.replace(/ +/g, ' ') });
      }
    });
    return { kind, sentences, pronunciations };
  }

  // --- block uploads ------------------------------------------------------------------------------------

  async listBlocks(accountId: string, id: string): Promise<{ committed: DatasetBlock[]; uncommitted: DatasetBlock[] }> {
    const d = await this.get(accountId, id);
    return { committed: d.committedBlocks ?? [], uncommitted: d.uncommittedBlocks ?? [] };
  }

  async putBlock(accountId: string, id: string, blockId: string, data: Uint8Array): Promise<void> {
    checkBlockId(blockId);
    if (data.byteLength > BLOCK_LIMITS.maxBlockBytes) throw Errors.payloadTooLarge(BLOCK_LIMITS.maxBlockBytes);
    const d = await this.get(accountId, id);
    if (!d.uploading) throw notUploading(id);
    const key = blockKey(id, blockId);
    const existed = (d.uncommittedBlocks ?? []).some((b) => b.id === blockId);
    await this.blobs.put(key, data, { maxBytes: BLOCK_LIMITS.maxBlockBytes });
    try {
      const updated = await this.mutate(accountId, id, (cur) => {
        if (!cur.uploading) throw notUploading(id);
        const blocks = (cur.uncommittedBlocks ?? []).filter((b) => b.id !== blockId);
        blocks.push({ id: blockId, size: data.byteLength });
        if (blocks.length > BLOCK_LIMITS.maxBlocks) {
          throw Errors.invalidArgument(`A dataset can have at most ${BLOCK_LIMITS.maxBlocks} blocks.`, { innerCode: 'InvalidParameterValue' });
        }
        const total = blocks.reduce((n, b) => n + b.size, 0);
        if (total > this.maxContentBytes(cur.datasetKind)) throw Errors.payloadTooLarge(this.maxContentBytes(cur.datasetKind));
        return { ...cur, uncommittedBlocks: blocks, lastActionAt: this.now() };
      });
      if (!updated) throw Errors.notFound(`Dataset ${id} was not found.`);
    } catch (err) {
      if (!existed) await this.blobs.delete(key).catch(() => undefined);
      throw err;
    }
  }

  /** `blocks:commit`: assembles the listed blocks in order into the content and starts validation. */
  async commitBlocks(accountId: string, id: string, entries: readonly CommitEntry[]): Promise<void> {
    if (entries.length === 0) throw Errors.invalidArgument('The block list is empty.', { innerCode: 'InvalidParameterValue' });
    if (entries.length > BLOCK_LIMITS.maxBlocks) {
      throw Errors.invalidArgument(`The block list can have at most ${BLOCK_LIMITS.maxBlocks} entries.`, { innerCode: 'InvalidParameterValue' });
    }
    const d = await this.get(accountId, id);
    if (!d.uploading) throw notUploading(id);
    const uncommitted = new Map((d.uncommittedBlocks ?? []).map((b) => [b.id, b]));
    const committed = new Map((d.committedBlocks ?? []).map((b) => [b.id, b]));
    const list: DatasetBlock[] = [];
    for (const e of entries) {
      let block: DatasetBlock | undefined;
      if (e.kind === 'Uncommitted') block = uncommitted.get(e.id);
      else if (e.kind === 'Committed') block = committed.get(e.id);
      else if (e.kind === 'Latest') block = uncommitted.get(e.id) ?? committed.get(e.id);
      else throw Errors.invalidArgument(`Invalid block kind '${e.kind}' (expected Committed, Uncommitted or Latest).`, { innerCode: 'InvalidParameterValue' });
      if (!block) throw Errors.invalidArgument(`The ${e.kind.toLowerCase()} block '${e.id}' does not exist.`, { innerCode: 'InvalidParameterValue' });
      list.push(block);
    }
    const max = this.maxContentBytes(d.datasetKind);
    const total = list.reduce((n, b) => n + b.size, 0);
    if (total > max) throw Errors.payloadTooLarge(max);
    const blobs = this.blobs;
    async function* assembled(): AsyncGenerator<Uint8Array> {
      for (const b of list) {
        const stream = await blobs.get(blockKey(id, b.id));
        if (!stream) throw Errors.invalidArgument(`The block '${b.id}' is missing.`, { innerCode: 'InvalidParameterValue' });
        yield* stream;
      }
    }
    const { size } = await this.blobs.put(contentKey(id), assembled(), { maxBytes: max });
    const at = this.now();
    const updated = await this.mutate(accountId, id, (cur) => {
      if (!cur.uploading) throw notUploading(id);
      const { uploading: _u, uncommittedBlocks: _b, ...rest } = cur;
      const file: DatasetFile = { id: newUuid(), name: fileName(undefined, cur.datasetKind), fileKind: FILE_KIND[cur.datasetKind], key: contentKey(id), size, createdAt: at };
      return { ...rest, committedBlocks: list, files: [file], status: 'NotStarted', lastActionAt: at };
    });
    if (!updated) throw Errors.notFound(`Dataset ${id} was not found.`);
    for (const b of uncommitted.values()) await this.blobs.delete(blockKey(id, b.id)).catch(() => undefined);
    this.schedule(accountId, id);
  }

  // --- background validation ------------------------------------------------------------------------------

  /** After a restart: validates again what was left NotStarted or Running (block uploads wait for their commit). */
  async resume(): Promise<void> {
    for (const d of await this.repo.listByStatus('dataset', ['NotStarted', 'Running'])) {
      if (!d.uploading) this.schedule(d.accountId, d.id);
    }
  }

  /** Resolves when no validation is running or queued (tests). */
  async settled(): Promise<void> {
    while (this.active.size > 0) await Promise.allSettled([...this.active]);
  }

  /** Stops: aborts downloads and validations in progress (they resume after a restart) and waits for them. */
  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    this.aborter.abort(new Error('the service is shutting down'));
    await this.settled();
  }

  private schedule(accountId: string, id: string): void {
    if (this.closed || this.queued.has(id)) return;
    this.queued.add(id);
    this.queue.push({ accountId, id });
    this.pump();
  }

  private pump(): void {
    while (!this.closed && this.running < this.concurrency && this.queue.length > 0) {
      const job = this.queue.shift() as { accountId: string; id: string };
      this.queued.delete(job.id);
      this.running++;
      const p: Promise<void> = this.process(job.accountId, job.id)
        .catch((err: unknown) => this.logger.error({ err, dataset: job.id }, 'dataset processing failed'))
        .finally(() => {
          this.running--;
          this.active.delete(p);
          this.pump();
        });
      this.active.add(p);
    }
  }

  private async process(accountId: string, id: string): Promise<void> {
    // Let the create response go out with NotStarted first, as Azure's does.
    await new Promise((r) => setImmediate(r));
    const signal = this.aborter.signal;
    let d = await this.mutate(accountId, id, (cur) =>
      (cur.status === 'NotStarted' || cur.status === 'Running') && !cur.uploading ? { ...cur, status: 'Running', lastActionAt: this.now() } : undefined,
    );
    if (!d) return;
    emitSpeechEvent(this.events, 'DatasetProcessing', d);
    let content = d.files?.find((f) => f.fileKind !== 'DatasetReport');
    if (!content || (await this.blobs.size(content.key)) === undefined) {
      if (d.contentUrl === undefined) {
        await this.finish(accountId, id, d.datasetKind, failedOutcome({ code: 'DataImportFailed', message: 'The dataset content is missing: the upload did not complete. Upload the dataset again.' }));
        return;
      }
      const max = this.maxContentBytes(d.datasetKind);
      let size: number;
      try {
        const stream = await this.fetcher.fetch(d.contentUrl, { maxBytes: max, signal });
        size = (await this.blobs.put(contentKey(id), stream, { maxBytes: max })).size;
      } catch (err) {
        if (signal.aborted) return;
        this.logger.info({ err, dataset: id }, 'dataset content could not be fetched');
        const message = err instanceof ContentFetchError ? err.message : 'The content could not be downloaded from contentUrl.';
        await this.finish(accountId, id, d.datasetKind, failedOutcome({ code: 'DataImportFailed', message }));
        return;
      }
      const file: DatasetFile = { id: newUuid(), name: fileName(urlFileName(d.contentUrl), d.datasetKind), fileKind: FILE_KIND[d.datasetKind], key: contentKey(id), size, createdAt: this.now() };
      d = await this.mutate(accountId, id, (cur) => ({ ...cur, files: [file, ...(cur.files ?? []).filter((f) => f.fileKind === 'DatasetReport')] }));
      if (!d) {
        await this.blobs.deletePrefix(`datasets/${id}/`);
        return;
      }
      content = file;
    }
    let outcome: ValidationOutcome;
    try {
      outcome = await this.validate(d.datasetKind, content.key, signal);
    } catch (err) {
      if (signal.aborted) return;
      this.logger.error({ err, dataset: id }, 'dataset validation failed unexpectedly');
      outcome = failedOutcome({ code: 'InternalError', message: 'The dataset could not be validated because of an internal error.' });
    }
    await this.finish(accountId, id, d.datasetKind, outcome);
  }

  private async validate(kind: DatasetKind, key: string, signal: AbortSignal): Promise<ValidationOutcome> {
    const size = await this.blobs.size(key);
    if (size === undefined) return failedOutcome({ code: 'DataImportFailed', message: 'The dataset content is missing.' });
    if (size === 0) return failedOutcome({ code: 'EmptyFile', message: 'The file is empty.' });
    if (kind === 'Language' || kind === 'Pronunciation') {
      const stream = await this.blobs.get(key);
      if (!stream) return failedOutcome({ code: 'DataImportFailed', message: 'The dataset content is missing.' });
      return validateTextDataset(kind, stream, this.limits, signal);
    }
    if (size > this.limits.maxArchiveBytes) return failedOutcome({ code: 'DatasetTooLarge', message: `The archive is larger than ${this.limits.maxArchiveBytes} bytes.` });
    let archive;
    try {
      archive = await this.archives.open(key, { maxEntries: this.limits.maxArchiveEntries });
    } catch (err) {
      if (err instanceof ArchiveError) return failedOutcome({ code: 'InvalidArchive', message: `The file is not a readable zip archive: ${err.message}` });
      throw err;
    }
    try {
      return await validateArchiveDataset(kind, archive, this.limits, signal);
    } finally {
      await archive.close();
    }
  }

  private async finish(accountId: string, id: string, kind: DatasetKind, outcome: ValidationOutcome): Promise<void> {
    const at = this.now();
    const body = Buffer.from(JSON.stringify(datasetReport(kind, outcome), null, 2), 'utf8');
    const { size } = await this.blobs.put(reportKey(id), body);
    const updated = await this.mutate(accountId, id, (cur) => {
      if (cur.status !== 'Running') return undefined;
      const previous = cur.files?.find((f) => f.fileKind === 'DatasetReport');
      const report: DatasetFile = { id: previous?.id ?? newUuid(), name: 'report.json', fileKind: 'DatasetReport', key: reportKey(id), size, createdAt: at };
      const next: Dataset = {
        ...cur,
        status: outcome.status,
        acceptedLineCount: outcome.acceptedLineCount,
        rejectedLineCount: outcome.rejectedLineCount,
        files: [...(cur.files ?? []).filter((f) => f.fileKind !== 'DatasetReport'), report],
        lastActionAt: at,
      };
      if (outcome.durationMs !== undefined) next.durationMs = outcome.durationMs;
      if (outcome.error) next.error = outcome.error;
      else delete next.error;
      return next;
    });
    if (updated) emitSpeechEvent(this.events, 'DatasetCompletion', updated);
    if (!updated && !(await this.repo.get(accountId, 'dataset', id))) await this.blobs.deletePrefix(`datasets/${id}/`);
  }

  // --- helpers ------------------------------------------------------------------------------------------

  private async validateInput(accountId: string, input: DatasetInput, id: string = newUuid()): Promise<Dataset> {
    validateCommon(input);
    const datasetKind = DATASET_KINDS.find((k) => k === input.kind);
    if (!datasetKind) {
      const why = UNSUPPORTED_KINDS.includes(input.kind) ? `is not supported by this service` : `is not a dataset kind`;
      throw Errors.invalidArgument(`The kind '${input.kind}' ${why} (supported: ${DATASET_KINDS.join(', ')}).`, { innerCode: 'InvalidParameterValue' });
    }
    const locale = this.locales.find((l) => l.toLowerCase() === input.locale.toLowerCase());
    if (!locale) {
      throw Errors.invalidArgument(`The locale '${input.locale}' is not supported for ${datasetKind} datasets (supported: ${this.locales.join(', ')}).`, { innerCode: 'InvalidLocale' });
    }
    if (input.projectId !== undefined) await assertProjectExists(this.repo, accountId, input.projectId);
    let textNormalizationKind: 'Default' | 'None' | undefined;
    if (input.textNormalizationKind !== undefined) {
      if (input.textNormalizationKind !== 'Default' && input.textNormalizationKind !== 'None') {
        throw Errors.invalidArgument(`Invalid textNormalizationKind '${input.textNormalizationKind}' (expected Default or None).`, { innerCode: 'InvalidParameterValue' });
      }
      textNormalizationKind = input.textNormalizationKind;
    }
    const at = this.now();
    return {
      kind: 'dataset',
      id,
      accountId,
      displayName: input.displayName,
      locale,
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.customProperties !== undefined ? { customProperties: input.customProperties } : {}),
      ...(input.projectId !== undefined ? { projectId: input.projectId } : {}),
      datasetKind,
      status: 'NotStarted',
      ...(textNormalizationKind !== undefined ? { textNormalizationKind } : {}),
      ...(input.email !== undefined ? { email: input.email } : {}),
      createdAt: at,
      lastActionAt: at,
    };
  }

  /** Serializes this process's changes to one dataset (parallel block uploads), then retries on other processes' conflicts. */
  private async locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(id) ?? Promise.resolve();
    let release = (): void => undefined;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const tail = previous.then(() => mine);
    this.locks.set(id, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(id) === tail) this.locks.delete(id);
    }
  }

  /** Applies `fn` to the current entity and saves it; undefined when the dataset is gone or `fn` declines. */
  private mutate(accountId: string, id: string, fn: (d: Dataset) => Dataset | undefined): Promise<Dataset | undefined> {
    return this.locked(id, () => updateEntity(this.repo, accountId, 'dataset', id, fn));
  }
}

function validateCommon(e: { displayName: string; locale: string; customProperties?: Record<string, string> | undefined }): void {
  if (typeof e.displayName !== 'string' || e.displayName.trim() === '' || e.displayName.length > 512) {
    throw Errors.invalidArgument('displayName is required (1 to 512 characters).', { innerCode: 'InvalidParameterValue' });
  }
  if (!/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/i.test(e.locale)) throw Errors.invalidArgument(`Invalid locale '${e.locale}'.`, { innerCode: 'InvalidLocale' });
  const problem = customPropertiesProblem(e.customProperties);
  if (problem) throw Errors.invalidArgument(problem, { innerCode: 'InvalidParameterValue' });
}

function checkContentUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw Errors.invalidArgument(`contentUrl '${url.slice(0, 200)}' is not an absolute URL.`, { innerCode: 'InvalidParameterValue' });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw Errors.invalidArgument('contentUrl must be an http or https URL.', { innerCode: 'InvalidParameterValue' });
  }
  return parsed.toString();
}

/** Azure's rule: a base64 string of at most 64 bytes before encoding. */
function checkBlockId(blockId: string): void {
  const ok = blockId.length > 0 && blockId.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(blockId);
  const bytes = ok ? Buffer.from(blockId, 'base64').length : 0;
  if (!ok || bytes === 0 || bytes > BLOCK_LIMITS.maxBlockIdBytes) {
    throw Errors.invalidArgument(`blockid must be a base64 string of 1 to ${BLOCK_LIMITS.maxBlockIdBytes} bytes before encoding.`, { innerCode: 'InvalidParameterValue' });
  }
}

function notUploading(id: string): Error {
  return Errors.conflict(`Dataset ${id} does not accept blocks: it was not created for a block upload, or its blocks were committed.`);
}

function urlFileName(url: string): string | undefined {
  try {
    const last = new URL(url).pathname.split('/').pop();
    return last ? decodeURIComponent(last) : undefined;
  } catch {
    return undefined;
  }
}

/** A display name for the content file: the client's (sanitized) or a default per kind. */
function fileName(given: string | undefined, kind: DatasetKind): string {
  const base = (given ?? '').split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[^A-Za-z0-9._ -]/g, '_').replace(/^[ .]+/, '').slice(0, 100);
  if (clean !== '') return clean;
  return isArchiveKind(kind) ? 'data.zip' : 'data.txt';
}

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
