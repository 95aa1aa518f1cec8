import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { Test } from 'tap';
import { DEFAULT_VIEWER_DIR } from '@tessera/ohif';

/**
 * Helpers of the real-browser tests: Debian's Chromium driven by playwright-core (never a
 * downloaded browser), software WebGL, the page kept on loopback.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = resolve(fileURLToPath(import.meta.url), '../../../../artifacts/ohif');
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--ignore-gpu-blocklist',
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
];

/** Why a browser test cannot run here (false: it can). */
export function browserSkip(): string | false {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (.ci/run installs it)`;
  if (!existsSync(join(DEFAULT_VIEWER_DIR, 'index.html'))) return 'OHIF viewer not installed';
  return false;
}

/** A fresh Chromium profile, closed and removed at the end of the test. */
export async function launchBrowser(t: Test): Promise<BrowserContext> {
  const profile = await mkdtemp(join(tmpdir(), 'tessera-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 900 },
  });
  t.teardown(async () => {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  });
  // The machine running the tests may be shared and busy: a page's load (a 17 MB bundle) can take
  // far longer than playwright's default 30 s without anything being wrong.
  context.setDefaultNavigationTimeout(120_000);
  // Suppress OHIF's first-visit tour.
  await context.addInitScript({ content: `localStorage.setItem('shownTours', '["basicViewerTour"]')` });
  return context;
}

/** What a page did: console errors and unhandled rejections, failed requests (network or HTTP ≥ 400), every URL asked. */
export interface PageLog {
  errors: string[];
  failed: string[];
  requested: string[];
}

export function watchPage(page: Page): PageLog {
  const log: PageLog = { errors: [], failed: [], requested: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') log.errors.push(message.text());
  });
  page.on('pageerror', (error) => log.errors.push(`unhandled: ${error.message}`));
  page.on('request', (request) => log.requested.push(request.url()));
  page.on('requestfailed', (request) => log.failed.push(`${request.url()}: ${request.failure()?.errorText}`));
  page.on('response', (response) => {
    if (response.status() >= 400) log.failed.push(`${response.url()}: HTTP ${response.status()}`);
  });
  return log;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** Polls `probe` until `done` holds or the time is up; returns the last value. */
export async function waitFor<T>(page: Page, probe: () => Promise<T>, done: (value: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await probe();
  while (!done(value) && Date.now() < deadline) {
    await page.waitForTimeout(500);
    value = await probe();
  }
  return value;
}

export interface ViewportState {
  rows: number;
  columns: number;
  imageIds: number;
  distinctGrey: number;
  stdDev: number;
  counter: string | null;
}

/**
 * Page-side JavaScript: a function `greyStats(canvas)` giving the number of distinct grey levels of a
 * canvas and their standard deviation (a drawn image is not uniform). Spliced into the probes below
 * and into the legacy viewer's (plain JavaScript: this file is type-checked without the DOM library).
 */
export const GREY_STATS = `function greyStats(canvas) {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const levels = new Set();
    let sum = 0, sumSq = 0;
    const n = data.length / 4;
    for (let i = 0; i < data.length; i += 4) {
      const grey = Math.round((data[i] + data[i + 1] + data[i + 2]) / 3);
      levels.add(grey); sum += grey; sumSq += grey * grey;
    }
    const mean = sum / n;
    return { distinctGrey: levels.size, stdDev: Math.sqrt(Math.max(0, sumSq / n - mean * mean)) };
  }`;

/**
 * Runs in an OHIF v3 page: the first viewport with a loaded image, its size, stack length, the
 * canvas pixel spread and the instance counter.
 */
const VIEWPORT_PROBE = `(() => {
  ${GREY_STATS}
  const cs = window.cornerstone;
  for (const enabled of (cs && cs.getEnabledElements ? cs.getEnabledElements() : [])) {
    const viewport = enabled.viewport;
    const image = viewport && viewport.getImageData ? viewport.getImageData() : undefined;
    const [columns, rows] = image && image.dimensions ? image.dimensions : [0, 0];
    if (!(rows > 0 && columns > 0)) continue;
    const canvas = viewport.getCanvas ? viewport.getCanvas() : enabled.canvas;
    const counter = /\\b(\\d+)\\s*\\/\\s*(\\d+)\\b/.exec(document.body.innerText);
    return {
      rows, columns,
      imageIds: viewport.getImageIds ? viewport.getImageIds().length : 1,
      ...greyStats(canvas),
      counter: counter ? counter[0].replace(/\\s/g, '') : null,
    };
  }
  return null;
})()`;

export async function viewportState(page: Page): Promise<ViewportState | null> {
  return (await page.evaluate(VIEWPORT_PROBE).catch(() => null)) as ViewportState | null;
}

/** The series descriptions shown in OHIF v3's study browser. */
export async function studyBrowserSeries(page: Page): Promise<string[]> {
  return (await page
    .evaluate(`[...document.querySelectorAll('[data-cy="study-browser-thumbnail"] [data-cy="series-description-label"]')].map((n) => n.innerText.trim())`)
    .catch(() => [])) as string[];
}
