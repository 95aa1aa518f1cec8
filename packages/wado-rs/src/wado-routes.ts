import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { uidParam } from '@tessera/http';
import type { RetrieveDependencies, RetrieveRequest, RetrieveResponse } from './retrieve.js';
import { retrieveBulkData } from './retrieve-bulk-data.js';
import { retrieveFrames } from './retrieve-frames.js';
import { retrieveInstances } from './retrieve-instances.js';
import { retrieveMetadata } from './retrieve-metadata.js';

export interface WadoRoutesOptions extends RetrieveDependencies {
  /** The DICOMweb service base URL as the client sees it, e.g. `https://pacs.example/dicomweb`. */
  serviceUrl(request: FastifyRequest): string;
}

type Params = { study: string; series?: string; instance?: string; '*'?: string };

/**
 * WADO-RS routes (PS3.18 §10.4): instances, metadata, frames and bulk data of studies, series and
 * instances. Rendered and thumbnail resources are not here. Malformed UIDs are 400, unknown ones 404
 * (digest COMMON-6).
 */
export const wadoRoutes: FastifyPluginAsync<WadoRoutesOptions> = async (app: FastifyInstance, options) => {
  const deps: RetrieveDependencies = { index: options.index, blobs: options.blobs, settings: options.settings };

  const retrieveRequest = (request: FastifyRequest): RetrieveRequest => {
    const query = request.query as Record<string, string | string[] | undefined>;
    return {
      accept: request.headers.accept,
      acceptQuery: query.accept,
      acceptEncoding: request.headers['accept-encoding'],
      ifNoneMatch: request.headers['if-none-match'],
      serviceUrl: options.serviceUrl(request),
    };
  };
  const scope = (params: Params) => ({
    studyInstanceUid: uidParam(params.study, 'StudyInstanceUID'),
    seriesInstanceUid: params.series === undefined ? undefined : uidParam(params.series, 'SeriesInstanceUID'),
    sopInstanceUid: params.instance === undefined ? undefined : uidParam(params.instance, 'SOPInstanceUID'),
  });
  const send = (reply: FastifyReply, response: RetrieveResponse) => {
    reply.code(response.status).headers(response.headers);
    return response.body === undefined ? reply.send() : reply.send(response.body);
  };

  for (const path of ['/studies/:study', '/studies/:study/series/:series', '/studies/:study/series/:series/instances/:instance']) {
    app.get<{ Params: Params }>(path, async (request, reply) => send(reply, await retrieveInstances(deps, scope(request.params), retrieveRequest(request))));
    app.get<{ Params: Params }>(`${path}/metadata`, async (request, reply) => send(reply, await retrieveMetadata(deps, scope(request.params), retrieveRequest(request))));
  }
  // A wildcard, not `:frames`: parametric segments are limited to 100 characters (maxParamLength),
  // and a list of every frame of a multi-frame image is longer.
  app.get<{ Params: Params }>('/studies/:study/series/:series/instances/:instance/frames/*', async (request, reply) => {
    const s = scope(request.params);
    return send(reply, await retrieveFrames(deps, s.studyInstanceUid, s.seriesInstanceUid!, s.sopInstanceUid!, request.params['*'] ?? '', retrieveRequest(request)));
  });
  app.get<{ Params: Params }>('/studies/:study/series/:series/instances/:instance/bulkdata/*', async (request, reply) => {
    const s = scope(request.params);
    return send(reply, await retrieveBulkData(deps, s.studyInstanceUid, s.seriesInstanceUid!, s.sopInstanceUid!, request.params['*'] ?? '', retrieveRequest(request)));
  });
};
