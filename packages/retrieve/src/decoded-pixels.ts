import { endianness } from 'node:os';
import type { BlobStore } from '@tessera/blob-store';
import {
  type DicomJsonDataset,
  type EncodedPart10,
  type NativePixelData,
  type NativePixelModule,
  type Part10Header,
  type Part10Plan,
  type TranscodeOptions,
  Tag,
  encapsulatedPixelDataEnd,
  encodeNativePixelPart10,
  frameCount,
  readPart10Header,
  tagKey,
  toDicomJson,
  transferSyntaxInfo,
} from '@tessera/dicom';
import { type DecodedFrame, type PixelArray, PixelDecodeError, UnsupportedTransferSyntaxError, canDecode, decodeFrame } from '@tessera/imaging';
import type { RetrievableInstance } from '@tessera/index';
import type { RetrieveDependencies } from './resolve-scope.js';
import { RetrieveError } from './retrieve-error.js';
import { blobSource, frameBytes } from './stored-bytes.js';

/*
 * Compressed frames of stored instances decoded to native little-endian pixels (Explicit VR LE,
 * digest WADORS-3/5, NEG-7), one frame at a time: for PS3.10 files (plan `decode`), for Retrieve
 * Frames and for the Pixel Data bulk value. Only one decoded frame is held in memory at a time.
 */

/**
 * Whether the pixel data of a stored instance can be served decoded: it is encapsulated, a decoder
 * exists for its transfer syntax, and its frames were located at ingest.
 */
export function canDecodeStored(row: Pick<RetrievableInstance, 'transferSyntaxUid' | 'frames'>): boolean {
  return row.frames?.kind === 'encapsulated' && transferSyntaxInfo(row.transferSyntaxUid)?.encapsulated === true && canDecode(row.transferSyntaxUid);
}

/** The decoded frames of one stored instance; the first requested frame is already decoded (and checked). */
export interface DecodedFrames {
  /** The Image Pixel module of the decoded pixels. */
  module: NativePixelModule;
  count: number;
  /** Bytes of one decoded frame (BitsAllocated 1: its bits packed from bit 0, rounded up to a byte). */
  frameLength: number;
  /** Frame n (1-based), decoded when iterated. */
  frame(n: number): AsyncIterable<Buffer>;
  /** Every frame concatenated: the native Pixel Data value (1-bit frames packed without padding). */
  pixelData(): NativePixelData;
}

/**
 * Opens the frames of a stored instance for decoding and decodes frame `first` at once, so that a
 * frame that cannot be decoded fails the request before anything is sent (`not-decodable` or
 * `pixel-data-unreadable`), and
 * so that the output layout (bits allocated, photometric interpretation) is known up front. Later
 * frames that fail or decode to another layout end the stream with an error.
 */
export async function openDecodedFrames(blobs: BlobStore, row: RetrievableInstance, metadata: DicomJsonDataset, first = 1): Promise<DecodedFrames> {
  const count = frameCount(row.frames ?? undefined);
  if (!canDecodeStored(row) || first < 1 || first > count) {
    throw new RetrieveError(
      'not-decodable',
      `the pixel data of ${row.sopInstanceUid} (${row.transferSyntaxUid}) cannot be decoded here; ask transfer-syntax=* (PS3.18 §8.7.3)`,
      row.sopInstanceUid,
    );
  }
  const decode = async (n: number): Promise<DecodedFrame> => {
    const chunks: Buffer[] = [];
    for await (const chunk of frameBytes(blobs, row, n).body()) chunks.push(chunk);
    try {
      return await decodeFrame(Buffer.concat(chunks), metadata, row.transferSyntaxUid);
    } catch (error) {
      throw decodeError(error, row, n);
    }
  };
  const probe = await decode(first);
  const storedBits = Number(metadata[tagKey(Tag.BitsAllocated)]?.Value?.[0]);
  // Binary segmentations stay 1-bit, whatever sample size the codestream used (J2K decodes to bytes).
  const bitsAllocated = storedBits === 1 ? 1 : probe.bitsAllocated;
  const module: NativePixelModule = {
    samplesPerPixel: probe.samplesPerPixel,
    photometricInterpretation: probe.photometricInterpretation,
    bitsAllocated,
    bitsStored: bitsAllocated === 1 ? 1 : probe.bitsStored,
  };
  const samples = probe.rows * probe.columns * probe.samplesPerPixel;
  const frameLength = Math.ceil((samples * bitsAllocated) / 8);
  const check = (frame: DecodedFrame, n: number): DecodedFrame => {
    if (
      frame.rows !== probe.rows ||
      frame.columns !== probe.columns ||
      frame.samplesPerPixel !== probe.samplesPerPixel ||
      frame.bitsAllocated !== probe.bitsAllocated ||
      frame.photometricInterpretation !== probe.photometricInterpretation ||
      frame.pixels.length !== samples
    ) {
      throw decodeError(new PixelDecodeError(`frame ${n} decodes to another layout than frame ${first}`), row, n);
    }
    return frame;
  };
  check(probe, first);
  let held: DecodedFrame | undefined = probe;
  const take = async (n: number): Promise<DecodedFrame> => {
    if (held && n === first) {
      const frame = held;
      held = undefined;
      return frame;
    }
    return check(await decode(n), n);
  };

  async function* frame(n: number): AsyncGenerator<Buffer> {
    const decoded = await take(n);
    if (bitsAllocated !== 1) {
      yield littleEndianBytes(decoded.pixels);
      return;
    }
    const packer = new BitPacker();
    yield packer.push(decoded.pixels);
    const last = packer.flush();
    if (last.length) yield last;
  }
  async function* all(): AsyncGenerator<Buffer> {
    const packer = new BitPacker();
    for (let n = 1; n <= count; n++) {
      const decoded = await take(n);
      const bytes = bitsAllocated === 1 ? packer.push(decoded.pixels) : littleEndianBytes(decoded.pixels);
      if (bytes.length) yield bytes;
    }
    const last = packer.flush();
    if (last.length) yield last;
  }
  return {
    module,
    count,
    frameLength,
    frame,
    pixelData: () => ({ module, length: bitsAllocated === 1 ? Math.ceil((samples * count) / 8) : frameLength * count, body: all() }),
  };
}

/** `openDecodedFrames` with the instance's metadata read from the index (WADO-RS frames and bulk data). */
export async function openStoredDecodedFrames(
  deps: Pick<RetrieveDependencies, 'index' | 'blobs'>,
  row: RetrievableInstance,
  first = 1,
): Promise<DecodedFrames> {
  const {
    rows: [text],
  } = await deps.index.retrieve.metadata({
    studyInstanceUid: row.studyInstanceUid,
    seriesInstanceUid: row.seriesInstanceUid,
    sopInstanceUid: row.sopInstanceUid,
  });
  if (!text) throw new RetrieveError('not-found', `no instance ${row.sopInstanceUid} is stored`, row.sopInstanceUid);
  return openDecodedFrames(deps.blobs, row, JSON.parse(text.metadata) as DicomJsonDataset, first);
}

/**
 * A stored instance with compressed pixel data as a PS3.10 file in Explicit VR Little Endian (plan
 * `decode`, digest WADORS-3, WADOURI-3): the header re-encoded with the decoded Image Pixel module,
 * then the frames decoded one at a time into a defined-length Pixel Data element. Frame 1 is decoded
 * before this returns (a broken codestream is `pixel-data-unreadable` before any byte is sent).
 */
export async function encodeDecodedPart10(blobs: BlobStore, row: RetrievableInstance, plan: Part10Plan, options: TranscodeOptions): Promise<EncodedPart10> {
  const source = blobSource(blobs, row);
  const header = await readPart10Header(source, options);
  const frames = row.frames;
  if (!header.pixelData || frames?.kind !== 'encapsulated') {
    throw new RetrieveError(
      'not-decodable',
      `instance ${row.sopInstanceUid} has no located compressed frames to decode; ask transfer-syntax=* (PS3.18 §8.7.3)`,
      row.sopInstanceUid,
    );
  }
  const decoded = await openDecodedFrames(blobs, row, pixelMetadata(header));
  // Elements after the encapsulated pixel data: usually none, the Sequence Delimitation Item closes the object.
  const lastFragmentEnd = frames.frames.reduce((end, spans) => spans.reduce((e, span) => Math.max(e, span.offset + span.length), end), 0);
  const trailerStart = lastFragmentEnd + 8 >= source.size ? source.size : await encapsulatedPixelDataEnd(source, lastFragmentEnd);
  return encodeNativePixelPart10(source, header, plan, decoded.pixelData(), trailerStart, options);
}

const PIXEL_MODULE_TAGS: readonly number[] = [
  Tag.SamplesPerPixel,
  Tag.PhotometricInterpretation,
  Tag.PlanarConfiguration,
  Tag.Rows,
  Tag.Columns,
  Tag.BitsAllocated,
  Tag.BitsStored,
  Tag.PixelRepresentation,
];

/** The DICOM JSON of the Image Pixel module of a header: what the decoder needs, nothing else converted. */
function pixelMetadata(header: Part10Header): DicomJsonDataset {
  const subset = new Map([...header.dataset].filter(([tag]) => PIXEL_MODULE_TAGS.includes(tag)));
  const { dataset } = toDicomJson(header.buffer, subset, { inlineBinaryMaxBytes: 1 << 16, bulkDataUri: () => '' });
  const pixel = header.pixelData!;
  if (pixel.tag !== Tag.PixelData) dataset[tagKey(pixel.tag)] = { vr: pixel.tag === Tag.FloatPixelData ? 'OF' : 'OD' };
  return dataset;
}

/** Maps decoder errors to retrieve errors: no decoder `not-decodable`, pixel data that does not decode `pixel-data-unreadable` (others pass through). */
export function decodeError(error: unknown, row: Pick<RetrievableInstance, 'sopInstanceUid' | 'transferSyntaxUid'>, n?: number): unknown {
  if (error instanceof UnsupportedTransferSyntaxError) {
    return new RetrieveError(
      'not-decodable',
      `frames in transfer syntax ${row.transferSyntaxUid} cannot be decoded here; ask transfer-syntax=* (PS3.18 §8.7.3)`,
      row.sopInstanceUid,
    );
  }
  if (error instanceof PixelDecodeError) {
    return new RetrieveError(
      'pixel-data-unreadable',
      `${n === undefined ? 'the pixel data' : `frame ${n}`} of ${row.sopInstanceUid} cannot be decoded to Explicit VR Little Endian: ${error.message}`,
      row.sopInstanceUid,
    );
  }
  return error;
}

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** The samples as little-endian bytes (a view on a little-endian host, a swapped copy otherwise). */
function littleEndianBytes(pixels: PixelArray): Buffer {
  const bytes = Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  if (LITTLE_ENDIAN_HOST || pixels.BYTES_PER_ELEMENT === 1) return bytes;
  const copy = Buffer.from(bytes);
  return pixels.BYTES_PER_ELEMENT === 2 ? copy.swap16() : pixels.BYTES_PER_ELEMENT === 4 ? copy.swap32() : copy.swap64();
}

/**
 * Packs 1-bit samples (any non-zero value is 1) as native Pixel Data: sample n is bit n % 8, least
 * significant first, of byte n / 8 (PS3.5 §8.1.1), carrying incomplete bytes across frames.
 */
class BitPacker {
  private byte = 0;
  private bits = 0;

  push(samples: ArrayLike<number>): Buffer {
    const out = Buffer.alloc(Math.floor((this.bits + samples.length) / 8));
    let at = 0;
    for (let i = 0; i < samples.length; i++) {
      if (samples[i]) this.byte |= 1 << this.bits;
      if (++this.bits === 8) {
        out[at++] = this.byte;
        this.byte = 0;
        this.bits = 0;
      }
    }
    return out;
  }

  flush(): Buffer {
    if (this.bits === 0) return Buffer.alloc(0);
    const last = Buffer.from([this.byte]);
    this.byte = 0;
    this.bits = 0;
    return last;
  }
}
