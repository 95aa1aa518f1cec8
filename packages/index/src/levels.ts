import { type DicomJsonDataset, Tag } from '@tessera/dicom';

/**
 * Attributes kept at each level of the index (patient/study module, series module), so that
 * QIDO-RS can return them without opening instance metadata. Tags in JSON key form.
 */
export const STUDY_LEVEL_TAGS: ReadonlySet<string> = new Set([
  '00080005', // SpecificCharacterSet (always ISO_IR 192 in stored JSON)
  '00080020', '00080030', '00080050', '00080051', '00080090', '00080201', '00081030', '00081032',
  '00081060', '00081080', '00081110', '00100010', '00100020', '00100021', '00100024', '00100030',
  '00100032', '00100040', '00101000', '00101001', '00101002', '00101010', '00101020', '00101030',
  '00102160', '00104000', '0020000D', '00200010', '00321032', '00321033', '00321060', '00401012',
]);

export const SERIES_LEVEL_TAGS: ReadonlySet<string> = new Set([
  '00080021', '00080031', '00080060', '00080070', '00080080', '00081010', '0008103E', '00081040',
  '00081050', '00081070', '00081090', '00081111', '00180015', '00181030', '0020000E', '00200011',
  '00200060', '00400244', '00400245', '00400254', '00400275',
]);

export function pick(dataset: DicomJsonDataset, tags: ReadonlySet<string>): DicomJsonDataset {
  const out: DicomJsonDataset = {};
  for (const [key, value] of Object.entries(dataset)) if (tags.has(key)) out[key] = value;
  return out;
}

/** First value of a string attribute. */
export function firstString(dataset: DicomJsonDataset, tag: number): string | null {
  const value = dataset[tagKeyOf(tag)]?.Value?.[0];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null;
}

/** First value of a numeric attribute (IS, US …); null when absent or not a number. */
export function firstInteger(dataset: DicomJsonDataset, tag: number): number | null {
  const value = dataset[tagKeyOf(tag)]?.Value?.[0];
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(n) && Math.abs(n) < 2 ** 31 ? Math.trunc(n) : null;
}

/** A PN attribute's first value back in DICOM form `Alphabetic=Ideographic=Phonetic`. */
export function personNameString(dataset: DicomJsonDataset, tag: number): string | null {
  const value = dataset[tagKeyOf(tag)]?.Value?.[0];
  if (!value || typeof value !== 'object') return null;
  const pn = value as { Alphabetic?: string; Ideographic?: string; Phonetic?: string };
  return [pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''].join('=').replace(/=+$/, '');
}

/** The form person names are matched in: lower case, trailing empty components dropped (MATCH-3). */
export function personNameSearchForm(name: string | null): string | null {
  if (name === null) return null;
  return name
    .split('=')
    .map((group) => group.replace(/\^+$/, ''))
    .join('=')
    .toLowerCase();
}

const tagKeyOf = (tag: number): string => tag.toString(16).toUpperCase().padStart(8, '0');

export { Tag };
