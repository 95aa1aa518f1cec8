/**
 * Installs the prebuilt OHIF v3 viewer (the `dist/` of the npm package @ohif/app, version and
 * integrity pinned in packages/ohif/package.json under `ohifViewer`) into packages/ohif/viewer/.
 *
 * Why not a dependency: @ohif/app's dist is self-contained, but installing the package would pull
 * its whole build toolchain (React, webpack loaders, codecs: hundreds of packages). `npm pack`
 * fetches only its tarball from the registry; its SHA-512 is checked against the pinned integrity.
 * Runs as the root `postinstall`; does nothing when the pinned version is already in place.
 * A failure is reported but does not fail the install: the server then answers /viewer with 503.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(packageDir, 'viewer');
const { ohifViewer } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
  ohifViewer: { package: string; version: string; integrity: string };
};
const marker = join(target, '.version');
const wanted = `${ohifViewer.package}@${ohifViewer.version}`;

if (process.env.TESSERA_SKIP_VIEWER === '1') {
  console.log('OHIF viewer: skipped (TESSERA_SKIP_VIEWER=1)');
} else if (existsSync(marker) && readFileSync(marker, 'utf8').trim() === wanted) {
  console.log(`OHIF viewer: ${wanted} already installed`);
} else {
  try {
    install();
  } catch (error) {
    console.warn(
      `OHIF viewer: could not install ${wanted}: ${(error as Error).message}\n(the server runs without /viewer; rerun \`pnpm --filter @tessera/ohif fetch-viewer\`)`,
    );
  }
}

function install(): void {
  const work = mkdtempSync(join(tmpdir(), 'tessera-ohif-'));
  try {
    const name = execFileSync('npm', ['pack', wanted, '--silent', '--pack-destination', work], { encoding: 'utf8' }).trim().split('\n').pop()!;
    const tarball = join(work, name);
    const digest = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (digest !== ohifViewer.integrity) throw new Error(`integrity mismatch: got ${digest}, pinned ${ohifViewer.integrity}`);
    execFileSync('tar', ['-xzf', tarball, '-C', work, 'package/dist']);
    rmSync(target, { recursive: true, force: true });
    mkdirSync(dirname(target), { recursive: true });
    renameSync(join(work, 'package', 'dist'), target);
    writeFileSync(marker, `${wanted}\n`);
    console.log(`OHIF viewer: installed ${wanted} into ${target}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
