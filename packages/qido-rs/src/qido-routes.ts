import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { HttpProblem, noteAuditedStudies, uidParam, warningHeader } from '@tessera/http';
import { DICOM_JSON, MULTIPART_DICOM_XML, searchResultsForm } from './accept.js';
import { decodeQueryString, safeText } from './search-parameters.js';
import { resultsJson } from './search-results.js';
import { resultsXml } from './search-results-xml.js';
import {
  type SearchDependencies,
  type SearchRequest,
  type SearchResponse,
  searchForInstances,
  searchForSeries,
  searchForStudies,
} from './search-transactions.js';

export interface QidoRoutesOptions extends SearchDependencies {
  /** The DICOMweb service base URL as the client sees it, e.g. `https://pacs.example/dicomweb`. */
  serviceUrl(request: FastifyRequest): string;
  /** The only study this request may see (a share link, issue #14), or undefined: every search is limited to it in the query. */
  studyLimit?(request: FastifyRequest): string | undefined;
}

type Params = { study?: string; series?: string };

/**
 * QIDO-RS routes (PS3.18 §10.6): the six search resources of digest QIDO-1. Answers are
 * `application/dicom+json` arrays or `multipart/related; type="application/dicom+xml"` bodies (200), or 204 with no body when nothing matches (D1); one bounded
 * Warning 299 field carries the number of results left when the page is cut (QIDO-12) and the
 * ignored parameters.
 */
export const qidoRoutes: FastifyPluginAsync<QidoRoutesOptions> = async (app: FastifyInstance, options) => {
  const handle =
    (run: (request: SearchRequest, params: Params) => Promise<SearchResponse>) => async (request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
      const form = searchResultsForm(request.headers.accept);
      if (form === undefined) {
        throw new HttpProblem(
          406,
          'NOT_ACCEPTABLE',
          `QIDO-RS answers ${DICOM_JSON} (or application/json) or ${MULTIPART_DICOM_XML}; not ${safeText(request.headers.accept ?? '')} (PS3.18 §10.6.4)`,
        );
      }
      const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
      const serviceUrl = options.serviceUrl(request);
      const limitToStudy = options.studyLimit?.(request);
      const searchRequest: SearchRequest = { params: decodeQueryString(query), serviceUrl, ...(limitToStudy === undefined ? {} : { limitToStudy }) };
      const { results, warnings, studyInstanceUids } = await run(searchRequest, request.params);
      noteAuditedStudies(request, studyInstanceUids);
      const warning = warningHeader(serviceUrl, warnings);
      if (warning) reply.header('warning', warning);
      if (results.length === 0) return reply.code(204).send();
      if (form === 'xml') {
        const { contentType, stream } = resultsXml(results);
        return reply.code(200).type(contentType).send(stream);
      }
      // Encoded once here: for a string, fastify would measure its UTF-8 length and Node then encode it again.
      return reply
        .code(200)
        .type(DICOM_JSON)
        .send(Buffer.from(resultsJson(results)));
    };

  const study = (p: Params) => uidParam(p.study, 'StudyInstanceUID');
  const series = (p: Params) => uidParam(p.series, 'SeriesInstanceUID');
  app.get(
    '/studies',
    handle((r) => searchForStudies(options, r)),
  );
  app.get(
    '/studies/:study/series',
    handle((r, p) => searchForSeries(options, r, { studyInstanceUid: study(p) })),
  );
  app.get(
    '/series',
    handle((r) => searchForSeries(options, r)),
  );
  app.get(
    '/studies/:study/series/:series/instances',
    handle((r, p) => searchForInstances(options, r, { studyInstanceUid: study(p), seriesInstanceUid: series(p) })),
  );
  app.get(
    '/studies/:study/instances',
    handle((r, p) => searchForInstances(options, r, { studyInstanceUid: study(p) })),
  );
  app.get(
    '/instances',
    handle((r) => searchForInstances(options, r)),
  );
};
