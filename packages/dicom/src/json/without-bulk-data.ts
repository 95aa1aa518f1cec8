import type { DicomJsonAttribute, DicomJsonDataset } from './dicom-json.js';

/**
 * An attribute with values only: undefined when it is held as BulkDataURI or InlineBinary, and
 * sequence items cleaned the same way, recursively. Search results carry values only (a relative
 * bulk data URI would not resolve from a search URL), and so does what the index keeps per study
 * and series for them.
 */
export function withoutBulkData(attr: DicomJsonAttribute): DicomJsonAttribute | undefined {
  if (attr.BulkDataURI !== undefined || attr.InlineBinary !== undefined) return undefined;
  if (attr.vr !== 'SQ' || !attr.Value) return attr;
  return {
    vr: 'SQ',
    Value: attr.Value.map((item) => (item && typeof item === 'object' ? valuesOnly(item as DicomJsonDataset) : item)),
  };
}

/** A dataset without its bulk data attributes (see `withoutBulkData`). */
export function valuesOnly(dataset: DicomJsonDataset): DicomJsonDataset {
  const clean: DicomJsonDataset = {};
  for (const [key, attr] of Object.entries(dataset)) {
    const value = withoutBulkData(attr);
    if (value) clean[key] = value;
  }
  return clean;
}
