import { createServer, request as httpRequest } from 'node:http';
import t from 'tap';
import { readManifest, readShared, startTestServer } from '@tessera/testkit';
import { browserSkip, launchBrowser, screenshot, studyBrowserSeries, viewportState, waitFor, watchPage } from './browser-helpers.js';

/**
 * The hosted OHIF v3 viewer under a path prefix, as docs/deployment.md deploys it behind nginx:
 * a reverse proxy of our own (node:http) serves the server at `/tessera/` only, strips the prefix
 * and forwards; the server runs with `PUBLIC_URL=http://127.0.0.1:<proxy port>/tessera`. In
 * Chromium: the study list (OHIF's router under its base) shows the study, a study link opens it
 * with images drawn and every series in the study browser, and the page never asks for anything
 * outside the prefix (the proxy answers 404 there, which would count as a failed request).
 */
const STUDY = '1.3.6.1.4.1.5962.1.1.0.0.0.1196533885.18148.0.1';
const PREFIX = '/tessera';

t.test('hosted viewer under a path prefix, in Chromium', { skip: browserSkip() }, async (t) => {
  let target = 0;
  const outside: string[] = [];
  const proxy = createServer((req, res) => {
    const path = req.url ?? '/';
    if (path !== PREFIX && !path.startsWith(`${PREFIX}/`) && !path.startsWith(`${PREFIX}?`)) {
      outside.push(path);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('outside the prefix');
      return;
    }
    const upstream = httpRequest(
      { host: '127.0.0.1', port: target, method: req.method, path: path.slice(PREFIX.length) || '/', headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((done) => proxy.listen(0, '127.0.0.1', done));
  t.teardown(() => new Promise<void>((done) => proxy.close(() => done())));
  const publicUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}${PREFIX}`;

  const server = await startTestServer('embedded', { PUBLIC_URL: publicUrl });
  t.teardown(() => server.close());
  target = Number(new URL(server.url).port);
  for (const row of [...readManifest().values()].filter((r) => r.studyUid === STUDY)) {
    const res = await fetch(`${publicUrl}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': 'application/dicom' }, body: readShared(row.path) });
    t.equal(res.status, 200, `STOW through the proxy: ${row.path}`);
  }
  const context = await launchBrowser(t);

  await t.test('the study list at the prefix', async (t) => {
    const page = await context.newPage();
    const log = watchPage(page);
    await page.goto(`${publicUrl}/`);
    const text = await waitFor(
      page,
      async () => (await page.evaluate('document.body.innerText').catch(() => '')) as string,
      (s) => s.includes('Brain-MRA'),
    );
    await screenshot(page, 'prefix-study-list');
    t.match(text, 'Brain-MRA', "OHIF's router answers under the prefix and lists the study (QIDO-RS through the proxy)");
    t.same(log.failed, [], 'no failed request');
    t.same(log.errors, [], 'no console errors or unhandled rejections');
    await page.close();
  });

  await t.test('a study link at the prefix (the legacy form, redirected within the prefix)', async (t) => {
    const page = await context.newPage();
    const log = watchPage(page);
    await page.goto(`${publicUrl}/viewer?url=${publicUrl}/ohif/study/${STUDY}/series`);
    t.equal(page.url(), `${publicUrl}/viewer?StudyInstanceUIDs=${STUDY}`, 'redirected to the study, under the prefix');
    const state = await waitFor(
      page,
      async () => ({ viewport: await viewportState(page), series: await studyBrowserSeries(page) }),
      (s) => !!s.viewport && s.viewport.distinctGrey > 16 && s.series.length === 3,
    );
    await screenshot(page, 'prefix-viewer');
    t.ok(state.viewport, 'a viewport holds a loaded image');
    t.ok(
      state.viewport && state.viewport.distinctGrey > 16 && state.viewport.stdDev > 5,
      `the canvas is not uniform (${state.viewport?.distinctGrey} grey levels, σ ${state.viewport?.stdDev.toFixed(1)})`,
    );
    t.equal(state.series.length, 3, 'every series in the study browser');
    t.same(log.failed, [], 'no failed request');
    t.same(log.errors, [], 'no console errors or unhandled rejections');
    const offPrefix = log.requested.filter((u) => /^https?:/.test(u) && !u.startsWith(`${publicUrl}/`));
    t.same(offPrefix, [], 'every request went to the prefix');
    await page.close();
  });
  t.same(outside, [], 'the proxy saw no request outside the prefix');
});
