import { Tag, elementOf, groupOf } from '../tag.js';
import { type Vr, hasLongHeader } from '../vr.js';
import { type DataElement, type Dataset, UNDEFINED_LENGTH } from './dataset.js';
import { swapBytes, swapWidth } from './byte-streams.js';

/**
 * Re-encodes a parsed dataset in Explicit VR Little Endian: dictionary VRs (already resolved by
 * the parser, ambiguous ones by PixelRepresentation), values swapped when big endian, sequences
 * and items keep the defined or undefined length form of the sequence, group lengths dropped.
 * `replace` (top level) overrides elements by tag: an encoded element (`encodeElementValue`) is
 * written in tag order in place of, or in addition to, the stored one; `null` drops the element.
 */
export function encodeDataset(buf: Buffer, dataset: Dataset, top: boolean, replace?: ReadonlyMap<number, Buffer | null>): Buffer[] {
  const out: Buffer[] = [];
  const tags = [...new Set([...dataset.keys(), ...(replace?.keys() ?? [])])].sort((a, b) => a - b);
  for (const tag of tags) {
    if (elementOf(tag) === 0) continue; // group lengths would be wrong after re-encoding (retired anyway)
    if (top && groupOf(tag) === 0x0002) continue;
    const replacement = replace?.get(tag);
    if (replacement !== undefined) {
      if (replacement !== null) out.push(replacement);
      continue;
    }
    out.push(...encodeElement(buf, dataset.get(tag)!));
  }
  return out;
}

function encodeElement(buf: Buffer, el: DataElement): Buffer[] {
  if (el.items) {
    const undefinedLength = el.length === UNDEFINED_LENGTH;
    const items: Buffer[] = el.items.map((item): Buffer => {
      const content = Buffer.concat(encodeDataset(buf, item, false));
      return undefinedLength
        ? Buffer.concat([itemTag(Tag.Item, UNDEFINED_LENGTH), content, itemTag(Tag.ItemDelimitationItem, 0)])
        : Buffer.concat([itemTag(Tag.Item, content.length), content]);
    });
    if (undefinedLength) items.push(itemTag(Tag.SequenceDelimitationItem, 0));
    const length = undefinedLength ? UNDEFINED_LENGTH : items.reduce((n, b) => n + b.length, 0);
    return [elementHeader(el.tag, 'SQ', length), ...items];
  }
  if (el.fragments) {
    const parts = el.fragments.map((f) => Buffer.concat([itemTag(Tag.Item, f.length), buf.subarray(f.offset, f.offset + f.length)]));
    return [elementHeader(el.tag, el.vr, UNDEFINED_LENGTH), ...parts, itemTag(Tag.SequenceDelimitationItem, 0)];
  }
  let value = buf.subarray(el.offset, el.offset + el.length);
  if (!el.littleEndian) {
    const width = swapWidth(el.vr);
    if (width > 1 && value.length % width === 0) value = swapBytes(Buffer.from(value), width);
  }
  // A value too long for a short explicit header (possible in implicit VR) is kept as UN.
  const vr: Vr = !hasLongHeader(el.vr) && value.length > 0xffff ? 'UN' : el.vr;
  return [elementHeader(el.tag, vr, value.length), value];
}

/** The header of an Explicit VR Little Endian element (8 or 12 bytes, by VR). */
export function elementHeader(tag: number, vr: Vr, length: number): Buffer {
  const long = hasLongHeader(vr);
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(tag >>> 16, 0);
  header.writeUInt16LE(tag & 0xffff, 2);
  header.write(vr, 4, 'latin1');
  if (long) header.writeUInt32LE(length >>> 0, 8);
  else header.writeUInt16LE(length, 6);
  return header;
}

/** An item, item delimitation or sequence delimitation tag with its 4-byte length (8 bytes). */
export function itemTag(tag: number, length: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(tag >>> 16, 0);
  b.writeUInt16LE(tag & 0xffff, 2);
  b.writeUInt32LE(length >>> 0, 4);
  return b;
}

/** One Explicit VR Little Endian element: header and value. */
export function explicitElement(tag: number, vr: Vr, value: Buffer): Buffer {
  return Buffer.concat([elementHeader(tag, vr, value.length), value]);
}

/**
 * One Explicit VR Little Endian element: a US value (number), or text padded to an even length
 * (UI with NUL, other text VRs with a space; several values joined with `\`).
 */
export function encodeElementValue(tag: number, vr: Vr, value: number | string | string[]): Buffer {
  if (typeof value === 'number') {
    const bytes = Buffer.alloc(2);
    bytes.writeUInt16LE(value);
    return explicitElement(tag, vr, bytes);
  }
  const text = Buffer.from(Array.isArray(value) ? value.join('\\') : value, 'latin1');
  return explicitElement(tag, vr, padToEven(text, vr === 'UI' ? 0 : 0x20));
}

/** A value padded to even length with `pad` (PS3.5 §7.1.1). */
export const padToEven = (value: Buffer, pad: number): Buffer => (value.length % 2 ? Buffer.concat([value, Buffer.from([pad])]) : value);
