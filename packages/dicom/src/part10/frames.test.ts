import t from 'tap';
import { readShared, sharedFiles } from '@tessera/test-data';
import { Tag } from '../tag.js';
import { readManifestEntries } from '../testing/manifest.js';
import { transferSyntaxInfo } from '../uid.js';
import type { Span } from './dataset.js';
import { type InstanceDescription, describeInstance } from './describe-instance.js';
import { bufferByteSource } from './file-source.js';
import { indexFrames } from './frames.js';
import { readPart10Header } from './read-part10.js';

/** The assertions the helpers below use, on the root or a subtest. */
type Assertions = Pick<typeof t, 'fail' | 'pass'>;

const OPTIONS = { maxHeaderBytes: 64 * 1024 * 1024, inlineBinaryMaxBytes: 1024 };

async function describe(path: string): Promise<{ file: Buffer; d: InstanceDescription }> {
  const file = readShared(path);
  return { file, d: await describeInstance(bufferByteSource(file), OPTIONS) };
}

/** Warnings about frames (others, e.g. File Meta UID mismatches, are read-part10.test.ts's). */
const frameWarnings = (d: InstanceDescription) => d.warnings.filter((warning) => /frame|pixel/i.test(warning));

const firstValue = (d: InstanceDescription, key: string): number => {
  const value = d.metadata[key]?.Value?.[0];
  if (typeof value !== 'number') throw new Error(`${key} is not a number: ${JSON.stringify(value)}`);
  return value;
};

/** Checks fragments lie in the file, in order, without overlapping, each behind an item header. */
function checkFragments(t: Assertions, path: string, file: Buffer, frames: Span[][]): void {
  let end = 0;
  let ok = true;
  for (const fragment of frames.flat()) {
    const itemTag = file.readUInt16LE(fragment.offset - 8) === 0xfffe && file.readUInt16LE(fragment.offset - 6) === 0xe000;
    if (fragment.offset < end || fragment.offset + fragment.length > file.length || !itemTag || file.readUInt32LE(fragment.offset - 4) !== fragment.length) {
      ok = false;
      t.fail(`WADORS-5: ${path} fragment at ${fragment.offset} (${fragment.length} bytes) is not an item value in order inside the file`);
    }
    end = fragment.offset + fragment.length;
  }
  if (ok) t.pass(`WADORS-5: ${path} ${frames.flat().length} fragments are item values, in order, inside the file`);
}

t.test('native multi-frame: frame n is Rows*Columns*2 bytes at offset + (n-1)*length', async (t) => {
  const path = 'multiframe/enhanced-mr-emri_small-10fr.dcm';
  const { file, d } = await describe(path);
  const rows = firstValue(d, '00280010');
  const columns = firstValue(d, '00280011');
  t.equal(firstValue(d, '00280008'), 10, 'NumberOfFrames is 10');
  const frames = d.frames;
  if (frames?.kind !== 'native') return t.fail(`native frames expected, got ${frames?.kind}`);
  t.equal(frames.count, 10, 'WADORS-5: 10 frames');
  t.equal(d.numberOfFrames, 10, 'numberOfFrames 10');
  t.equal(frames.length, rows * columns * 2, `WADORS-5: each frame ${rows}x${columns}x2 bytes`);
  t.equal(frames.bitsAllocated, 16, '16 bits allocated');
  t.ok(frames.offset + frames.count * frames.length <= file.length, 'WADORS-5: the last frame ends inside the file');
  // The first frame starts at the Pixel Data value: (7FE0,0010) OW 00 00 <length> just before it.
  t.equal(file.readUInt16LE(frames.offset - 12), 0x7fe0, 'the Pixel Data tag group precedes the first frame');
  t.equal(file.readUInt16LE(frames.offset - 10), 0x0010, 'the Pixel Data tag element precedes the first frame');
  t.equal(file.readUInt32LE(frames.offset - 4), frames.count * frames.length, 'Pixel Data length is 10 frames');
  t.same(frameWarnings(d), [], 'no frame warning');

  const big = await describe('multiframe/enhanced-mr-emri_small-10fr-bigendian.dcm');
  t.match(big.d.frames, { kind: 'native', count: 10, length: rows * columns * 2 }, 'WADORS-5: the big-endian twin has the same frames');
});

t.test('native frames of other layouts', async (t) => {
  const cases: [string, number, (d: InstanceDescription) => number][] = [
    ['multiframe/sc-rgb-2fr.dcm', 2, (d) => firstValue(d, '00280010') * firstValue(d, '00280011') * 3],
    ['multiframe/mr-4fr-windowing.dcm', 4, (d) => (firstValue(d, '00280010') * firstValue(d, '00280011') * firstValue(d, '00280100')) / 8],
    ['multiframe/rtdose-15fr.dcm', 15, (d) => (firstValue(d, '00280010') * firstValue(d, '00280011') * firstValue(d, '00280100')) / 8],
    // BitsAllocated 1: frames are bit-packed, Rows*Columns/8 bytes.
    ['non-image/seg/seg_image_ct_binary.dcm', 3, (d) => (firstValue(d, '00280010') * firstValue(d, '00280011')) / 8],
    // YBR_FULL_422 without compression: CB and CR at half horizontal rate, 2 bytes per pixel, not 3.
    ['transfer-syntax/small/sc-ybr-full-422-uncompressed.dcm', 1, (d) => firstValue(d, '00280010') * firstValue(d, '00280011') * 2],
    ['transfer-syntax/small/us-ybr-full-422-evrle.dcm', 1, (d) => firstValue(d, '00280010') * firstValue(d, '00280011') * 2],
  ];
  for (const [path, count, frameLength] of cases) {
    const { file, d } = await describe(path);
    const frames = d.frames;
    if (frames?.kind !== 'native') {
      t.fail(`${path}: native frames expected, got ${frames?.kind}`);
      continue;
    }
    t.equal(frames.count, count, `WADORS-5: ${path} has ${count} frames`);
    t.equal(frames.length, frameLength(d), `WADORS-5: ${path} frame length ${frames.length}`);
    t.ok(frames.offset + frames.count * frames.length <= file.length, `WADORS-5: ${path} frames end inside the file`);
    t.same(frameWarnings(d), [], `${path}: no frame warning`);
  }
});

t.test('Float and Double Float Pixel Data are indexed as native frames', async (t) => {
  for (const [path, tagGroupElement, bits] of [
    ['non-image/other/parametric-map-float-OF.dcm', Tag.FloatPixelData, 32],
    ['non-image/other/parametric-map-double-OD.dcm', Tag.DoubleFloatPixelData, 64],
  ] as const) {
    const { file, d } = await describe(path);
    const frames = d.frames;
    if (frames?.kind !== 'native') {
      t.fail(`${path}: native frames expected`);
      continue;
    }
    t.equal(frames.bitsAllocated, bits, `${path}: ${bits} bits per value`);
    t.equal(
      file.readUInt16LE(frames.offset - 10),
      tagGroupElement & 0xffff,
      `${path}: frames start at the (7FE0,${(tagGroupElement & 0xffff).toString(16).padStart(4, '0')}) value`,
    );
    t.equal(frames.length, (firstValue(d, '00280010') * firstValue(d, '00280011') * bits) / 8, `WADORS-5: ${path} frame length`);
  }
});

/** The first bytes each encapsulated frame must start with, by transfer syntax (DATA-3). */
function startsLikeFrame(uid: string, head: Buffer): boolean {
  const mediaType = transferSyntaxInfo(uid)!.bulkMediaType;
  if (mediaType === 'image/jpeg' || mediaType === 'image/jls') return head[0] === 0xff && head[1] === 0xd8; // SOI
  if (mediaType === 'image/jp2' || mediaType === 'image/jphc') return head[0] === 0xff && head[1] === 0x4f; // SOC
  if (mediaType === 'image/dicom-rle') {
    const segments = head.readUInt32LE(0); // RLE header: number of segments, then 15 offsets
    return segments >= 1 && segments <= 15 && head.readUInt32LE(4) === 64;
  }
  return true;
}

t.test('encapsulated multi-frame: one frame per codestream', async (t) => {
  const cases: [string, string][] = [
    ['multiframe/enhanced-mr-emri_small-10fr-j2k.dcm', 'FF4F (J2K SOC)'],
    ['multiframe/enhanced-mr-emri_small-10fr-jls.dcm', 'FFD8 (JPEG-LS SOI)'],
    ['multiframe/enhanced-mr-emri_small-10fr-rle.dcm', 'an RLE header of 1..15 segments'],
    ['multiframe/us-multiframe-jpeg-34fr.dcm', 'FFD8 (JPEG SOI)'],
    ['multiframe/sc-rgb-rle-2fr.dcm', 'an RLE header of 1..15 segments'],
    ['multiframe/us-palette-rle-2fr.dcm', 'an RLE header of 1..15 segments'],
    ['transfer-syntax/small/seg_1.2.840.10008.1.2.4.90_j2k.dcm', 'FF4F (J2K SOC)'],
  ];
  for (const [path, marker] of cases) {
    const { file, d } = await describe(path);
    const expected = firstValue(d, '00280008');
    const frames = d.frames;
    if (frames?.kind !== 'encapsulated') {
      t.fail(`${path}: encapsulated frames expected`);
      continue;
    }
    t.equal(frames.frames.length, expected, `WADORS-5: ${path} has NumberOfFrames = ${expected} frames`);
    t.equal(d.numberOfFrames, expected, `${path} numberOfFrames`);
    const bad = frames.frames
      .map((frame, index) => (startsLikeFrame(d.transferSyntaxUid, file.subarray(frame[0]!.offset, frame[0]!.offset + 8)) ? -1 : index + 1))
      .filter((n) => n > 0);
    t.same(bad, [], `DATA-3: every frame of ${path} starts with ${marker}`);
    checkFragments(t, path, file, frames.frames);
    t.same(frameWarnings(d), [], `${path}: no frame warning`);
  }
});

t.test('encapsulated frames split over several fragments, without a Basic Offset Table', async (t) => {
  const path = 'multiframe/enhanced-ct-2fr-jpeg-fragmented-nobot.dcm';
  const { file, d } = await describe(path);
  const frames = d.frames;
  if (frames?.kind !== 'encapsulated') return t.fail('encapsulated frames expected');
  t.equal(frames.frames.length, 2, 'WADORS-5: 2 frames');
  t.ok(
    frames.frames.every((frame) => frame.length > 1),
    `WADORS-5: each frame spans several fragments (${frames.frames.map((f) => f.length).join(', ')})`,
  );
  for (const [index, frame] of frames.frames.entries()) {
    t.ok(startsLikeFrame(d.transferSyntaxUid, file.subarray(frame[0]!.offset)), `DATA-3: frame ${index + 1} starts with FFD8`);
    const bytes = Buffer.concat(frame.map((f) => file.subarray(f.offset, f.offset + f.length)));
    const eoi = bytes.lastIndexOf(Buffer.from([0xff, 0xd9]));
    t.ok(eoi >= bytes.length - 4, `frame ${index + 1} ends with FFD9 (EOI), ${bytes.length} bytes`);
    t.equal(bytes.indexOf(Buffer.from([0xff, 0xd8]), 2), -1, `frame ${index + 1} holds one codestream`);
  }
  const basicOffsetTable = file.readUInt32LE(frames.frames[0]![0]!.offset - 8 - 4);
  t.equal(basicOffsetTable, 0, 'the Basic Offset Table item is empty');
  checkFragments(t, path, file, frames.frames);
});

t.test('single-frame encapsulated files have one frame', async (t) => {
  const manifest = readManifestEntries();
  let checked = 0;
  for (const path of sharedFiles()) {
    const row = manifest.get(path);
    const syntax = row && transferSyntaxInfo(row.transferSyntax);
    if (!syntax?.encapsulated) continue;
    let described;
    try {
      described = await describe(path);
    } catch {
      continue; // rejected files are read-part10.test.ts's business
    }
    const { file, d } = described;
    const numberOfFrames = d.metadata['00280008'] ? firstValue(d, '00280008') : 1;
    if (numberOfFrames !== 1) continue;
    checked++;
    const frames = d.frames;
    if (frames?.kind !== 'encapsulated') {
      t.fail(`${path}: encapsulated frames expected, got ${frames?.kind}`);
      continue;
    }
    t.equal(frames.frames.length, 1, `WADORS-5: ${path} has 1 frame of ${frames.frames[0]!.length} fragment(s)`);
    // j2k-with-jp2-header.dcm wraps its codestream in a JP2 file header (non-conformant, README).
    if (!path.endsWith('j2k-with-jp2-header.dcm')) {
      t.ok(startsLikeFrame(d.transferSyntaxUid, file.subarray(frames.frames[0]![0]!.offset)), `DATA-3: ${path} frame starts with its codestream marker`);
    }
  }
  t.ok(checked >= 30, `${checked} single-frame encapsulated files`);
});

t.test('indexFrames reports what it cannot index', async (t) => {
  // Header says 24 frames, Pixel Data removed: nothing to index, no error.
  const noPixels = await describe('edge/pixel/enhanced-mr-24fr-no-pixeldata.dcm');
  t.equal(noPixels.d.frames, undefined, 'no frame index without Pixel Data');

  // Pixel Data longer than the frames it announces (plus trailing padding element): one full frame.
  const padded = await describe('edge/pixel/mr-small-padded.dcm');
  t.match(padded.d.frames, { kind: 'native', count: 1, length: 64 * 64 * 2 }, 'WADORS-5: padded Pixel Data still has 1 frame');

  // Deflated: offsets refer to the inflated dataset.
  const deflated = await describe('transfer-syntax/small/sc-deflate_1.2.840.10008.1.2.1.99.dcm');
  t.match(deflated.d.frames, { kind: 'deflated', count: 1 }, 'DATA-3: deflated frames are cut after inflating');

  // Fewer bytes than NumberOfFrames × frame length: the frames present, with a warning (B007).
  const file = readShared('multiframe/enhanced-mr-emri_small-10fr.dcm');
  const header = await readPart10Header(bufferByteSource(file), OPTIONS);
  const short = { ...header, pixelData: { ...header.pixelData!, length: 8192 * 7 + 100 } };
  const result = await indexFrames(bufferByteSource(file), short);
  t.match(result, { index: { kind: 'native', count: 7 }, warning: /7 of 10 frames/ }, 'WADORS-5: 7 complete frames and a warning');
});
