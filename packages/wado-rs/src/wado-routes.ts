import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { uidParam } from '@tessera/http';
import type { InstanceScope, RetrieveDependencies, RetrieveScope } from '@tessera/retrieve';
import { parseFrameList } from './frame-list.js';
import { retrieveBulkData } from './retrieve-bulk-data.js';
import { retrieveFrames } from './retrieve-frames.js';
import { retrieveInstances } from './retrieve-instances.js';
import { retrieveMetadata } from './retrieve-metadata.js';
import { toHttpProblem } from './retrieve-problem.js';
import { retrieveRendered, retrieveThumbnail } from './retrieve-rendered.js';
import type { RenderRequest, RetrieveRequest, RetrieveResponse } from './retrieve-request.js';

export interface WadoRoutesOptions extends RetrieveDependencies {
  /** The DICOMweb service base URL as the client sees it, e.g. `https://pacs.example/dicomweb`. */
  serviceUrl(request: FastifyRequest): string;
}

type Params = { study: string; series?: string; instance?: string; '*'?: string };

const STUDY = '/studies/:study';
const SERIES = `${STUDY}/series/:series`;
const INSTANCE = `${SERIES}/instances/:instance`;

/**
 * WADO-RS routes (PS3.18 §10.4): instances, metadata, frames, bulk data, rendered and thumbnail
 * resources of studies, series, instances and frames. Malformed UIDs are 400, unknown ones 404
 * (digest COMMON-6). Each route parses its own parameters, calls one retrieve function
 * `(deps, scope, request)`, and maps its typed failures to problems (`toHttpProblem`).
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
  const renderRequest = (request: FastifyRequest, frames?: number[]): RenderRequest => ({
    ...retrieveRequest(request),
    query: request.query as Record<string, unknown>,
    frames,
  });
  const send = async (reply: FastifyReply, answer: () => Promise<RetrieveResponse>) => {
    let response: RetrieveResponse;
    try {
      response = await answer();
    } catch (error) {
      throw toHttpProblem(error);
    }
    reply.code(response.status).headers(response.headers);
    // Written out (every socket write completed): the lent buffer can serve the next request.
    if (response.release) reply.raw.once('finish', response.release);
    return response.body === undefined ? reply.send() : reply.send(response.body);
  };

  for (const path of [STUDY, SERIES, INSTANCE]) {
    app.get<{ Params: Params }>(path, (request, reply) => send(reply, () => retrieveInstances(deps, scopeOf(request.params), retrieveRequest(request))));
    app.get<{ Params: Params }>(`${path}/metadata`, (request, reply) =>
      send(reply, () => retrieveMetadata(deps, scopeOf(request.params), retrieveRequest(request))),
    );
    app.get<{ Params: Params }>(`${path}/rendered`, (request, reply) =>
      send(reply, () => retrieveRendered(deps, scopeOf(request.params), renderRequest(request))),
    );
    app.get<{ Params: Params }>(`${path}/thumbnail`, (request, reply) =>
      send(reply, () => retrieveThumbnail(deps, scopeOf(request.params), renderRequest(request))),
    );
  }
  // A wildcard, not `:frames`: parametric segments are limited to 100 characters (maxParamLength),
  // and a list of every frame of a multi-frame image is longer. The wildcard also carries the
  // rendered and thumbnail resources of a frame list (`frames/{list}/rendered`).
  app.get<{ Params: Params }>(`${INSTANCE}/frames/*`, (request, reply) => {
    const scope = instanceScopeOf(request.params);
    const { list, resource } = framesPath(request.params['*'] ?? '');
    const frames = parseFrameList(list);
    if (resource === 'rendered') return send(reply, () => retrieveRendered(deps, scope, renderRequest(request, frames)));
    if (resource === 'thumbnail') return send(reply, () => retrieveThumbnail(deps, scope, renderRequest(request, frames)));
    return send(reply, () => retrieveFrames(deps, scope, { ...retrieveRequest(request), frames }));
  });
  app.get<{ Params: Params }>(`${INSTANCE}/bulkdata/*`, (request, reply) =>
    send(reply, () => retrieveBulkData(deps, instanceScopeOf(request.params), { ...retrieveRequest(request), path: request.params['*'] ?? '' })),
  );
};

/** The UIDs of a study, series or instance path; a malformed one is a 400. */
function scopeOf(params: Params): RetrieveScope {
  return {
    studyInstanceUid: uidParam(params.study, 'StudyInstanceUID'),
    seriesInstanceUid: params.series === undefined ? undefined : uidParam(params.series, 'SeriesInstanceUID'),
    sopInstanceUid: params.instance === undefined ? undefined : uidParam(params.instance, 'SOPInstanceUID'),
  };
}

function instanceScopeOf(params: Params): InstanceScope {
  return {
    studyInstanceUid: uidParam(params.study, 'StudyInstanceUID'),
    seriesInstanceUid: uidParam(params.series, 'SeriesInstanceUID'),
    sopInstanceUid: uidParam(params.instance, 'SOPInstanceUID'),
  };
}

/** `{list}`, `{list}/rendered` or `{list}/thumbnail`: the part of a frames URL after `frames/`. */
export function framesPath(rest: string): { list: string; resource: 'frames' | 'rendered' | 'thumbnail' } {
  for (const resource of ['rendered', 'thumbnail'] as const) {
    if (rest.endsWith(`/${resource}`)) return { list: rest.slice(0, -resource.length - 1), resource };
  }
  return { list: rest, resource: 'frames' };
}
