import type { Clock } from '../../kernel/time.js';
import type { Logger } from '../../kernel/logger.js';
import { newUuid } from '../../kernel/ids.js';
import { ServiceError } from '../../kernel/errors.js';
import { Errors } from '../errors.js';
import type { Archive, ArchiveReader } from '../ports/archive-reader.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { SttModelRef } from '../ports/engines.js';
import type { SpeechEntityRepository } from '../ports/repositories.js';
import { emitSpeechEvent, type SpeechEventSink } from '../ports/speech-events.js';
import type { RecognitionService } from '../recognition/recognition-service.js';
import type { BaseModel } from './base-models.js';
import { apiTimestamp, customPropertiesProblem } from './common.js';
import { assertProjectExists, fileById, updateEntity, withoutProject } from './entity-updates.js';
import { DATASET_LIMITS, validateArchiveDataset, type AcousticPair, type DatasetLimits } from './dataset-validation.js';
import type { Evaluation, EvaluationFile, EvaluationTotals, ModelRef } from './entities.js';
import { addUtterance, countWordErrors, emptyTotals, type WordErrorCounts } from './word-errors.js';

/**
 * Evaluations (issue #5 item 7, `POST /evaluations`): two models (base or custom) decode every audio
 * file of a Succeeded Acoustic dataset; each model's lexical result is scored against the file's
 * transcription (word-errors.ts: normalised, Levenshtein-aligned), giving Azure's word and sentence
 * error counts, and an EvaluationDetails file lists every utterance. A background job: NotStarted →
 * Running → Succeeded/Failed, run again from the start after a restart (resume()).
 *
 * Recognition is whole-file, like Azure's (batch) evaluation: each file goes through the same pipeline
 * as REST and WebSocket recognition (recognitionTranscriber), in conversation mode, and the lexical
 * forms of all its utterances are joined. For a file holding one utterance this is exactly the
 * `NBest[0].Lexical` a short-audio REST request with the same model returns.
 */

/** Lexical text of all utterances of one audio file (WAV bytes) decoded with `model`. */
export type Transcriber = (audio: Uint8Array, model: SttModelRef, signal: AbortSignal) => Promise<string>;

/** Makes a custom model decodable (engine.loadCustomModel with the model's directory); idempotent. */
export type CustomModelLoader = (modelId: string) => Promise<void>;

export interface EvaluationLimits {
  /** Audio files (transcribed lines) per evaluation. */
  maxFiles: number;
  /** Total audio per evaluation. */
  maxAudioMs: number;
  /** One WAV file, read whole into memory. */
  maxFileBytes: number;
}

export const EVALUATION_LIMITS: EvaluationLimits = { maxFiles: 1_000, maxAudioMs: 2 * 3600_000, maxFileBytes: 256 * 1024 * 1024 };

export interface EvaluationInput {
  displayName: string;
  description?: string;
  customProperties?: Record<string, string>;
  locale: string;
  projectId?: string;
  model1: ModelRef;
  model2: ModelRef;
  datasetId: string;
}

export interface EvaluationChanges {
  displayName?: string;
  description?: string;
  customProperties?: Record<string, string>;
  projectId?: string;
}

export interface EvaluationServiceDeps {
  repo: SpeechEntityRepository;
  blobs: BlobStore;
  archives: ArchiveReader;
  baseModels: readonly BaseModel[];
  transcribe: Transcriber;
  loadCustomModel: CustomModelLoader;
  clock: Clock;
  logger: Logger;
  /** The datasets' validation limits (an evaluation reads the archive with the same rules). */
  datasetLimits?: DatasetLimits;
  limits?: Partial<EvaluationLimits>;
  events?: SpeechEventSink;
}

/** One utterance of the EvaluationDetails file. */
export interface EvaluationUtterance {
  file: string;
  reference: string;
  hypothesis1: string;
  hypothesis2: string;
  errors1: WordErrorCounts;
  errors2: WordErrorCounts;
}

const detailsKey = (id: string): string => `evaluations/${id}/details.json`;

export class EvaluationService {
  readonly limits: EvaluationLimits;
  private readonly jobs = new Map<string, { done: Promise<void>; abort: AbortController }>();
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly deps: EvaluationServiceDeps) {
    this.limits = { ...EVALUATION_LIMITS, ...deps.limits };
  }

  private now(): string {
    return apiTimestamp(this.deps.clock.now());
  }

  /** `GET /evaluations/locales`. */
  supportedLocales(): string[] {
    return this.deps.baseModels.map((m) => m.locale);
  }

  async create(accountId: string, input: EvaluationInput): Promise<Evaluation> {
    if (typeof input.displayName !== 'string' || input.displayName.trim() === '') throw Errors.invalidArgument('displayName is required.', { innerCode: 'InvalidParameterValue' });
    const problem = customPropertiesProblem(input.customProperties);
    if (problem) throw Errors.invalidArgument(problem, { innerCode: 'InvalidParameterValue' });
    const locale = this.deps.baseModels.find((m) => m.locale.toLowerCase() === (input.locale ?? '').toLowerCase())?.locale;
    if (!locale) throw Errors.invalidArgument(`The locale '${input.locale}' is not supported for evaluations (supported: ${this.supportedLocales().join(', ')}).`, { innerCode: 'InvalidLocale' });
    if (input.projectId !== undefined) await assertProjectExists(this.deps.repo, accountId, input.projectId);
    await this.checkModel(accountId, input.model1, locale, 'model1');
    await this.checkModel(accountId, input.model2, locale, 'model2');
    await this.checkDataset(accountId, input.datasetId, locale);
    const at = this.now();
    const evaluation: Evaluation = {
      kind: 'evaluation',
      id: newUuid(),
      accountId,
      displayName: input.displayName,
      locale,
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.customProperties !== undefined ? { customProperties: input.customProperties } : {}),
      ...(input.projectId !== undefined ? { projectId: input.projectId } : {}),
      model1: { kind: input.model1.kind, id: input.model1.id.toLowerCase() },
      model2: { kind: input.model2.kind, id: input.model2.id.toLowerCase() },
      datasetId: input.datasetId.toLowerCase(),
      status: 'NotStarted',
      createdAt: at,
      lastActionAt: at,
    };
    await this.deps.repo.insert(evaluation);
    emitSpeechEvent(this.deps.events, 'EvaluationCreation', evaluation);
    this.schedule(evaluation);
    return evaluation;
  }

  async get(accountId: string, id: string): Promise<Evaluation> {
    const found = await this.deps.repo.get(accountId, 'evaluation', id.toLowerCase());
    if (!found) throw Errors.notFound(`Evaluation ${id} was not found.`);
    return found.value;
  }

  list(accountId: string): Promise<Evaluation[]> {
    return this.deps.repo.list(accountId, 'evaluation');
  }

  /** `GET /projects/{id}/evaluations` (404 when the project does not exist). */
  async listByProject(accountId: string, projectId: string): Promise<Evaluation[]> {
    if (!(await this.deps.repo.get(accountId, 'project', projectId))) throw Errors.notFound(`Project ${projectId} was not found.`);
    return (await this.list(accountId)).filter((e) => e.projectId === projectId);
  }

  async update(accountId: string, id: string, changes: EvaluationChanges): Promise<Evaluation> {
    if (changes.displayName !== undefined && changes.displayName.trim() === '') throw Errors.invalidArgument('displayName must not be empty.', { innerCode: 'InvalidParameterValue' });
    const problem = customPropertiesProblem(changes.customProperties);
    if (problem) throw Errors.invalidArgument(problem, { innerCode: 'InvalidParameterValue' });
    if (changes.projectId !== undefined) await assertProjectExists(this.deps.repo, accountId, changes.projectId);
    const updated = await this.mutate(accountId, id.toLowerCase(), (cur) => {
      const next: Evaluation = { ...cur, lastActionAt: this.now() };
      if (changes.displayName !== undefined) next.displayName = changes.displayName;
      if (changes.description !== undefined) next.description = changes.description;
      if (changes.customProperties !== undefined) next.customProperties = changes.customProperties;
      if (changes.projectId !== undefined) next.projectId = changes.projectId;
      return next;
    });
    if (!updated) throw Errors.notFound(`Evaluation ${id} was not found.`);
    return updated;
  }

  /** Stops a running job, deletes the entity and its files (204 also when it did not exist). */
  async delete(accountId: string, id: string): Promise<void> {
    const found = await this.deps.repo.get(accountId, 'evaluation', id.toLowerCase());
    if (!found) return;
    const job = this.jobs.get(found.value.id);
    job?.abort.abort(new Error('the evaluation was deleted'));
    await this.deps.repo.delete(accountId, 'evaluation', found.value.id);
    await job?.done;
    await this.deps.blobs.deletePrefix(`evaluations/${found.value.id}/`);
    emitSpeechEvent(this.deps.events, 'EvaluationDeletion', found.value);
  }

  /** A deleted project's evaluations keep working without it. */
  async detachProject(accountId: string, projectId: string): Promise<void> {
    for (const e of await this.list(accountId)) {
      if (e.projectId === projectId) await this.mutate(accountId, e.id, (cur) => withoutProject(cur, projectId));
    }
  }

  async files(accountId: string, id: string): Promise<EvaluationFile[]> {
    return (await this.get(accountId, id)).files ?? [];
  }

  async file(accountId: string, id: string, fileId: string): Promise<EvaluationFile> {
    return fileById(await this.files(accountId, id), fileId, `evaluation ${id}`);
  }

  /** After a restart: runs again, from the start, whatever was not finished. */
  async resume(): Promise<void> {
    for (const e of await this.deps.repo.listByStatus('evaluation', ['NotStarted', 'Running'])) this.schedule(e);
  }

  /** Resolves when no evaluation is running or queued (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.jobs.size > 0) await Promise.allSettled([...this.jobs.values()].map((j) => j.done));
  }

  /** Stops: aborts running jobs (they run again after a restart) and waits for them. */
  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.jobs.values()) j.abort.abort(new Error('the service is shutting down'));
    await this.settled();
  }

  // --- validation -----------------------------------------------------------------------------------------

  private async checkModel(accountId: string, ref: ModelRef, locale: string, name: string): Promise<void> {
    let modelLocale: string;
    if (ref.kind === 'base') {
      const base = this.deps.baseModels.find((b) => b.id === ref.id.toLowerCase());
      if (!base) throw Errors.invalidArgument(`The ${name} base model ${ref.id} does not exist.`, { innerCode: 'InvalidModel' });
      modelLocale = base.locale;
    } else {
      const found = await this.deps.repo.get(accountId, 'model', ref.id.toLowerCase());
      if (!found) throw Errors.invalidArgument(`The ${name} model ${ref.id} does not exist.`, { innerCode: 'InvalidModel' });
      if (found.value.status !== 'Succeeded') {
        throw Errors.invalidArgument(`The ${name} model ${ref.id} is ${found.value.status}; only Succeeded models can be evaluated.`, { innerCode: 'InvalidModel' });
      }
      modelLocale = found.value.locale;
    }
    if (modelLocale.toLowerCase() !== locale.toLowerCase()) {
      throw Errors.invalidArgument(`The locale of the ${name} (${modelLocale}) does not match the evaluation's (${locale}).`, { innerCode: 'InvalidLocale' });
    }
  }

  private async checkDataset(accountId: string, id: string, locale: string): Promise<void> {
    const found = await this.deps.repo.get(accountId, 'dataset', id.toLowerCase());
    if (!found) throw Errors.invalidArgument(`The dataset ${id} does not exist.`, { innerCode: 'InvalidDataset' });
    const d = found.value;
    if (d.datasetKind !== 'Acoustic') {
      throw Errors.invalidArgument(`The dataset ${id} is a ${d.datasetKind} dataset; evaluations need an Acoustic dataset (audio with transcriptions).`, { innerCode: 'InvalidDataset' });
    }
    if (d.status !== 'Succeeded') throw Errors.invalidArgument(`The dataset ${id} is ${d.status}; only Succeeded datasets can be used.`, { innerCode: 'InvalidDataset' });
    if (d.locale.toLowerCase() !== locale.toLowerCase()) {
      throw Errors.invalidArgument(`The locale of the dataset ${id} (${d.locale}) does not match the evaluation's (${locale}).`, { innerCode: 'InvalidLocale' });
    }
    if ((d.acceptedLineCount ?? 0) > this.limits.maxFiles) {
      throw Errors.invalidArgument(`The dataset has ${d.acceptedLineCount} audio files; an evaluation takes at most ${this.limits.maxFiles}.`, { innerCode: 'InvalidDataset' });
    }
    if ((d.durationMs ?? 0) > this.limits.maxAudioMs) {
      throw Errors.invalidArgument(`The dataset has more than ${this.limits.maxAudioMs / 3600_000} hours of audio, the most an evaluation takes.`, { innerCode: 'InvalidDataset' });
    }
  }

  // --- the job --------------------------------------------------------------------------------------------

  /** Jobs run one at a time (each keeps the engine busy with two decodes per file). */
  private schedule(e: Evaluation): void {
    if (this.closed || this.jobs.has(e.id)) return;
    const abort = new AbortController();
    const done = this.queue
      .then(() => (abort.signal.aborted ? undefined : this.run(e.accountId, e.id, abort.signal)))
      .catch((err: unknown) => this.deps.logger.error({ err, evaluation: e.id }, 'evaluation job failed'))
      .finally(() => this.jobs.delete(e.id));
    this.queue = done;
    this.jobs.set(e.id, { done, abort });
  }

  private async run(accountId: string, id: string, signal: AbortSignal): Promise<void> {
    // Let the create response go out with NotStarted first, as Azure's does.
    await new Promise((r) => setImmediate(r));
    const running = await this.mutate(accountId, id, (cur) =>
      cur.status === 'NotStarted' || cur.status === 'Running' ? { ...cur, status: 'Running', lastActionAt: this.now() } : undefined,
    );
    if (!running) return;
    emitSpeechEvent(this.deps.events, 'EvaluationProcessing', running);
    let outcome: Pick<Evaluation, 'status' | 'error' | 'results' | 'files'>;
    try {
      const { results, utterances } = await this.evaluate(running, signal);
      const body = Buffer.from(JSON.stringify(detailsJson(running, results, utterances), null, 2), 'utf8');
      const { size } = await this.deps.blobs.put(detailsKey(id), body);
      const file: EvaluationFile = { id: newUuid(), name: 'evaluation-details.json', fileKind: 'EvaluationDetails', key: detailsKey(id), size, createdAt: this.now() };
      outcome = { status: 'Succeeded', results, files: [file] };
    } catch (err) {
      if (signal.aborted) return;
      const known = err instanceof ServiceError || err instanceof EvaluationError;
      if (!known) this.deps.logger.warn({ err, evaluation: id }, 'evaluation failed');
      const code = err instanceof EvaluationError ? err.code : 'EvaluationFailed';
      const message = known ? err.message : 'The evaluation failed because of an internal error.';
      outcome = { status: 'Failed', error: { code, message } };
    }
    const finished = await this.mutate(accountId, id, (cur) => {
      if (cur.status !== 'Running') return undefined;
      const next: Evaluation = { ...cur, status: outcome.status, lastActionAt: this.now() };
      if (outcome.results) next.results = outcome.results;
      if (outcome.files) next.files = outcome.files;
      if (outcome.error) next.error = outcome.error;
      else delete next.error;
      return next;
    });
    if (finished) emitSpeechEvent(this.deps.events, 'EvaluationCompletion', finished);
    else await this.deps.blobs.deletePrefix(`evaluations/${id}/`);
  }

  private async evaluate(e: Evaluation, signal: AbortSignal): Promise<{ results: { model1: EvaluationTotals; model2: EvaluationTotals }; utterances: EvaluationUtterance[] }> {
    const model1 = await this.engineModel(e.accountId, e.model1, e.locale);
    const model2 = await this.engineModel(e.accountId, e.model2, e.locale);
    const dataset = (await this.deps.repo.get(e.accountId, 'dataset', e.datasetId))?.value;
    if (!dataset || dataset.status !== 'Succeeded') throw new EvaluationError('InvalidDataset', `The dataset ${e.datasetId} no longer exists or is not usable.`);
    const content = dataset.files?.find((f) => f.fileKind === 'AcousticDataArchive');
    if (!content || (await this.deps.blobs.size(content.key)) === undefined) throw new EvaluationError('InvalidDataset', `The content of dataset ${e.datasetId} is missing.`);
    const limits = this.deps.datasetLimits ?? DATASET_LIMITS;
    const archive: Archive = await this.deps.archives.open(content.key, { maxEntries: limits.maxArchiveEntries });
    try {
      const pairs: AcousticPair[] = [];
      const checked = await validateArchiveDataset('Acoustic', archive, limits, signal, (p) => pairs.push(p));
      if (checked.status !== 'Succeeded') throw new EvaluationError('InvalidDataset', `The dataset cannot be read: ${checked.error?.message ?? 'no usable audio'}`);
      if (pairs.length > this.limits.maxFiles) throw new EvaluationError('InvalidDataset', `The dataset has ${pairs.length} audio files; an evaluation takes at most ${this.limits.maxFiles}.`);
      const totalMs = pairs.reduce((n, p) => n + p.durationMs, 0);
      if (totalMs > this.limits.maxAudioMs) throw new EvaluationError('InvalidDataset', `The dataset has more than ${this.limits.maxAudioMs / 3600_000} hours of audio.`);
      const results = { model1: emptyTotals(), model2: emptyTotals() };
      const utterances: EvaluationUtterance[] = [];
      for (const p of pairs) {
        if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
        if (p.bytes > this.limits.maxFileBytes) throw new EvaluationError('InvalidDataset', `The audio file '${p.audio}' is larger than ${this.limits.maxFileBytes} bytes.`);
        const audio = await archive.read(p.audio, { maxBytes: this.limits.maxFileBytes });
        const hypothesis1 = await this.transcribe(audio, model1, signal, p.audio);
        const hypothesis2 = e.model2.kind === e.model1.kind && e.model2.id === e.model1.id ? hypothesis1 : await this.transcribe(audio, model2, signal, p.audio);
        const errors1 = countWordErrors(p.text, hypothesis1);
        const errors2 = countWordErrors(p.text, hypothesis2);
        addUtterance(results.model1, errors1);
        addUtterance(results.model2, errors2);
        utterances.push({ file: p.audio, reference: p.text, hypothesis1, hypothesis2, errors1, errors2 });
      }
      return { results, utterances };
    } finally {
      await archive.close();
    }
  }

  private async transcribe(audio: Uint8Array, model: SttModelRef, signal: AbortSignal, file: string): Promise<string> {
    try {
      return await this.deps.transcribe(audio, model, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      const why = err instanceof ServiceError ? err.message : 'recognition failed';
      throw new EvaluationError('RecognitionFailed', `The audio file '${file}' could not be recognized: ${why}`);
    }
  }

  /** The engine's reference for a model of the evaluation, loading a custom model first. */
  private async engineModel(accountId: string, ref: ModelRef, locale: string): Promise<SttModelRef> {
    if (ref.kind === 'base') {
      const base = this.deps.baseModels.find((b) => b.id === ref.id);
      if (!base) throw new EvaluationError('InvalidModel', `The base model ${ref.id} no longer exists.`);
      return { locale: base.locale };
    }
    const found = await this.deps.repo.get(accountId, 'model', ref.id);
    if (!found || found.value.status !== 'Succeeded') throw new EvaluationError('InvalidModel', `The model ${ref.id} no longer exists or is not usable.`);
    try {
      await this.deps.loadCustomModel(ref.id);
    } catch (err) {
      this.deps.logger.warn({ err, model: ref.id }, 'custom model could not be loaded for an evaluation');
      throw new EvaluationError('InvalidModel', `The model ${ref.id} could not be loaded.`);
    }
    return { locale, modelId: ref.id };
  }

  private mutate(accountId: string, id: string, fn: (e: Evaluation) => Evaluation | undefined): Promise<Evaluation | undefined> {
    return updateEntity(this.deps.repo, accountId, 'evaluation', id, fn);
  }
}

/** Why an evaluation failed, in terms shown to clients (`properties.error`). */
class EvaluationError extends Error {
  override name = 'EvaluationError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function detailsJson(e: Evaluation, results: { model1: EvaluationTotals; model2: EvaluationTotals }, utterances: EvaluationUtterance[]): Record<string, unknown> {
  return {
    evaluation: e.id,
    locale: e.locale,
    model1: e.model1,
    model2: e.model2,
    dataset: e.datasetId,
    normalization: 'lexical forms; lower-case, punctuation removed, numbers 0-99 as words (both sides)',
    totals1: results.model1,
    totals2: results.model2,
    utterances,
  };
}

// --- recognition ------------------------------------------------------------------------------------------

/** Bytes handed to the recognition pipeline at once. */
const CHUNK_BYTES = 64 * 1024;

/**
 * A Transcriber on the recognition pipeline: the file is decoded (WAV header sniffed, resampled) and
 * segmented as REST and WebSocket audio are, in conversation mode, and the lexical forms of all
 * recognized utterances are joined with spaces. Each file may be as long as `maxFileAudioMs`.
 */
export function recognitionTranscriber(recognition: RecognitionService, maxFileAudioMs = 2 * 3600_000): Transcriber {
  return async (audio, model, signal) => {
    const options = { ...recognition.resolveOptions({ mode: 'conversation', locale: model.locale, format: 'detailed' }), model };
    const texts: string[] = [];
    let failure: unknown;
    const { turn, input } = recognition.startTurn(
      options,
      {
        speechStartDetected() {},
        hypothesis() {},
        phrase(p) {
          if (p.status === 'success') {
            const lexical = p.alternatives[0]?.lexical ?? '';
            if (lexical !== '') texts.push(lexical);
          } else if (p.status === 'error') failure ??= p.error ?? new Error('recognition failed');
        },
        speechEndDetected() {},
        turnEnd() {},
      },
      { maxTurnAudioMs: maxFileAudioMs },
    );
    const onAbort = (): void => {
      turn.abort();
      input.destroy();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const bytes = Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength);
      for (let at = 0; at < bytes.length && !signal.aborted; at += CHUNK_BYTES) {
        await input.write(bytes.subarray(at, at + CHUNK_BYTES));
        if (turn.backlogged) await turn.whenDrained();
      }
      await input.end();
      await turn.end();
    } catch (err) {
      turn.abort();
      input.destroy();
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
    if (failure) throw failure;
    return texts.join(' ');
  };
}
