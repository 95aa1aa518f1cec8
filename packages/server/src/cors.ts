import type { FastifyInstance } from 'fastify';

export interface CorsSettings {
  /** Allowed origins, or `*` for any. An empty list disables cross-origin access. */
  allowedOrigins: string[] | '*';
}

const ALLOWED_METHODS = 'GET, HEAD, POST, DELETE, OPTIONS';
const ALLOWED_HEADERS = 'Authorization, Accept, Accept-Encoding, Content-Type, If-None-Match, Range, X-Request-Id';
const EXPOSED_HEADERS = 'Warning, Content-Location, Content-Length, Content-Type, ETag, Location, X-Request-Id';

/**
 * CORS for browser viewers on other origins (digest COMMON-7). A preflight (`OPTIONS` with
 * `Access-Control-Request-Method`) is answered here with 204, before any route; a plain `OPTIONS`
 * goes on to its route (PS3.18 capabilities, CAP-1). Written here rather than with @fastify/cors,
 * whose preflight hook answers every OPTIONS request and so leaves no room for the capabilities
 * resource. Every response also carries `Cross-Origin-Resource-Policy: cross-origin`, so that a
 * viewer page isolated with COEP (OHIF's 3D views) may load our images.
 */
export function installCors(app: FastifyInstance, settings: CorsSettings): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('cross-origin-resource-policy', 'cross-origin');
    const origin = request.headers.origin;
    if (!origin) return;
    const allowed = settings.allowedOrigins === '*' || settings.allowedOrigins.includes(origin);
    if (!allowed) return;
    reply.header('access-control-allow-origin', settings.allowedOrigins === '*' ? '*' : origin);
    if (settings.allowedOrigins !== '*') reply.header('vary', 'Origin');
    reply.header('access-control-expose-headers', EXPOSED_HEADERS);
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method']) {
      reply
        .header('access-control-allow-methods', ALLOWED_METHODS)
        .header('access-control-allow-headers', request.headers['access-control-request-headers'] ?? ALLOWED_HEADERS)
        .header('access-control-max-age', '600')
        .code(204)
        .send();
      // An async hook that answers must return the reply, or fastify routes the request on (to a
      // 404) while asynchronous onSend hooks still run.
      return reply;
    }
  });
}
