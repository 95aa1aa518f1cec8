import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { DEFAULT_VIEWER_DIR } from '@tessera/ohif';
import { ctInstance, encodeInstance, startTestServer } from '@tessera/testkit';

/**
 * Browser security headers on every response (issue #21 item 14): `X-Content-Type-Options: nosniff`
 * everywhere, errors and 404s included; a Content-Security-Policy with `frame-ancestors 'self'` and
 * `X-Frame-Options: SAMEORIGIN` on the viewer and any HTML page. (Headers only: the embedded back end
 * is enough. That the viewer still works under its policy is ohif-viewer.test.ts, in Chromium.)
 */

const viewerInstalled = existsSync(join(DEFAULT_VIEWER_DIR, 'index.html'));

t.test('security headers', async (t) => {
  const server = await startTestServer('embedded');
  t.teardown(() => server.close());
  const spec = ctInstance();
  const stored = await server.app.inject({
    method: 'POST',
    url: '/dicomweb/studies',
    headers: { 'content-type': 'application/dicom' },
    payload: encodeInstance(spec),
  });
  t.equal(stored.statusCode, 200);
  const a = spec.attributes;
  const instance = `/dicomweb/studies/${a.StudyInstanceUID}/series/${a.SeriesInstanceUID}/instances/${a.SOPInstanceUID}`;

  const requests: { method?: 'GET' | 'POST' | 'OPTIONS' | 'PUT'; url: string; headers?: Record<string, string>; payload?: string; status: number }[] = [
    { url: '/healthz', status: 200 },
    { url: '/readyz', status: 200 },
    { url: '/nothing-here', status: 404 },
    { url: '/dicomweb/studies', headers: { accept: 'application/dicom+json' }, status: 200 },
    { url: '/dicomweb/studies?PatientID=nobody', status: 204 },
    { url: '/dicomweb/studies?limit=x', status: 400 },
    { url: '/dicomweb/studies', headers: { accept: 'image/jpeg' }, status: 406 },
    { method: 'PUT', url: '/dicomweb/studies', status: 405 },
    { method: 'POST', url: '/dicomweb/studies', headers: { 'content-type': 'text/plain' }, payload: 'x', status: 415 },
    { method: 'OPTIONS', url: '/dicomweb', headers: { accept: 'application/json' }, status: 200 },
    { method: 'OPTIONS', url: '/dicomweb/studies', headers: { origin: 'https://viewer.example.org', 'access-control-request-method': 'GET' }, status: 204 },
    { url: `${instance}/metadata`, status: 200 },
    { url: instance, headers: { accept: 'multipart/related; type="application/dicom"' }, status: 200 },
    { url: `/dicomweb/studies/${a.StudyInstanceUID}/series/1.2.3/metadata`, status: 404 },
    {
      url: `/wadouri?requestType=WADO&studyUID=${a.StudyInstanceUID}&seriesUID=${a.SeriesInstanceUID}&objectUID=${a.SOPInstanceUID}&contentType=application/dicom`,
      status: 200,
    },
    { url: '/wadouri?requestType=WADO', status: 400 },
    { url: `/ohif/dicomjson/studies/${a.StudyInstanceUID}`, status: 200 },
    { url: '/app-config.js', status: 200 },
  ];
  for (const r of requests) {
    const res = await server.app.inject({ method: r.method ?? 'GET', url: r.url, headers: r.headers ?? {}, payload: r.payload });
    t.equal(res.statusCode, r.status, `${r.method ?? 'GET'} ${r.url.slice(0, 60)} → ${r.status}`);
    t.equal(res.headers['x-content-type-options'], 'nosniff', `${r.method ?? 'GET'} ${r.url.slice(0, 60)}: nosniff`);
  }

  t.test('the viewer and other HTML pages', { skip: !viewerInstalled && 'OHIF viewer not installed' }, async (t) => {
    for (const url of ['/', '/viewer?StudyInstanceUIDs=1.2.3', '/viewer/dicomjson?url=x', '/silent-refresh.html']) {
      const res = await server.app.inject({ method: 'GET', url });
      t.equal(res.statusCode, 200, `${url} → 200`);
      t.match(res.headers['content-type'], /^text\/html/, `${url} is HTML`);
      t.equal(res.headers['x-content-type-options'], 'nosniff', `${url}: nosniff`);
      t.equal(res.headers['x-frame-options'], 'SAMEORIGIN', `${url}: X-Frame-Options`);
      const csp = String(res.headers['content-security-policy'] ?? '');
      t.match(csp, /(^|; )frame-ancestors 'self'(;|$)/, `${url}: CSP frame-ancestors 'self'`);
      t.notMatch(csp, /'unsafe-eval'|script-src[^;]*'unsafe-inline'|script-src[^;]*\*/, `${url}: no unsafe script source`);
    }
    const viewer = await server.app.inject({ method: 'GET', url: '/viewer' });
    const csp = String(viewer.headers['content-security-policy']);
    t.match(csp, /script-src 'self' 'wasm-unsafe-eval'( 'sha256-[A-Za-z0-9+/=]+')+;/, 'the viewer: its own scripts, WASM and its inline scripts by hash');
    const config = (await server.app.inject({ method: 'GET', url: '/app-config.js' })).body;
    const apiOrigin = new URL(/"qidoRoot": "([^"]+)"/.exec(config)![1]!).origin;
    t.ok(csp.includes(`connect-src 'self' ${apiOrigin} `), `the viewer may call the API origin its app-config.js names (${apiOrigin})`);
    const svg = await server.app.inject({ method: 'GET', url: '/ohif-logo.svg' });
    t.equal(svg.headers['x-content-type-options'], 'nosniff', 'static files: nosniff');
  });
});
