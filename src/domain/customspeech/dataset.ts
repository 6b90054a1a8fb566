import type { EntityBase, EntityError, EntityStatus } from './common.js';

export type DatasetKind = 'Language' | 'Acoustic' | 'Pronunciation' | 'AudioFiles';

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
  acceptedLineCount?: number;
  rejectedLineCount?: number;
  error?: EntityError;
}
