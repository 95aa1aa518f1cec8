import { createInflateRaw } from 'node:zlib';
import { FailureReason } from '../status.js';
import { Tag } from '../tag.js';
import { type TransferSyntaxInfo, TransferSyntax, transferSyntaxInfo } from '../uid.js';
import { isVr } from '../vr.js';
import type { Dataset } from './dataset.js';
import { DicomParseError, NeedMoreData } from './errors.js';
import { type Encoding, type PixelDataHeader, parseDataset } from './parse-dataset.js';
import { elementString } from './values.js';

/** Random access to the bytes of one stored or spooled object. */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Buffer>;
  /** Streams from `offset` to the end (used to inflate deflated datasets). */
  stream(offset: number): NodeJS.ReadableStream;
  /**
   * Streams exactly `length` bytes from `offset` when the source can ask its storage for just that
   * range (a blob range read), so nothing past it is read and nothing is cut off mid-stream.
   * Sources without it are read through `stream` and cut (streamRange).
   */
  range?(offset: number, length: number): AsyncIterable<Buffer>;
}

export interface Part10Header {
  /** File Meta Information (group 0002), parsed from `metaBuffer`; empty when the file has none. */
  meta: Dataset;
  /** Bytes the File Meta offsets refer to: the start of the file (not the inflated dataset). */
  metaBuffer: Buffer;
  hasFileMeta: boolean;
  transferSyntax: TransferSyntaxInfo;
  /** The dataset up to (not including) top-level pixel data; offsets refer to `buffer`. */
  dataset: Dataset;
  /** Bytes the dataset offsets refer to: the file itself, or the inflated dataset when deflated. */
  buffer: Buffer;
  /** Where the dataset starts in the file. */
  datasetOffset: number;
  pixelData?: PixelDataHeader;
}

export interface ReadLimits {
  /** Largest header (everything before pixel data) read into memory. */
  maxHeaderBytes: number;
}

const MAGIC = 'DICM';
const MEDIA_STORAGE_DIRECTORY = '1.2.840.10008.1.3.10';
const FIRST_READ = 64 * 1024;

/**
 * Reads the File Meta and the dataset up to pixel data of a PS3.10 object. Reads a prefix and
 * extends it only as far as the header needs, so memory is bounded by `maxHeaderBytes`, not by the
 * size of the object (a 1 GB multi-frame costs one 64 KiB read; a larger header, a few more).
 *
 * Files without preamble and File Meta (older PS3.10 writers, digest DATA-2) are accepted when
 * they begin with a plausible group 0008 element; their transfer syntax is detected.
 */
export async function readPart10Header(source: ByteSource, limits: ReadLimits): Promise<Part10Header> {
  if (source.size === 0) throw new DicomParseError('empty object');
  let length = Math.min(source.size, FIRST_READ, limits.maxHeaderBytes);
  for (;;) {
    const buf = await source.read(0, length);
    try {
      return await parseFrom(buf, source, limits);
    } catch (error) {
      if (!(error instanceof NeedMoreData)) throw error;
      if (error.needed > limits.maxHeaderBytes) {
        throw new DicomParseError(`header larger than the configured limit of ${limits.maxHeaderBytes} bytes`, FailureReason.OutOfResources);
      }
      length = Math.min(source.size, Math.max(error.needed, length * 4), limits.maxHeaderBytes);
    }
  }
}

async function parseFrom(buf: Buffer, source: ByteSource, limits: ReadLimits): Promise<Part10Header> {
  const hasMagic = buf.length >= 132 && buf.toString('latin1', 128, 132) === MAGIC;
  if (!hasMagic) return parseWithoutMeta(buf, source);

  const { meta, end } = parseMeta(buf, source.size);
  if (metaString(meta, buf, Tag.MediaStorageSOPClassUID) === MEDIA_STORAGE_DIRECTORY) {
    // Decided from the File Meta alone: a directory is refused whatever its records hold.
    throw new DicomParseError('a Media Storage Directory (DICOMDIR) is not an instance to archive', FailureReason.SOPClassNotSupported);
  }
  const uid = metaString(meta, buf, Tag.TransferSyntaxUID);
  // A File Meta without (0002,0010) is broken; the dataset then is most often Implicit VR LE.
  const transferSyntax = uid === undefined ? (detectEncoding(buf, end) ?? transferSyntaxInfo(TransferSyntax.ImplicitVRLittleEndian)) : transferSyntaxInfo(uid);
  if (!transferSyntax) throw new DicomParseError(`unknown transfer syntax ${uid}`, FailureReason.TransferSyntaxNotSupported);

  if (transferSyntax.deflated) {
    const inflated = await inflatePrefix(source, end, limits.maxHeaderBytes);
    let parsed;
    try {
      parsed = parseDataset(inflated.buffer, inflated.complete ? inflated.buffer.length : Infinity, 0, transferSyntax);
    } catch (error) {
      if (!(error instanceof NeedMoreData)) throw error;
      throw new DicomParseError(`header larger than the configured limit of ${limits.maxHeaderBytes} bytes`, FailureReason.OutOfResources);
    }
    return { meta, metaBuffer: buf, hasFileMeta: true, transferSyntax, ...parsed, buffer: inflated.buffer, datasetOffset: end };
  }
  const parsed = parseDataset(buf, source.size, end, transferSyntax);
  return { meta, metaBuffer: buf, hasFileMeta: true, transferSyntax, ...parsed, buffer: buf, datasetOffset: end };
}

function parseMeta(buf: Buffer, total: number): { meta: Dataset; end: number } {
  const metaEncoding: Encoding = { explicitVr: true, littleEndian: true };
  // Group 0002 ends where the first element of another group starts. A declared group length
  // is checked for sanity only: real files get it wrong, hostile ones point past the end.
  let end = 132;
  while (end + 8 <= buf.length && buf.readUInt16LE(end) === 0x0002) {
    const vr = buf.toString('latin1', end + 4, end + 6);
    if (!isVr(vr)) throw new DicomParseError(`invalid VR in File Meta at byte ${end}`);
    const long = ['OB', 'OW', 'UN', 'UT', 'SQ'].includes(vr);
    const length = long ? buf.readUInt32LE(end + 8) : buf.readUInt16LE(end + 6);
    end += (long ? 12 : 8) + length;
    if (end > total) throw new DicomParseError('File Meta Information is truncated');
    if (end > buf.length) throw new NeedMoreData(end);
  }
  const { dataset: meta } = parseDataset(buf.subarray(0, end), end, 132, metaEncoding);
  const groupLength = meta.get(Tag.FileMetaInformationGroupLength);
  if (groupLength && groupLength.length === 4) {
    const declared = buf.readUInt32LE(groupLength.offset);
    if (groupLength.offset + 4 + declared > total) {
      throw new DicomParseError(`File Meta group length ${declared} points past the end of the data`);
    }
  }
  if (end === 132) throw new DicomParseError('no File Meta Information after the DICM prefix');
  return { meta, end };
}

function parseWithoutMeta(buf: Buffer, source: ByteSource): Part10Header {
  if (buf.length >= 4 && buf.toString('latin1', 0, 4) === MAGIC) {
    throw new DicomParseError('the 128-byte preamble is missing (DICM at byte 0)');
  }
  const transferSyntax = detectEncoding(buf, 0);
  if (!transferSyntax) throw new DicomParseError('not a DICOM PS3.10 object (no DICM prefix at byte 128)');
  const parsed = parseDataset(buf, source.size, 0, transferSyntax);
  return { meta: new Map(), metaBuffer: buf, hasFileMeta: false, transferSyntax, ...parsed, buffer: buf, datasetOffset: 0 };
}

/**
 * Guesses the encoding of a dataset with no File Meta: it must start with a group 0008 element
 * (or its group length); an uppercase VR after the tag means explicit VR.
 */
function detectEncoding(buf: Buffer, at: number): TransferSyntaxInfo | undefined {
  if (buf.length < at + 8) return undefined;
  const little = buf.readUInt16LE(at) === 0x0008;
  const big = buf.readUInt16BE(at) === 0x0008;
  if (!little && !big) return undefined;
  const explicit = isVr(buf.toString('latin1', at + 4, at + 6));
  if (big) return explicit ? transferSyntaxInfo(TransferSyntax.ExplicitVRBigEndian) : undefined;
  return transferSyntaxInfo(explicit ? TransferSyntax.ExplicitVRLittleEndian : TransferSyntax.ImplicitVRLittleEndian);
}

function metaString(meta: Dataset, buf: Buffer, tag: number): string | undefined {
  const element = meta.get(tag);
  return element ? elementString(buf, element) : undefined;
}

/** Inflates a deflated dataset (PS3.5 §A.5) up to `limit` bytes, streaming. */
async function inflatePrefix(source: ByteSource, offset: number, limit: number): Promise<{ buffer: Buffer; complete: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const input = source.stream(offset);
  const inflater = createInflateRaw();
  input.pipe(inflater);
  try {
    for await (const chunk of inflater as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) return { buffer: Buffer.concat(chunks), complete: false };
    }
  } catch (error) {
    throw new DicomParseError(`deflated dataset cannot be inflated: ${(error as Error).message}`);
  } finally {
    inflater.destroy();
    (input as unknown as { destroy?: () => void }).destroy?.();
  }
  return { buffer: Buffer.concat(chunks), complete: true };
}
