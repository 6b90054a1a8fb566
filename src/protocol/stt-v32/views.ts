import type { BaseModel } from '../../domain/customspeech/base-models.js';
import type { CustomModel, Endpoint, Project } from '../../domain/customspeech/entities.js';
import type { Urls } from './urls.js';

/** Domain entities → the v3.2 JSON shapes (camelCase, absolute links). */

/** The object without its undefined fields (optional properties are left out, not null). */
export function optional<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** What every processed entity (dataset, model, endpoint, evaluation) carries. */
interface TrackedEntity {
  projectId?: string;
  lastActionAt: string;
  status: string;
  createdAt: string;
  locale: string;
  displayName: string;
  description?: string;
  customProperties?: Record<string, string>;
}

/** The fields of the v3.2 shapes that are the same for every processed entity. */
export function trackedEntityFields(e: TrackedEntity, urls: Urls): Record<string, unknown> {
  return {
    project: e.projectId !== undefined ? { self: urls.entity(`projects/${e.projectId}`) } : undefined,
    lastActionDateTime: e.lastActionAt,
    status: e.status,
    createdDateTime: e.createdAt,
    locale: e.locale,
    displayName: e.displayName,
    description: e.description,
    customProperties: e.customProperties,
  };
}

export function projectView(p: Project, urls: Urls, counts: { endpoints: number; models: number; datasets: number; evaluations: number }): Record<string, unknown> {
  const self = urls.entity(`projects/${p.id}`);
  return optional({
    self,
    links: {
      evaluations: `${self}/evaluations`,
      datasets: `${self}/datasets`,
      models: `${self}/models`,
      endpoints: `${self}/endpoints`,
      transcriptions: `${self}/transcriptions`,
    },
    properties: { datasetCount: counts.datasets, evaluationCount: counts.evaluations, modelCount: counts.models, transcriptionCount: 0, endpointCount: counts.endpoints },
    displayName: p.displayName,
    description: p.description,
    locale: p.locale,
    customProperties: p.customProperties,
    createdDateTime: p.createdAt,
  });
}

export function baseModelView(m: BaseModel, urls: Urls): Record<string, unknown> {
  const self = urls.entity(`models/base/${m.id}`);
  return {
    self,
    links: { manifest: `${self}/manifest` },
    properties: {
      deprecationDates: { adaptationDateTime: m.adaptationDeprecation, transcriptionDateTime: m.transcriptionDeprecation },
      features: {
        supportsTranscriptions: false,
        supportsEndpoints: true,
        supportsTranscriptionsOnSpeechContainers: false,
        supportsAdaptationsWith: m.supportsAdaptationsWith,
        supportedOutputFormats: ['Display', 'Lexical'],
      },
      chargeForAdaptation: false,
    },
    lastActionDateTime: m.createdAt,
    status: 'Succeeded',
    createdDateTime: m.createdAt,
    locale: m.locale,
    displayName: m.displayName,
    description: m.description,
  };
}

export function endpointView(e: Endpoint, urls: Urls): Record<string, unknown> {
  const self = urls.entity(`endpoints/${e.id}`);
  return optional({
    self,
    model: { self: urls.model(e.model) },
    links: {
      logs: `${self}/files/logs`,
      restInteractive: urls.recognition('rest', 'interactive', e.id),
      restConversation: urls.recognition('rest', 'conversation', e.id),
      restDictation: urls.recognition('rest', 'dictation', e.id),
      webSocketInteractive: urls.recognition('ws', 'interactive', e.id),
      webSocketConversation: urls.recognition('ws', 'conversation', e.id),
      webSocketDictation: urls.recognition('ws', 'dictation', e.id),
    },
    properties: optional({ loggingEnabled: e.loggingEnabled, timeToLive: e.timeToLive, error: e.error }),
    ...trackedEntityFields(e, urls),
  });
}

export function customModelView(m: CustomModel, urls: Urls): Record<string, unknown> {
  const self = urls.entity(`models/${m.id}`);
  return optional({
    self,
    baseModel: { self: urls.entity(`models/base/${m.baseModelId}`) },
    datasets: m.datasetIds.length > 0 ? m.datasetIds.map((d) => ({ self: urls.entity(`datasets/${d}`) })) : undefined,
    links: { manifest: `${self}/manifest`, copy: `${self}:copy`, copyTo: `${self}:copyto`, files: `${self}/files` },
    properties: optional({
      deprecationDates: { transcriptionDateTime: m.transcriptionDeprecation },
      features: { supportsTranscriptions: false, supportsEndpoints: true, supportsTranscriptionsOnSpeechContainers: false, supportedOutputFormats: ['Display', 'Lexical'] },
      error: m.error,
    }),
    text: m.text,
    ...trackedEntityFields(m, urls),
  });
}
