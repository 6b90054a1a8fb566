import type { EntityBase, EntityError, EntityStatus } from './common.js';
import type { Dataset } from './dataset.js';
import type { WebHook } from './webhook.js';

export type { Dataset } from './dataset.js';
export type { WebHook } from './webhook.js';
export type { EntityBase, EntityError, EntityStatus } from './common.js';

/**
 * Custom Speech entities (Speech-to-text REST API v3.2, protocol §D), in Parlance's terms: ids are
 * GUIDs, times are ISO 8601 strings, references are ids (the REST layer turns them into `self`
 * URLs built from the request's host). Every entity belongs to one account.
 */

export interface Project extends EntityBase {
  kind: 'project';
}

/** What an endpoint or evaluation points at: a base model of the engine, or a trained custom model. */
export type ModelRef = { kind: 'base'; id: string } | { kind: 'custom'; id: string };

export interface Endpoint extends EntityBase {
  kind: 'endpoint';
  projectId?: string;
  status: EntityStatus;
  /** The model the endpoint should serve (what GET shows). */
  model: ModelRef;
  /**
   * The model traffic uses right now. While a PATCH's new model is being loaded this is still the
   * old one, so recognition never fails in between; it becomes `model` once loaded.
   */
  activeModel?: ModelRef;
  loggingEnabled: boolean;
  timeToLive?: string;
  error?: EntityError;
  /** Endpoints of F0 resources are deleted seven days after creation (seed 003). */
  expiresAt?: string;
}

/** One logged recognition of an endpoint with content logging on: its audio and its results, as blobs. */
export interface EndpointLog {
  kind: 'endpointLog';
  id: string;
  accountId: string;
  endpointId: string;
  createdAt: string;
  audioKey: string;
  audioBytes: number;
  durationMs: number;
  resultKey: string;
  resultBytes: number;
}

/** A custom model: a base model adapted with domain text (and pronunciations) by a training job. */
export interface CustomModel extends EntityBase {
  kind: 'model';
  projectId?: string;
  baseModelId: string;
  datasetIds: string[];
  /** Plain-text adaptation given inline (v3.2 `text`). */
  text?: string;
  status: EntityStatus;
  error?: EntityError;
  /** Custom models stop serving at this date (Azure: about 2 years after training). */
  transcriptionDeprecation: string;
  build?: { vocabularySize: number; newWords: number; sentenceCount: number; truncated: boolean; files?: string[] };
}

/** Word error counts of one model over an evaluation's utterances (lexical, normalised text). */
export interface EvaluationTotals {
  sentenceCount: number;
  /** Utterances with at least one error. */
  sentenceErrors: number;
  /** Reference words. */
  wordCount: number;
  correctWordCount: number;
  substitutions: number;
  deletions: number;
  insertions: number;
}

/** A file an evaluation produced (its EvaluationDetails), stored in the blob store. */
export interface EvaluationFile {
  id: string;
  name: string;
  fileKind: 'EvaluationDetails';
  key: string;
  size: number;
  createdAt: string;
}

/** An evaluation: two models decoding the audio of an Acoustic dataset, scored against its transcriptions. */
export interface Evaluation extends EntityBase {
  kind: 'evaluation';
  projectId?: string;
  model1: ModelRef;
  model2: ModelRef;
  datasetId: string;
  status: EntityStatus;
  error?: EntityError;
  results?: { model1: EvaluationTotals; model2: EvaluationTotals };
  files?: EvaluationFile[];
}

export type SpeechEntity = Project | Endpoint | Dataset | EndpointLog | CustomModel | WebHook | Evaluation;
export type SpeechEntityKind = SpeechEntity['kind'];

export { customPropertiesProblem } from './common.js';
