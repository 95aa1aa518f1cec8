import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, RouteOptions } from 'fastify';
import type { RouteAccess } from '@tessera/access';

/**
 * Which scope every route needs, in one table (docs/security.md holds the same table, and
 * packages/e2e/test/access/route-table.test.ts compares the two with the routes the app registers).
 * buildApp throws when a registered route has no decision here, so a new route cannot ship without one.
 * HEAD follows GET. A request that matches no route is answered 404 without a credential.
 */
export interface RouteRule {
  readonly method: string;
  /** The fastify URL pattern, as registered. */
  readonly url: string;
  readonly access: RouteAccess;
  /** What the route is, for docs/security.md. */
  readonly what: string;
}

const QIDO = 'QIDO-RS search';
const WADO = 'WADO-RS retrieve';
const STUDY = '/dicomweb/studies/:study';
const SERIES = `${STUDY}/series/:series`;
const INSTANCE = `${SERIES}/instances/:instance`;

export const ROUTE_ACCESS: readonly RouteRule[] = [
  { method: 'GET', url: '/healthz', access: 'public', what: 'liveness' },
  { method: 'GET', url: '/readyz', access: 'public', what: 'readiness (a status per component, no detail)' },
  { method: 'GET', url: '/dicomweb', access: 'public', what: 'service root: what is where (no patient data)' },
  { method: 'OPTIONS', url: '/dicomweb', access: 'public', what: 'capabilities document, PS3.18 §8.9 (no patient data)' },
  { method: 'POST', url: '/dicomweb/studies', access: 'write', what: 'STOW-RS store' },
  { method: 'POST', url: STUDY, access: 'write', what: 'STOW-RS store into a study' },
  { method: 'GET', url: '/dicomweb/studies', access: 'read', what: QIDO },
  { method: 'GET', url: '/dicomweb/series', access: 'read', what: QIDO },
  { method: 'GET', url: '/dicomweb/instances', access: 'read', what: QIDO },
  { method: 'GET', url: `${STUDY}/series`, access: 'read', what: QIDO },
  { method: 'GET', url: `${STUDY}/instances`, access: 'read', what: QIDO },
  { method: 'GET', url: `${SERIES}/instances`, access: 'read', what: QIDO },
  { method: 'GET', url: STUDY, access: 'read', what: WADO },
  { method: 'GET', url: `${STUDY}/metadata`, access: 'read', what: WADO },
  { method: 'GET', url: SERIES, access: 'read', what: WADO },
  { method: 'GET', url: `${SERIES}/metadata`, access: 'read', what: WADO },
  { method: 'GET', url: INSTANCE, access: 'read', what: WADO },
  { method: 'GET', url: `${INSTANCE}/metadata`, access: 'read', what: WADO },
  { method: 'GET', url: `${INSTANCE}/frames/*`, access: 'read', what: WADO },
  { method: 'GET', url: `${INSTANCE}/bulkdata/*`, access: 'read', what: WADO },
  { method: 'GET', url: `${STUDY}/rendered`, access: 'read', what: WADO },
  { method: 'GET', url: `${STUDY}/thumbnail`, access: 'read', what: WADO },
  { method: 'GET', url: `${SERIES}/rendered`, access: 'read', what: WADO },
  { method: 'GET', url: `${SERIES}/thumbnail`, access: 'read', what: WADO },
  { method: 'GET', url: `${INSTANCE}/rendered`, access: 'read', what: WADO },
  { method: 'GET', url: `${INSTANCE}/thumbnail`, access: 'read', what: WADO },
  { method: 'GET', url: '/wado', access: 'read', what: 'WADO-URI' },
  { method: 'GET', url: '/wadouri', access: 'read', what: 'WADO-URI' },
  { method: 'GET', url: '/ohif/study/:study/series', access: 'read', what: 'OHIF legacy study JSON' },
  { method: 'GET', url: '/ohif/study/:study/series/:series', access: 'read', what: 'OHIF legacy study JSON, one series' },
  { method: 'GET', url: '/ohif/dicomjson/studies/:study', access: 'read', what: 'OHIF v3 dicomjson study' },
  // The viewer's sign-in routes (/callback, /login, /logout, /viewer/dicomjson) are in the viewer class.
  { method: 'GET', url: '/api/audit', access: 'admin', what: 'the audit trail (JSON pages or JSON lines)' },
  { method: 'POST', url: '/api/shares', access: 'admin', what: 'create a study share link' },
  { method: 'GET', url: '/api/shares', access: 'admin', what: 'list share links (never their tokens)' },
  { method: 'DELETE', url: '/api/shares/:id', access: 'admin', what: 'revoke a share link' },
  { method: 'GET', url: '/s/:token', access: 'public', what: 'open a share link: the token is the credential; sets the share cookie, redirects to the viewer' },
  { method: 'DELETE', url: STUDY, access: 'delete', what: 'delete a study' },
  { method: 'DELETE', url: SERIES, access: 'delete', what: 'delete a series' },
  { method: 'DELETE', url: INSTANCE, access: 'delete', what: 'delete an instance' },
  { method: 'GET', url: '/api/backup/index', access: 'admin', what: 'embedded index only: a snapshot of the PGlite data directory for a backup (tar.gz)' },
  { method: 'GET', url: '/upload', access: 'public', what: 'the upload page (static HTML and script; no patient data)' },
  { method: 'POST', url: '/api/upload', access: 'write', what: "the upload page's store: multipart/form-data, the same store path as STOW-RS" },
  { method: 'GET', url: '/api/changefeed', access: 'read', what: 'the change feed: creates, updates, deletes of instances (JSON)' },
  { method: 'GET', url: '/api/changefeed/latest', access: 'read', what: 'the change feed: its latest entry' },
  { method: 'GET', url: '/api/changefeed/stream', access: 'read', what: 'the change feed as Server-Sent Events' },
  { method: 'GET', url: '/openapi.json', access: 'public', what: 'the OpenAPI 3.1 description of the API (no patient data)' },
  { method: 'GET', url: '/metrics', access: 'admin', what: 'Prometheus metrics (counts, durations, pool usage; no UIDs)' },
];

/**
 * Routes decided as a class rather than one by one: the class is set by whoever registers them
 * (`inRouteClass` around a plugin, or the route's `config.accessClass`).
 */
export const ROUTE_CLASSES = {
  viewer: { access: 'public', what: 'the hosted viewer: its pages, static files and app-config.js (every route of the viewer plugin; no patient data)' },
  'method-not-allowed': {
    access: 'public',
    what: 'the 405 answers for other methods on a service URL, DELETE included where it is not served (they name the allowed methods, nothing else)',
  },
  'api-reference': {
    access: 'public',
    what: 'the rendered API reference at /api/docs (Swagger UI: its page, static files and a copy of the OpenAPI document)',
  },
} as const satisfies Record<string, { access: RouteAccess; what: string }>;

export type RouteClass = keyof typeof ROUTE_CLASSES;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The access class of a route decided as a class (route-access.ts). */
    accessClass?: RouteClass;
  }
}

const rules = new Map(ROUTE_ACCESS.map((rule) => [`${rule.method} ${rule.url}`, rule.access]));

/** The decision for one route; undefined when the table has none. */
export function routeAccess(method: string, url: string, routeClass?: RouteClass): RouteAccess | undefined {
  if (routeClass) return ROUTE_CLASSES[routeClass].access;
  return rules.get(`${method === 'HEAD' ? 'GET' : method} ${url}`);
}

/** The decision for the route a request matched; undefined when it matched none (404). */
export function accessOfRequest(request: FastifyRequest): RouteAccess | undefined {
  const url = request.routeOptions.url;
  if (url === undefined) return undefined;
  return routeAccess(request.method, url, request.routeOptions.config.accessClass) ?? 'admin';
}

/** Registers `plugin` with every route it adds in `routeClass`. */
export function inRouteClass<O extends object>(routeClass: RouteClass, plugin: FastifyPluginAsync<O>): FastifyPluginAsync<O> {
  return async (app, options) => {
    app.addHook('onRoute', (route) => {
      route.config = { ...route.config, accessClass: routeClass };
    });
    await app.register(plugin, options);
  };
}

/** One registered route, one method: what the table must decide. */
export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
  readonly routeClass?: RouteClass;
  readonly access: RouteAccess | undefined;
}

const registered = new WeakMap<FastifyInstance, RouteOptions[]>();

/** Starts recording the routes `app` registers (call before any route is added). */
export function trackRoutes(app: FastifyInstance): void {
  const routes: RouteOptions[] = [];
  registered.set(app, routes);
  app.addHook('onRoute', (route) => {
    routes.push(route);
  });
}

/** Every route and method `app` registered since trackRoutes, with its decision. */
export function registeredRoutes(app: FastifyInstance): RegisteredRoute[] {
  const routes = registered.get(app);
  if (!routes) throw new Error('trackRoutes was not called on this app');
  return routes.flatMap((route) =>
    [route.method].flat().map((method) => {
      const routeClass = route.config?.accessClass;
      return { method, url: route.url, ...(routeClass ? { routeClass } : {}), access: routeAccess(method, route.url, routeClass) };
    }),
  );
}

/** Throws when a registered route has no decision in ROUTE_ACCESS (start-up fails, and so does CI). */
export function assertEveryRouteDecided(app: FastifyInstance): void {
  const undecided = registeredRoutes(app).filter((route) => route.access === undefined);
  if (undecided.length > 0) {
    throw new Error(
      `routes without an access decision (add them to packages/server/src/route-access.ts and docs/security.md): ${undecided.map((r) => `${r.method} ${r.url}`).join(', ')}`,
    );
  }
}
