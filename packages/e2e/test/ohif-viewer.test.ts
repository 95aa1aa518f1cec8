import type { BrowserContext } from 'playwright-core';
import t, { type Test } from 'tap';
import { readShared, sharedFiles, startTestServer, type TestServer } from '@tessera/testkit';
import { type ViewportState, browserSkip, launchBrowser, screenshot, viewportState, watchPage } from './browser-helpers.js';

/**
 * The real OHIF v3 viewer in Debian's Chromium (driven by playwright-core, never a downloaded
 * browser): a study link opens with each data source, an image is actually drawn, the instance
 * counter shows the series length, and the console stays free of errors. Screenshots are saved
 * under artifacts/ohif/ (kept by .ci/run).
 */
const CT_STUDY = '1.2.826.0.1.3680043.9.4245.1760717064491086528325869788156915668';
const MULTIFRAME = 'multiframe/enhanced-mr-emri_small-10fr.dcm';

async function openStudy(context: BrowserContext, url: string, expect: { frames: number; shot: string }, t: Test) {
  const page = await context.newPage();
  const { errors } = watchPage(page);
  const document = await page.goto(url);
  // The viewer runs under its Content-Security-Policy: a violation is a console error, failing the check below.
  t.match(document?.headers()['content-security-policy'] ?? '', /frame-ancestors 'self'/, 'the page is served with the viewer CSP');
  let state: ViewportState | null = null;
  const deadline = Date.now() + 45_000;
  while (Date.now() < deadline) {
    state = await viewportState(page).catch(() => null);
    if (state && state.distinctGrey > 16 && state.imageIds === expect.frames && state.counter?.endsWith(`/${expect.frames}`)) break;
    await page.waitForTimeout(500);
  }
  await screenshot(page, expect.shot);
  t.ok(state, 'a viewport holds a loaded image');
  t.ok(state && state.rows > 0 && state.columns > 0, `image size ${state?.columns}×${state?.rows}`);
  t.ok(state && state.distinctGrey > 16 && state.stdDev > 5, `the canvas is not uniform (${state?.distinctGrey} grey levels, σ ${state?.stdDev.toFixed(1)})`);
  t.equal(state?.imageIds, expect.frames, `the stack holds ${expect.frames} images`);
  t.match(state?.counter ?? '', new RegExp(`/${expect.frames}$`), `the instance counter shows the series length (${state?.counter})`);
  t.same(errors, [], 'no console errors or unhandled rejections');
  await page.close();
}

t.test('OHIF viewer in Chromium', { skip: browserSkip() }, async (t) => {
  const server: TestServer = await startTestServer('embedded');
  t.teardown(() => server.close());
  let mfStudy = '';
  for (const path of [...sharedFiles('series/ct-ge-hispeed-tilt-28'), MULTIFRAME]) {
    const res = await fetch(`${server.url}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': 'application/dicom' }, body: readShared(path) });
    t.equal(res.status, 200, `STOW ${path}`);
    const body = (await res.json()) as { '00081190': { Value: string[] } };
    if (path === MULTIFRAME) mfStudy = body['00081190'].Value[0]!.split('/').pop()!;
  }
  const context = await launchBrowser(t);

  const dicomjson = (study: string) => `${server.url}/viewer/dicomjson?url=${encodeURIComponent(`${server.url}/ohif/dicomjson/studies/${study}`)}`;
  await t.test('dicomweb data source: CT series', (t) =>
    openStudy(context, `${server.url}/viewer?StudyInstanceUIDs=${CT_STUDY}`, { frames: 28, shot: 'dicomweb-ct' }, t),
  );
  await t.test('dicomweb data source: multi-frame MR', (t) =>
    openStudy(context, `${server.url}/viewer?StudyInstanceUIDs=${mfStudy}`, { frames: 10, shot: 'dicomweb-multiframe' }, t),
  );
  await t.test('dicomjson data source: CT series', (t) => openStudy(context, dicomjson(CT_STUDY), { frames: 28, shot: 'dicomjson-ct' }, t));
  await t.test('dicomjson data source: multi-frame MR', (t) => openStudy(context, dicomjson(mfStudy), { frames: 10, shot: 'dicomjson-multiframe' }, t));
});
