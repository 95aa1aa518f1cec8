import t from 'tap';
import { ConfigError, loadConfig } from '@tessera/server';
import { backendNames, ctInstance, encodeInstance, startTestServer } from '@tessera/testkit';

/** Behaviour common to every service: CORS, capabilities, health, errors, proxy-safe URLs. */

t.test('configuration is validated and errors name the variable', async (t) => {
  const config = loadConfig({ DATA_DIR: '/tmp/x' });
  t.equal(config.port, 8080, 'PORT defaults to 8080');
  t.equal(config.host, '127.0.0.1', 'HOST defaults to 127.0.0.1');
  t.equal(config.index.kind, 'pglite', 'embedded index by default');
  t.equal(config.blobs.kind, 'filesystem', 'filesystem blobs by default');
  t.equal(loadConfig({ DATABASE_URL: 'postgres://u@h:5432/db' }).index.kind, 'postgres', 'DATABASE_URL switches to Postgres');
  t.equal(config.workers, 1, 'one server process by default');
  t.equal(loadConfig({ DATABASE_URL: 'postgres://u@h:5432/db', WORKERS: '4' }).workers, 4, 'WORKERS with PostgreSQL');
  t.equal(loadConfig({ S3_BUCKET: 'b', S3_ENDPOINT: 'http://minio:9000', S3_FORCE_PATH_STYLE: 'true' }).blobs.kind, 's3', 'S3_BUCKET switches to S3');
  for (const [env, name] of [
    [{ PORT: 'eighty' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ S3_FORCE_PATH_STYLE: 'maybe', S3_BUCKET: 'b' }, 'S3_FORCE_PATH_STYLE'],
    [{ S3_ENDPOINT: 'http://minio:9000' }, 'S3_BUCKET'],
    [{ STOW_DUPLICATE_POLICY: 'merge' }, 'STOW_DUPLICATE_POLICY'],
    [{ PUBLIC_URL: 'not a url' }, 'PUBLIC_URL'],
    [{ CORS_ALLOWED_ORIGINS: 'viewer.example.org' }, 'CORS_ALLOWED_ORIGINS'],
    [{ WORKERS: '2' }, 'WORKERS'], // several processes cannot share the embedded PGlite index
    [{ WORKERS: '0', DATABASE_URL: 'postgres://u@h:5432/db' }, 'WORKERS'],
  ] as const) {
    let error: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      error = e;
    }
    t.ok(error instanceof ConfigError && error.message.includes(name), `${name} is named in the error`);
  }
});

for (const backend of backendNames()) {
  t.test(`${backend}: HTTP behaviour`, async (t) => {
    const server = await startTestServer(backend, { CORS_ALLOWED_ORIGINS: 'https://viewer.example.org' });
    t.teardown(() => server.close());

    t.test('COMMON-7: CORS preflight answered with 204 for an allowed origin', async (t) => {
      const res = await server.app.inject({
        method: 'OPTIONS',
        url: '/dicomweb/studies',
        headers: { origin: 'https://viewer.example.org', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization, accept' },
      });
      t.equal(res.statusCode, 204);
      t.equal(res.headers['access-control-allow-origin'], 'https://viewer.example.org');
      t.match(res.headers['access-control-allow-methods'], /GET/);
      t.match(res.headers['access-control-allow-headers'], /authorization/i);
      const other = await server.app.inject({
        method: 'OPTIONS',
        url: '/dicomweb/studies',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
      });
      t.notOk(other.headers['access-control-allow-origin'], 'an origin outside the allow-list gets no CORS headers');
      const simple = await server.app.inject({ method: 'GET', url: '/healthz', headers: { origin: 'https://viewer.example.org' } });
      t.match(simple.headers['access-control-expose-headers'], /Warning/, 'Warning and Content-Location are exposed');
      t.equal(simple.headers['cross-origin-resource-policy'], 'cross-origin', 'CORP lets COEP-isolated viewers load responses');
    });

    t.test('CAP-1: OPTIONS on the service root lists the resources', async (t) => {
      const res = await server.app.inject({ method: 'OPTIONS', url: '/dicomweb', headers: { accept: 'application/json' } });
      t.equal(res.statusCode, 200);
      const doc = JSON.parse(res.body);
      const studies = doc.application.resources.resource.find((r: { '@path': string }) => r['@path'] === 'studies');
      t.ok(studies, 'the studies resource is listed');
      t.ok(
        studies.method.some((m: { '@id': string }) => m['@id'] === 'StoreInstances'),
        'with its StoreInstances method',
      );
      t.match(doc.application.resources['@base'], /\/dicomweb$/);
    });

    t.test('health, readiness, request ids, problem+json for unknown paths', async (t) => {
      t.equal((await server.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
      const ready = await server.app.inject({ method: 'GET', url: '/readyz' });
      t.equal(ready.statusCode, 200, '/readyz checks index and blob store');
      t.equal(JSON.parse(ready.body).status, 'ready');
      const missing = await server.app.inject({ method: 'GET', url: '/nothing-here', headers: { 'x-request-id': 'trace-42' } });
      t.equal(missing.statusCode, 404);
      t.match(missing.headers['content-type'], /^application\/problem\+json/);
      t.equal(missing.headers['x-request-id'], 'trace-42', 'a given request id is echoed');
      t.equal(JSON.parse(missing.body).requestId, 'trace-42');
    });

    t.test('URLs follow PUBLIC_URL', async (t) => {
      const proxied = await startTestServer(backend, { PUBLIC_URL: 'https://pacs.example.org/archive' });
      t.teardown(() => proxied.close());
      const res = await proxied.app.inject({
        method: 'POST',
        url: '/dicomweb/studies',
        headers: { 'content-type': 'application/dicom' },
        payload: encodeInstance(ctInstance()),
      });
      t.match(JSON.parse(res.body)['00081190'].Value[0], /^https:\/\/pacs\.example\.org\/archive\/dicomweb\/studies\//);
    });
  });
}

t.test('embedded: Forwarded / X-Forwarded-* are honoured only with TRUST_PROXY', async (t) => {
  for (const trust of ['true', 'false']) {
    const server = await startTestServer('embedded', { TRUST_PROXY: trust });
    const upload = (headers: Record<string, string>) =>
      server.app.inject({
        method: 'POST',
        url: '/dicomweb/studies',
        headers: { 'content-type': 'application/dicom', host: 'internal:8080', ...headers },
        payload: encodeInstance(ctInstance()),
      });
    const forwarded = JSON.parse((await upload({ forwarded: 'for=1.2.3.4;proto=https;host=pacs.example.org' })).body)['00081190'].Value[0];
    const xf = JSON.parse((await upload({ 'x-forwarded-proto': 'https', 'x-forwarded-host': 'viewer.example.org', 'x-forwarded-prefix': '/pacs' })).body)[
      '00081190'
    ].Value[0];
    if (trust === 'true') {
      t.match(forwarded, /^https:\/\/pacs\.example\.org\/dicomweb\//, 'RFC 7239 Forwarded');
      t.match(xf, /^https:\/\/viewer\.example\.org\/pacs\/dicomweb\//, 'X-Forwarded-Proto/Host/Prefix');
    } else {
      // Neither the forwarding headers nor the unlisted Host shape URLs: the listening address does (issue #21 item 13).
      t.ok(forwarded.startsWith(`${server.url}/dicomweb/`), `untrusted Forwarded is ignored (${forwarded})`);
      t.ok(xf.startsWith(`${server.url}/dicomweb/`), `untrusted X-Forwarded-* are ignored (${xf})`);
    }
    await server.close();
  }
});
