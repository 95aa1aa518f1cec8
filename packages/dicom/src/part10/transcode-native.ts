import type { Readable } from 'node:stream';
import { createInflateRaw } from 'node:zlib';
import { PassThrough } from 'node:stream';
import { Tag, elementOf, groupOf } from '../tag.js';
import { TransferSyntax, transferSyntaxInfo } from '../uid.js';
import { type Vr, NUMBER_WIDTH, hasLongHeader, isVr } from '../vr.js';
import { type DataElement, type Dataset, UNDEFINED_LENGTH } from './dataset.js';
import { DicomParseError } from './errors.js';
import { parseDataset } from './parse-dataset.js';
import { type ByteSource, readPart10Header } from './read-part10.js';
import { elementString } from './values.js';

/** Tessera's Implementation Class UID (0002,0012), written into File Meta it creates (UUID-derived, PS3.5 §B.2). */
export const IMPLEMENTATION_CLASS_UID = '2.25.231040441406598245426419417133355541738';
export const IMPLEMENTATION_VERSION_NAME = 'TESSERA_0_1';

/**
 * How a stored object is served in a requested transfer syntax (digest WADORS-3, NEG-7, D17):
 * - `as-is`: the stored bytes;
 * - `add-meta`: a File Meta, then the stored dataset (stored without File Meta, Explicit VR LE or compressed);
 * - `re-encode`: Explicit VR Little Endian re-encoding of Implicit VR LE, Explicit VR BE or Deflated;
 * - `decode`: compressed (encapsulated) pixel data decoded to native Explicit VR Little Endian. This
 *   package has no codecs: the caller that offers a decoder serves it (`encodeNativePixelPart10`).
 */
export type Part10Plan = { kind: 'as-is' | 'add-meta' | 're-encode' | 'decode'; transferSyntaxUid: string };

export interface PlanOptions {
  /**
   * Whether the caller can decode the pixel data of an object stored in this (encapsulated) transfer
   * syntax. Without it, Explicit VR LE is never planned for compressed data (406).
   */
  canDecode?: (transferSyntaxUid: string) => boolean;
}

/**
 * The plan for serving an object stored in `stored` when `requested` is asked: `*` (as stored),
 * a transfer syntax UID, or undefined (no parameter: Explicit VR LE, or the stored compressed syntax,
 * D17). Implicit VR LE and Explicit VR BE never leave the server (NEG-7): they, and deflated data,
 * are re-encoded to Explicit VR LE. Compressed data is decoded to Explicit VR LE only when that
 * syntax is asked by UID and `options.canDecode` accepts the stored syntax. Undefined = cannot be
 * produced (406).
 */
export function planPart10(stored: { transferSyntaxUid: string; hasFileMeta: boolean }, requested: string | undefined, options: PlanOptions = {}): Part10Plan | undefined {
  const info = transferSyntaxInfo(stored.transferSyntaxUid);
  if (!info) return undefined;
  const explicitLittle = TransferSyntax.ExplicitVRLittleEndian;
  const mustReencode = !info.encapsulated && (!info.explicitVr || !info.littleEndian || info.deflated);
  let target: string | undefined;
  if (requested === '*' || requested === undefined) target = mustReencode ? explicitLittle : info.encapsulated ? info.uid : explicitLittle;
  else if (requested === explicitLittle && !info.encapsulated) target = explicitLittle;
  else if (requested === explicitLittle && options.canDecode?.(info.uid) === true) return { kind: 'decode', transferSyntaxUid: explicitLittle };
  else if (requested === info.uid && !mustReencode) target = info.uid;
  if (target === undefined) return undefined;
  if (mustReencode) return { kind: 're-encode', transferSyntaxUid: target };
  return { kind: stored.hasFileMeta ? 'as-is' : 'add-meta', transferSyntaxUid: target };
}

export interface EncodedPart10 {
  transferSyntaxUid: string;
  /** Byte length of the output when known in advance (not for inflated data). */
  length?: number;
  body: AsyncIterable<Buffer>;
}

export interface TranscodeOptions {
  maxHeaderBytes: number;
}

/**
 * Serves a stored object per `plan` as a PS3.10 file, streaming: the header (everything before
 * Pixel Data) is read and re-encoded in memory (bounded by `maxHeaderBytes`), Pixel Data flows
 * through in chunks, byte-swapped when the source is big endian, and elements after Pixel Data are
 * re-encoded too. The File Meta is rewritten with the output transfer syntax and its group length.
 */
export async function encodePart10(source: ByteSource, plan: Part10Plan, options: TranscodeOptions): Promise<EncodedPart10> {
  if (plan.kind === 'as-is') {
    return { transferSyntaxUid: plan.transferSyntaxUid, length: source.size, body: streamRange(source, 0, source.size) };
  }
  if (plan.kind === 'decode') throw new Error('a decode plan needs a pixel decoder: serve it with encodeNativePixelPart10');
  const header = await readPart10Header(source, options);
  const uid = (tag: number): string => {
    const element = header.dataset.get(tag);
    return element ? elementString(header.buffer, element) : '';
  };
  const meta = encodeFileMeta({
    mediaStorageSopClassUid: uid(Tag.SOPClassUID),
    mediaStorageSopInstanceUid: uid(Tag.SOPInstanceUID),
    transferSyntaxUid: plan.transferSyntaxUid,
  });
  const ts = header.transferSyntax;
  if (plan.kind === 'add-meta' || (ts.explicitVr && ts.littleEndian && !ts.deflated)) {
    const rest = source.size - header.datasetOffset;
    return { transferSyntaxUid: plan.transferSyntaxUid, length: meta.length + rest, body: prepend(meta, streamRange(source, header.datasetOffset, rest)) };
  }
  if (ts.deflated) {
    // A deflated dataset is Explicit VR Little Endian once inflated (PS3.5 §A.5).
    return { transferSyntaxUid: plan.transferSyntaxUid, body: prepend(meta, inflate(source.stream(header.datasetOffset))) };
  }
  const littleEndian = ts.littleEndian;
  const head = Buffer.concat(encodeDataset(header.buffer, header.dataset, true));
  const pixel = header.pixelData;
  if (!pixel) {
    return { transferSyntaxUid: plan.transferSyntaxUid, length: meta.length + head.length, body: fromBuffers([meta, head]) };
  }
  if (pixel.length === UNDEFINED_LENGTH) throw new DicomParseError('encapsulated pixel data in a native transfer syntax');
  const pixelVr: Vr = pixel.vr === 'UN' ? 'OB' : pixel.vr;
  const pixelHeader = elementHeader(pixel.tag, pixelVr, pixel.length);
  const pixelEnd = Math.min(source.size, pixel.offset + pixel.length);
  const trailer = await trailingElements(source, pixelEnd, ts, options);
  const width = littleEndian ? 1 : swapWidth(pixelVr);
  const pixelBytes = pixelEnd - pixel.offset;
  async function* body(): AsyncGenerator<Buffer> {
    yield Buffer.concat([meta, head, pixelHeader]);
    yield* swapStream(streamRange(source, pixel!.offset, pixelBytes), width);
    if (trailer.length) yield trailer;
  }
  return {
    transferSyntaxUid: plan.transferSyntaxUid,
    length: meta.length + head.length + pixelHeader.length + pixelBytes + trailer.length,
    body: body(),
  };
}

/**
 * Elements after Pixel Data (rare: padding, signatures), from `start` to the end of the object,
 * re-encoded in Explicit VR Little Endian; unreadable or oversized trailing bytes are dropped.
 */
export async function trailingElements(source: ByteSource, start: number, encoding: { explicitVr: boolean; littleEndian: boolean }, options: TranscodeOptions): Promise<Buffer> {
  if (start >= source.size || source.size - start > options.maxHeaderBytes) return Buffer.alloc(0);
  const rest = await source.read(start, source.size - start);
  try {
    const parsed = parseDataset(rest, rest.length, 0, { explicitVr: encoding.explicitVr, littleEndian: encoding.littleEndian });
    return parsed.pixelData ? Buffer.alloc(0) : Buffer.concat(encodeDataset(rest, parsed.dataset, false));
  } catch {
    return Buffer.alloc(0);
  }
}

/** File Meta Information (PS3.10 §7.1, digest DATA-2): zero preamble, `DICM`, group 0002 in Explicit VR LE. */
export function encodeFileMeta(meta: { mediaStorageSopClassUid: string; mediaStorageSopInstanceUid: string; transferSyntaxUid: string }): Buffer {
  const ui = (tag: number, value: string) => element(tag, 'UI', padded(Buffer.from(value, 'latin1'), 0));
  const elements = Buffer.concat([
    element(0x00020001, 'OB', Buffer.from([0, 1])),
    ui(Tag.MediaStorageSOPClassUID, meta.mediaStorageSopClassUid),
    ui(Tag.MediaStorageSOPInstanceUID, meta.mediaStorageSopInstanceUid),
    ui(Tag.TransferSyntaxUID, meta.transferSyntaxUid),
    ui(0x00020012, IMPLEMENTATION_CLASS_UID),
    element(0x00020013, 'SH', padded(Buffer.from(IMPLEMENTATION_VERSION_NAME, 'latin1'), 0x20)),
  ]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(elements.length);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), element(Tag.FileMetaInformationGroupLength, 'UL', groupLength), elements]);
}

/**
 * Where the dataset starts in a stored object with File Meta (after group 0002): used to inflate
 * a deflated dataset from its start. Reads only the File Meta.
 */
export async function datasetOffset(source: ByteSource): Promise<number> {
  let buf = await source.read(0, Math.min(source.size, 16 * 1024));
  if (buf.length < 132 || buf.toString('latin1', 128, 132) !== 'DICM') return 0;
  let pos = 132;
  for (;;) {
    if (pos + 12 > buf.length) {
      if (buf.length >= source.size) return pos;
      buf = await source.read(0, Math.min(source.size, buf.length * 4));
      continue;
    }
    if (buf.readUInt16LE(pos) !== 0x0002) return pos;
    const vr = buf.toString('latin1', pos + 4, pos + 6);
    const long = isVr(vr) && hasLongHeader(vr);
    pos += long ? 12 + buf.readUInt32LE(pos + 8) : 8 + buf.readUInt16LE(pos + 6);
  }
}

/** The inflated dataset of a deflated object (PS3.5 §A.5), as a stream of chunks. */
export async function* inflate(input: NodeJS.ReadableStream): AsyncGenerator<Buffer> {
  const inflater = createInflateRaw();
  input.pipe(inflater);
  try {
    for await (const chunk of inflater as AsyncIterable<Buffer>) yield chunk;
  } finally {
    inflater.destroy();
    (input as unknown as { destroy?: () => void }).destroy?.();
  }
}

/** Bytes `[start, start + length)` of a stream of chunks (used to cut frames and values out of inflated data). */
export async function* sliceStream(chunks: AsyncIterable<Buffer>, start: number, length: number): AsyncGenerator<Buffer> {
  let pos = 0;
  const end = start + length;
  for await (const chunk of chunks) {
    const chunkEnd = pos + chunk.length;
    if (chunkEnd > start) yield chunk.subarray(Math.max(0, start - pos), Math.min(chunk.length, end - pos));
    pos = chunkEnd;
    if (pos >= end) return;
  }
  if (pos < end) throw new DicomParseError(`data ends at byte ${pos}, before byte ${end}`);
}

/** Swaps each `width`-byte value of a stream of chunks (big → little endian), carrying split values. */
export async function* swapStream(chunks: AsyncIterable<Buffer>, width: number): AsyncGenerator<Buffer> {
  if (width <= 1) {
    yield* chunks;
    return;
  }
  let carry = Buffer.alloc(0);
  for await (const chunk of chunks) {
    const data = carry.length ? Buffer.concat([carry, chunk]) : Buffer.from(chunk);
    const whole = data.length - (data.length % width);
    carry = Buffer.from(data.subarray(whole));
    if (whole > 0) yield swapBytes(data.subarray(0, whole), width);
  }
  if (carry.length) yield carry;
}

/** Swaps values of `width` bytes in place (`bytes.length` must be a multiple of `width`). */
export function swapBytes(bytes: Buffer, width: number): Buffer {
  if (width === 2) return bytes.swap16();
  if (width === 4) return bytes.swap32();
  if (width === 8) return bytes.swap64();
  return bytes;
}

/** Byte width of the values of a VR for byte swapping; AT is a pair of 16-bit numbers, OW pixel data 16-bit words. */
export function swapWidth(vr: Vr): number {
  if (vr === 'OW' || vr === 'AT') return 2;
  if (vr === 'OF' || vr === 'OL') return 4;
  if (vr === 'OD' || vr === 'OV') return 8;
  return NUMBER_WIDTH[vr] ?? 1;
}

/** A ByteSource whose reads and streams are ranged reads of a stored object (blob store). */
export function rangedByteSource(size: number, open: (start: number, end: number) => Promise<Readable>): ByteSource {
  return {
    size,
    async read(offset, length) {
      const end = Math.min(size, offset + length);
      if (end <= offset) return Buffer.alloc(0);
      const chunks: Buffer[] = [];
      for await (const chunk of await open(offset, end - 1)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
    stream(offset) {
      const out = new PassThrough();
      if (offset >= size) {
        out.end();
        return out;
      }
      open(offset, size - 1).then((input) => {
        input.on('error', (error) => out.destroy(error));
        out.on('close', () => input.destroy());
        input.pipe(out);
      }, (error: Error) => out.destroy(error));
      return out;
    },
    async *range(offset, length) {
      if (length <= 0) return;
      if (offset + length > size) throw new DicomParseError(`data ends at byte ${size}, before byte ${offset + length}`);
      let received = 0;
      for await (const chunk of await open(offset, offset + length - 1)) {
        received += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      if (received !== length) throw new DicomParseError(`data ends at byte ${offset + received}, before byte ${offset + length}`);
    },
  };
}

/** Streams `length` bytes from `offset` of a source. */
export async function* streamRange(source: ByteSource, offset: number, length: number): AsyncGenerator<Buffer> {
  if (length <= 0) return;
  if (source.range) yield* source.range(offset, length);
  else yield* sliceStream(source.stream(offset) as AsyncIterable<Buffer>, 0, length);
}

async function* prepend(first: Buffer, rest: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield first;
  yield* rest;
}

async function* fromBuffers(buffers: Buffer[]): AsyncGenerator<Buffer> {
  for (const buffer of buffers) yield buffer;
}

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

function element(tag: number, vr: Vr, value: Buffer): Buffer {
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
    return element(tag, vr, bytes);
  }
  const text = Buffer.from(Array.isArray(value) ? value.join('\\') : value, 'latin1');
  return element(tag, vr, padded(text, vr === 'UI' ? 0 : 0x20));
}

const padded = (value: Buffer, pad: number): Buffer => (value.length % 2 ? Buffer.concat([value, Buffer.from([pad])]) : value);
