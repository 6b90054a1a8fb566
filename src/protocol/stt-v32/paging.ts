import type { FastifyRequest } from 'fastify';
import { compileFilter, paginate, parsePagingQuery, V32_FILTER_PROPERTIES, type V32FilteredList } from '../../domain/filter/index.js';
import { queryValue } from '../shared/query.js';
import type { Urls } from './urls.js';

/**
 * One page of a v3.2 list: `filter` (per-list properties), then `skip`/`top`, with `@nextLink`
 * only when more remain (protocol §D.2). FilterError and PagingError are ServiceErrors with the
 * API's inner codes, rendered by the v3.2 error handler.
 */
export function listPage(
  req: FastifyRequest,
  urls: Urls,
  path: string,
  views: Record<string, unknown>[],
  list: V32FilteredList,
  keep: readonly string[] = [],
): Record<string, unknown> {
  const filterText = queryValue(req.query, 'filter');
  const items = filterText ? views.filter(compileFilter(filterText, V32_FILTER_PROPERTIES[list])) : views;
  const result = paginate(items, parsePagingQuery({ skip: queryValue(req.query, 'skip'), top: queryValue(req.query, 'top') }));
  const out: Record<string, unknown> = { values: result.page };
  if (result.next) {
    const next = new URL(urls.entity(path));
    next.searchParams.set('skip', String(result.next.skip));
    next.searchParams.set('top', String(result.next.top));
    if (filterText) next.searchParams.set('filter', filterText);
    // Parameters that shape each item (e.g. sasValidityInSeconds on file lists) carry over.
    for (const name of keep) {
      const v = queryValue(req.query, name);
      if (v !== undefined) next.searchParams.set(name, v);
    }
    out['@nextLink'] = next.toString();
  }
  return out;
}
