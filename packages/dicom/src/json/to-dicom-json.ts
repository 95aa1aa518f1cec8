import { lookupTag } from '../dictionary.js';
import { IMPLICIT_LITTLE, parseDataset } from '../part10/parse-dataset.js';
import type { DataElement, Dataset, Span } from '../part10/dataset.js';
import { decodeText, elementNumbers, elementStrings, littleEndianBytes, valueBytes } from '../part10/values.js';
import { Tag, elementOf, groupOf, isPixelDataTag, tagKey } from '../tag.js';
import { type Vr, isBinaryVr, isVr } from '../vr.js';
import type { DicomJsonAttribute, DicomJsonDataset, JsonValue, PersonNameValue } from './dicom-json.js';

/** A value moved out of the metadata into bulk data: where its bytes are in the stored object. */
export interface BulkDataRef {
  /** Tag path, e.g. `7FE00010` or `00282000`, or `00880200/0/7FE00010` inside a sequence item. */
  path: string;
  vr: Vr;
  /** The value bytes, or the fragments of encapsulated data nested in a sequence. */
  spans: Span[];
  littleEndian: boolean;
}

export interface ToJsonOptions {
  /** Binary values above this size become BulkDataURI references (digest WADORS-4: 1 KiB). */
  inlineBinaryMaxBytes: number;
  /** The BulkDataURI written for a tag path (stored relative, made absolute when served). */
  bulkDataUri: (path: string) => string;
}

export interface DicomJsonResult {
  dataset: DicomJsonDataset;
  bulkData: BulkDataRef[];
}

/** The UTF-8 label written in place of the source character set (JSON-12). */
const UTF8 = 'ISO_IR 192';

/**
 * Renders a parsed dataset as DICOM JSON (PS3.18 F.2): keys in tag order, no group lengths, text in
 * UTF-8, PN as component-group objects, IS/DS as numbers where they are numbers, binary values
 * inline up to the threshold and as BulkDataURI above it, pixel data always as BulkDataURI.
 */
export function toDicomJson(buf: Buffer, dataset: Dataset, options: ToJsonOptions, characterSet?: string): DicomJsonResult {
  const bulkData: BulkDataRef[] = [];
  const json = convertDataset(buf, dataset, options, bulkData, '', characterSet);
  return { dataset: json, bulkData };
}

function convertDataset(buf: Buffer, dataset: Dataset, options: ToJsonOptions, bulk: BulkDataRef[], pathPrefix: string, inherited?: string): DicomJsonDataset {
  const charsetElement = dataset.get(Tag.SpecificCharacterSet);
  const characterSet = charsetElement ? specificCharacterSet(decodeText(valueBytes(buf, charsetElement), 'CS', undefined)) : inherited;
  const out: DicomJsonDataset = {};
  const tags = [...dataset.keys()].sort((a, b) => a - b);
  for (const tag of tags) {
    if (elementOf(tag) === 0 || groupOf(tag) === 0x0002) continue; // group lengths, File Meta
    const element = dataset.get(tag)!;
    const key = tagKey(tag);
    if (tag === Tag.SpecificCharacterSet) {
      out[key] = { vr: 'CS', Value: [UTF8] };
      continue;
    }
    out[key] = convertElement(buf, element, options, bulk, pathPrefix + key, characterSet);
  }
  return out;
}

/**
 * The (0008,0005) value as the character-set decoder needs it. An empty first value is the default
 * repertoire (`\ISO 2022 IR 87` = ISO 2022 IR 6 + IR 87, PS3.3 C.12.1.1.2): it must be kept, since
 * without it the decoder rejects the escape back to ASCII and the text falls back undecoded.
 */
function specificCharacterSet(text: string): string | undefined {
  const values = text.split('\\').map((value) => value.replace(/[\0 ]+$/, '').replace(/^ +/, ''));
  while (values.length > 0 && values.at(-1) === '') values.pop();
  if (values.length === 0) return undefined;
  if (values[0] === '') values[0] = 'ISO 2022 IR 6';
  return values.join('\\');
}

function convertElement(
  buf: Buffer,
  element: DataElement,
  options: ToJsonOptions,
  bulk: BulkDataRef[],
  path: string,
  characterSet?: string,
): DicomJsonAttribute {
  const vr = resolvedVr(element);
  if (element.items) {
    const items = element.items.map((item, index) => convertDataset(buf, item, options, bulk, `${path}/${index}/`, characterSet));
    return items.length ? { vr: 'SQ', Value: items } : { vr: 'SQ' };
  }
  if (element.fragments || isPixelDataTag(element.tag)) {
    return toBulk(element, vr, path, options, bulk);
  }
  if (element.length === 0) return { vr };

  if (vr !== element.vr) return reinterpretUnknown(buf, element, vr, options, bulk, path, characterSet);
  if (isBinaryVr(vr)) {
    if (element.length > options.inlineBinaryMaxBytes) return toBulk(element, vr, path, options, bulk);
    return { vr, InlineBinary: littleEndianBytes(valueBytes(buf, element), vr, element.littleEndian).toString('base64') };
  }
  switch (vr) {
    case 'PN':
      return withValues(vr, elementStrings(buf, element, characterSet).map(personName));
    case 'IS':
    case 'DS':
      return withValues(vr, elementStrings(buf, element).map(numberOrString));
    case 'AT':
      return withValues(vr, attributeTags(buf, element));
    case 'FL':
    case 'FD':
    case 'SL':
    case 'SS':
    case 'UL':
    case 'US':
    case 'SV':
    case 'UV':
      if (element.length > options.inlineBinaryMaxBytes) return toBulk(element, vr, path, options, bulk);
      return withValues(
        vr,
        elementNumbers(buf, element).map((n) => binaryNumber(n, vr)),
      );
    default:
      return withValues(
        vr,
        elementStrings(buf, element, characterSet).map((s) => s ?? null),
      );
  }
}

/** UN elements whose tag the dictionary knows are rendered with the dictionary VR (JSON-13). */
function resolvedVr(element: DataElement): Vr {
  if (element.vr !== 'UN' || element.items) return element.vr;
  const known = lookupTag(element.tag)?.vr;
  if (!known) return 'UN';
  if (known === 'xs') return 'US';
  if (known === 'ox') return 'OW';
  return isVr(known) ? known : 'UN';
}

function reinterpretUnknown(
  buf: Buffer,
  element: DataElement,
  vr: Vr,
  options: ToJsonOptions,
  bulk: BulkDataRef[],
  path: string,
  characterSet?: string,
): DicomJsonAttribute {
  // The bytes of a UN are in Implicit VR Little Endian whatever the transfer syntax (PS3.5 §6.2.2).
  if (vr === 'SQ') {
    try {
      const sequence = parseUnSequence(buf, element);
      return convertElement(buf, { ...sequence, littleEndian: true }, options, bulk, path, characterSet);
    } catch {
      return toBulkOrInline(buf, element, 'UN', options, bulk, path);
    }
  }
  return convertElement(buf, { ...element, vr, littleEndian: true }, options, bulk, path, characterSet);
}

/** Parses a defined-length UN value holding a sequence: a dataset of one SQ element at the same offset. */
function parseUnSequence(buf: Buffer, element: DataElement): DataElement {
  const header = Buffer.alloc(8);
  header.writeUInt16LE(groupOf(element.tag), 0);
  header.writeUInt16LE(elementOf(element.tag), 2);
  header.writeUInt32LE(element.length, 4);
  const local = Buffer.concat([header, valueBytes(buf, element)]);
  const { dataset } = parseDataset(local, local.length, 0, IMPLICIT_LITTLE);
  const parsed = dataset.get(element.tag);
  if (!parsed?.items) throw new Error('not a sequence');
  // Offsets now refer to `local`; rebase them onto `buf` so values decode from the original bytes.
  return rebase(parsed, element.offset - 8);
}

function rebase(element: DataElement, delta: number): DataElement {
  return {
    ...element,
    vr: element.items ? 'SQ' : element.vr,
    offset: element.offset + delta,
    items: element.items?.map((item) => new Map([...item].map(([tag, child]) => [tag, rebase(child, delta)]))),
    fragments: element.fragments?.map((f) => ({ offset: f.offset + delta, length: f.length })),
  };
}

function toBulkOrInline(buf: Buffer, element: DataElement, vr: Vr, options: ToJsonOptions, bulk: BulkDataRef[], path: string): DicomJsonAttribute {
  if (element.length > options.inlineBinaryMaxBytes) return toBulk(element, vr, path, options, bulk);
  return { vr, InlineBinary: valueBytes(buf, element).toString('base64') };
}

function toBulk(element: DataElement, vr: Vr, path: string, options: ToJsonOptions, bulk: BulkDataRef[]): DicomJsonAttribute {
  const spans = element.fragments ?? [{ offset: element.offset, length: element.length }];
  bulk.push({ path, vr, spans, littleEndian: element.littleEndian });
  return { vr, BulkDataURI: options.bulkDataUri(path) };
}

function withValues(vr: Vr, values: JsonValue[]): DicomJsonAttribute {
  return values.length === 0 || values.every((v) => v === null) ? { vr } : { vr, Value: values };
}

const GROUPS = ['Alphabetic', 'Ideographic', 'Phonetic'] as const;

/** `Wang^XiaoDong=王^小東` → `{ Alphabetic: 'Wang^XiaoDong', Ideographic: '王^小東' }` (JSON-6). */
export function personName(value: string | undefined): PersonNameValue | null {
  if (value === undefined) return null;
  const result: PersonNameValue = {};
  value
    .split('=')
    .slice(0, 3)
    .forEach((group, index) => {
      const trimmed = group.replace(/ +$/, '');
      if (trimmed !== '') result[GROUPS[index]!] = trimmed;
    });
  return Object.keys(result).length ? result : null;
}

/** IS/DS: a JSON number when the text is a finite number, else the text itself (JSON-5). */
function numberOrString(value: string | undefined): number | string | null {
  if (value === undefined) return null;
  const text = value.trim();
  if (text === '') return null;
  const n = Number(text);
  return Number.isFinite(n) && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? n : text;
}

function binaryNumber(n: number | bigint, vr: Vr): number | string {
  if (typeof n === 'bigint') return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
  if (!Number.isFinite(n)) return String(n); // JSON has no NaN/Infinity tokens
  return vr === 'FL' ? shortestFloat32(n) : n;
}

/** The shortest decimal that reads back as the same float32 (so 0.1f prints as 0.1). */
function shortestFloat32(value: number): number {
  for (let precision = 1; precision <= 9; precision++) {
    const candidate = Number(value.toPrecision(precision));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

function attributeTags(buf: Buffer, element: DataElement): string[] {
  const bytes = valueBytes(buf, element);
  const out: string[] = [];
  for (let at = 0; at + 4 <= bytes.length; at += 4) {
    const group = element.littleEndian ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at);
    const elem = element.littleEndian ? bytes.readUInt16LE(at + 2) : bytes.readUInt16BE(at + 2);
    out.push(tagKey(((group << 16) | elem) >>> 0));
  }
  return out;
}
