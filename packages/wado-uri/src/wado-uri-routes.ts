import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { RetrieveDependencies } from '@tessera/retrieve';
import { type WadoUriResponse, retrieveWadoUri } from './retrieve-wado-uri.js';
import { toHttpProblem } from './wado-uri-problem.js';
import { type WadoUriQuery, parseWadoUriRequest } from './wado-uri-request.js';

export interface WadoUriRoutesOptions extends RetrieveDependencies {
  /** Public base URL of the server as the client sees it (for Content-Location). */
  baseUrl(request: FastifyRequest): string;
}

/** WADO-URI (PS3.18 §9): `GET <prefix>?requestType=WADO&studyUID=…&seriesUID=…&objectUID=…`. */
export const wadoUriRoutes: FastifyPluginAsync<WadoUriRoutesOptions> = async (app: FastifyInstance, options) => {
  const deps: RetrieveDependencies = { index: options.index, blobs: options.blobs, settings: options.settings };
  app.get('/', async (request, reply) => {
    const { scope, request: asked } = parseWadoUriRequest(request.query as WadoUriQuery);
    let response: WadoUriResponse;
    try {
      response = await retrieveWadoUri(deps, scope, asked);
    } catch (error) {
      throw toHttpProblem(error);
    }
    response.headers['content-location'] = `${options.baseUrl(request)}${request.url}`;
    // Written out (every socket write completed): the lent buffer can serve the next request.
    if (response.release) reply.raw.once('finish', response.release);
    return reply.code(200).headers(response.headers).send(response.body);
  });
};
