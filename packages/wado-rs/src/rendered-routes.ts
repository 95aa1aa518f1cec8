import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { uidParam } from '@tessera/http';
import type { RetrieveScope } from '@tessera/index';
import type { RetrieveResponse } from './retrieve.js';
import { parseFrameList } from './retrieve-frames.js';
import { type RenderDependencies, retrieveRendered, retrieveThumbnail } from './retrieve-rendered.js';

export interface RenderedRoutesOptions extends RenderDependencies {
  serviceUrl(request: FastifyRequest): string;
}

type Params = { study: string; series?: string; instance?: string; frames?: string };

/** `/rendered` and `/thumbnail` on study, series, instance and frames (digest WADORS-1, -8, -9). */
export const renderedRoutes: FastifyPluginAsync<RenderedRoutesOptions> = async (app: FastifyInstance, options) => {
  const scope = (params: Params): RetrieveScope & { frames?: number[] } => ({
    studyInstanceUid: uidParam(params.study, 'StudyInstanceUID'),
    seriesInstanceUid: params.series === undefined ? undefined : uidParam(params.series, 'SeriesInstanceUID'),
    sopInstanceUid: params.instance === undefined ? undefined : uidParam(params.instance, 'SOPInstanceUID'),
    frames: params.frames === undefined ? undefined : parseFrameList(params.frames),
  });
  const renderRequest = (request: FastifyRequest) => ({
    query: request.query as Record<string, unknown>,
    accept: request.headers.accept,
    serviceUrl: options.serviceUrl(request),
  });
  const send = (reply: FastifyReply, response: RetrieveResponse) => reply.code(response.status).headers(response.headers).send(response.body);
  for (const path of [
    '/studies/:study',
    '/studies/:study/series/:series',
    '/studies/:study/series/:series/instances/:instance',
    '/studies/:study/series/:series/instances/:instance/frames/:frames',
  ]) {
    app.get<{ Params: Params }>(`${path}/rendered`, async (request, reply) => send(reply, await retrieveRendered(options, scope(request.params), renderRequest(request))));
    app.get<{ Params: Params }>(`${path}/thumbnail`, async (request, reply) => send(reply, await retrieveThumbnail(options, scope(request.params), renderRequest(request))));
  }
};
