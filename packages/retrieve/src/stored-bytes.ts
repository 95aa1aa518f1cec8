import type { BlobStore } from '@tessera/blob-store';
import {
  type ByteSource,
  type Span,
  type Vr,
  datasetOffset,
  inflate,
  Tag,
  rangedByteSource,
  sliceStream,
  swapStream,
  swapWidth,
  tagKey,
  transferSyntaxInfo,
} from '@tessera/dicom';
import type { RetrievableInstance } from '@tessera/index';

/*
 * Bytes of stored instances, read with ranged blob reads from what the index computed at ingest:
 * frame offsets (FrameIndex) and bulk data spans (BulkDataRef). Output is always little endian.
 */

/** Random access to a stored object through the blob store (ranged GETs on S3). */
export function blobSource(blobs: BlobStore, row: Pick<RetrievableInstance, 'size' | 'blobKey'>): ByteSource {
  return rangedByteSource(row.size, (start, end) => blobs.get(row.blobKey, { start, end }));
}

async function* blobRange(blobs: BlobStore, key: string, offset: number, length: number): AsyncGenerator<Buffer> {
  if (length <= 0) return;
  for await (const chunk of await blobs.get(key, { start: offset, end: offset + length - 1 })) yield chunk as Buffer;
}

/** The bytes of frame `n` (1-based, checked by the caller) and their length (digest WADORS-5). */
export function frameBytes(blobs: BlobStore, row: RetrievableInstance, n: number): { length: number; body: () => AsyncIterable<Buffer> } {
  const f = row.frames!;
  if (f.kind === 'encapsulated') {
    const spans = f.frames[n - 1]!;
    return { length: spans.reduce((sum, s) => sum + s.length, 0), body: () => spanBytes(blobs, row, spans) };
  }
  const offset = f.offset + (n - 1) * f.length;
  if (f.kind === 'deflated') {
    return { length: f.length, body: () => inflatedSpans(blobs, row, [{ offset, length: f.length }]) };
  }
  const ts = transferSyntaxInfo(row.transferSyntaxUid);
  const width = ts && !ts.littleEndian ? pixelSwapWidth(row, f.bitsAllocated) : 1;
  return { length: f.length, body: () => swapStream(blobRange(blobs, row.blobKey, offset, f.length), width) };
}

/**
 * The bytes of a bulk data value (WADORS-7): its spans in order, little endian (swapped by the width
 * of its VR when the object is big endian), inflated first when the object is deflated.
 */
export function bulkBytes(
  blobs: BlobStore,
  row: RetrievableInstance,
  ref: { vr: Vr; spans: Span[]; littleEndian: boolean },
): { length: number; body: () => AsyncIterable<Buffer> } {
  const length = ref.spans.reduce((sum, s) => sum + s.length, 0);
  const ts = transferSyntaxInfo(row.transferSyntaxUid);
  if (ts?.deflated) return { length, body: () => inflatedSpans(blobs, row, ref.spans) };
  const width = ref.littleEndian ? 1 : swapWidth(ref.vr);
  return { length, body: () => swapStream(spanBytes(blobs, row, ref.spans), width) };
}

async function* spanBytes(blobs: BlobStore, row: RetrievableInstance, spans: Span[]): AsyncGenerator<Buffer> {
  for (const span of spans) yield* blobRange(blobs, row.blobKey, span.offset, span.length);
}

/** Spans of a deflated object refer to the inflated dataset: inflate from its start and cut (bounded memory). */
async function* inflatedSpans(blobs: BlobStore, row: RetrievableInstance, spans: Span[]): AsyncGenerator<Buffer> {
  const source = blobSource(blobs, row);
  const start = await datasetOffset(source);
  for (const span of spans) yield* sliceStream(inflate(source.stream(start)), span.offset, span.length);
}

/** Byte width for swapping big endian pixel data: by its VR (OW = 16-bit words), else BitsAllocated. */
function pixelSwapWidth(row: RetrievableInstance, bitsAllocated: number): number {
  const vr = row.bulkData.find((b) => isPixelDataPath(b.path))?.vr;
  if (vr && vr !== 'OB' && vr !== 'UN') return swapWidth(vr);
  return bitsAllocated > 8 ? bitsAllocated / 8 : 1;
}

const PIXEL_DATA_PATHS: ReadonlySet<string> = new Set([Tag.PixelData, Tag.FloatPixelData, Tag.DoubleFloatPixelData].map(tagKey));

/** A bulk data path naming one of the top-level pixel data elements (as written in BulkDataURIs: upper-case hex). */
export const isPixelDataPath = (path: string): boolean => PIXEL_DATA_PATHS.has(path);
