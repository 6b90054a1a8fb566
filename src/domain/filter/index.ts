/**
 * The Speech-to-text REST `filter=` language and list paging (see README.md).
 *
 *   const matches = compileFilter(query.filter, V32_FILTER_PROPERTIES.transcriptions);   // throws FilterError
 *   const { page, next } = paginate(all.filter(matches), parsePagingQuery(query));       // throws PagingError
 */

export { FilterError, parseDateTime, compareInstants, tokenize, type FilterErrorCode, type Instant, type Token } from './lexer.js';
export { FILTER_LIMITS, parseFilter, type CompareOp, type Comparison, type FilterNode, type Literal } from './parser.js';
export {
  compileAst,
  compileFilter,
  type FilterPredicate,
  type FilterProperties,
  type FilterPropertySpec,
  type FilterPropertyType,
} from './evaluate.js';
export {
  PAGING_DEFAULTS,
  PagingError,
  decodeSkipToken,
  encodeSkipToken,
  paginate,
  paginateByToken,
  parsePagingQuery,
  resolvePaging,
  type Page,
  type PagingErrorCode,
  type PagingOptions,
} from './paging.js';

import type { FilterProperties } from './evaluate.js';

/** `Status` in v3.2 (a closed enum: `modelAsString: false`). */
export const STATUS_VALUES = ['NotStarted', 'Running', 'Succeeded', 'Failed'] as const;

const status = { type: 'enum', values: STATUS_VALUES } as const;

/** Properties shared by transcriptions, endpoints, evaluations and custom/base models. */
const COMMON: FilterProperties = {
  displayName: 'string',
  description: 'string',
  createdDateTime: 'datetime',
  lastActionDateTime: 'datetime',
  status,
  locale: 'string',
};

/**
 * Filterable properties per v3.2 list operation, transcribed from the `filter` parameter descriptions in
 * speechtotext-v3.2.json (identical in 2024-11-15). Every list allows eq/ne on all of them and gt/ge/lt/le on
 * the date-times; `kind` is an open enum there (`modelAsString: true`), so its values are not checked.
 */
export const V32_FILTER_PROPERTIES = {
  /** GET /transcriptions, GET /projects/{id}/transcriptions */
  transcriptions: COMMON,
  /** GET /endpoints, GET /projects/{id}/endpoints */
  endpoints: COMMON,
  /** GET /evaluations, GET /projects/{id}/evaluations */
  evaluations: COMMON,
  /** GET /models (custom), GET /models/base, GET /projects/{id}/models */
  models: COMMON,
  /** GET /datasets, GET /projects/{id}/datasets */
  datasets: { ...COMMON, kind: 'enum' },
  /** GET /projects: no lastActionDateTime or status */
  projects: { displayName: 'string', description: 'string', createdDateTime: 'datetime', locale: 'string' },
  /** GET /webhooks: webUrl instead of locale */
  webhooks: {
    displayName: 'string',
    description: 'string',
    createdDateTime: 'datetime',
    lastActionDateTime: 'datetime',
    status,
    webUrl: 'string',
  },
  /** GET /transcriptions|datasets|evaluations|models/{id}/files (endpoint logs take no filter) */
  files: { name: 'string', createdDateTime: 'datetime', kind: 'enum' },
} as const satisfies Record<string, FilterProperties>;

export type V32FilteredList = keyof typeof V32_FILTER_PROPERTIES;
