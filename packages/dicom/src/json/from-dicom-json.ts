import { Tag, elementOf, groupOf, parseTagKey, tagKey } from '../tag.js';
import { type Vr, NUMBER_WIDTH, hasLongHeader, isBinaryVr, isSingleValuedText, isVr } from '../vr.js';
import { FailureReason } from '../status.js';
import { UNDEFINED_LENGTH } from '../part10/dataset.js';
import { DicomParseError } from '../part10/errors.js';
import { elementHeader, itemTag } from '../part10/explicit-vr-encoder.js';
import type { DicomJsonAttribute, DicomJsonDataset, PersonNameValue } from './dicom-json.js';

/*
 * DICOM JSON (PS3.18 Annex F) back to a binary dataset in Explicit VR Little Endian: the other
 * direction of `toDicomJson`, used by STOW-RS when a client sends metadata and bulk data (digest
 * STOW-3). Values held in memory are encoded here; bulk data stays where the caller keeps it (a
 * spooled part) and is placed in the output by reference, so the output is a list of segments that
 * the caller streams, never one buffer of the whole object.
 */

/** Bytes the caller supplies when the output is streamed (e.g. a spooled bulk data part). */
export interface BulkBytes<T> {
  length: number;
  source: T;
}

/**
 * What a BulkDataURI stands for: the value bytes (little endian, as WADO-RS serves bulk data), or,
 * for top-level Pixel Data only, compressed frames to encapsulate (one fragment per frame).
 */
export type BulkValue<T> = { kind: 'value'; bytes: BulkBytes<T> } | { kind: 'frames'; frames: BulkBytes<T>[] };

/** One piece of the encoded dataset: bytes in memory, or bulk bytes the caller supplies. */
export type DatasetSegment<T> = Buffer | BulkBytes<T>;

export interface FromJsonOptions<T> {
  /**
   * Resolves a BulkDataURI found at `path` (tag path as in `BulkDataRef.path`: `7FE00010`,
   * `00540016/0/00181072`). Throws a DicomParseError when it cannot (no such part).
   */
  bulkData(uri: string, path: string, vr: Vr): BulkValue<T>;
}

export interface EncodedDataset<T> {
  segments: DatasetSegment<T>[];
  /** Whether Pixel Data was written encapsulated (the transfer syntax must then be a compressed one). */
  encapsulated: boolean;
}

/** The UTF-8 label (0008,0005) written when text needs more than ASCII (JSON text is Unicode). */
const UTF8 = 'ISO_IR 192';

/**
 * Encodes a DICOM JSON dataset as Explicit VR Little Endian elements in tag order, without group
 * 0002 (the caller writes the File Meta) and without group lengths. Text is written in UTF-8, and
 * (0008,0005) becomes `ISO_IR 192` when any text is not ASCII (kept as sent otherwise).
 * Sequences and items are written with undefined length, so no length depends on bulk data.
 * Throws DicomParseError (FailureReason C000) for an attribute that is not valid DICOM JSON.
 */
export function fromDicomJson<T>(dataset: DicomJsonDataset, options: FromJsonOptions<T>): EncodedDataset<T> {
  const state = { encapsulated: false, nonAscii: needsUnicode(dataset) };
  const segments = encodeDataset(dataset, options, state, '', true);
  return { segments, encapsulated: state.encapsulated };
}

interface EncodeState {
  encapsulated: boolean;
  nonAscii: boolean;
}

function encodeDataset<T>(dataset: DicomJsonDataset, options: FromJsonOptions<T>, state: EncodeState, prefix: string, top: boolean): DatasetSegment<T>[] {
  if (typeof dataset !== 'object' || dataset === null || Array.isArray(dataset)) throw invalid(prefix || 'the dataset', 'is not a JSON object');
  const entries: [number, string, DicomJsonAttribute][] = [];
  for (const [key, attribute] of Object.entries(dataset)) {
    const tag = parseTagKey(key);
    if (tag === undefined) throw invalid(prefix + key, 'is not a tag (8 hexadecimal digits)');
    if (elementOf(tag) === 0 || (top && groupOf(tag) === 0x0002)) continue; // group lengths; File Meta is the caller's
    entries.push([tag, key.toUpperCase(), attribute]);
  }
  entries.sort((a, b) => a[0] - b[0]);
  if (top && state.nonAscii && !entries.some(([tag]) => tag === Tag.SpecificCharacterSet)) {
    entries.unshift([Tag.SpecificCharacterSet, tagKey(Tag.SpecificCharacterSet), { vr: 'CS', Value: [UTF8] }]);
  }
  const out: DatasetSegment<T>[] = [];
  for (const [tag, key, attribute] of entries) {
    const path = prefix + key;
    if (tag === Tag.SpecificCharacterSet && state.nonAscii) {
      out.push(...stringElement(tag, 'CS', [UTF8]));
      continue;
    }
    out.push(...encodeAttribute(tag, attribute, path, options, state, top));
  }
  return out;
}

function encodeAttribute<T>(
  tag: number,
  attribute: DicomJsonAttribute,
  path: string,
  options: FromJsonOptions<T>,
  state: EncodeState,
  top: boolean,
): DatasetSegment<T>[] {
  if (typeof attribute !== 'object' || attribute === null) throw invalid(path, 'is not an attribute object');
  const vr = attribute.vr;
  if (typeof vr !== 'string' || !isVr(vr)) throw invalid(path, `has no valid "vr" (${typeof vr === 'string' ? JSON.stringify(vr.slice(0, 4)) : typeof vr})`);
  const present = ['Value', 'InlineBinary', 'BulkDataURI'].filter((k) => (attribute as unknown as Record<string, unknown>)[k] !== undefined);
  if (present.length > 1) throw invalid(path, `has both ${present.join(' and ')} (PS3.18 F.2.2: at most one)`);

  if (attribute.BulkDataURI !== undefined) {
    if (typeof attribute.BulkDataURI !== 'string' || attribute.BulkDataURI === '') throw invalid(path, 'has a BulkDataURI that is not a string');
    const resolved = options.bulkData(attribute.BulkDataURI, path, vr);
    if (resolved.kind === 'frames') {
      if (!top || tag !== Tag.PixelData) throw invalid(path, 'has compressed frames, which only top-level Pixel Data (7FE00010) can hold');
      state.encapsulated = true;
      return encapsulatedPixelData(tag, resolved.frames);
    }
    return bulkElement(tag, vr, resolved.bytes);
  }
  if (attribute.InlineBinary !== undefined) {
    // Readers accept a one-element array too (digest JSON-9).
    const inline: unknown = Array.isArray(attribute.InlineBinary) && attribute.InlineBinary.length === 1 ? attribute.InlineBinary[0] : attribute.InlineBinary;
    if (typeof inline !== 'string' || !/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(inline)) throw invalid(path, 'has an InlineBinary that is not base64');
    return [...valueElement(tag, vr, Buffer.from(inline, 'base64'))];
  }
  const values = attribute.Value;
  if (values === undefined) return [elementHeader(tag, vr, 0)];
  if (!Array.isArray(values)) throw invalid(path, 'has a Value that is not an array');
  if (vr === 'SQ') return sequence(tag, values, path, options, state);
  return [...valueElement(tag, vr, encodeValues(vr, values, path))];
}

function sequence<T>(tag: number, items: unknown[], path: string, options: FromJsonOptions<T>, state: EncodeState): DatasetSegment<T>[] {
  const out: DatasetSegment<T>[] = [elementHeader(tag, 'SQ', UNDEFINED_LENGTH)];
  items.forEach((item, index) => {
    out.push(itemTag(Tag.Item, UNDEFINED_LENGTH));
    if (item !== null) out.push(...encodeDataset(item as DicomJsonDataset, options, state, `${path}/${index}/`, false));
    out.push(itemTag(Tag.ItemDelimitationItem, 0));
  });
  out.push(itemTag(Tag.SequenceDelimitationItem, 0));
  return out;
}

/**
 * Encapsulated Pixel Data (PS3.5 §A.4): a Basic Offset Table (empty when offsets would pass 2^32),
 * one fragment per frame, each padded to an even length with a trailing NUL.
 */
function encapsulatedPixelData<T>(tag: number, frames: BulkBytes<T>[]): DatasetSegment<T>[] {
  const offsets: number[] = [];
  let offset = 0;
  for (const frame of frames) {
    offsets.push(offset);
    offset += 8 + frame.length + (frame.length % 2);
  }
  const table = Buffer.alloc(offset <= 0xffffffff ? 4 * frames.length : 0);
  offsets.forEach((o, i) => {
    if (table.length) table.writeUInt32LE(o, 4 * i);
  });
  const out: DatasetSegment<T>[] = [elementHeader(tag, 'OB', UNDEFINED_LENGTH), itemTag(Tag.Item, table.length), table];
  for (const frame of frames) {
    out.push(itemTag(Tag.Item, frame.length + (frame.length % 2)), frame);
    if (frame.length % 2) out.push(Buffer.alloc(1));
  }
  out.push(itemTag(Tag.SequenceDelimitationItem, 0));
  return out;
}

function bulkElement<T>(tag: number, vr: Vr, bytes: BulkBytes<T>): DatasetSegment<T>[] {
  const pad = bytes.length % 2;
  checkLength(tag, vr, bytes.length + pad);
  const out: DatasetSegment<T>[] = [elementHeader(tag, vr, bytes.length + pad), bytes];
  if (pad) out.push(Buffer.from([padByte(vr)]));
  return out;
}

function valueElement(tag: number, vr: Vr, value: Buffer): Buffer[] {
  const padded = value.length % 2 ? Buffer.concat([value, Buffer.from([padByte(vr)])]) : value;
  checkLength(tag, vr, padded.length);
  return [elementHeader(tag, vr, padded.length), padded];
}

function stringElement(tag: number, vr: Vr, values: string[]): Buffer[] {
  return valueElement(tag, vr, Buffer.from(values.join('\\'), 'latin1'));
}

const padByte = (vr: Vr): number => (vr === 'UI' || isBinaryVr(vr) || NUMBER_WIDTH[vr] !== undefined ? 0 : 0x20);

function checkLength(tag: number, vr: Vr, length: number): void {
  if (!hasLongHeader(vr) && length > 0xffff) throw new DicomParseError(`${tagKey(tag)} (${vr}) holds ${length} bytes, more than its VR can (65534)`);
}

/** The value field of a non-sequence, non-binary attribute from its JSON `Value` array. */
function encodeValues(vr: Vr, values: unknown[], path: string): Buffer {
  if (isBinaryVr(vr)) throw invalid(path, `(${vr}) has a Value; binary values are InlineBinary or BulkDataURI`);
  const width = NUMBER_WIDTH[vr];
  if (vr === 'AT') {
    const out = Buffer.alloc(4 * values.length);
    values.forEach((value, i) => {
      const tag = typeof value === 'string' ? parseTagKey(value) : undefined;
      if (tag === undefined) throw invalid(path, 'has an AT value that is not a tag (8 hexadecimal digits)');
      out.writeUInt16LE(groupOf(tag), 4 * i);
      out.writeUInt16LE(elementOf(tag), 4 * i + 2);
    });
    return out;
  }
  if (width !== undefined) {
    const out = Buffer.alloc(width * values.length);
    values.forEach((value, i) => writeNumber(out, vr, i * width, value, path));
    return out;
  }
  const texts = values.map((value) => textValue(vr, value, path));
  if (isSingleValuedText(vr) && texts.length > 1) throw invalid(path, `(${vr}) holds one value, not ${texts.length}`);
  const text = texts.join('\\');
  // UTF-8 always: for ASCII text it is the same bytes, and other text comes with ISO_IR 192.
  return Buffer.from(text, 'utf8');
}

function textValue(vr: Vr, value: unknown, path: string): string {
  if (value === null || value === undefined) return '';
  if (vr === 'PN') return personNameText(value, path);
  if (vr === 'IS' || vr === 'DS') {
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw invalid(path, `has a non-finite ${vr} value`);
      // An IS that is not an integer is written as given, not rounded: nothing is changed silently.
      return vr === 'IS' ? String(value) : decimalString(value);
    }
    if (typeof value === 'string') return value;
    throw invalid(path, `has a ${vr} value that is neither a number nor a string`);
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  throw invalid(path, `has a ${vr} value that is not a string`);
}

/** A PN value: component-group object → `Alphabetic=Ideographic=Phonetic`, empty trailing groups dropped (JSON-6). */
function personNameText(value: unknown, path: string): string {
  if (typeof value === 'string') return value; // tolerated, as OHIF does
  if (typeof value !== 'object' || value === null) throw invalid(path, 'has a PN value that is not an object');
  const pn = value as PersonNameValue;
  const groups = [pn.Alphabetic, pn.Ideographic, pn.Phonetic].map((g) => {
    if (g !== undefined && typeof g !== 'string') throw invalid(path, 'has a PN component group that is not a string');
    return g ?? '';
  });
  while (groups.length && groups.at(-1) === '') groups.pop();
  return groups.join('=');
}

/** A DS value of at most 16 characters (PS3.5 Table 6.2-1) that reads back as the nearest number it can. */
export function decimalString(value: number): string {
  const plain = String(value);
  if (plain.length <= 16) return plain;
  for (let precision = 15; precision >= 1; precision--) {
    for (const text of [value.toPrecision(precision), value.toExponential(precision - 1)]) {
      const compact = text.replace(/(\.\d*?)0+(e|$)/, '$1$2').replace(/\.(e|$)/, '$1');
      if (compact.length <= 16) return compact;
    }
  }
  return value.toExponential(0);
}

function writeNumber(out: Buffer, vr: Vr, at: number, value: unknown, path: string): void {
  const number = typeof value === 'string' && value.trim() !== '' ? value.trim() : value;
  if (vr === 'SV' || vr === 'UV') {
    let big: bigint;
    try {
      big = BigInt(typeof number === 'number' ? Math.trunc(number) : (number as string));
    } catch {
      throw invalid(path, `has a ${vr} value that is not an integer`);
    }
    if (vr === 'SV') out.writeBigInt64LE(BigInt.asIntN(64, big), at);
    else out.writeBigUInt64LE(BigInt.asUintN(64, big), at);
    return;
  }
  const n = typeof number === 'string' ? Number(number) : number;
  if (typeof n !== 'number' || Number.isNaN(n)) throw invalid(path, `has a ${vr} value that is not a number`);
  try {
    switch (vr) {
      case 'FL':
        out.writeFloatLE(n, at);
        break;
      case 'FD':
        out.writeDoubleLE(n, at);
        break;
      case 'SS':
        out.writeInt16LE(n, at);
        break;
      case 'US':
        out.writeUInt16LE(n, at);
        break;
      case 'SL':
        out.writeInt32LE(n, at);
        break;
      case 'UL':
        out.writeUInt32LE(n, at);
        break;
      default:
        throw invalid(path, `has an unexpected numeric VR ${vr}`);
    }
  } catch (error) {
    if (error instanceof DicomParseError) throw error;
    throw invalid(path, `has a ${vr} value out of range`);
  }
}

/** Whether any text of the dataset (sequences included) needs more than ASCII. */
function needsUnicode(dataset: unknown): boolean {
  if (typeof dataset !== 'object' || dataset === null) return false;
  for (const attribute of Object.values(dataset as Record<string, DicomJsonAttribute>)) {
    if (typeof attribute !== 'object' || attribute === null || !Array.isArray(attribute.Value)) continue;
    for (const value of attribute.Value) {
      if (attribute.vr === 'SQ') {
        if (needsUnicode(value)) return true;
      } else if (
        typeof value === 'string'
          ? /[^\x00-\x7f]/.test(value)
          : typeof value === 'object' && value !== null && /[^\x00-\x7f]/.test(Object.values(value).join(''))
      ) {
        return true;
      }
    }
  }
  return false;
}

/** Messages name the attribute and the problem, never its value (it may be patient data, and they are logged). */
const invalid = (path: string, problem: string): DicomParseError =>
  new DicomParseError(`DICOM JSON attribute ${path} ${problem}`, FailureReason.CannotUnderstand);
