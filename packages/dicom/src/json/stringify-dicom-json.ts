import type { DicomJsonAttribute, DicomJsonDataset, JsonValue } from './dicom-json.js';

/**
 * Serialises DICOM JSON with attributes in ascending tag order (digest JSON-2).
 *
 * `JSON.stringify` cannot be used on a DicomJsonDataset: JavaScript objects list integer-like keys
 * first, in numeric order, whatever the insertion order, so tags whose key is all decimal digits
 * without a leading zero (`20051430`, `30060010`, `52009229`, `54000100`) would be written before
 * `00080005`. This writer sorts the keys of every dataset and sequence item itself.
 *
 * Fast path: when no key at any level is integer-like (the usual case: every tag of groups below
 * 1000 has a leading zero), a copy with keys inserted in sorted order and attributes rebuilt as
 * `{vr, Value, BulkDataURI, InlineBinary}` is written by the native `JSON.stringify`, which keeps
 * that insertion order; the text is the same, written about twice as fast. Otherwise the string
 * writer below does it.
 */
export function stringifyDicomJson(value: DicomJsonDataset | DicomJsonDataset[]): string {
  try {
    return JSON.stringify(Array.isArray(value) ? value.map(canonical) : canonical(value));
  } catch (error) {
    if (error !== INTEGER_KEY) throw error;
  }
  if (!Array.isArray(value)) return dataset(value);
  let out = '[';
  for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + dataset(value[i]!);
  return `${out}]`;
}

/**
 * Thrown (never escapes) when a key would be listed out of insertion order by a plain object. One
 * Error made once: caught by identity, so the fast path's bail-out costs no allocation.
 */
const INTEGER_KEY = new Error('integer-like key');

/** Array-index-like keys (`20051430`): a canonical decimal integer below 2^32 - 1. */
const isIntegerLike = (key: string) => /^(?:0|[1-9]\d*)$/.test(key) && Number(key) < 4294967295;

function canonical(ds: DicomJsonDataset): DicomJsonDataset {
  const keys = Object.keys(ds).sort();
  const out: DicomJsonDataset = {};
  for (const key of keys) {
    if (isIntegerLike(key)) throw INTEGER_KEY;
    const attr = ds[key]!;
    const copy: DicomJsonAttribute = { vr: attr.vr };
    if (attr.Value !== undefined) {
      copy.Value =
        attr.vr === 'SQ' ? attr.Value.map((v: JsonValue) => (v !== null && typeof v === 'object' ? canonical(v as DicomJsonDataset) : v)) : attr.Value;
    }
    if (attr.BulkDataURI !== undefined) copy.BulkDataURI = attr.BulkDataURI;
    if (attr.InlineBinary !== undefined) copy.InlineBinary = attr.InlineBinary;
    out[key] = copy;
  }
  return out;
}

/** Tag keys and VRs are plain ASCII (8 hex digits, two letters): written as they are, without JSON.stringify. */
const PLAIN = /^[0-9A-Za-z]+$/;
const quoted = (text: string) => (PLAIN.test(text) ? `"${text}"` : JSON.stringify(text));

function dataset(ds: DicomJsonDataset): string {
  const keys = Object.keys(ds).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    out += `${i ? ',' : ''}${quoted(key)}:${attribute(ds[key]!)}`;
  }
  return `${out}}`;
}

/** One attribute object as JSON (`{"vr":…,"Value":[…]}`), sequence items in tag order. */
export function stringifyDicomJsonAttribute(attr: DicomJsonAttribute): string {
  return attribute(attr);
}

function attribute(attr: DicomJsonAttribute): string {
  let out = `{"vr":${quoted(attr.vr)}`;
  if (attr.Value !== undefined) {
    // Values other than sequence items hold no dataset, so the whole array is written at once.
    if (attr.vr !== 'SQ') out += `,"Value":${JSON.stringify(attr.Value)}`;
    else
      out += `,"Value":[${attr.Value.map((v: JsonValue) => (v !== null && typeof v === 'object' ? dataset(v as DicomJsonDataset) : JSON.stringify(v))).join(',')}]`;
  }
  if (attr.BulkDataURI !== undefined) out += `,"BulkDataURI":${JSON.stringify(attr.BulkDataURI)}`;
  if (attr.InlineBinary !== undefined) out += `,"InlineBinary":${JSON.stringify(attr.InlineBinary)}`;
  return `${out}}`;
}
