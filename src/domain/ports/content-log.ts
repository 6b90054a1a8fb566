import type { PhraseResult } from '../recognition/types.js';

/** One recognition request on a custom endpoint with content logging on (protocol §D.5, seed 003). */
export interface ContentLogEntry {
  accountId: string;
  endpointId: string;
  locale: string;
  startedAtMs: number;
  /** The audio as recognized: 16 kHz mono PCM, in order. */
  pcm: Int16Array[];
  phrases: PhraseResult[];
}

export interface ContentLogSink {
  record(entry: ContentLogEntry): Promise<void>;
}
