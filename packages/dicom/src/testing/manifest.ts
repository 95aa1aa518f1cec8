import { readShared } from '@tessera/test-data';

/** One row of the shared data's MANIFEST.tsv (what pydicom read from each real file). */
export interface ManifestEntry {
  path: string;
  /** `ok`, or `force` when pydicom needed force=True (no preamble / File Meta). */
  parse: string;
  /** From the File Meta; empty when the file has none. */
  transferSyntax: string;
  sopClassUid: string;
  charset: string;
  patientId: string;
  patientName: string;
  studyUid: string;
  seriesUid: string;
  sopUid: string;
}

/**
 * MANIFEST.tsv by path, with the columns @tessera/test-data's `readManifest` leaves out (parse,
 * charset, patient name). The file has CRLF line ends.
 */
export function readManifestEntries(): Map<string, ManifestEntry> {
  const [header, ...lines] = readShared('MANIFEST.tsv')
    .toString('utf8')
    .split(/\r?\n/)
    .filter((line) => line !== '');
  const columns = header!.split('\t');
  const column = (cells: string[], name: string): string => {
    const index = columns.indexOf(name);
    if (index < 0) throw new Error(`MANIFEST.tsv has no column ${name}`);
    return cells[index] ?? '';
  };
  return new Map(
    lines.map((line) => {
      const cells = line.split('\t');
      const entry: ManifestEntry = {
        path: column(cells, 'path'),
        parse: column(cells, 'parse'),
        transferSyntax: column(cells, 'transfer_syntax'),
        sopClassUid: column(cells, 'sop_class'),
        charset: column(cells, 'charset'),
        patientId: column(cells, 'patient_id'),
        patientName: column(cells, 'patient_name'),
        studyUid: column(cells, 'study_uid'),
        seriesUid: column(cells, 'series_uid'),
        sopUid: column(cells, 'sop_uid'),
      };
      return [entry.path, entry];
    }),
  );
}
