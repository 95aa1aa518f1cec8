import Fastify from 'fastify';
import t from 'tap';
import { type CorsSettings, installCors } from './cors.js';

/** CORS for browser viewers (digest COMMON-7), on a bare fastify app with one GET and one OPTIONS route. */

async function app(settings: CorsSettings) {
  const server = Fastify();
  installCors(server, settings);
  server.get('/studies', async () => 'results');
  server.options('/', async () => 'capabilities');
  await server.ready();
  return server;
}

t.test('which origins get which headers', async (t) => {
  const cases: { name: string; settings: CorsSettings; origin?: string; allow?: string; vary?: string }[] = [
    { name: 'any origin with *', settings: { allowedOrigins: '*' }, origin: 'https://viewer.test', allow: '*' },
    {
      name: 'a listed origin is echoed, with Vary',
      settings: { allowedOrigins: ['https://viewer.test'] },
      origin: 'https://viewer.test',
      allow: 'https://viewer.test',
      vary: 'Origin',
    },
    { name: 'an unlisted origin gets nothing', settings: { allowedOrigins: ['https://viewer.test'] }, origin: 'https://other.test' },
    { name: 'an empty list disables CORS', settings: { allowedOrigins: [] }, origin: 'https://viewer.test' },
    { name: 'no Origin, no CORS headers', settings: { allowedOrigins: '*' } },
  ];
  for (const c of cases) {
    const server = await app(c.settings);
    const res = await server.inject({ method: 'GET', url: '/studies', headers: c.origin ? { origin: c.origin } : {} });
    t.equal(res.statusCode, 200, `${c.name}: the request goes on to its route`);
    t.equal(res.headers['access-control-allow-origin'], c.allow, `${c.name}: Access-Control-Allow-Origin`);
    t.equal(res.headers.vary, c.vary, `${c.name}: Vary`);
    t.equal(res.headers['access-control-expose-headers'] !== undefined, c.allow !== undefined, `${c.name}: exposed headers only when allowed`);
    t.equal(res.headers['cross-origin-resource-policy'], 'cross-origin', `${c.name}: CORP on every response`);
    await server.close();
  }
});

t.test('a preflight is answered before any route; a plain OPTIONS reaches the capabilities route (CAP-1)', async (t) => {
  const server = await app({ allowedOrigins: '*' });
  t.teardown(() => server.close());
  const preflight = await server.inject({
    method: 'OPTIONS',
    url: '/',
    headers: { origin: 'https://viewer.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-custom' },
  });
  t.equal(preflight.statusCode, 204);
  t.equal(preflight.body, '');
  t.equal(preflight.headers['access-control-allow-methods'], 'GET, HEAD, POST, DELETE, OPTIONS');
  t.equal(preflight.headers['access-control-allow-headers'], 'content-type, x-custom', 'the requested headers are allowed');
  t.equal(preflight.headers['access-control-max-age'], '600');
  const onUnknownPath = await server.inject({
    method: 'OPTIONS',
    url: '/no/such/route',
    headers: { origin: 'https://viewer.test', 'access-control-request-method': 'GET' },
  });
  t.equal(onUnknownPath.statusCode, 204, 'a preflight of any path, not a 404');
  t.match(onUnknownPath.headers['access-control-allow-headers'], /Authorization.*Range/, 'default allowed headers when none are requested');
  const plain = await server.inject({ method: 'OPTIONS', url: '/', headers: { origin: 'https://viewer.test' } });
  t.equal(plain.body, 'capabilities', 'OPTIONS without Access-Control-Request-Method is not a preflight');
  const listed = await app({ allowedOrigins: ['https://viewer.test'] });
  t.teardown(() => listed.close());
  const disallowed = await listed.inject({ method: 'OPTIONS', url: '/', headers: { origin: 'https://evil.test', 'access-control-request-method': 'POST' } });
  t.equal(disallowed.body, 'capabilities', 'a preflight from a refused origin is not answered as one');
});
