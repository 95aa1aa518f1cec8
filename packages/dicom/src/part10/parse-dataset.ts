import { lookupTag } from '../dictionary.js';
import { Tag, type TagNumber, elementOf, groupOf, isPixelDataTag, tagKey } from '../tag.js';
import { type Vr, hasLongHeader, isVr } from '../vr.js';
import { type DataElement, type Dataset, type Span, UNDEFINED_LENGTH } from './dataset.js';
import { DicomParseError, NeedMoreData } from './errors.js';

export interface Encoding {
  explicitVr: boolean;
  littleEndian: boolean;
}

export const IMPLICIT_LITTLE: Encoding = { explicitVr: false, littleEndian: true };

/** Deeper nesting than this is refused: real objects (SR trees included) stay far below it. */
export const MAX_SEQUENCE_DEPTH = 64;

export interface PixelDataHeader {
  tag: TagNumber;
  vr: Vr;
  /** Offset of the value (or of the first fragment item, when encapsulated). */
  offset: number;
  length: number;
}

export interface ParsedDataset {
  dataset: Dataset;
  /** The top-level pixel data element, where parsing stopped. */
  pixelData?: PixelDataHeader;
}

/**
 * Reads a dataset from `buf`, which holds the first `buf.length` bytes of a stream of `total` bytes
 * starting at `start`. Stops at top-level pixel data. Throws NeedMoreData when the answer lies past
 * `buf.length` (the caller reads more and retries), DicomParseError when the bytes are not DICOM.
 *
 * It never trusts a declared length: every value must end inside the stream before it is accepted,
 * so a 4 GiB length in a 10 kB file is an error, not an allocation.
 */
export function parseDataset(buf: Buffer, total: number, start: number, encoding: Encoding): ParsedDataset {
  return new DatasetParser(buf, total).top(start, encoding);
}

class DatasetParser {
  constructor(
    private readonly buf: Buffer,
    private readonly total: number,
  ) {}

  top(start: number, encoding: Encoding): ParsedDataset {
    const dataset: Dataset = new Map();
    let pos = start;
    while (pos < this.total) {
      if (this.total - pos < 8) throw new DicomParseError(`truncated element header at byte ${pos}`);
      const tag = this.tag(pos, encoding);
      const header = this.header(pos, tag, encoding, dataset);
      if (isPixelDataTag(tag)) {
        return { dataset, pixelData: { tag, vr: header.vr, offset: pos + header.size, length: header.length } };
      }
      pos = this.element(dataset, pos, tag, header, encoding, 0);
    }
    return { dataset };
  }

  /** Parses one element at `pos` into `dataset`; returns the position after it. */
  private element(dataset: Dataset, pos: number, tag: TagNumber, header: Header, encoding: Encoding, depth: number): number {
    if (groupOf(tag) === 0xfffe) throw new DicomParseError(`unexpected delimiter ${tagKey(tag)} at byte ${pos}`);
    if (dataset.has(tag)) throw new DicomParseError(`element ${tagKey(tag)} appears twice in one dataset`);
    const offset = pos + header.size;
    const { vr, length } = header;
    const element: DataElement = { tag, vr, offset, length, littleEndian: encoding.littleEndian };
    let end: number;
    if (vr === 'SQ' || (vr === 'UN' && length === UNDEFINED_LENGTH)) {
      // A UN of undefined length is a sequence encoded in Implicit VR Little Endian (PS3.5 §6.2.2).
      const itemEncoding = vr === 'UN' ? IMPLICIT_LITTLE : encoding;
      if (vr === 'UN') element.littleEndian = true;
      ({ items: element.items, end } = this.sequence(offset, length, itemEncoding, depth + 1));
    } else if (length === UNDEFINED_LENGTH) {
      if (!isPixelDataTag(tag)) throw new DicomParseError(`element ${tagKey(tag)} (${vr}) has undefined length`);
      ({ fragments: element.fragments, end } = this.fragments(offset, encoding));
    } else {
      end = this.within(offset, length, tag);
    }
    dataset.set(tag, element);
    return end;
  }

  private sequence(start: number, length: number, encoding: Encoding, depth: number): { items: Dataset[]; end: number } {
    if (depth > MAX_SEQUENCE_DEPTH) throw new DicomParseError(`sequences nested deeper than ${MAX_SEQUENCE_DEPTH} levels`);
    const end = length === UNDEFINED_LENGTH ? Infinity : this.within(start, length, 0);
    const items: Dataset[] = [];
    let pos = start;
    while (pos < end) {
      this.need(pos + 8);
      const tag = this.tag(pos, encoding);
      const itemLength = this.u32(pos + 4, encoding.littleEndian);
      pos += 8;
      if (tag === Tag.SequenceDelimitationItem) {
        if (length !== UNDEFINED_LENGTH) throw new DicomParseError(`sequence delimiter inside a defined-length sequence`);
        return { items, end: pos };
      }
      if (tag !== Tag.Item) throw new DicomParseError(`expected an item, found ${tagKey(tag)} at byte ${pos - 8}`);
      const item: Dataset = new Map();
      if (itemLength === UNDEFINED_LENGTH) {
        pos = this.itemUntilDelimiter(item, pos, encoding, depth);
      } else {
        const itemEnd = this.within(pos, itemLength, Tag.Item);
        while (pos < itemEnd) {
          if (itemEnd - pos < 8) throw new DicomParseError(`item ends inside an element header at byte ${pos}`);
          const elementTag = this.tag(pos, encoding);
          pos = this.element(item, pos, elementTag, this.header(pos, elementTag, encoding, item), encoding, depth);
        }
        if (pos !== itemEnd) throw new DicomParseError(`item content overruns its length at byte ${itemEnd}`);
      }
      items.push(item);
    }
    if (length === UNDEFINED_LENGTH) throw new DicomParseError('sequence without a delimiter');
    if (pos !== end) throw new DicomParseError(`sequence content overruns its length at byte ${end}`);
    return { items, end };
  }

  private itemUntilDelimiter(item: Dataset, start: number, encoding: Encoding, depth: number): number {
    let pos = start;
    for (;;) {
      this.need(pos + 8);
      const tag = this.tag(pos, encoding);
      if (tag === Tag.ItemDelimitationItem) return pos + 8;
      pos = this.element(item, pos, tag, this.header(pos, tag, encoding, item), encoding, depth);
    }
  }

  private fragments(start: number, encoding: Encoding): { fragments: Span[]; end: number } {
    const fragments: Span[] = [];
    let pos = start;
    for (;;) {
      this.need(pos + 8);
      const tag = this.tag(pos, encoding);
      const length = this.u32(pos + 4, encoding.littleEndian);
      pos += 8;
      if (tag === Tag.SequenceDelimitationItem) return { fragments, end: pos };
      if (tag !== Tag.Item) throw new DicomParseError(`expected a fragment item, found ${tagKey(tag)}`);
      fragments.push({ offset: pos, length });
      pos = this.within(pos, length, Tag.Item);
    }
  }

  private header(pos: number, tag: TagNumber, encoding: Encoding, dataset: Dataset): Header {
    if (!encoding.explicitVr) {
      this.need(pos + 8);
      return { vr: implicitVr(tag, dataset, this.buf), length: this.u32(pos + 4, encoding.littleEndian), size: 8 };
    }
    this.need(pos + 8);
    const code = this.buf.toString('latin1', pos + 4, pos + 6);
    if (!isVr(code)) throw new DicomParseError(`invalid VR '${printable(code)}' for ${tagKey(tag)} at byte ${pos}`);
    if (hasLongHeader(code)) {
      this.need(pos + 12);
      return { vr: code, length: this.u32(pos + 8, encoding.littleEndian), size: 12 };
    }
    return { vr: code, length: encoding.littleEndian ? this.buf.readUInt16LE(pos + 6) : this.buf.readUInt16BE(pos + 6), size: 8 };
  }

  private tag(pos: number, encoding: Encoding): TagNumber {
    this.need(pos + 4);
    return encoding.littleEndian
      ? ((this.buf.readUInt16LE(pos) << 16) | this.buf.readUInt16LE(pos + 2)) >>> 0
      : ((this.buf.readUInt16BE(pos) << 16) | this.buf.readUInt16BE(pos + 2)) >>> 0;
  }

  private u32(pos: number, littleEndian: boolean): number {
    return littleEndian ? this.buf.readUInt32LE(pos) : this.buf.readUInt32BE(pos);
  }

  /** Checks that `length` bytes from `offset` lie inside the stream (and have been read). */
  private within(offset: number, length: number, tag: TagNumber): number {
    const end = offset + length;
    if (end > this.total) {
      throw new DicomParseError(
        `${tag ? `element ${tagKey(tag)}` : 'a sequence'} declares ${length} bytes but the data ends ${end - this.total} bytes earlier`,
      );
    }
    this.need(end);
    return end;
  }

  private need(end: number): void {
    if (end <= this.buf.length) return;
    if (this.buf.length >= this.total) throw new DicomParseError(`data ends at byte ${this.total} inside an element`);
    throw new NeedMoreData(end);
  }
}

interface Header {
  vr: Vr;
  length: number;
  size: number;
}

/** The VR of an element in an Implicit VR stream, from the data dictionary (PS3.5 §7.1.3). */
function implicitVr(tag: TagNumber, dataset: Dataset, buf: Buffer): Vr {
  if (elementOf(tag) === 0) return 'UL'; // group length
  if (groupOf(tag) & 1) return elementOf(tag) >= 0x10 && elementOf(tag) <= 0xff ? 'LO' : 'UN';
  const vr = lookupTag(tag)?.vr;
  if (vr === undefined) return 'UN';
  if (isVr(vr)) return vr;
  if (vr === 'xs') {
    const pr = dataset.get(Tag.PixelRepresentation);
    return pr && pr.length >= 2 && buf.readUInt16LE(pr.offset) === 1 ? 'SS' : 'US';
  }
  if (vr === 'ox' || vr.includes('OW')) return 'OW';
  return 'UN';
}

const printable = (s: string): string => s.replace(/[^\x20-\x7e]/g, '?');
