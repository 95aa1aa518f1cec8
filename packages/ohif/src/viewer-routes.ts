import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { HttpProblem, MountPoint } from '@tessera/http';
import { SIGN_IN_CALLBACK_PATH, type ViewerCapabilities, type ViewerSignIn, viewerAppConfig } from './app-config.js';
import { studyOfDicomJsonLink, studyOfLegacyLink } from './legacy-link.js';
import { PatchedFile, basePathOf, editsFor, indexHtmlFor, isPatchable, prepareIndexHtml } from './viewer-dist.js';

export interface ViewerRoutesOptions {
  /** The prebuilt OHIF dist (installed by scripts/fetch-viewer.ts). */
  viewerDir: string;
  capabilities: ViewerCapabilities;
  /** Set when the viewer signs people in with OpenID Connect (AUTH_MODE with oidc). */
  signIn?: ViewerSignIn;
  /** Public base URL of the request (proxy-aware). */
  baseUrl(request: FastifyRequest): string;
  /**
   * Whether this browser opened a share link (issue #14) that is still valid: its app-config.js then
   * has no sign-in, as the share cookie is its credential. Undefined: never.
   */
  opensShare?(request: FastifyRequest): Promise<boolean>;
}

/** OHIF's client-side routes served with index.html (its router takes over in the browser). */
const SPA_ROUTES = ['/', '/viewer', '/viewer/*', '/segmentation', '/tmtv', '/microscopy'];
/** OHIF's sign-in routes (OpenIdConnectRoutes): the authorization response, and /login, /logout. */
const SIGN_IN_ROUTES = [SIGN_IN_CALLBACK_PATH, '/login', '/logout'];

/** Bundles carry content hashes in their names: cache them for long. */
const HASHED = /\.[0-9a-f]{8,}\./;

/**
 * Hosts the OHIF v3 viewer at the site root (or under the path prefix of the public base URL):
 * static files, a generated `app-config.js`, and index.html for OHIF's own routes, so
 * `/viewer?StudyInstanceUIDs=…` and `/viewer/dicomjson?url=…` open a study with zero
 * configuration. The legacy link form `/viewer?url=<this server>/ohif/study/{s}/series`, which
 * OHIF v3 cannot read, is redirected to `/viewer?StudyInstanceUIDs={s}`. HTML is sent with
 * COOP/COEP so OHIF may use SharedArrayBuffer (3D views); every response of the server carries
 * CORP (see the server's CORS hook).
 */
export const viewerRoutes: FastifyPluginAsync<ViewerRoutesOptions> = async (app, options) => {
  const indexFile = join(options.viewerDir, 'index.html');
  const installed = existsSync(indexFile);

  app.get('/app-config.js', async (request, reply) => {
    reply.header('cache-control', 'no-cache');
    const signIn = options.signIn && !(await options.opensShare?.(request)) ? options.signIn : undefined;
    return reply.type('text/javascript; charset=utf-8').send(viewerAppConfig(options.baseUrl(request), options.capabilities, signIn));
  });

  if (!installed) {
    const unavailable = async () => {
      throw new HttpProblem(
        503,
        'VIEWER_NOT_INSTALLED',
        'the OHIF viewer is not installed; run `pnpm --filter @tessera/ohif fetch-viewer` (needs the npm registry)',
      );
    };
    for (const url of [...SPA_ROUTES, ...(options.signIn ? SIGN_IN_ROUTES : [])]) app.get(url, unavailable);
    return;
  }

  const isolate = (reply: FastifyReply) => reply.header('cross-origin-opener-policy', 'same-origin').header('cross-origin-embedder-policy', 'require-corp');

  const indexHtml = prepareIndexHtml(readFileSync(indexFile, 'utf8'));
  const authority = options.signIn ? new URL(options.signIn.authority).origin : undefined;
  const sendIndex = async (request: FastifyRequest, reply: FastifyReply) => {
    const baseUrl = options.baseUrl(request);
    const html = indexHtmlFor(indexHtml, basePathOf(baseUrl));
    // The policy allows exactly the inline scripts of the page as it is sent (hashed per request:
    // the page differs by base path; two small scripts).
    isolate(reply)
      .header('cache-control', 'no-cache')
      .header('content-security-policy', viewerPolicy(inlineScriptHashes(html), new URL(baseUrl).origin, authority))
      .header('x-frame-options', 'SAMEORIGIN');
    return reply.type('text/html; charset=utf-8').send(html);
  };
  for (const url of [...SPA_ROUTES.filter((u) => u !== '/viewer'), ...(options.signIn ? SIGN_IN_ROUTES : [])]) app.get(url, sendIndex);

  // `/viewer?url=…`: the legacy standalone link. OHIF v3 does not read that JSON, so the link is
  // answered with the same study through the dicomweb data source. The url is never fetched.
  app.get<{ Querystring: Record<string, string | string[] | undefined> }>('/viewer', async (request, reply) => {
    const { url, StudyInstanceUIDs } = request.query;
    if (url === undefined || StudyInstanceUIDs !== undefined) return sendIndex(request, reply);
    const baseUrl = options.baseUrl(request);
    const page = `${baseUrl}${request.url.split('?')[0]}`;
    const study = typeof url === 'string' ? studyOfLegacyLink(url, page, baseUrl) : undefined;
    if (!study) {
      throw new HttpProblem(
        400,
        'LEGACY_LINK_NOT_RECOGNISED',
        `the url parameter is not a study link of this server; the hosted viewer opens ${baseUrl}${MountPoint.ohif}/study/{StudyInstanceUID}/series (not fetched: it only names the study) or /viewer?StudyInstanceUIDs={StudyInstanceUID}`,
      );
    }
    reply.header('cache-control', 'no-store');
    return reply.redirect(`${basePathOf(baseUrl)}/viewer?StudyInstanceUIDs=${study}`, 302);
  });

  // With sign-in, `/viewer/dicomjson?url=<this server's DICOM JSON of a study>` opens the same study
  // through the dicomweb data source: OHIF 3.13's dicomjson source fetches the JSON without the
  // Authorization header (its images would carry it), so the JSON route would answer 401.
  if (options.signIn) {
    app.get<{ Querystring: Record<string, string | string[] | undefined> }>('/viewer/dicomjson', async (request, reply) => {
      const { url } = request.query;
      const baseUrl = options.baseUrl(request);
      const study = typeof url === 'string' ? studyOfDicomJsonLink(url, `${baseUrl}/viewer/dicomjson`, baseUrl) : undefined;
      if (!study) return sendIndex(request, reply);
      reply.header('cache-control', 'no-store');
      return reply.redirect(`${basePathOf(baseUrl)}/viewer?StudyInstanceUIDs=${study}`, 302);
    });
  }

  // Files with prefix-independent edits (viewer-dist.ts), streamed from the dist.
  const patched = readdirSync(options.viewerDir).filter(
    (name) => name !== 'app-config.js' && isPatchable(name) && statSync(join(options.viewerDir, name)).isFile(),
  );
  for (const name of patched) {
    const file = new PatchedFile(join(options.viewerDir, name), editsFor(name));
    const type = name.endsWith('.css')
      ? 'text/css; charset=utf-8'
      : name.endsWith('.json')
        ? 'application/manifest+json; charset=utf-8'
        : 'text/javascript; charset=utf-8';
    app.get(`/${name}`, async (request, reply) => {
      const { size, etag } = await file.describe();
      isolate(reply)
        .header('etag', etag)
        .header('cache-control', HASHED.test(name) ? 'public, max-age=31536000, immutable' : 'no-cache')
        .type(type);
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      reply.header('content-length', size);
      return reply.send(await file.stream());
    });
  }

  // One route per file (wildcard: false), so unknown paths still reach the API's 404 handler.
  await app.register(fastifyStatic, {
    root: options.viewerDir,
    prefix: '/',
    wildcard: false,
    index: false,
    // Served by the routes above instead: the generated config, the SPA entry, the edited files.
    globIgnore: ['app-config.js', 'index.html', ...patched],
    setHeaders: (res, path) => {
      // Web workers of a cross-origin isolated page must themselves be served with COEP.
      res.header('cross-origin-embedder-policy', 'require-corp');
      res.header('cross-origin-opener-policy', 'same-origin');
      if (HASHED.test(path)) res.header('cache-control', 'public, max-age=31536000, immutable');
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
 * packages/e2e/test/ohif-viewer.test.ts: no CSP violation while a study is displayed. With sign-in,
 * the identity provider's origin (`authority`) is added to `connect-src` (OHIF's OIDC client reads
 * its discovery document and keys and exchanges the code for tokens with fetch) and to `frame-src`
 * (silent renewal runs in a hidden iframe); the sign-in page itself is a top-level navigation.
 */
export function viewerPolicy(inlineScripts: readonly string[], apiOrigin: string, authority?: string): string {
  const hashes = inlineScripts.map((hash) => `'${hash}'`).join(' ');
  return [
    "default-src 'self'",
    `script-src 'self' 'wasm-unsafe-eval' ${hashes}`.trim(),
    "worker-src 'self' blob:",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "media-src 'self' data: blob:",
    `connect-src 'self' ${apiOrigin}${authority ? ` ${authority}` : ''} data: blob:`,
    ...(authority ? [`frame-src 'self' ${authority}`] : []),
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
