import type { EntityBase, EntityError, EntityStatus } from './common.js';

export type DatasetKind = 'Language' | 'Acoustic' | 'Pronunciation' | 'AudioFiles';

export const DATASET_KINDS: readonly DatasetKind[] = ['Language', 'Acoustic', 'Pronunciation', 'AudioFiles'];

/** `FileKind` values a dataset's files carry (v3.2 spec). */
export type DatasetFileKind = 'LanguageData' | 'PronunciationData' | 'AcousticDataArchive' | 'Audio' | 'DatasetReport';

/** One file of a dataset: the uploaded content or the validation report, stored in the blob store. */
export interface DatasetFile {
  /** GUID (`/datasets/{id}/files/{fileId}`). */
  id: string;
  name: string;
  fileKind: DatasetFileKind;
  /** Blob store key (`datasets/{datasetId}/...`). */
  key: string;
  size: number;
  createdAt: string;
}

/** A block of a block upload (`PUT /datasets/{id}/blocks?blockid=`): the client's id (base64) and its size. */
export interface DatasetBlock {
  id: string;
  size: number;
}

/** A dataset (protocol §D.6); its content lives in the blob store under `datasets/{id}/`. */
export interface Dataset extends EntityBase {
  kind: 'dataset';
  datasetKind: DatasetKind;
  projectId?: string;
  status: EntityStatus;
  /** Where the content came from, when created with contentUrl (never echoed in full if it holds a SAS). */
  contentUrl?: string;
  /** Block upload in progress (created without contentUrl, before blocks:commit). */
  uploading?: boolean;
  /** Blocks received and not committed yet (block uploads only). */
  uncommittedBlocks?: DatasetBlock[];
  /** The block list of the commit, in order. */
  committedBlocks?: DatasetBlock[];
  textNormalizationKind?: 'Default' | 'None';
  email?: string;
  acceptedLineCount?: number;
  rejectedLineCount?: number;
  /** Total duration of the accepted audio (Acoustic, AudioFiles). */
  durationMs?: number;
  /** The content (once received) and the report (once validated). */
  files?: DatasetFile[];
  error?: EntityError;
}
