import { Tag, tagKey } from '../tag.js';
import type { TransferSyntaxInfo } from '../uid.js';
import { FailureReason } from '../status.js';
import { DicomParseError } from './errors.js';
import type { ByteSource, Part10Header } from './read-part10.js';
import type { Span } from './dataset.js';
import { UNDEFINED_LENGTH } from './dataset.js';
import { elementInteger, elementString } from './values.js';

/**
 * Where each frame's bytes are in the stored object, computed once at ingest so that a frame
 * retrieval is one ranged read (digest WADORS-5):
 * - `native`: frame n (1-based) is `length` bytes at `offset + (n - 1) * length`;
 * - `encapsulated`: frame n is the concatenation of its fragments (a frame may span several);
 * - `deflated`: offsets refer to the inflated dataset, so frames are cut after inflating.
 */
export type FrameIndex =
  | { kind: 'native'; offset: number; length: number; count: number; bitsAllocated: number }
  | { kind: 'encapsulated'; frames: Span[][] }
  | { kind: 'deflated'; offset: number; length: number; count: number };

/** The number of frames a frame index locates (0 without one): the one count every service uses. */
export function frameCount(index: FrameIndex | undefined): number {
  if (!index) return 0;
  return index.kind === 'encapsulated' ? index.frames.length : index.count;
}

export interface FrameIndexResult {
  index?: FrameIndex;
  /** Set when the pixel data is stored but does not hold every frame the header announces. */
  warning?: string;
}

export async function indexFrames(source: ByteSource, header: Part10Header): Promise<FrameIndexResult> {
  const pixel = header.pixelData;
  if (!pixel) return {};
  const ds = header.dataset;
  const int = (tag: number) => elementInteger(header.buffer, ds.get(tag));
  const rows = int(Tag.Rows) ?? 0;
  const columns = int(Tag.Columns) ?? 0;
  const samples = int(Tag.SamplesPerPixel) ?? 1;
  const bitsAllocated = int(Tag.BitsAllocated) ?? (pixel.tag === Tag.DoubleFloatPixelData ? 64 : pixel.tag === Tag.FloatPixelData ? 32 : 16);
  const count = Math.max(1, int(Tag.NumberOfFrames) ?? 1);
  const syntax = header.transferSyntax;

  if (pixel.length === UNDEFINED_LENGTH) {
    if (!syntax.encapsulated) throw new DicomParseError(`pixel data of undefined length in native transfer syntax ${syntax.uid}`);
    const fragments = await readFragments(source, pixel.offset);
    return assignFragments(source, fragments, count, syntax);
  }
  if (syntax.encapsulated) {
    throw new DicomParseError(
      `transfer syntax ${syntax.uid} requires encapsulated pixel data, found a defined length`,
      FailureReason.TransferSyntaxNotSupported,
    );
  }
  if (!syntax.deflated && pixel.offset + pixel.length > source.size) {
    throw new DicomParseError(
      `pixel data ${tagKey(pixel.tag)} declares ${pixel.length} bytes but the data ends ${pixel.offset + pixel.length - source.size} bytes earlier`,
    );
  }
  // Native YBR_FULL_422 (and retired YBR_PARTIAL_422) store CB and CR at half the horizontal rate:
  // two values per pixel on average, not three (PS3.3 C.7.6.3.1.2).
  const photometric = ds.get(Tag.PhotometricInterpretation);
  const subsampled = photometric !== undefined && /^YBR_(FULL|PARTIAL)_422$/.test(elementString(header.buffer, photometric));
  const valuesPerPixel = subsampled && samples === 3 ? 2 : samples;
  const frameBits = rows * columns * valuesPerPixel * bitsAllocated;
  const length = bitsAllocated === 1 ? frameBits / 8 : frameBits / 8;
  if (length <= 0) return { warning: 'pixel data without Rows, Columns or BitsAllocated: frames cannot be located' };
  const complete = Math.min(count, Math.floor(pixel.length / length));
  const warning = complete < count ? `pixel data holds ${complete} of ${count} frames of ${length} bytes` : undefined;
  if (syntax.deflated) return { index: { kind: 'deflated', offset: pixel.offset, length, count: complete }, warning };
  if (!Number.isInteger(length)) return { warning: 'bit-packed frames that do not start on a byte boundary' };
  return { index: { kind: 'native', offset: pixel.offset, length, count: complete, bitsAllocated }, warning };
}

/** Reads the item headers of encapsulated pixel data: the Basic Offset Table, then fragments. */
async function readFragments(source: ByteSource, start: number): Promise<Span[]> {
  const items: Span[] = [];
  let pos = start;
  for (;;) {
    if (pos + 8 > source.size) throw new DicomParseError('encapsulated pixel data ends without a sequence delimiter');
    const head = await source.read(pos, 8);
    const tag = ((head.readUInt16LE(0) << 16) | head.readUInt16LE(2)) >>> 0;
    const length = head.readUInt32LE(4);
    if (tag === Tag.SequenceDelimitationItem) return items;
    if (tag !== Tag.Item) throw new DicomParseError(`expected a pixel data fragment, found ${tagKey(tag)} at byte ${pos}`);
    if (pos + 8 + length > source.size) throw new DicomParseError(`pixel data fragment at byte ${pos} runs past the end of the data`);
    items.push({ offset: pos + 8, length });
    pos += 8 + length;
  }
}

async function assignFragments(source: ByteSource, items: Span[], count: number, syntax: TransferSyntaxInfo): Promise<FrameIndexResult> {
  const [table, ...fragments] = items;
  if (!table) throw new DicomParseError('encapsulated pixel data without a Basic Offset Table item');
  if (fragments.length === 0) return { warning: 'encapsulated pixel data without fragments' };
  if (count === 1 || syntax.bulkMediaType.startsWith('video/')) return { index: { kind: 'encapsulated', frames: [fragments] } };
  if (fragments.length === count) return { index: { kind: 'encapsulated', frames: fragments.map((f) => [f]) } };

  // Basic Offset Table: offsets of each frame's first fragment item, from the first fragment item.
  if (table.length === count * 4) {
    const bot = await source.read(table.offset, table.length);
    const base = fragments[0]!.offset - 8;
    const starts = Array.from({ length: count }, (_, i) => base + bot.readUInt32LE(i * 4));
    const frames = starts.map((start, i) => fragments.filter((f) => f.offset - 8 >= start && (i + 1 === count || f.offset - 8 < starts[i + 1]!)));
    if (frames.every((f) => f.length > 0)) return { index: { kind: 'encapsulated', frames } };
  }

  // No usable table: a frame starts at each fragment that begins with a codestream start marker.
  const marker =
    syntax.bulkMediaType === 'image/jpeg' || syntax.bulkMediaType === 'image/jls'
      ? [0xff, 0xd8]
      : syntax.bulkMediaType === 'image/jp2' || syntax.bulkMediaType === 'image/jphc'
        ? [0xff, 0x4f]
        : undefined;
  if (marker) {
    const frames: Span[][] = [];
    for (const fragment of fragments) {
      const head = await source.read(fragment.offset, Math.min(2, fragment.length));
      if (head[0] === marker[0] && head[1] === marker[1]) frames.push([fragment]);
      else frames.at(-1)?.push(fragment);
    }
    if (frames.length === count) return { index: { kind: 'encapsulated', frames } };
  }
  return { warning: `cannot split ${fragments.length} fragments into ${count} frames` };
}
