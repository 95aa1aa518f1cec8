import { type IncomingHttpHeaders, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { readShared, sharedFiles } from '@tessera/testkit';
import { bearer } from '../access/access-fixture.js';
import { browserSkip, launchBrowser, screenshot, viewportState, waitFor, watchPage } from '../browser-helpers.js';
import { OTHER_MR, createShare, startShareServer } from './share-fixture.js';

/**
 * Issue #14 in a real browser (Debian's Chromium, driven by playwright-core; embedded back end, the
 * API tests cover both): a page on another origin links to a share link; the hosted OHIF viewer opens
 * with the share cookie alone and draws the study's images; the study list shows that one study; the
 * same cookie cannot read another study, search beyond it, or store; after the share is revoked a
 * reload shows no patient data. Neither the server's log nor the Referer headers that pages of
 * another origin receive hold the token. About 20 s here.
 */
const CT_STUDY = '1.2.826.0.1.3680043.9.4245.1760717064491086528325869788156915668';
const CT_SERIES = sharedFiles('series/ct-ge-hispeed-tilt-28');

t.test('a share link opens one study in the hosted viewer, and nothing else', { skip: browserSkip() }, async (t) => {
  const server = await startShareServer(t, 'embedded', { AUTH_KEY_CACHE_SECONDS: '1' }, true);
  const base = server.url!;
  for (const path of CT_SERIES) {
    const stored = await server.app.inject({
      method: 'POST',
      url: '/dicomweb/studies',
      headers: { 'content-type': 'application/dicom', ...bearer(server.writeKey) },
      payload: readShared(path),
    });
    t.equal(stored.statusCode, 200, `STOW ${path}`);
  }
  const share = await createShare(server, { studyInstanceUid: CT_STUDY, expiresIn: '1h', note: 'referring doctor' });

  // A page on another origin (another port; the browser is kept on 127.0.0.1) that links to the share and records Referer headers.
  const visits: { url: string; referer: string }[] = [];
  const elsewhere = createServer((request, response) => {
    const headers: IncomingHttpHeaders = request.headers;
    visits.push({ url: request.url ?? '', referer: headers.referer ?? '' });
    if (request.url === '/start') {
      response.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><a id="go" href="${share.link}">the study</a>`);
    } else response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><p>elsewhere</p>');
  });
  await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => elsewhere.close(() => resolve())));
  const other = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;

  const context = await launchBrowser(t);
  const page = await context.newPage();
  const log = watchPage(page);
  const searches: string[] = [];
  page.on('response', (response) => {
    if (/\/dicomweb\/studies(\?|$)/.test(response.url()) && response.status() === 200) void response.text().then((body) => searches.push(body));
  });

  await page.goto(`${other}/start`);
  await page.click('#go');
  await page.waitForURL((url) => url.pathname === '/viewer', { timeout: 60_000 });
  t.equal(page.url(), `${base}/viewer?StudyInstanceUIDs=${CT_STUDY}`, 'the viewer opened without the token in its URL');
  const state = await waitFor(
    page,
    () => viewportState(page),
    (s) => !!s && s.distinctGrey > 16 && s.imageIds === 28,
    60_000,
  );
  await screenshot(page, 'share-viewer');
  t.ok(state && state.rows > 0 && state.columns > 0, `an image is loaded (${state?.columns}×${state?.rows})`);
  t.ok(state && state.distinctGrey > 16 && state.stdDev > 5, `the canvas is drawn (${state?.distinctGrey} grey levels, σ ${state?.stdDev.toFixed(1)})`);
  t.equal(state?.imageIds, 28, 'the whole series');
  t.same(log.failed, [], 'no request failed');
  t.same(log.errors, [], 'no console errors or unhandled rejections');
  t.notOk(
    log.requested.some((url) => url.startsWith(base) && url.includes('tsl_') && !url.startsWith(`${base}/s/`)),
    'no request but the link itself carries the token',
  );
  const cookies = await context.cookies(base);
  t.match(cookies, [{ name: 'tessera_share', httpOnly: true, sameSite: 'Strict', secure: false }], 'an HttpOnly, SameSite=Strict cookie');
  t.notOk(await page.evaluate('document.cookie.includes("tsl_")'), 'the page cannot read the token');

  // The study list: one study, the shared one.
  searches.length = 0;
  const list = await context.newPage();
  const listLog = watchPage(list);
  list.on('response', (response) => {
    if (/\/dicomweb\/studies\?/.test(response.url())) void response.text().then((body) => searches.push(body));
  });
  await list.goto(`${base}/`);
  const rows = await waitFor(
    list,
    async () => searches.length,
    (n) => n > 0,
    60_000,
  );
  t.ok(rows > 0, 'the study list searched');
  const listed = searches.flatMap((body) => (JSON.parse(body) as Record<string, { Value: string[] }>[]).map((d) => d['0020000D']!.Value[0]));
  t.same(listed, [CT_STUDY], 'the study list holds the shared study only');
  const counter = await waitFor(
    list,
    async () => await list.evaluate<string>('document.body.innerText'),
    (text) => /\b1-1 of 1\b/.test(text),
    30_000,
  );
  t.match(counter, /\b1-1 of 1\b/, 'the study list shows "1-1 of 1"');
  await screenshot(list, 'share-study-list');
  t.same(listLog.failed, [], 'no request of the study list failed');

  // The same cookie, from the page: other studies, an unfiltered search, a store.
  const mr = server.studies[OTHER_MR]!;
  const answers = await page.evaluate<[number, number, string[], number]>(`(async () => {
    const other = await fetch('/dicomweb/studies/${mr}/metadata');
    const all = await fetch('/dicomweb/studies', { headers: { accept: 'application/dicom+json' } });
    const studies = (await all.json()).map((d) => d['0020000D'].Value[0]);
    const stow = await fetch('/dicomweb/studies', { method: 'POST', headers: { 'content-type': 'application/dicom' }, body: new Uint8Array(132) });
    return [other.status, all.status, studies, stow.status];
  })()`);
  t.same(answers, [403, 200, [CT_STUDY], 403], "another study's metadata 403, a search without filters finds the shared study only, STOW 403");

  // Leaving the viewer for another origin sends no Referer with the token (nor any path of ours).
  // (The viewer's Content-Security-Policy keeps it from loading anything from another origin itself.)
  await page.evaluate(`location.href = '${other}/landing'`);
  await page.waitForURL(`${other}/landing`);
  t.ok(
    visits.some((v) => v.url === '/landing'),
    'the viewer page navigated to the other origin',
  );
  t.same(
    visits.filter((v) => v.referer.includes('tsl_') || v.referer.includes('/s/')),
    [],
    `no Referer holds the token (seen: ${[...new Set(visits.map((v) => v.referer || '(none)'))].join(', ')})`,
  );

  // Revoked: within AUTH_KEY_CACHE_SECONDS, a reload shows no patient data.
  const revoked = await server.app.inject({ method: 'DELETE', url: `/api/shares/${share.id}`, headers: bearer(server.adminKey) });
  t.equal(revoked.statusCode, 204);
  await page.waitForTimeout(1_500);
  const patientName = await patientNameOf(server, CT_STUDY);
  const after = await context.newPage();
  const afterLog = watchPage(after);
  await after.goto(`${base}/viewer?StudyInstanceUIDs=${CT_STUDY}`);
  await after.waitForTimeout(5_000);
  await screenshot(after, 'share-revoked');
  const shown = await viewportState(after);
  t.notOk(shown, 'no image is loaded');
  const text = await after.evaluate<string>('document.body.innerText');
  t.notOk(patientName && text.includes(patientName), 'the patient name is not shown');
  t.ok(
    afterLog.failed.some((f) => f.includes('HTTP 401')),
    'the data requests answered 401',
  );
  t.same(
    (await context.cookies(base)).filter((c) => c.name === 'tessera_share'),
    [],
    'the refused cookie was removed',
  );

  const logged = server.log.join('');
  t.match(logged, /\/s\/\(token\)/, 'the link appears in the log, redacted');
  t.notMatch(logged, /tsl_/, 'the server log holds no token');
});

async function patientNameOf(server: Awaited<ReturnType<typeof startShareServer>>, study: string): Promise<string | undefined> {
  const { generateApiKey } = await import('@tessera/access');
  const key = generateApiKey();
  await server.storage.index.apiKeys.create({ id: key.id, name: 'reader', scopes: ['read'], secretHash: key.secretHash });
  const answer = await server.app.inject({ url: `/dicomweb/studies?StudyInstanceUID=${study}`, headers: bearer(key.key) });
  const name = (answer.json()[0] as Record<string, { Value?: { Alphabetic?: string }[] }>)['00100010']?.Value?.[0]?.Alphabetic;
  return name?.split('^')[0];
}
