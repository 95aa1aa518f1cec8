import t from 'tap';
import type { Scope } from '@tessera/access';
import { type RegisteredRoute, registeredRoutes } from '@tessera/server';
import { backendNames, startOidcProvider, startTestServer } from '@tessera/testkit';
import { bulkDataUris } from '../retrieve-helpers.js';
import { bearer, createKey, ctBytes } from './access-fixture.js';

/**
 * Issue #13: every registered route × every principal → exactly the expected status, with
 * AUTH_MODE=apikey,oidc (API keys, and access tokens of a real OpenID Connect provider), on every
 * back end. The routes are the ones the app reports it registered (the
 * viewer's hundreds of static files included), each requested for real with the UIDs of a stored
 * instance, so an allowed request answers 2xx, not 404.
 */

interface Principal {
  name: string;
  key?: string;
  /** The scopes it holds once authenticated; undefined: it is not authenticated (no or a refused credential). */
  scopes?: Scope[];
}

function expected(route: RegisteredRoute, principal: Principal): '2xx' | 401 | 403 | 405 {
  if (route.routeClass === 'method-not-allowed') return 405;
  if (route.access === 'public') return '2xx';
  if (!principal.scopes) return 401;
  return principal.scopes.includes(route.access!) ? '2xx' : 403;
}

for (const backend of backendNames()) {
  t.test(`${backend}: the access matrix`, async (t) => {
    const idp = await startOidcProvider();
    t.teardown(() => idp.close());
    const server = await startTestServer(backend, {
      AUTH_MODE: 'apikey,oidc',
      AUTH_FAILURES_PER_MINUTE: '1000000',
      OIDC_ISSUER: idp.issuer,
      OIDC_AUDIENCE: idp.audience,
    });
    t.teardown(() => server.close());
    const now = Math.floor(Date.now() / 1000);
    const { index } = server;
    const principals: Principal[] = [
      { name: 'no credential' },
      { name: 'read key', key: await createKey(index, 'viewer', ['read']), scopes: ['read'] },
      { name: 'write key', key: await createKey(index, 'router', ['write']), scopes: ['write'] },
      { name: 'admin key', key: await createKey(index, 'operator', ['admin']), scopes: ['admin'] },
      { name: 'revoked key', key: await createKey(index, 'old', ['read', 'write', 'delete', 'admin'], { revoked: true }) },
      { name: 'expired key', key: await createKey(index, 'lapsed', ['read', 'write', 'delete', 'admin'], { expiresAt: new Date(Date.now() - 60_000) }) },
      // Access tokens from the provider's real token endpoint (client credentials, JWT format).
      { name: 'oidc token with read', key: await idp.clientCredentialsToken(['read']), scopes: ['read'] },
      { name: 'oidc token with write', key: await idp.clientCredentialsToken(['write']), scopes: ['write'] },
      // No endpoint issues an expired token: this one is signed with the provider's own key, exp an hour ago.
      {
        name: 'expired oidc token',
        key: idp.signWithProviderKey({ iss: idp.issuer, aud: idp.audience, sub: 'alice', scope: 'read write delete admin', iat: now - 7200, exp: now - 3600 }),
      },
    ];
    const writer = principals[2]!.key;
    const file = ctBytes();
    const stored = await server.app.inject({
      method: 'POST',
      url: '/dicomweb/studies',
      headers: { 'content-type': 'application/dicom', ...bearer(writer) },
      payload: file,
    });
    t.equal(stored.statusCode, 200, 'the write key stores the CT instance');
    const retrieveUrl: string = stored.json()['00081199'].Value[0]['00081190'].Value[0];
    const [, study, series, instance] = /studies\/([\d.]+)\/series\/([\d.]+)\/instances\/([\d.]+)/.exec(retrieveUrl)!;
    const metadata = await server.app.inject({ url: `/dicomweb/studies/${study}/metadata`, headers: bearer(principals[1]!.key) });
    const bulk = bulkDataUris(metadata.json())
      .map((uri) => /\/bulkdata\/(.*)$/.exec(uri)?.[1])
      .find(Boolean);
    t.ok(bulk, 'the stored instance has a bulk data URI');

    const concrete = (url: string) =>
      url
        .replace(':study', study!)
        .replace(':series', series!)
        .replace(':instance', instance!)
        .replace(':frames', '1')
        .replace('/frames/*', '/frames/1')
        .replace('/bulkdata/*', `/bulkdata/${bulk}`)
        .replace('/viewer/*', '/viewer/some/page')
        .replace('/api/docs/static/*', '/api/docs/static/swagger-ui.css') +
      (url === '/wado' || url === '/wadouri'
        ? `?requestType=WADO&studyUID=${study}&seriesUID=${series}&objectUID=${instance}&contentType=application%2Fdicom`
        : '');

    const routes = registeredRoutes(server.app);
    t.ok(routes.length > 100, `${routes.length} routes registered`);
    let checked = 0;
    for (const route of routes) {
      const url = concrete(route.url);
      for (const principal of principals) {
        const want = expected(route, principal);
        const post = route.method === 'POST' && route.access === 'write';
        const answer = await server.app.inject({
          method: route.method as 'GET',
          url,
          headers: { ...bearer(principal.key), ...(post ? { 'content-type': 'application/dicom' } : {}) },
          ...(post ? { payload: file } : {}),
        });
        const got = answer.statusCode;
        // Swagger UI's static/index.html only redirects to its page (/api/docs): its public answer is that 302.
        const redirect = route.routeClass === 'api-reference' && route.url.endsWith('/static/index.html') && got === 302;
        const ok = want === '2xx' ? (got >= 200 && got < 300) || redirect : got === want;
        checked++;
        if (!ok) t.fail(`${route.method} ${route.url} as ${principal.name}: ${got}, expected ${want} (${answer.body.slice(0, 200)})`);
        if (got === 401) {
          if (!/^Bearer realm="tessera"/.test(String(answer.headers['www-authenticate'])))
            t.fail(`${route.method} ${route.url} as ${principal.name}: 401 without WWW-Authenticate`);
          const refused = principal.key !== undefined;
          if (refused !== /error="invalid_token"/.test(String(answer.headers['www-authenticate'])))
            t.fail(`${route.method} ${route.url} as ${principal.name}: invalid_token ${refused ? 'missing' : 'present without a token'}`);
        }
        if ((got === 401 || got === 403) && !String(answer.headers['content-type']).startsWith('application/problem+json')) {
          t.fail(`${route.method} ${route.url} as ${principal.name}: ${got} not problem+json`);
        }
      }
    }
    t.pass(`${checked} requests (${routes.length} routes × ${principals.length} principals) answered as expected unless listed above`);
    const classes = new Set(routes.map((r) => r.access));
    t.same([...classes].sort(), ['admin', 'public', 'read', 'write'], 'the matrix covered public, read, write and admin routes');
  });
}
