import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { HttpProblem, uidParam } from '@tessera/http';
import type { Index } from '@tessera/index';
import { toOhifDicomJson } from './dicom-json-study.js';
import { toLegacyStudy } from './legacy-study.js';
import { loadStudyView } from './study-view.js';

export interface OhifRoutesOptions {
  index: Pick<Index, 'search'>;
  baseUrl(request: FastifyRequest): string;
}

/**
 * The OHIF adapter's JSON (under `/ohif`): the legacy standalone format per study and per series,
 * and OHIF v3's DICOM JSON per study.
 */
export const ohifRoutes: FastifyPluginAsync<OhifRoutesOptions> = async (app, options) => {
  const notFound = (uid: string) => new HttpProblem(404, 'STUDY_NOT_FOUND', `no study ${uid} is stored`);

  app.get<{ Params: { study: string } }>('/study/:study/series', async (request) => {
    const studyUid = uidParam(request.params.study, 'StudyInstanceUID');
    const view = await loadStudyView(options.index, studyUid);
    if (!view) throw notFound(studyUid);
    return toLegacyStudy(view, options.baseUrl(request));
  });

  app.get<{ Params: { study: string; series: string } }>('/study/:study/series/:series', async (request) => {
    const studyUid = uidParam(request.params.study, 'StudyInstanceUID');
    const seriesUid = uidParam(request.params.series, 'SeriesInstanceUID');
    const view = await loadStudyView(options.index, studyUid, { seriesInstanceUid: seriesUid });
    if (!view) throw notFound(studyUid);
    if (view.series.length === 0) throw new HttpProblem(404, 'SERIES_NOT_FOUND', `no series ${seriesUid} in study ${studyUid}`);
    return toLegacyStudy(view, options.baseUrl(request));
  });

  app.get<{ Params: { study: string } }>('/dicomjson/studies/:study', async (request) => {
    const studyUid = uidParam(request.params.study, 'StudyInstanceUID');
    const view = await loadStudyView(options.index, studyUid, { withMetadata: true });
    if (!view) throw notFound(studyUid);
    return toOhifDicomJson(view, options.baseUrl(request));
  });
};
