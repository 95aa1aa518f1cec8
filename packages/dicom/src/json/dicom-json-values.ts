import { type TagNumber, tagKey } from '../tag.js';
import type { DicomJsonAttribute, DicomJsonDataset, JsonValue, PersonNameValue } from './dicom-json.js';

/*
 * Reading values out of a DICOM JSON dataset (PS3.18 Annex F) by tag: the one set of readers the
 * index, imaging and the OHIF adapter share. Tags are `Tag.…` numbers, never hex strings.
 */

/** Key form of each tag read so far (`0x0020000d` → `"0020000D"`); a few dozen tags recur. */
const KEYS = new Map<TagNumber, string>();
function keyOf(tag: TagNumber): string {
  let key = KEYS.get(tag);
  if (key === undefined) {
    key = tagKey(tag);
    if (KEYS.size < 1024) KEYS.set(tag, key);
  }
  return key;
}

/** The attribute of `tag` (upper-case key as PS3.18 §F.2.1.1 writes it, or the lower-case one some clients send). */
export function attributeOf(dataset: DicomJsonDataset | undefined, tag: TagNumber): DicomJsonAttribute | undefined {
  if (!dataset) return undefined;
  const key = keyOf(tag);
  return dataset[key] ?? dataset[key.toLowerCase()];
}

/** The first value of an attribute, or undefined when it is absent or has no values. */
export function firstValue(dataset: DicomJsonDataset | undefined, tag: TagNumber): JsonValue | undefined {
  return attributeOf(dataset, tag)?.Value?.[0];
}

/** A string or number value as text, as it is (no trimming); undefined for anything else. */
export function firstString(dataset: DicomJsonDataset | undefined, tag: TagNumber): string | undefined {
  const value = firstValue(dataset, tag);
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

/** A value as a number: numbers as they are, numeric strings (IS, DS) parsed; undefined otherwise. */
const asNumber = (value: JsonValue | undefined): number | undefined => {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : undefined;
};

/** Every value of a numeric attribute that is a number (IS/DS may arrive as numbers or numeric strings). */
export function numbersOf(dataset: DicomJsonDataset | undefined, tag: TagNumber): number[] {
  const out: number[] = [];
  for (const value of attributeOf(dataset, tag)?.Value ?? []) {
    const n = asNumber(value);
    if (n !== undefined) out.push(n);
  }
  return out;
}

/** The first value as a number; undefined when absent or not numeric. */
export function firstNumber(dataset: DicomJsonDataset | undefined, tag: TagNumber): number | undefined {
  return asNumber(firstValue(dataset, tag));
}

/** The first value as a 32-bit signed integer (IS, US …), truncated; undefined when absent, not numeric or out of range. */
export function firstInteger(dataset: DicomJsonDataset | undefined, tag: TagNumber): number | undefined {
  const n = firstNumber(dataset, tag);
  return n !== undefined && Math.abs(n) < 2 ** 31 ? Math.trunc(n) : undefined;
}

/** The first value of a PN attribute, or undefined (also when the value is not a person name object). */
export function firstPersonName(dataset: DicomJsonDataset | undefined, tag: TagNumber): PersonNameValue | undefined {
  const value = firstValue(dataset, tag);
  return value && typeof value === 'object' ? value : undefined;
}

/** A PN attribute's first value back in DICOM form `Alphabetic=Ideographic=Phonetic` (trailing `=` dropped). */
export function personNameString(dataset: DicomJsonDataset | undefined, tag: TagNumber): string | undefined {
  const pn = firstPersonName(dataset, tag);
  if (!pn) return undefined;
  return [pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''].join('=').replace(/=+$/, '');
}

/** Only the attributes of `dataset` whose tags are in `tags` (key form). */
export function pickAttributes(dataset: DicomJsonDataset, tags: ReadonlySet<string>): DicomJsonDataset {
  const out: DicomJsonDataset = {};
  for (const [key, value] of Object.entries(dataset)) if (tags.has(key)) out[key] = value;
  return out;
}
