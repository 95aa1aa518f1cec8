import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { type WadoUriDependencies, type WadoUriQuery, retrieveWadoUri } from './retrieve-wado-uri.js';

export interface WadoUriRoutesOptions extends WadoUriDependencies {
  /** Public base URL of the server as the client sees it (for Content-Location). */
  baseUrl(request: FastifyRequest): string;
}

/** WADO-URI (PS3.18 §9): `GET <prefix>?requestType=WADO&studyUID=…&seriesUID=…&objectUID=…`. */
export const wadoUriRoutes: FastifyPluginAsync<WadoUriRoutesOptions> = async (app: FastifyInstance, options) => {
  app.get('/', async (request, reply) => {
    const { headers, body } = await retrieveWadoUri(options, request.query as WadoUriQuery);
    headers['content-location'] = `${options.baseUrl(request)}${request.url}`;
    return reply.code(200).headers(headers).send(body);
  });
};
