import { createHash } from 'node:crypto';
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
  const inlineScripts = inlineScriptHashes(indexHtml.toString('utf8'));
  const sendIndex = async (request: FastifyRequest, reply: FastifyReply) => {
    reply
      .header('cache-control', 'no-cache')
      .header('content-security-policy', viewerPolicy(inlineScripts, new URL(options.baseUrl(request)).origin))
      .header('x-frame-options', 'SAMEORIGIN')
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

/**
 * The viewer's Content-Security-Policy: what OHIF v3 needs and no more. Its bundles, CSS and
 * app-config.js come from this origin; the two inline scripts of its index.html are allowed by hash;
 * WebAssembly codecs need 'wasm-unsafe-eval' (not 'unsafe-eval'); cornerstone starts workers from
 * this origin and from blob: URLs; React and the UI kit set inline styles; images and fonts may be
 * data:/blob: URLs. `connect-src` adds the origin the generated app-config.js points at (the public
 * base URL), which differs from the page's when the viewer is opened by another name. Framing only
 * by this origin (`frame-ancestors 'self'`, also X-Frame-Options). Checked in Chromium by
 * packages/e2e/test/ohif-viewer.test.ts: no CSP violation while a study is displayed.
 */
export function viewerPolicy(inlineScripts: readonly string[], apiOrigin: string): string {
  const hashes = inlineScripts.map((hash) => `'${hash}'`).join(' ');
  return [
    "default-src 'self'",
    `script-src 'self' 'wasm-unsafe-eval' ${hashes}`.trim(),
    "worker-src 'self' blob:",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "media-src 'self' data: blob:",
    `connect-src 'self' ${apiOrigin} data: blob:`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'self'",
  ].join('; ');
}

/** `sha256-…` of each inline `<script>` of a page (CSP Level 2 hash sources). */
export function inlineScriptHashes(html: string): string[] {
  const hashes: string[] = [];
  for (const match of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    if (/\bsrc\s*=/i.test(match[1]!) || match[2] === '') continue;
    hashes.push(`sha256-${createHash('sha256').update(match[2]!, 'utf8').digest('base64')}`);
  }
  return hashes;
}
