import { createHash } from 'node:crypto';

/** A base model: what the engine recognizes a locale with, before any adaptation. */
export interface BaseModel {
  id: string;
  locale: string;
  displayName: string;
  description: string;
  createdAt: string;
  /** Adaptation and transcription stay possible until these dates (far future: local models do not retire). */
  adaptationDeprecation: string;
  transcriptionDeprecation: string;
  supportsAdaptationsWith: ('Language' | 'Acoustic' | 'Pronunciation')[];
}

/** Stable across installations and restarts: a name-based UUID (version 5 layout) from engine and locale. */
export function baseModelId(engine: string, locale: string): string {
  const h = createHash('sha1').update(`parlance-base-model:${engine}:${locale.toLowerCase()}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The base models the engine offers, one per locale. */
export function baseModelCatalog(engine: { id: string; locales: readonly string[] }, createdAt: string): BaseModel[] {
  return engine.locales.map((locale) => ({
    id: baseModelId(engine.id, locale),
    locale,
    displayName: `${locale} ${engine.id} base model`,
    description: `The ${engine.id} acoustic model and language model for ${locale} as installed on this machine.`,
    createdAt,
    adaptationDeprecation: '2099-12-31T00:00:00Z',
    transcriptionDeprecation: '2099-12-31T00:00:00Z',
    supportsAdaptationsWith: ['Language', 'Pronunciation'],
  }));
}
