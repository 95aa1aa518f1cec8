import type { Index } from '@tessera/index';
import { type SearchLimits, type SearchResource, parseSearchQuery } from './search-parameters.js';
import { type RenderContext, type ResultDataset, emptyAttribute, renderInstance, renderSeries, renderStudy } from './search-results.js';

/**
 * The QIDO-RS Search transaction (PS3.18 §10.6), framework-free: decoded query parameters in,
 * result datasets and Warning texts out. The routes only add HTTP.
 */
export interface SearchRequest {
  /** Decoded query parameters in request order (repeats kept). */
  params: readonly (readonly [string, string])[];
  /** The DICOMweb service base URL as the client sees it (RetrieveURL, Warning). */
  serviceUrl: string;
  /**
   * The only study the client may see (a share link's principal, issue #14): the search gets an
   * extra StudyInstanceUID condition, in the query itself, at every level.
   */
  limitToStudy?: string;
}

export interface SearchResponse {
  /** One dataset per match, in the order of QIDO-12; empty = 204. */
  results: ResultDataset[];
  /** Warning texts (without `299 <service>: `). */
  warnings: string[];
  /** The distinct studies of the results (for the audit trail). */
  studyInstanceUids: string[];
}

export interface SearchDependencies extends SearchLimits {
  index: Pick<Index, 'search'>;
}

/** `GET /studies` (QIDO-1). */
export function searchForStudies(deps: SearchDependencies, request: SearchRequest): Promise<SearchResponse> {
  return search(deps, request, { level: 'study' });
}

/** `GET /series` and `GET /studies/{s}/series`. */
export function searchForSeries(deps: SearchDependencies, request: SearchRequest, path: { studyInstanceUid?: string } = {}): Promise<SearchResponse> {
  return search(deps, request, { level: 'series', ...path });
}

/** `GET /instances`, `GET /studies/{s}/instances` and `GET /studies/{s}/series/{se}/instances`. */
export function searchForInstances(
  deps: SearchDependencies,
  request: SearchRequest,
  path: { studyInstanceUid?: string; seriesInstanceUid?: string } = {},
): Promise<SearchResponse> {
  return search(deps, request, { level: 'instance', ...path });
}

const STUDY_INSTANCE_UID = '0020000D';

async function search(deps: SearchDependencies, request: SearchRequest, resource: SearchResource): Promise<SearchResponse> {
  const { query, warnings, matchKeys } = parseSearchQuery(resource, request.params, deps);
  if (request.limitToStudy !== undefined) query.filters.push({ kind: 'uidList', tag: STUDY_INSTANCE_UID, uids: [request.limitToStudy] });
  const ctx: RenderContext = { serviceUrl: request.serviceUrl, includeFields: query.includeFields };
  let results: ResultDataset[];
  let remaining: Promise<number>;
  const studies = new Set<string>();
  switch (query.level) {
    case 'study': {
      const page = await deps.index.search.searchStudies(query);
      results = page.matches.map((study) => renderStudy(study, ctx));
      for (const study of page.matches) studies.add(study.studyInstanceUid);
      remaining = page.remaining;
      break;
    }
    case 'series': {
      const page = await deps.index.search.searchSeries(query);
      const relational = resource.studyInstanceUid === undefined;
      results = page.matches.map((series) => renderSeries(series, ctx, relational));
      for (const series of page.matches) studies.add(series.study.studyInstanceUid);
      remaining = page.remaining;
      break;
    }
    case 'instance': {
      const page = await deps.index.search.searchInstances(query);
      const parents = { study: resource.studyInstanceUid === undefined, series: resource.seriesInstanceUid === undefined };
      results = page.matches.map((instance) => renderInstance(instance, ctx, parents));
      for (const instance of page.matches) studies.add(instance.series.study.studyInstanceUid);
      remaining = page.remaining;
      break;
    }
  }
  if (matchKeys.length) {
    const empty = matchKeys.map((key) => [key, emptyAttribute(key)] as const);
    for (const result of results) for (const [key, json] of empty) result.setIfAbsent(key, json);
  }
  // The count of a full page ran in the database while the page was rendered (QIDO-12).
  const more = await remaining;
  // First: the Warning field is bounded, and a client must not lose this one among ignored parameters.
  if (more > 0) warnings.unshift(`There are ${more} additional results that can be requested`);
  return { results, warnings, studyInstanceUids: [...studies] };
}
