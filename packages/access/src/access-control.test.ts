import Fastify, { type FastifyInstance } from 'fastify';
import t from 'tap';
import { HttpProblem } from '@tessera/http';
import { type AccessControlOptions, type AuthenticationOutcome, bearerToken, installAccessControl } from './access-control.js';
import type { Scope } from './principal.js';
import type { BearerVerifier, Verification } from './verifier.js';

/** A verifier with a fixed answer per token (the real ones have their own tests). */
function fixedVerifier(answers: Record<string, Verification>, calls: string[]): BearerVerifier {
  return {
    kind: 'api-key',
    accepts: (token) => token.startsWith('k-'),
    async verify(token) {
      calls.push(token);
      return answers[token] ?? { ok: false, reason: 'unknown-credential', message: 'not known' };
    },
  };
}

const principal = (id: string, scopes: Scope[]) => ({ kind: 'api-key' as const, id, scopes: new Set(scopes) });

async function app(options: Partial<AccessControlOptions> & { calls?: string[] } = {}): Promise<FastifyInstance> {
  const calls = options.calls ?? [];
  const app = Fastify();
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof HttpProblem) return reply.code(error.status).headers(error.headers).send({ code: error.code });
    return reply.code(500).send({ code: 'INTERNAL' });
  });
  installAccessControl(app, {
    anonymousScopes: [],
    verifiers: [
      fixedVerifier(
        {
          'k-read': { ok: true, principal: principal('r', ['read']) },
          'k-write': { ok: true, principal: principal('w', ['write']) },
          'k-down': { ok: false, reason: 'unavailable', message: 'database down' },
        },
        calls,
      ),
    ],
    accessOf: (request) => (request.routeOptions.url === '/open' ? 'public' : request.routeOptions.url === '/data' ? 'read' : undefined),
    ...options,
  });
  app.get('/open', async (request) => ({ who: request.principal.id }));
  app.get('/data', async (request) => ({ who: request.principal.id }));
  app.options('/data', async () => ({ capabilities: true }));
  return app;
}

t.test('bearerToken reads the Bearer scheme only', async (t) => {
  t.equal(bearerToken('Bearer abc.def-_~+/='), 'abc.def-_~+/=');
  t.equal(bearerToken('bearer  abc'), 'abc', 'the scheme is case-insensitive');
  t.equal(bearerToken('Basic dXNlcjpwYXNz'), undefined);
  t.equal(bearerToken('Bearer a b'), undefined);
  t.equal(bearerToken(undefined), undefined);
});

t.test('401, 403, 2xx, 503 as RFC 9110 and RFC 6750 say', async (t) => {
  const server = await app();
  const get = (url: string, token?: string) => server.inject({ url, headers: token ? { authorization: `Bearer ${token}` } : {} });
  t.equal((await get('/open')).statusCode, 200, 'public: no credential needed');
  const none = await get('/data');
  t.equal(none.statusCode, 401);
  t.equal(none.headers['www-authenticate'], 'Bearer realm="tessera"', 'no error code when no credential was sent (RFC 6750 §3.1)');
  const refused = await get('/data', 'k-nobody');
  t.equal(refused.statusCode, 401);
  t.equal(refused.headers['www-authenticate'], 'Bearer realm="tessera", error="invalid_token"');
  const foreign = await get('/data', 'xyz');
  t.equal(foreign.statusCode, 401, 'a token no verifier accepts');
  t.match(foreign.headers['www-authenticate'], /invalid_token/);
  t.same((await get('/data', 'k-read')).json(), { who: 'r' });
  const lacking = await get('/data', 'k-write');
  t.equal(lacking.statusCode, 403, 'authenticated without the scope');
  t.equal(lacking.headers['www-authenticate'], undefined);
  const down = await get('/data', 'k-down');
  t.equal(down.statusCode, 503);
  t.equal(down.headers['retry-after'], '5');
  t.equal(
    (await server.inject({ method: 'OPTIONS', url: '/data', headers: { 'access-control-request-method': 'GET', origin: 'https://v.example' } })).statusCode,
    200,
    'a preflight passes without a token',
  );
  t.equal((await server.inject({ method: 'OPTIONS', url: '/data' })).statusCode, 401, 'a plain OPTIONS on a protected route does not');
  t.equal((await server.inject({ url: '/data?access_token=k-read' })).statusCode, 401, 'nothing is read from the URL');
  t.equal((await get('/nowhere')).statusCode, 404, 'no route: 404 without a credential');
});

t.test('the anonymous principal of AUTH_MODE=none has every scope', async (t) => {
  const server = await app({ anonymousScopes: ['read', 'write', 'delete', 'admin'] });
  const answer = await server.inject({ url: '/data' });
  t.equal(answer.statusCode, 200);
  t.same(answer.json(), { who: 'anonymous' });
  // Behind AUTH_ALLOW_UNAUTHENTICATED, a proxy that authenticates may pass its own token on: not checked here.
  const calls: string[] = [];
  const open = await app({ anonymousScopes: ['read', 'write', 'delete', 'admin'], calls });
  const withToken = await open.inject({ url: '/data', headers: { authorization: 'Bearer a-token-of-the-proxy' } });
  t.equal(withToken.statusCode, 200, 'a bearer token of no verifier is not refused');
  t.same(withToken.json(), { who: 'anonymous' });
  t.same(calls, [], 'no verifier was asked');
});

t.test('verified credentials are cached by hash for apiKeyCacheMs, failures are not', async (t) => {
  let now = 1_000_000;
  const calls: string[] = [];
  const server = await app({ calls, now: () => now, apiKeyCacheMs: 5000 });
  const get = (token: string) => server.inject({ url: '/data', headers: { authorization: `Bearer ${token}` } });
  await get('k-read');
  await get('k-read');
  now += 4999;
  await get('k-read');
  t.same(calls, ['k-read'], 'asked once within the bound');
  now += 1;
  await get('k-read');
  t.same(calls, ['k-read', 'k-read'], 'asked again once the bound has passed');
  await get('k-nobody');
  await get('k-nobody');
  t.same(calls.filter((c) => c === 'k-nobody').length, 2, 'refusals are checked each time');
});

t.test('a verified access token is cached by its hash until it expires, not for apiKeyCacheMs', async (t) => {
  let now = 2_000_000;
  const calls: string[] = [];
  const expiresAt = now + 60_000;
  const tokens: BearerVerifier = {
    kind: 'oidc',
    accepts: (token) => token.startsWith('jwt-'),
    async verify(token) {
      calls.push(token);
      return { ok: true, principal: { kind: 'oidc', id: 'user', scopes: new Set<Scope>(['read']) }, expiresAt };
    },
  };
  const server = await app({ verifiers: [tokens], now: () => now, apiKeyCacheMs: 5000 });
  const get = async (token: string) => (await server.inject({ url: '/data', headers: { authorization: `Bearer ${token}` } })).statusCode;
  t.equal(await get('jwt-a'), 200);
  now += 30_000;
  t.equal(await get('jwt-a'), 200);
  now = expiresAt - 1;
  t.equal(await get('jwt-a'), 200);
  t.same(calls, ['jwt-a'], 'verified once, believed until exp (well past apiKeyCacheMs)');
  t.equal(await get('jwt-b'), 200);
  t.same(calls, ['jwt-a', 'jwt-b'], 'another token is another entry');
  now = expiresAt;
  t.equal(await get('jwt-a'), 200);
  t.same(calls, ['jwt-a', 'jwt-b', 'jwt-a'], 'at exp the verifier is asked again (and would refuse a really expired token)');
});

t.test('refused credentials are rate-limited per address: 429 with Retry-After', async (t) => {
  let now = 5_000_000;
  const server = await app({ now: () => now, failuresPerMinute: 3 });
  const get = (token: string, remoteAddress = '10.0.0.1') => server.inject({ url: '/data', remoteAddress, headers: { authorization: `Bearer ${token}` } });
  t.same(await Promise.all([1, 2, 3].map(async () => (await get('k-bad')).statusCode)), [401, 401, 401]);
  now += 10_000;
  const blocked = await get('k-bad');
  t.equal(blocked.statusCode, 429);
  t.equal(blocked.headers['retry-after'], '50', 'seconds until the window ends');
  t.equal((await get('k-read')).statusCode, 429, 'an unverified credential from a blocked address waits too');
  t.equal((await get('k-bad', '10.0.0.2')).statusCode, 401, 'another address is not blocked');
  now += 50_000;
  t.equal((await get('k-read')).statusCode, 200, 'the next window starts afresh');
});

t.test('onAuthentication hears every outcome on protected routes, never the token', async (t) => {
  const outcomes: AuthenticationOutcome[] = [];
  const server = await app({ onAuthentication: (_request, outcome) => outcomes.push(outcome) });
  for (const token of [undefined, 'k-read', 'k-write', 'k-nobody']) {
    await server.inject({ url: '/data', headers: token ? { authorization: `Bearer ${token}` } : {} });
  }
  await server.inject({ url: '/open', headers: { authorization: 'Bearer k-read' } });
  t.same(
    outcomes.map((o) => [o.ok, o.reason, o.principal?.id]),
    [
      [false, undefined, undefined],
      [true, undefined, 'r'],
      [true, undefined, 'w'],
      [false, 'unknown-credential', undefined],
    ],
  );
  t.notMatch(
    JSON.stringify(outcomes.map((o) => ({ ...o, principal: o.principal && { ...o.principal, scopes: [...o.principal.scopes] } }))),
    /k-/,
    'no token in what is reported',
  );
});

t.test('a share cookie: read-only, one study, Bearer wins, refused cookies are removed', async (t) => {
  const server = Fastify();
  server.setErrorHandler((error, _request, reply) => {
    if (error instanceof HttpProblem) return reply.code(error.status).headers(error.headers).send({ code: error.code });
    return reply.code(500).send({ code: 'INTERNAL' });
  });
  const shared = { kind: 'share' as const, id: 's1', scopes: new Set<Scope>(['read']), study: '1.2.3' };
  installAccessControl(server, {
    anonymousScopes: [],
    verifiers: [fixedVerifier({ 'k-admin': { ok: true, principal: principal('a', ['read', 'admin']) } }, [])],
    shares: {
      verify: async (token) =>
        token === 'tsl_good' ? { ok: true, principal: shared } : { ok: false, reason: token === 'tsl_old' ? 'revoked' : 'unknown-credential', message: 'no' },
    },
    accessOf: (request) => (request.routeOptions.url === '/admin' ? 'admin' : request.routeOptions.url === undefined ? undefined : 'read'),
    studyOf: (request) => {
      const study = (request.params as { study?: string }).study;
      if (study !== undefined) return { uid: study };
      return request.routeOptions.url === '/search' ? 'limited' : undefined;
    },
  });
  server.get('/studies/:study', async (request) => ({ who: request.principal.id }));
  server.get('/search', async (request) => ({ who: request.principal.id }));
  server.get('/other', async () => ({}));
  server.get('/admin', async () => ({}));
  const get = (url: string, headers: Record<string, string> = {}) => server.inject({ url, headers });
  const cookie = (token: string) => ({ cookie: `x=1; tessera_share=${token}` });
  t.same((await get('/studies/1.2.3', cookie('tsl_good'))).json(), { who: 's1' }, 'its own study');
  t.equal((await get('/search', cookie('tsl_good'))).statusCode, 200, 'a search its service limits');
  const other = await get('/studies/1.2.4', cookie('tsl_good'));
  t.equal(other.statusCode, 403, 'another study');
  t.equal(other.json().code, 'OUTSIDE_SHARED_STUDY');
  t.equal((await get('/other', cookie('tsl_good'))).statusCode, 403, 'a route that names no study');
  t.equal((await get('/admin', cookie('tsl_good'))).statusCode, 403, 'no admin route');
  t.same((await get('/studies/1.2.4', { ...cookie('tsl_good'), authorization: 'Bearer k-admin' })).json(), { who: 'a' }, 'a Bearer credential wins');
  const revoked = await get('/studies/1.2.3', cookie('tsl_old'));
  t.equal(revoked.statusCode, 401);
  t.match(revoked.headers['www-authenticate'], /invalid_token/);
  t.match(revoked.headers['set-cookie'], /^tessera_share=; Path=\/; Max-Age=0/, 'the refused cookie is removed');
  t.equal((await get('/studies/1.2.3', { cookie: 'tessera_sharex=tsl_good' })).statusCode, 401, 'only the exact cookie name');
});
