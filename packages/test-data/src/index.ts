import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shared DICOM test data (../shared/dicom next to the repository), read-only. */
export const SHARED_DICOM = process.env.TESSERA_SHARED_DICOM
  ?? resolve(fileURLToPath(import.meta.url), '../../../../../shared/dicom');

export interface ManifestRow {
  path: string;
  transferSyntax: string;
  sopClass: string;
  modality: string;
  studyUid: string;
  seriesUid: string;
  sopUid: string;
}

/** MANIFEST.tsv: the per-file UID reference of the shared data. */
export function readManifest(): Map<string, ManifestRow> {
  const [header, ...lines] = readFileSync(join(SHARED_DICOM, 'MANIFEST.tsv'), 'utf8').trim().split(/\r?\n/);
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
  const [, ...lines] = readFileSync(join(SHARED_DICOM, 'bad/INDEX.tsv'), 'utf8').trim().split(/\r?\n/);
  return lines.map((line) => {
    const cells = line.split('\t');
    return { file: cells[0]!, problem: cells[3] ?? '', expected: cells[4] ?? '' };
  });
}

/** Every data file under a folder of the shared set (relative paths), skipping docs and licences. */
export function sharedFiles(folder = ''): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (name !== 'LICENSES') walk(path);
      } else if (!/\.(md|tsv|py|txt)$/.test(name)) out.push(relative(SHARED_DICOM, path));
    }
  };
  walk(join(SHARED_DICOM, folder));
  return out;
}

export const readShared = (path: string): Buffer => readFileSync(join(SHARED_DICOM, path));
