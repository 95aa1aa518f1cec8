import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the directory holding pnpm-workspace.yaml, three levels above this file. */
export const REPOSITORY_ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');

/**
 * The real DICOM test files, inside the repository (packages/test-data/dicom), read-only. They were
 * copied with their licences (LICENSES/) and per-file provenance (PROVENANCE.tsv), so a clone with
 * nothing beside it passes its tests. No environment override: tests never read outside the clone.
 */
export const TEST_DICOM = resolve(fileURLToPath(import.meta.url), '../../dicom');

/** True when `path` is `root` or below it (after resolving `..` and the like). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, resolve(path));
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

// Fail at load, loudly, rather than let a test read files from outside the repository.
if (!existsSync(join(REPOSITORY_ROOT, 'pnpm-workspace.yaml'))) {
  throw new Error(`@tessera/test-data: ${REPOSITORY_ROOT} is not the repository root (no pnpm-workspace.yaml)`);
}
if (!isInside(REPOSITORY_ROOT, TEST_DICOM) || !existsSync(join(TEST_DICOM, 'MANIFEST.tsv'))) {
  throw new Error(`@tessera/test-data: the test data must be inside the repository, at ${TEST_DICOM}`);
}

/** The absolute path of a test-data file; refuses any path that leaves the test-data folder. */
export function testDataPath(path: string): string {
  const full = resolve(TEST_DICOM, path);
  if (!isInside(TEST_DICOM, full)) throw new Error(`@tessera/test-data: ${path} is outside ${TEST_DICOM}`);
  return full;
}

export interface ManifestRow {
  path: string;
  transferSyntax: string;
  sopClass: string;
  modality: string;
  studyUid: string;
  seriesUid: string;
  sopUid: string;
}

/** MANIFEST.tsv: the per-file UID reference of the test data. */
export function readManifest(): Map<string, ManifestRow> {
  const [header, ...lines] = readFileSync(testDataPath('MANIFEST.tsv'), 'utf8').trim().split(/\r?\n/);
  const columns = header!.split('\t');
  const at = (cells: string[], name: string) => cells[columns.indexOf(name)] ?? '';
  return new Map(lines.map((line) => {
    const cells = line.split('\t');
    const row: ManifestRow = {
      path: at(cells, 'path'), transferSyntax: at(cells, 'transfer_syntax'), sopClass: at(cells, 'sop_class'),
      modality: at(cells, 'modality'), studyUid: at(cells, 'study_uid'), seriesUid: at(cells, 'series_uid'), sopUid: at(cells, 'sop_uid'),
    };
    return [row.path, row];
  }));
}

/** bad/INDEX.tsv: each broken input and what the server must answer. */
export function readBadIndex(): { file: string; problem: string; expected: string }[] {
  const [, ...lines] = readFileSync(testDataPath('bad/INDEX.tsv'), 'utf8').trim().split(/\r?\n/);
  return lines.map((line) => {
    const cells = line.split('\t');
    return { file: cells[0]!, problem: cells[3] ?? '', expected: cells[4] ?? '' };
  });
}

/** Every data file under a folder of the test data (relative paths), skipping docs and licences. */
export function sharedFiles(folder = ''): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (name !== 'LICENSES') walk(path);
      } else if (!/\.(md|tsv|py|txt)$/.test(name)) out.push(relative(TEST_DICOM, path));
    }
  };
  walk(testDataPath(folder));
  return out;
}

export const readShared = (path: string): Buffer => readFileSync(testDataPath(path));
