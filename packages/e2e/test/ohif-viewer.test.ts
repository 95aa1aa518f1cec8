import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import t, { type Test } from 'tap';
import { DEFAULT_VIEWER_DIR } from '@tessera/ohif';
import { readShared, sharedFiles, startTestServer, type TestServer } from '@tessera/testkit';

/**
 * The real OHIF v3 viewer in Debian's Chromium (driven by playwright-core, never a downloaded
 * browser): a study link opens with each data source, an image is actually drawn, the instance
 * counter shows the series length, and the console stays free of errors. Screenshots are saved
 * under artifacts/ohif/ (kept by .ci/run).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = resolve(fileURLToPath(import.meta.url), '../../../../artifacts/ohif');
const CT_STUDY = '1.2.826.0.1.3680043.9.4245.1760717064491086528325869788156915668';
const MULTIFRAME = 'multiframe/enhanced-mr-emri_small-10fr.dcm';
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
  '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist',
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
];

interface ViewportState {
  rows: number;
  columns: number;
  imageIds: number;
  distinctGrey: number;
  stdDev: number;
  counter: string | null;
}

/**
 * Runs in the page (plain JavaScript: this file is type-checked without the DOM library): the first
 * viewport with a loaded image, its size, stack length, the canvas pixel spread and the counter.
 */
const VIEWPORT_PROBE = `(() => {
  const cs = window.cornerstone;
  for (const enabled of (cs && cs.getEnabledElements ? cs.getEnabledElements() : [])) {
    const viewport = enabled.viewport;
    const image = viewport && viewport.getImageData ? viewport.getImageData() : undefined;
    const [columns, rows] = image && image.dimensions ? image.dimensions : [0, 0];
    if (!(rows > 0 && columns > 0)) continue;
    const canvas = viewport.getCanvas ? viewport.getCanvas() : enabled.canvas;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const levels = new Set();
    let sum = 0, sumSq = 0;
    const n = data.length / 4;
    for (let i = 0; i < data.length; i += 4) {
      const grey = Math.round((data[i] + data[i + 1] + data[i + 2]) / 3);
      levels.add(grey); sum += grey; sumSq += grey * grey;
    }
    const mean = sum / n;
    const counter = /\\b(\\d+)\\s*\\/\\s*(\\d+)\\b/.exec(document.body.innerText);
    return {
      rows, columns,
      imageIds: viewport.getImageIds ? viewport.getImageIds().length : 1,
      distinctGrey: levels.size,
      stdDev: Math.sqrt(Math.max(0, sumSq / n - mean * mean)),
      counter: counter ? counter[0].replace(/\\s/g, '') : null,
    };
  }
  return null;
})()`;

async function viewportState(page: Page): Promise<ViewportState | null> {
  return (await page.evaluate(VIEWPORT_PROBE)) as ViewportState | null;
}

async function openStudy(context: BrowserContext, url: string, expect: { frames: number; shot: string }, t: Test) {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`unhandled: ${error.message}`));
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
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${expect.shot}.png`) });
  t.ok(state, 'a viewport holds a loaded image');
  t.ok(state && state.rows > 0 && state.columns > 0, `image size ${state?.columns}×${state?.rows}`);
  t.ok(state && state.distinctGrey > 16 && state.stdDev > 5, `the canvas is not uniform (${state?.distinctGrey} grey levels, σ ${state?.stdDev.toFixed(1)})`);
  t.equal(state?.imageIds, expect.frames, `the stack holds ${expect.frames} images`);
  t.match(state?.counter ?? '', new RegExp(`/${expect.frames}$`), `the instance counter shows the series length (${state?.counter})`);
  t.same(errors, [], 'no console errors or unhandled rejections');
  await page.close();
}

t.test('OHIF viewer in Chromium', { skip: !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM} (.ci/run installs it)` : !existsSync(join(DEFAULT_VIEWER_DIR, 'index.html')) ? 'OHIF viewer not installed' : false }, async (t) => {
  const server: TestServer = await startTestServer('embedded');
  t.teardown(() => server.close());
  let mfStudy = '';
  for (const path of [...sharedFiles('series/ct-ge-hispeed-tilt-28'), MULTIFRAME]) {
    const res = await fetch(`${server.url}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': 'application/dicom' }, body: readShared(path) });
    t.equal(res.status, 200, `STOW ${path}`);
    const body = (await res.json()) as { '00081190': { Value: string[] } };
    if (path === MULTIFRAME) mfStudy = body['00081190'].Value[0]!.split('/').pop()!;
  }
  const profile = await mkdtemp(join(tmpdir(), 'tessera-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 900 } });
  t.teardown(async () => {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  });
  // Suppress OHIF's first-visit tour (../shared/notes/ohif-e2e.md).
  await context.addInitScript({ content: `localStorage.setItem('shownTours', '["basicViewerTour"]')` });

  const dicomjson = (study: string) => `${server.url}/viewer/dicomjson?url=${encodeURIComponent(`${server.url}/ohif/dicomjson/studies/${study}`)}`;
  await t.test('dicomweb data source: CT series', (t) => openStudy(context, `${server.url}/viewer?StudyInstanceUIDs=${CT_STUDY}`, { frames: 28, shot: 'dicomweb-ct' }, t));
  await t.test('dicomweb data source: multi-frame MR', (t) => openStudy(context, `${server.url}/viewer?StudyInstanceUIDs=${mfStudy}`, { frames: 10, shot: 'dicomweb-multiframe' }, t));
  await t.test('dicomjson data source: CT series', (t) => openStudy(context, dicomjson(CT_STUDY), { frames: 28, shot: 'dicomjson-ct' }, t));
  await t.test('dicomjson data source: multi-frame MR', (t) => openStudy(context, dicomjson(mfStudy), { frames: 10, shot: 'dicomjson-multiframe' }, t));
});
