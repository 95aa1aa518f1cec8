import type { DicomJsonAttribute, DicomJsonDataset, JsonValue } from './dicom-json.js';

/**
 * Serialises DICOM JSON with attributes in ascending tag order (digest JSON-2).
 *
 * `JSON.stringify` cannot be used on a DicomJsonDataset: JavaScript objects list integer-like keys
 * first, in numeric order, whatever the insertion order, so tags whose key is all decimal digits
 * without a leading zero (`20051430`, `30060010`, `52009229`, `54000100`) would be written before
 * `00080005`. This writer sorts the keys of every dataset and sequence item itself.
 */
export function stringifyDicomJson(value: DicomJsonDataset | DicomJsonDataset[]): string {
  return Array.isArray(value) ? `[${value.map(dataset).join(',')}]` : dataset(value);
}

function dataset(ds: DicomJsonDataset): string {
  const keys = Object.keys(ds).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${attribute(ds[key]!)}`).join(',')}}`;
}

function attribute(attr: DicomJsonAttribute): string {
  const parts = [`"vr":${JSON.stringify(attr.vr)}`];
  if (attr.Value !== undefined) {
    const values = attr.Value.map((v: JsonValue) => (attr.vr === 'SQ' && v !== null && typeof v === 'object' ? dataset(v as DicomJsonDataset) : JSON.stringify(v)));
    parts.push(`"Value":[${values.join(',')}]`);
  }
  if (attr.BulkDataURI !== undefined) parts.push(`"BulkDataURI":${JSON.stringify(attr.BulkDataURI)}`);
  if (attr.InlineBinary !== undefined) parts.push(`"InlineBinary":${JSON.stringify(attr.InlineBinary)}`);
  return `{${parts.join(',')}}`;
}
