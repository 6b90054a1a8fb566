import { apiTimestamp } from './common.js';
import type { Clock } from '../../kernel/time.js';
import type { Logger } from '../../kernel/logger.js';
import { newUuid } from '../../kernel/ids.js';
import { Errors } from '../errors.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { SttEngine } from '../ports/engines.js';
import { VersionConflictError, type SpeechEntityRepository } from '../ports/repositories.js';
import { emitSpeechEvent, type SpeechEventSink } from '../ports/speech-events.js';
import type { BaseModel } from './base-models.js';
import { customPropertiesProblem, type CustomModel } from './entities.js';

export interface ModelInput {
  displayName: string;
  description?: string;
  locale: string;
  customProperties?: Record<string, string>;
  projectId?: string;
  baseModelId: string;
  datasetIds: string[];
  text?: string;
}

/** Training text a dataset contributes (read and validated by the dataset side). */
export interface TrainingData {
  sentences: string[];
  /** Pronunciations as CMU phones ("word" → "K AE T"). */
  pronunciations: { word: string; phones: string }[];
  /** Pronunciation datasets: written form → spoken form in words. */
  spokenForms?: { word: string; spoken: string }[];
}

/** Reads a dataset of the account for training; throws a ServiceError when it cannot be used. */
export type TrainingDataSource = (accountId: string, datasetId: string, locale: string) => Promise<TrainingData>;

/** Bound on inline `text` (the REST body limit bounds it too). */
const MAX_INLINE_TEXT = 5 * 1024 * 1024;
/** Custom models serve for two years after training (Azure's lifecycle; local models do not really expire). */
const TRANSCRIPTION_LIFETIME_MS = 2 * 365 * 24 * 3600_000;

/**
 * Custom models (issue #5 item 4): `POST /models` starts a background training job that builds an
 * adapted language model with the engine; NotStarted → Running → Succeeded/Failed. Training is
 * resumed (from scratch) after a restart, so a model is never left Running.
 */
export class ModelService {
  private readonly jobs = new Map<string, Promise<void>>();

  constructor(
    private readonly repo: SpeechEntityRepository,
    private readonly engine: SttEngine,
    private readonly blobs: BlobStore,
    private readonly baseModels: readonly BaseModel[],
    private readonly training: TrainingDataSource,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Told of creation, processing, completion and deletion (web hooks). */
    private readonly events?: SpeechEventSink,
  ) {}

  private now(): string {
    return apiTimestamp(this.clock.now());
  }

  /** Blob keys of a trained model's files (what its manifest lists), by file name. */
  fileKeys(m: CustomModel): { name: string; key: string }[] {
    return (m.build?.files ?? []).map((name) => ({ name, key: `models/${m.id}/${name}` }));
  }

  /** Where the engine keeps a model's files (a blob-store directory). */
  modelDir(id: string): string {
    return this.blobs.localPath(`models/${id.toLowerCase()}`);
  }

  async create(accountId: string, input: ModelInput): Promise<CustomModel> {
    if (typeof input.displayName !== 'string' || input.displayName.trim() === '') throw Errors.invalidArgument('displayName is required.', { innerCode: 'InvalidParameterValue' });
    const problem = customPropertiesProblem(input.customProperties);
    if (problem) throw Errors.invalidArgument(problem, { innerCode: 'InvalidParameterValue' });
    const base = this.baseModels.find((b) => b.id === input.baseModelId.toLowerCase());
    if (!base) throw Errors.invalidArgument(`The base model ${input.baseModelId} does not exist.`, { innerCode: 'InvalidBaseModel' });
    if (base.locale.toLowerCase() !== input.locale.toLowerCase()) {
      throw Errors.invalidArgument(`The locale of the model (${input.locale}) must match the locale of the base model (${base.locale}).`, { innerCode: 'InvalidLocale' });
    }
    if (input.text !== undefined && Buffer.byteLength(input.text) > MAX_INLINE_TEXT) {
      throw Errors.invalidArgument(`The text is larger than ${MAX_INLINE_TEXT} bytes; upload it as a Language dataset.`, { innerCode: 'InvalidParameterValue' });
    }
    if (input.datasetIds.length === 0 && (input.text === undefined || input.text.trim() === '')) {
      throw Errors.invalidArgument('A custom model needs datasets or text to adapt to.', { innerCode: 'InvalidDataset' });
    }
    if (input.datasetIds.length > 100) throw Errors.invalidArgument('At most 100 datasets per model.', { innerCode: 'InvalidDataset' });
    // Fail fast on datasets that cannot be used (missing, other locale, not processed).
    for (const id of input.datasetIds) await this.training(accountId, id, base.locale);
    const at = this.now();
    const model: CustomModel = {
      kind: 'model',
      id: newUuid(),
      accountId,
      displayName: input.displayName,
      locale: base.locale,
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.customProperties !== undefined ? { customProperties: input.customProperties } : {}),
      ...(input.projectId !== undefined ? { projectId: input.projectId } : {}),
      baseModelId: base.id,
      datasetIds: input.datasetIds.map((d) => d.toLowerCase()),
      ...(input.text !== undefined ? { text: input.text } : {}),
      status: 'NotStarted',
      transcriptionDeprecation: apiTimestamp(this.clock.now() + TRANSCRIPTION_LIFETIME_MS),
      createdAt: at,
      lastActionAt: at,
    };
    await this.repo.insert(model);
    emitSpeechEvent(this.events, 'ModelCreation', model);
    this.schedule(model);
    return model;
  }

  async get(accountId: string, id: string): Promise<CustomModel> {
    const found = await this.repo.get(accountId, 'model', id);
    if (!found) throw Errors.notFound(`Model ${id} was not found.`);
    return found.value;
  }

  list(accountId: string): Promise<CustomModel[]> {
    return this.repo.list(accountId, 'model');
  }

  async update(accountId: string, id: string, changes: { displayName?: string; description?: string; customProperties?: Record<string, string>; projectId?: string }): Promise<CustomModel> {
    const found = await this.repo.get(accountId, 'model', id);
    if (!found) throw Errors.notFound(`Model ${id} was not found.`);
    const next: CustomModel = { ...found.value, lastActionAt: this.now() };
    if (changes.displayName !== undefined) {
      if (changes.displayName.trim() === '') throw Errors.invalidArgument('displayName must not be empty.', { innerCode: 'InvalidParameterValue' });
      next.displayName = changes.displayName;
    }
    if (changes.description !== undefined) next.description = changes.description;
    if (changes.customProperties !== undefined) {
      const problem = customPropertiesProblem(changes.customProperties);
      if (problem) throw Errors.invalidArgument(problem, { innerCode: 'InvalidParameterValue' });
      next.customProperties = changes.customProperties;
    }
    if (changes.projectId !== undefined) next.projectId = changes.projectId;
    await this.save(next, found.version);
    return next;
  }

  /** Refused while an endpoint serves the model (`inUse` says so). */
  async delete(accountId: string, id: string, inUse: (modelId: string) => Promise<boolean>): Promise<void> {
    const found = await this.repo.get(accountId, 'model', id);
    if (!found) return;
    if (await inUse(found.value.id)) throw Errors.conflict(`Model ${id} is used by an endpoint; change or delete the endpoint first.`, { innerCode: 'ModelInUse' });
    await this.jobs.get(found.value.id);
    await this.engine.unloadCustomModel(found.value.id);
    await this.repo.delete(accountId, 'model', found.value.id);
    emitSpeechEvent(this.events, 'ModelDeletion', found.value);
    await this.blobs.deletePrefix(`models/${found.value.id}/`);
  }

  /** After a restart: train again whatever was not finished. */
  async resume(): Promise<void> {
    for (const m of await this.repo.listByStatus('model', ['NotStarted', 'Running'])) this.schedule(m);
  }

  async settled(): Promise<void> {
    await Promise.allSettled([...this.jobs.values()]);
  }

  private schedule(model: CustomModel): void {
    const job = this.train(model.accountId, model.id).catch((err: unknown) => this.logger.error({ err, model: model.id }, 'training job failed'));
    this.jobs.set(model.id, job);
    void job.finally(() => this.jobs.delete(model.id));
  }

  private async train(accountId: string, id: string): Promise<void> {
    await new Promise((r) => setImmediate(r));
    const found = await this.repo.get(accountId, 'model', id);
    if (!found) return;
    const running: CustomModel = { ...found.value, status: 'Running', lastActionAt: this.now() };
    let version = await this.save(running, found.version);
    emitSpeechEvent(this.events, 'ModelProcessing', running);
    let outcome: CustomModel;
    try {
      const sentences: string[] = [];
      const pronunciations: { word: string; phones: string }[] = [];
      const spokenForms: { word: string; spoken: string }[] = [];
      if (running.text) sentences.push(...running.text.split(/\r?\n/));
      for (const d of running.datasetIds) {
        const data = await this.training(accountId, d, running.locale);
        sentences.push(...data.sentences);
        pronunciations.push(...data.pronunciations);
        spokenForms.push(...(data.spokenForms ?? []));
      }
      await this.blobs.deletePrefix(`models/${id}/`);
      const dir = this.modelDir(id);
      const build = await this.engine.buildCustomModel({ locale: running.locale, sentences, pronunciations, spokenForms }, dir);
      outcome = {
        ...running,
        status: 'Succeeded',
        build: {
          vocabularySize: build.vocabularySize,
          newWords: build.newWords.length,
          sentenceCount: build.sentenceCount,
          truncated: build.truncated ?? false,
          files: build.files,
        },
        lastActionAt: this.now(),
      };
    } catch (err) {
      this.logger.warn({ err, model: id }, 'training failed');
      const message = err instanceof Error ? err.message : String(err);
      outcome = { ...running, status: 'Failed', error: { code: 'TrainingFailed', message }, lastActionAt: this.now() };
    }
    const latest = await this.repo.get(accountId, 'model', id);
    if (!latest) return;
    version = latest.version;
    const merged: CustomModel = { ...latest.value, status: outcome.status, lastActionAt: outcome.lastActionAt };
    if (outcome.build) merged.build = outcome.build;
    if (outcome.error) merged.error = outcome.error;
    await this.save(merged, version);
    emitSpeechEvent(this.events, 'ModelCompletion', merged);
  }

  private async save(m: CustomModel, version: number): Promise<number> {
    try {
      return await this.repo.update(m, version);
    } catch (err) {
      if (err instanceof VersionConflictError) throw Errors.conflict(err.message);
      throw err;
    }
  }
}
