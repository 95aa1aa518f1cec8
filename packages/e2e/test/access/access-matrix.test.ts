import t from 'tap';
import { type Scope, generateShareToken } from '@tessera/access';
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
  /** A share link's cookie (issue #14) instead of a bearer credential. */
  cookie?: string;
  /** For a share: whether it is a share of the stored study (`own`) or of another one. */
  share?: 'own' | 'other';
}

/** The QIDO-RS searches that name no study: a share's principal gets them limited to its study (200 or 204). */
const LIMITED_SEARCHES = ['/dicomweb/studies', '/dicomweb/series', '/dicomweb/instances'];

/** Whether a route names the study it concerns (in its path, or in WADO-URI's studyUID). */
const namesStudy = (url: string) => url.includes(':study') || url === '/wado' || url === '/wadouri';

function expected(route: RegisteredRoute, principal: Principal): '2xx' | 303 | 401 | 403 | 405 {
  if (route.routeClass === 'method-not-allowed') return 405;
  if (route.url === '/s/:token') return 303;
  if (route.access === 'public') return '2xx';
  if (!principal.scopes) return 401;
  if (!principal.scopes.includes(route.access!)) return 403;
  if (principal.share === 'other' && !LIMITED_SEARCHES.includes(route.url)) return 403;
  // A read route that names no study and is not limited to the share's (the change feed) is refused.
  if (principal.share && !LIMITED_SEARCHES.includes(route.url) && !namesStudy(route.url)) return 403;
  return '2xx';
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
      { name: 'delete key', key: await createKey(index, 'cleaner', ['delete']), scopes: ['delete'] },
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

    // Share links (issue #14): a cookie for the stored study, one for another study, a revoked one,
    // and the shares the link route opens and the revoke route revokes.
    const share = async (studyInstanceUid: string, revoked = false) => {
      const token = generateShareToken();
      await index.shares.create({
        id: token.id,
        studyInstanceUid,
        secretHash: token.secretHash,
        createdBy: 'test',
        expiresAt: new Date(Date.now() + 3_600_000),
      });
      if (revoked) await index.shares.revoke(token.id);
      return token;
    };
    principals.push(
      { name: 'share cookie of the study', cookie: `tessera_share=${(await share(study!)).token}`, scopes: ['read'], share: 'own' },
      { name: 'share cookie of another study', cookie: `tessera_share=${(await share('1.2.3.4')).token}`, scopes: ['read'], share: 'other' },
      { name: 'revoked share cookie', cookie: `tessera_share=${(await share(study!, true)).token}` },
    );
    const linkToken = (await share(study!)).token;
    const revokedShare = (await share(study!)).id;

    const concrete = (url: string) =>
      url
        .replace(':study', study!)
        .replace(':series', series!)
        .replace(':instance', instance!)
        .replace(':frames', '1')
        .replace('/frames/*', '/frames/1')
        .replace('/bulkdata/*', `/bulkdata/${bulk}`)
        .replace('/viewer/*', '/viewer/some/page')
        .replace(':token', linkToken)
        .replace('/api/shares/:id', `/api/shares/${revokedShare}`)
        .replace('/api/docs/static/*', '/api/docs/static/swagger-ui.css') +
      (url === '/wado' || url === '/wadouri'
        ? `?requestType=WADO&studyUID=${study}&seriesUID=${series}&objectUID=${instance}&contentType=application%2Fdicom`
        : '') +
      // The change feed's stream stays open unless told to end once caught up.
      (url === '/api/changefeed/stream' ? '?timeout=0' : '');

    // The upload page's store takes multipart/form-data: the same file as one form field.
    const boundary = 'access-matrix-form';
    const form = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="ct.dcm"\r\nContent-Type: application/dicom\r\n\r\n`),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);

    // The DELETE routes last: an allowed DELETE removes the instance every other route reads.
    const routes = registeredRoutes(server.app).sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
    t.ok(routes.length > 100, `${routes.length} routes registered`);
    let checked = 0;
    let deletions = 0;
    for (const route of routes) {
      const url = concrete(route.url);
      for (const principal of principals) {
        // The viewer's hundreds of static files are public: access control returns before it reads any
        // credential, so the share cookies (three more principals) are checked on every other route only.
        if (principal.cookie && route.routeClass === 'viewer') continue;
        const want = expected(route, principal);
        const post = route.method === 'POST' && route.access === 'write';
        const upload = post && route.url === '/api/upload';
        const newShare = route.method === 'POST' && route.url === '/api/shares';
        const answer = await server.app.inject({
          method: route.method as 'GET',
          url,
          headers: {
            ...bearer(principal.key),
            ...(principal.cookie ? { cookie: principal.cookie } : {}),
            ...(post ? { 'content-type': upload ? `multipart/form-data; boundary=${boundary}` : 'application/dicom' } : {}),
          },
          ...(post ? { payload: upload ? form : file } : {}),
          ...(newShare ? { payload: { studyInstanceUid: study, expiresIn: '1h' } } : {}),
        });
        const got = answer.statusCode;
        // An allowed DELETE removes exactly the stored instance (204, not merely 2xx); it is stored
        // again at once for the next request.
        const deleted = route.method === 'DELETE' && route.access === 'delete' && want === '2xx';
        // Swagger UI's static/index.html only redirects to its page (/api/docs): its public answer is that 302.
        const redirect = route.routeClass === 'api-reference' && route.url.endsWith('/static/index.html') && got === 302;
        const ok = deleted ? got === 204 : want === '2xx' ? (got >= 200 && got < 300) || redirect : got === want;
        if (deleted && got === 204) {
          const again = await server.app.inject({
            method: 'POST',
            url: '/dicomweb/studies',
            headers: { 'content-type': 'application/dicom', ...bearer(writer) },
            payload: file,
          });
          if (again.statusCode !== 200) t.fail(`storing the instance again after ${route.method} ${route.url}: ${again.statusCode}`);
          deletions++;
        }
        checked++;
        if (!ok) t.fail(`${route.method} ${route.url} as ${principal.name}: ${got}, expected ${want} (${answer.body.slice(0, 200)})`);
        if (got === 401) {
          if (!/^Bearer realm="tessera"/.test(String(answer.headers['www-authenticate'])))
            t.fail(`${route.method} ${route.url} as ${principal.name}: 401 without WWW-Authenticate`);
          const refused = principal.key !== undefined || principal.cookie !== undefined;
          if (refused !== /error="invalid_token"/.test(String(answer.headers['www-authenticate'])))
            t.fail(`${route.method} ${route.url} as ${principal.name}: invalid_token ${refused ? 'missing' : 'present without a token'}`);
        }
        if ((got === 401 || got === 403) && !String(answer.headers['content-type']).startsWith('application/problem+json')) {
          t.fail(`${route.method} ${route.url} as ${principal.name}: ${got} not problem+json`);
        }
      }
    }
    t.pass(
      `${checked} requests (${routes.length} routes × ${principals.length} principals, share cookies off the viewer's files) answered as expected unless listed above`,
    );
    const classes = new Set(routes.map((r) => r.access));
    t.same([...classes].sort(), ['admin', 'delete', 'public', 'read', 'write'], 'the matrix covered public, read, write, delete and admin routes');
    t.equal(deletions, 3, 'each DELETE route (study, series, instance) deleted for the delete-scope key');
  });
}
