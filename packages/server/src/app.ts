import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { BlobStore } from '@tessera/blob-store';
import type { Index } from '@tessera/index';
import { DEFAULT_VIEWER_DIR, ohifRoutes, viewerRoutes } from '@tessera/ohif';
import { DescribePool, stowRoutes, uploadRoutes } from '@tessera/stow-rs';
import { wadoRoutes } from '@tessera/wado-rs';
import { wadoUriRoutes } from '@tessera/wado-uri';
import { qidoRoutes } from '@tessera/qido-rs';
import { lifecycleRoutes } from '@tessera/lifecycle';
import { MountPoint, parseAccept } from '@tessera/http';
import { SHARE_COOKIE, cookieValue, createShareVerifier } from '@tessera/access';
import type { Config } from './config.js';
import { type Audit, auditRoutes, installAudit } from './audit/index.js';
import { backupRoutes } from './backup-routes.js';
import { capabilities, capabilitiesWadl } from './capabilities.js';
import { changeFeedRoutes } from './change-feed-routes.js';
import { type AccessControlHooks, installServerAccessControl } from './access-control.js';
import { installCors } from './cors.js';
import { installErrorHandling, sendProblem } from './error-handler.js';
import { installPendingRefresh } from './pending-refresh.js';
import { requestLogFields } from './request-log.js';
import { publicBaseUrl } from './public-url.js';
import { assertEveryRouteDecided, inRouteClass, trackRoutes } from './route-access.js';
import { serviceRoot } from './service-root.js';
import { installSecurityHeaders } from './security-headers.js';
import { shareRoutes } from './shares/share-routes.js';
import { createMetrics } from './metrics/metrics.js';
import { installOpenApi } from './openapi/openapi.js';
import { VERSION } from './version.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The audit trail's recorder (recordAuthentication for access control; flush for tests). */
    audit: Audit;
  }
}

/** The DICOMweb service root (digest: paths are relative to it). */
export const DICOMWEB_ROOT = MountPoint.dicomweb;

export interface AppDependencies {
  config: Config;
  index: Index;
  blobs: BlobStore;
  logger?: FastifyServerOptions['logger'];
  access?: AccessControlHooks;
}

/**
 * Assembles the application from open collaborators. Does not listen: tests call `inject()` or
 * `listen()` themselves, and the CLI does the latter.
 */
export async function buildApp({ config, index: givenIndex, blobs: givenBlobs, logger, access }: AppDependencies): Promise<FastifyInstance> {
  // Metrics observe the storage at this boundary: every service gets the observed index and blob store.
  const metrics = config.metrics.enabled ? createMetrics() : undefined;
  const index = metrics ? metrics.observeIndex(givenIndex) : givenIndex;
  const blobs = metrics ? metrics.observeBlobs(givenBlobs) : givenBlobs;
  const app = Fastify({
    // Whatever the caller sets, requests are logged without query values (request-log.ts).
    logger:
      logger === false
        ? false
        : {
            level: config.logLevel,
            ...(typeof logger === 'object' ? logger : {}),
            serializers: { req: requestLogFields },
          },
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,128}$/.test(given) ? given : randomUUID();
    },
    // Upload bodies are streams with their own limits; this bounds everything else.
    bodyLimit: 1 << 20,
    trustProxy: config.trustProxy,
    // Closes a connection on which nothing moves, e.g. a client that stopped reading a large
    // retrieval; STOW-RS judges its uploads by the body timeout instead (stow-routes.ts).
    connectionTimeout: config.http.idleTimeoutMs,
    routerOptions: { ignoreTrailingSlash: true },
    // Registering the services (viewer files, routes) takes a fraction of a second, but on a host
    // starved of CPU it took over fastify's default 10 s and the server exited at start
    // (AVV_ERR_PLUGIN_EXEC_TIMEOUT, seen by `pnpm reliability` restarting it under load).
    pluginTimeout: 120_000,
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  trackRoutes(app);
  // Collects the routes as they are added (before any), for /openapi.json and /api/docs.
  const openApi = await installOpenApi(app, config);
  metrics?.install(app);
  installErrorHandling(app);
  installSecurityHeaders(app);
  installCors(app, { allowedOrigins: config.corsAllowedOrigins });
  // Before the routes: their requests are recorded when answered (audit/install-audit.ts), and
  // every authentication outcome of access control is a User Authentication event.
  const audit = installAudit(app, index, config.audit);
  app.decorate('audit', audit);
  const shares = createShareVerifier({ shares: index.shares });
  installServerAccessControl(
    app,
    config,
    index,
    {
      onAuthentication(request, outcome) {
        audit.recordAuthentication(request, outcome);
        access?.onAuthentication?.(request, outcome);
      },
    },
    shares,
  );
  installPendingRefresh(app, index);
  // Every service route, by URL, with its methods (for the 405 answers added at the end).
  const routes = new Map<string, Set<string>>();
  let collecting = true;
  app.addHook('onRoute', (route) => {
    if (!collecting) return;
    if (!route.url.startsWith(DICOMWEB_ROOT) && !route.url.startsWith(MountPoint.wadoUriAlias)) return;
    const methods = routes.get(route.url) ?? new Set<string>();
    for (const m of [route.method].flat()) if (m !== 'HEAD' && m !== 'OPTIONS') methods.add(m);
    routes.set(route.url, methods);
  });

  app.get('/healthz', async () => ({ status: 'ok', version: VERSION }));
  metrics?.route(app);
  await openApi.routes();
  // Public, so it answers a status per component only: paths, hosts and driver errors go to the log.
  app.get('/readyz', async (request, reply) => {
    const [indexCheck, blobCheck] = await Promise.allSettled([index.check(), blobs.check()]);
    const state = (check: PromiseSettledResult<void>, component: string) => {
      if (check.status === 'fulfilled') return 'ok';
      request.log.warn({ component, err: check.reason }, 'readiness check failed');
      return 'unavailable';
    };
    const components = { index: state(indexCheck, 'index'), blobStore: state(blobCheck, 'blob store') };
    if (Object.values(components).includes('unavailable')) {
      const down = Object.entries(components).flatMap(([name, value]) => (value === 'ok' ? [] : [name]));
      return sendProblem(request, reply, 503, 'NOT_READY', `not ready: ${down.join(', ')} unavailable; the cause is in the server log`, components);
    }
    return { status: 'ready', ...components };
  });

  // For requests without a socket (inject()): the address the app listens on, else the configured one.
  const listening = () => {
    const bound = app.server.address();
    return bound && typeof bound === 'object' ? { address: bound.address, port: bound.port } : { address: config.host, port: config.port };
  };
  const baseUrl = (request: FastifyRequest) => publicBaseUrl(request, config, listening);
  const serviceUrl = (request: FastifyRequest) => `${baseUrl(request)}${DICOMWEB_ROOT}`;
  // Hashing and header parsing of uploads off the event loop, shared by STOW-RS and the upload page.
  const describer = config.stow.describeThreads > 0 ? new DescribePool(config.stow.describeThreads) : undefined;
  if (describer) app.addHook('onClose', async () => describer.close());
  await app.register(stowRoutes, {
    prefix: DICOMWEB_ROOT,
    index,
    blobs,
    maxBodyBytes: config.stow.maxBodyBytes,
    bodyTimeout: { timeoutMs: config.http.bodyTimeoutMs, minBytes: config.http.bodyMinBytes },
    serviceUrl,
    settings: {
      spoolDir: resolve(config.dataDir, 'spool'),
      maxPartBytes: config.stow.maxPartBytes,
      maxHeaderBytes: config.stow.maxHeaderBytes,
      inlineBinaryMaxBytes: config.inlineBinaryMaxBytes,
      duplicatePolicy: config.stow.duplicatePolicy,
    },
    describer,
    log: app.log,
    observer: metrics?.stow,
  });
  // The browser upload page and its multipart/form-data route: the same store path and settings as STOW-RS.
  await app.register(uploadRoutes, {
    index,
    blobs,
    maxBodyBytes: config.stow.maxBodyBytes,
    settings: {
      spoolDir: resolve(config.dataDir, 'spool'),
      maxPartBytes: config.stow.maxPartBytes,
      maxHeaderBytes: config.stow.maxHeaderBytes,
      inlineBinaryMaxBytes: config.inlineBinaryMaxBytes,
      duplicatePolicy: config.stow.duplicatePolicy,
    },
    describer,
    log: app.log,
    viewerUrl: (request, study) => `${baseUrl(request)}/viewer?StudyInstanceUIDs=${encodeURIComponent(study)}`,
  });
  const retrieveSettings = { maxHeaderBytes: config.stow.maxHeaderBytes };
  await app.register(wadoRoutes, { prefix: DICOMWEB_ROOT, index, blobs, serviceUrl, settings: retrieveSettings });
  for (const prefix of [MountPoint.wadoUri, MountPoint.wadoUriAlias]) {
    await app.register(wadoUriRoutes, { prefix, index, blobs, settings: retrieveSettings, baseUrl });
  }
  await app.register(qidoRoutes, {
    prefix: DICOMWEB_ROOT,
    index,
    serviceUrl,
    maxLimit: config.qido.maxLimit,
    // A share link's principal sees its one study only, at every level (issue #14).
    studyLimit: (request) => request.principal.study,
  });
  await app.register(lifecycleRoutes, { prefix: DICOMWEB_ROOT, index, blobs });
  await app.register(auditRoutes, { index });
  await app.register(shareRoutes, { index, verifier: shares, baseUrl, maxLifetimeMs: config.shares.maxLifetimeMs });
  await app.register(backupRoutes, { index });
  await app.register(changeFeedRoutes, { index, serviceUrl });
  await app.register(ohifRoutes, { prefix: MountPoint.ohif, index, baseUrl });
  await app.register(inRouteClass('viewer', viewerRoutes), {
    viewerDir: config.viewerDir ?? DEFAULT_VIEWER_DIR,
    baseUrl,
    capabilities: { qidoSupportsIncludeField: true, supportsFuzzyMatching: true, supportsWildcard: true, thumbnails: true },
    // The viewer signs in only when tokens are asked for (AUTH_MODE with oidc).
    signIn:
      config.auth.methods.includes('oidc') && config.oidc?.viewerClientId
        ? { authority: config.oidc.issuer, clientId: config.oidc.viewerClientId, scope: config.oidc.viewerScope }
        : undefined,
    opensShare: async (request) => {
      const token = cookieValue(request.headers.cookie, SHARE_COOKIE);
      return token !== undefined && (await shares.verify(token)).ok;
    },
  });

  // Service plugins are registered above this line; every route they add gets 405 for other methods.
  await app.after();
  collecting = false;
  for (const [url, methods] of routes) allowOnly(app, url, [...methods]);

  // OPTIONS on the service root: the capabilities document (CAP-1). Preflights never get here.
  const serviceRoutes = new Map([...routes].filter(([url]) => url.startsWith(DICOMWEB_ROOT)).map(([url, m]) => [url.slice(DICOMWEB_ROOT.length) || '/', m]));
  app.options(DICOMWEB_ROOT, async (request, reply) => {
    const form = capabilitiesForm(request.headers.accept);
    if (form === undefined) {
      return sendProblem(request, reply, 406, 'NOT_ACCEPTABLE', 'the capabilities document is available as application/json or application/vnd.sun.wadl+xml');
    }
    const document = capabilities(serviceUrl(request), serviceRoutes);
    if (form === 'wadl') return reply.type(WADL_XML).send(capabilitiesWadl(document));
    return reply.type('application/json').send(document);
  });
  // GET on the service root, the URL the start-up log names: what is here and where (not a 404).
  app.get(DICOMWEB_ROOT, async (request, reply) => {
    // Parsed like every Accept header: a range with q=0 is "not acceptable" (RFC 9110 §12.4.2).
    if (!parseAccept(request.headers.accept).some((entry) => SERVICE_ROOT_JSON.has(entry.mediaType))) {
      return sendProblem(request, reply, 406, 'NOT_ACCEPTABLE', 'the service root is described as application/json only');
    }
    return reply.type('application/json').send(serviceRoot(baseUrl(request), serviceUrl(request)));
  });
  assertEveryRouteDecided(app);
  return app;
}

const WADL_XML = 'application/vnd.sun.wadl+xml';
/** The ranges that take the service root's JSON document. */
const SERVICE_ROOT_JSON = new Set(['*/*', 'application/*', 'application/json']);
const CAPABILITIES_JSON = new Set(['*/*', 'application/*', 'application/json', 'application/vnd.sun.wadl+json']);

/** The capabilities document's form (PS3.18 §8.9, Annex H): JSON by default, WADL XML when preferred; undefined → 406. */
function capabilitiesForm(accept: string | string[] | undefined): 'json' | 'wadl' | undefined {
  for (const entry of parseAccept(accept)) {
    if (CAPABILITIES_JSON.has(entry.mediaType)) return 'json';
    if (entry.mediaType === WADL_XML || entry.mediaType === 'application/xml') return 'wadl';
  }
  return undefined;
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;

/** Other methods on a known resource are 405 with an `Allow` header (digest COMMON-4, STOW-1). */
function allowOnly(app: FastifyInstance, url: string, allowed: readonly string[]): void {
  const others = METHODS.filter((m) => !allowed.includes(m));
  if (others.length === 0) return;
  const allow = allowed.includes('GET') ? [...allowed, 'HEAD'] : allowed;
  app.route({
    method: others,
    url,
    config: { accessClass: 'method-not-allowed' },
    handler: (request, reply) => {
      reply.header('allow', allow.join(', '));
      return sendProblem(request, reply, 405, 'METHOD_NOT_ALLOWED', `${request.method} is not supported on this resource; use ${allow.join(' or ')}`);
    },
  });
}
