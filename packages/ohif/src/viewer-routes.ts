import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { HttpProblem } from '@tessera/http';
import { type ViewerCapabilities, viewerAppConfig } from './app-config.js';

export interface ViewerRoutesOptions {
  /** The prebuilt OHIF dist (installed by scripts/fetch-viewer.ts). */
  viewerDir: string;
  capabilities: ViewerCapabilities;
  /** Public base URL of the request (proxy-aware). */
  baseUrl(request: FastifyRequest): string;
}

/** OHIF's client-side routes served with index.html (its router takes over in the browser). */
const SPA_ROUTES = ['/', '/viewer', '/viewer/*', '/segmentation', '/tmtv', '/microscopy'];

/**
 * Hosts the OHIF v3 viewer at the site root, as its prebuilt bundles expect (they load
 * `/app.bundle….js` by absolute path): static files, a generated `app-config.js`, and index.html
 * for OHIF's own routes, so `/viewer?StudyInstanceUIDs=…` and `/viewer/dicomjson?url=…` open a
 * study with zero configuration. HTML is sent with COOP/COEP so OHIF may use SharedArrayBuffer
 * (3D views); every response of the server carries CORP (see the server's CORS hook).
 */
export const viewerRoutes: FastifyPluginAsync<ViewerRoutesOptions> = async (app, options) => {
  const indexFile = join(options.viewerDir, 'index.html');
  const installed = existsSync(indexFile);

  app.get('/app-config.js', async (request, reply) => {
    reply.header('cache-control', 'no-cache');
    return reply.type('text/javascript; charset=utf-8').send(viewerAppConfig(options.baseUrl(request), options.capabilities));
  });

  if (!installed) {
    const unavailable = async () => {
      throw new HttpProblem(503, 'VIEWER_NOT_INSTALLED', 'the OHIF viewer is not installed; run `pnpm --filter @tessera/ohif fetch-viewer` (needs the npm registry)');
    };
    for (const url of SPA_ROUTES) app.get(url, unavailable);
    return;
  }

  const indexHtml = readFileSync(indexFile);
  const sendIndex = async (_request: FastifyRequest, reply: FastifyReply) => {
    reply
      .header('cache-control', 'no-cache')
      .header('cross-origin-opener-policy', 'same-origin')
      .header('cross-origin-embedder-policy', 'require-corp');
    return reply.type('text/html; charset=utf-8').send(indexHtml);
  };
  for (const url of SPA_ROUTES) app.get(url, sendIndex);

  // One route per file (wildcard: false), so unknown paths still reach the API's 404 handler.
  await app.register(fastifyStatic, {
    root: options.viewerDir,
    prefix: '/',
    wildcard: false,
    index: false,
    // Served by the routes above instead: the generated config and the SPA entry.
    globIgnore: ['app-config.js', 'index.html'],
    setHeaders: (res, path) => {
      // Web workers of a cross-origin isolated page must themselves be served with COEP.
      res.header('cross-origin-embedder-policy', 'require-corp');
      res.header('cross-origin-opener-policy', 'same-origin');
      // Bundles carry content hashes in their names: cache them for long.
      if (/\.[0-9a-f]{8,}\./.test(path)) res.header('cache-control', 'public, max-age=31536000, immutable');
    },
  });
};
