import t from 'tap';
import { readManifest, readShared, startTestServer } from '@tessera/testkit';
import { browserSkip, launchBrowser, screenshot, studyBrowserSeries, viewportState, waitFor, watchPage } from './browser-helpers.js';
import { LEGACY_PROBE, type LegacyState, serveLegacyViewer } from './legacy-viewer.js';

/**
 * The legacy OHIF link form, `<viewer>/viewer?url=<this server>/ohif/study/{s}/series`, in a real
 * browser (Debian's Chromium), for a real multi-series study (3 MR series of 1, 3 and 7 images):
 * - in the hosted OHIF v3 viewer, which cannot read that JSON: the server sends it to the same
 *   study in the dicomweb data source; images drawn, every series in the study browser;
 * - in the viewer the links were made for, OHIF's v2-era standalone viewer (`@ohif/viewer` 3.6.3
 *   from the npm registry) on a second loopback origin: it reads the legacy JSON and draws the study
 *   from this server across origins (CORS).
 * Neither page may have a failed request.
 */
const STUDY = '1.3.6.1.4.1.5962.1.1.0.0.0.1196533885.18148.0.1';
const SERIES = [
  { description: 'FAST LOCALIZER', instances: 1 },
  { description: 'T/S/C RF FAST PILOT', instances: 3 },
  { description: 'ANGIO Projected from C', instances: 7 },
];
const words = (s: string) => s.replace(/\s+/g, ' ').trim();

t.test('legacy study link in Chromium', { skip: browserSkip() }, async (t) => {
  const server = await startTestServer('embedded');
  t.teardown(() => server.close());
  const files = [...readManifest().values()].filter((row) => row.studyUid === STUDY).map((row) => row.path);
  t.equal(files.length, 11, 'the study has 11 files in the shared data');
  for (const path of files) {
    const res = await fetch(`${server.url}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': 'application/dicom' }, body: readShared(path) });
    t.equal(res.status, 200, `STOW ${path}`);
  }
  const link = `viewer?url=${server.url}/ohif/study/${STUDY}/series`;
  const context = await launchBrowser(t);

  await t.test('hosted OHIF v3 viewer', async (t) => {
    const page = await context.newPage();
    const log = watchPage(page);
    await page.goto(`${server.url}/${link}`);
    t.equal(page.url(), `${server.url}/viewer?StudyInstanceUIDs=${STUDY}`, 'sent to the same study in the dicomweb data source');
    const state = await waitFor(
      page,
      async () => ({ viewport: await viewportState(page), series: await studyBrowserSeries(page) }),
      (s) => !!s.viewport && s.viewport.distinctGrey > 16 && s.series.length === SERIES.length,
    );
    await screenshot(page, 'legacy-link-hosted');
    const { viewport } = state;
    t.ok(viewport, 'a viewport holds a loaded image');
    t.equal(`${viewport?.columns}×${viewport?.rows}`, '16×16', 'image size');
    t.ok(
      viewport && viewport.distinctGrey > 16 && viewport.stdDev > 5,
      `the canvas is not uniform (${viewport?.distinctGrey} grey levels, σ ${viewport?.stdDev.toFixed(1)})`,
    );
    t.same(state.series.map(words).sort(), SERIES.map((s) => s.description).sort(), 'every series of the study in the study browser');
    t.same(log.failed, [], 'no failed request');
    t.same(log.errors, [], 'no console errors or unhandled rejections');
    await page.close();
  });

  await t.test('OHIF v2-era standalone viewer on another origin', async (t) => {
    const legacy = await serveLegacyViewer();
    t.teardown(() => legacy.close());
    t.not(new URL(legacy.url).origin, new URL(server.url).origin, 'a second origin');
    const page = await context.newPage();
    const log = watchPage(page);
    await page.goto(`${legacy.url}/${link}`);
    const probe = async () => (await page.evaluate(LEGACY_PROBE).catch(() => ({ image: null, series: [] }))) as LegacyState;
    const state = await waitFor(
      page,
      probe,
      (s) => !!s.image && s.image.distinctGrey > 16 && s.series.length === SERIES.length && s.series.every((x) => x.instances > 0),
    );
    await screenshot(page, 'legacy-link-standalone');
    t.ok(state.image, 'an image is loaded in the viewport');
    t.match(
      state.image?.imageId ?? '',
      new RegExp(`^dicomweb://127\\.0\\.0\\.1:${new URL(server.url).port}/wadouri/\\?`),
      "from this server's WADO-URI, as the legacy JSON gives it",
    );
    t.equal(`${state.image?.columns}×${state.image?.rows}`, '16×16', 'image size');
    t.ok(
      state.image && state.image.distinctGrey > 16 && state.image.stdDev > 5,
      `the canvas is not uniform (${state.image?.distinctGrey} grey levels, σ ${state.image?.stdDev.toFixed(1)})`,
    );
    t.same(
      state.series.map((s) => ({ description: words(s.description), instances: s.instances })),
      SERIES,
      'every series, with its instance count',
    );
    t.ok(log.requested.includes(`${server.url}/ohif/study/${STUDY}/series`), 'the viewer fetched the legacy JSON itself');
    t.same(log.failed, [], 'no failed request (CORS included)');
    // The standalone viewer logs two errors of its own when installed without its measurement
    // configuration ("Failed to map 'CornerstoneTools@4' measurement …"); nothing else may appear.
    t.same(
      log.errors.filter((e) => !/^Failed to map 'CornerstoneTools@4' measurement for definition/.test(e)),
      [],
      'no other console errors',
    );
    await page.close();
  });
});
