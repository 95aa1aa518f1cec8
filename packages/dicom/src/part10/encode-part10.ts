import { Tag } from '../tag.js';
import type { Vr } from '../vr.js';
import { UNDEFINED_LENGTH } from './dataset.js';
import { DicomParseError } from './errors.js';
import { parseDataset } from './parse-dataset.js';
import { type ByteSource, readPart10Header } from './read-part10.js';
import { elementString } from './values.js';
import { fromBuffers, inflate, prepend, streamRange, swapStream, swapWidth } from './byte-streams.js';
import { elementHeader, encodeDataset } from './explicit-vr-encoder.js';
import { encodeFileMeta } from './file-meta.js';
import type { Part10Plan } from './part10-plan.js';

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
export async function trailingElements(
  source: ByteSource,
  start: number,
  encoding: { explicitVr: boolean; littleEndian: boolean },
  options: TranscodeOptions,
): Promise<Buffer> {
  if (start >= source.size || source.size - start > options.maxHeaderBytes) return Buffer.alloc(0);
  const rest = await source.read(start, source.size - start);
  try {
    const parsed = parseDataset(rest, rest.length, 0, { explicitVr: encoding.explicitVr, littleEndian: encoding.littleEndian });
    return parsed.pixelData ? Buffer.alloc(0) : Buffer.concat(encodeDataset(rest, parsed.dataset, false));
  } catch {
    return Buffer.alloc(0);
  }
}
