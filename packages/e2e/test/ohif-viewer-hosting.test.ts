import { createServer } from 'node:http';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { DEFAULT_VIEWER_DIR } from '@tessera/ohif';
import { startTestServer } from '@tessera/testkit';

/**
 * How the hosted OHIF viewer is served, without a browser: the legacy `?url=` link form (redirected
 * when it names this server's own legacy study JSON, refused otherwise and never fetched), and the
 * dist under a path prefix (asset paths, public path, router base). The browser proofs are in
 * ohif-legacy-link.test.ts and ohif-prefix.test.ts.
 */
const STUDY = '1.3.6.1.4.1.5962.1.1.0.0.0.1196533885.18148.0.1';
const installed = existsSync(join(DEFAULT_VIEWER_DIR, 'index.html'));

t.test('hosted viewer', { skip: installed ? false : 'OHIF viewer not installed' }, async (t) => {
  // TRUST_PROXY: the same server answers at the root and, with X-Forwarded-Prefix, under /tessera.
  const server = await startTestServer('embedded', { TRUST_PROXY: 'true' });
  t.teardown(() => server.close());
  const behind = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'pacs.example.org', 'x-forwarded-prefix': '/tessera' };
  const get = (url: string, headers: Record<string, string> = {}) =>
    server.app.inject({ method: 'GET', url, headers: { host: 'pacs.example:8080', ...headers } });

  t.test("legacy link: this server's study JSON opens the study in the dicomweb data source", async (t) => {
    for (const [url, headers] of [
      [`/viewer?url=http://pacs.example:8080/ohif/study/${STUDY}/series`, {}],
      [`/viewer/?url=${encodeURIComponent(`http://pacs.example:8080/ohif/study/${STUDY}/series`)}`, {}],
      [`/viewer?url=/ohif/study/${STUDY}/series`, {}],
      [`/viewer?url=ohif/study/${STUDY}/series`, {}],
    ] as const) {
      const res = await get(url, headers);
      t.equal(res.statusCode, 302, url);
      t.equal(res.headers.location, `/viewer?StudyInstanceUIDs=${STUDY}`, `${url}: same study, same origin`);
    }
    const prefixed = await get(`/viewer?url=https://pacs.example.org/tessera/ohif/study/${STUDY}/series`, behind);
    t.equal(prefixed.statusCode, 302, 'behind a prefix');
    t.equal(prefixed.headers.location, `/tessera/viewer?StudyInstanceUIDs=${STUDY}`, 'the redirect keeps the prefix');
    const both = await get(`/viewer?StudyInstanceUIDs=${STUDY}&url=http://elsewhere.example/x`);
    t.equal(both.statusCode, 200, 'StudyInstanceUIDs given: the viewer page, url ignored');
    t.match(both.headers['content-type'], /^text\/html/);
  });

  t.test('legacy link elsewhere: a clear 400, no request to it, no redirect to it', async (t) => {
    const hits: string[] = [];
    const elsewhere = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.end('{}');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    t.teardown(() => elsewhere.close());
    const other = `http://127.0.0.1:${(elsewhere.address() as { port: number }).port}`;
    for (const url of [
      `${other}/ohif/study/${STUDY}/series`,
      `http://pacs.example:8080/ohif/study/${STUDY}/series/1.2.3`,
      `http://pacs.example:8080/ohif/study/not-a-uid/series`,
      `http://pacs.example:8080/dicomweb/studies`,
      'javascript:alert(1)',
    ]) {
      const res = await get(`/viewer?url=${encodeURIComponent(url)}`);
      t.equal(res.statusCode, 400, url);
      t.equal(res.headers.location, undefined, 'no redirect');
      t.match(res.headers['content-type'], /^application\/problem\+json/);
      const problem = JSON.parse(res.body);
      t.equal(problem.code, 'LEGACY_LINK_NOT_RECOGNISED');
      t.match(problem.detail, 'http://pacs.example:8080/ohif/study/{StudyInstanceUID}/series', 'says which links open');
      t.notMatch(problem.detail, url, 'does not echo the url');
    }
    t.same(hits, [], 'the server never requested the other host');
  });

  t.test('under a path prefix: every path the page loads carries it', async (t) => {
    const html = (await get('/viewer', behind)).body;
    const paths = [...html.matchAll(/\b(?:href|src)="([^"]+)"/g)].map((m) => m[1]!);
    t.ok(paths.length > 10, `${paths.length} paths in index.html`);
    t.same(
      paths.filter((p) => !p.startsWith('/tessera/')),
      [],
      'all under /tessera/',
    );
    t.notMatch(html, /window\.PUBLIC_URL/, 'no inline PUBLIC_URL (app-config.js sets it)');
    const root = (await get('/viewer')).body;
    t.match(root, /<script defer="defer" src="\/app\.bundle\.[0-9a-f]+\.js">|src="\/app\.bundle\.[0-9a-f]+\.js"/, 'at the root: paths unchanged');

    const config = (await get('/app-config.js', behind)).body;
    t.match(config, 'window.PUBLIC_URL = "/tessera/";');
    t.match(config, '"routerBasename": "/tessera"');
    t.match(config, '"qidoRoot": "https://pacs.example.org/tessera/dicomweb"');
    t.match((await get('/app-config.js')).body, '"routerBasename": "/"');

    // Every file index.html names is served (through the prefix-stripping proxy: the same paths without /tessera).
    for (const path of paths.filter((p) => !p.includes('apple-touch-startup') && !p.includes('yandex'))) {
      const res = await get(path.slice('/tessera'.length), behind);
      t.equal(res.statusCode, 200, path);
    }
  });

  t.test('dist files with prefix-independent edits', async (t) => {
    const bundle = readdirSync(DEFAULT_VIEWER_DIR).find((n) => /^app\.bundle\.[0-9a-f]+\.js$/.test(n))!;
    const original = readFileSync(join(DEFAULT_VIEWER_DIR, bundle), 'utf8');
    const res = await get(`/${bundle}`);
    t.equal(res.statusCode, 200);
    t.equal(Number(res.headers['content-length']), res.rawPayload.length, 'Content-Length matches the edited body');
    t.notMatch(res.body, '__webpack_require__.p = "/";', 'no fixed public path');
    t.match(res.body, '__webpack_require__.p = (typeof window === "object" ? window.PUBLIC_URL || "/"');
    t.equal(res.body.replace(/__webpack_require__\.p = \(typeof window[^;]*;/, '__webpack_require__.p = "/";'), original, 'nothing else changed');
    t.equal(res.headers['cross-origin-embedder-policy'], 'require-corp');
    t.match(res.headers['cache-control'], /immutable/);
    t.match(res.headers['content-type'], /javascript/);
    const head = await server.app.inject({ method: 'HEAD', url: `/${bundle}` });
    t.equal(head.statusCode, 200, 'HEAD');
    t.equal(head.headers['content-length'], res.headers['content-length'], 'HEAD: the same length');
    t.equal(head.rawPayload.length, 0, 'HEAD: no body');
    const again = await get(`/${bundle}`, { 'if-none-match': String(res.headers.etag) });
    t.equal(again.statusCode, 304, 'ETag revalidation');

    const workers = readdirSync(DEFAULT_VIEWER_DIR).filter((n) => /^compute\.bundle\..*\.js$/.test(n));
    t.ok(workers.length === 1, 'a worker bundle');
    t.match((await get(`/${workers[0]}`)).body, 'self.location.pathname.replace', 'a worker takes the public path from its own URL');

    const css = (await get('/app.bundle.css')).body;
    t.notMatch(css, /url\(\/(?!\/)/, 'no root-absolute url() in the stylesheet');
    t.match(css, /url\([0-9a-f]+\.woff2\)/, 'the font is relative to the stylesheet');
    const font = /url\(([0-9a-f]+\.woff2)\)/.exec(css)![1]!;
    t.equal((await get(`/${font}`, behind)).statusCode, 200, 'and is served');

    const manifest = JSON.parse((await get('/manifest.json')).body);
    t.ok(
      manifest.icons.every((icon: { src: string }) => !icon.src.startsWith('/')),
      'manifest icons are relative',
    );

    const nested = readdirSync(join(DEFAULT_VIEWER_DIR, 'ort')).find((n) => n.endsWith('.js'))!;
    const ort = await get(`/ort/${nested}`);
    t.equal(ort.statusCode, 200, 'nested files are still served as they are');
    t.equal(ort.rawPayload.length, readFileSync(join(DEFAULT_VIEWER_DIR, 'ort', nested)).length);
    t.equal((await get('/no-such-file.js')).statusCode, 404, 'unknown paths still 404');
  });
});
