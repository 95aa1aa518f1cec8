import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GREY_STATS } from './browser-helpers.js';

/**
 * OHIF's v2-era standalone viewer (`@ohif/viewer` 3.6.3, the real client of the legacy
 * `/ohif/study/{s}/series` JSON): only its `dist/` UMD build, fetched once with `npm pack`
 * (no dependencies installed), checked against the SHA-512 pinned in packages/e2e/package.json
 * (`legacyOhifViewer`), cached under packages/e2e/.cache/, and served from a second loopback origin.
 */
const e2eDir = resolve(fileURLToPath(import.meta.url), '../..');
const pin = (JSON.parse(readFileSync(join(e2eDir, 'package.json'), 'utf8')) as { legacyOhifViewer: { package: string; version: string; integrity: string } })
  .legacyOhifViewer;

/** The cached dist folder; fetched from the npm registry on first use. */
export function legacyViewerDist(): string {
  const wanted = `${pin.package}@${pin.version}`;
  const target = join(e2eDir, '.cache', `ohif-viewer-${pin.version}`);
  if (existsSync(join(target, 'index.umd.js'))) return target;
  mkdirSync(join(e2eDir, '.cache'), { recursive: true });
  const work = mkdtempSync(join(e2eDir, '.cache', 'fetch-'));
  try {
    const name = execFileSync('npm', ['pack', wanted, '--silent', '--pack-destination', work], { encoding: 'utf8' }).trim().split('\n').pop()!;
    const tarball = join(work, name);
    const digest = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (digest !== pin.integrity) throw new Error(`${wanted}: integrity mismatch: got ${digest}, pinned ${pin.integrity}`);
    execFileSync('tar', ['-xzf', tarball, '-C', work, 'package/dist']);
    // Another test process may have finished first: the rename then fails and its copy is kept.
    try {
      renameSync(join(work, 'package', 'dist'), target);
    } catch (error) {
      if (!existsSync(join(target, 'index.umd.js'))) throw error;
    }
    return target;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * A static site for the standalone viewer on its own loopback port: the dist's `index.umd.js`, an
 * `app-config.js` with no server configured (a `?url=` link brings its own data), and a page of
 * ours instead of the dist's example index.html, which loads a polyfill from polyfill.io (a third
 * party, and unreachable here). Every path that is not a file is the page (the viewer's routes).
 */
export async function serveLegacyViewer(): Promise<{ url: string; close(): Promise<void> }> {
  const dist = legacyViewerDist();
  const files: Record<string, [string, string | Buffer]> = {
    '/index.umd.js': ['text/javascript', readFileSync(join(dist, 'index.umd.js'))],
    '/app-config.js': ['text/javascript', `window.config = ${JSON.stringify({ routerBasename: '/', showStudyList: false, extensions: [], servers: {} })};\n`],
    '/start.js': ['text/javascript', `window.OHIFViewer.installViewer(window.config, 'root', function () {});\n`],
  };
  const page =
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>OHIF Standalone Viewer</title></head>' +
    '<body><div id="root"></div><script src="/app-config.js"></script><script src="/index.umd.js" crossorigin></script><script src="/start.js"></script></body></html>';
  const server: Server = createServer((request, response) => {
    const file = files[new URL(request.url ?? '/', 'http://localhost').pathname];
    response.writeHead(200, { 'content-type': file ? file[0] : 'text/html; charset=utf-8' });
    response.end(file ? file[1] : page);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** Runs in the standalone viewer's page: its first enabled element's image and canvas, and the series thumbnails. */
export const LEGACY_PROBE = `(() => {
  ${GREY_STATS}
  const cs = window.cornerstone;
  const enabled = (cs && cs.getEnabledElements ? cs.getEnabledElements() : []).find((e) => e.image);
  let image = null;
  if (enabled) {
    image = { imageId: enabled.image.imageId, rows: enabled.image.rows, columns: enabled.image.columns, ...greyStats(enabled.canvas) };
  }
  const series = [...document.querySelectorAll('.thumbnail')].map((node) => ({
    description: (node.querySelector('.series-description') || {}).innerText || '',
    instances: Number((node.querySelector('.image-frames .value') || {}).innerText),
  }));
  return { image, series };
})()`;

export interface LegacyState {
  image: { imageId: string; rows: number; columns: number; distinctGrey: number; stdDev: number } | null;
  series: { description: string; instances: number }[];
}
