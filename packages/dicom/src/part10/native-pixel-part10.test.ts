import t from 'tap';
import { readShared } from '@tessera/test-data';
import { Tag } from '../tag.js';
import { TransferSyntax } from '../uid.js';
import { describeInstance } from './describe-instance.js';
import { bufferByteSource } from './file-source.js';
import { encapsulatedPixelDataEnd, encodeNativePixelPart10, lossyCompressionOf } from './native-pixel-part10.js';
import { readPart10Header } from './read-part10.js';
import { planPart10 } from './part10-plan.js';
import { elementInteger, elementString } from './values.js';

const OPTIONS = { maxHeaderBytes: 64 * 1024 * 1024, inlineBinaryMaxBytes: 1024 };
const EXPLICIT_LE = TransferSyntax.ExplicitVRLittleEndian;
const JPEG = { transferSyntaxUid: '1.2.840.10008.1.2.4.50', hasFileMeta: true };

t.test('planPart10: compressed → Explicit VR LE only when asked and decodable (WADORS-3, NEG-7, D17)', async (t) => {
  t.equal(planPart10(JPEG, EXPLICIT_LE), undefined, 'NEG-7: no decoder offered → 406');
  t.equal(planPart10(JPEG, EXPLICIT_LE, { canDecode: () => false }), undefined, 'NEG-7: the decoder refuses → 406');
  t.same(
    planPart10(JPEG, EXPLICIT_LE, { canDecode: (ts) => ts === JPEG.transferSyntaxUid }),
    { kind: 'decode', transferSyntaxUid: EXPLICIT_LE },
    'WADORS-3: decoded',
  );
  const always = { canDecode: () => true };
  t.same(planPart10(JPEG, undefined, always), { kind: 'as-is', transferSyntaxUid: JPEG.transferSyntaxUid }, 'D17: no parameter → stored syntax');
  t.same(planPart10(JPEG, '*', always), { kind: 'as-is', transferSyntaxUid: JPEG.transferSyntaxUid }, 'NEG-7: * → stored syntax');
  t.equal(planPart10(JPEG, '1.2.840.10008.1.2.4.90', always), undefined, 'NEG-7: compressed → other compressed syntax → 406 (no encoder)');
  t.equal(planPart10(JPEG, TransferSyntax.ImplicitVRLittleEndian, always), undefined, 'NEG-7: implicit never served');
  t.same(
    planPart10({ transferSyntaxUid: TransferSyntax.ImplicitVRLittleEndian, hasFileMeta: true }, EXPLICIT_LE, always),
    { kind: 're-encode', transferSyntaxUid: EXPLICIT_LE },
    'native data is re-encoded, not decoded',
  );
  t.same(planPart10({ transferSyntaxUid: EXPLICIT_LE, hasFileMeta: true }, EXPLICIT_LE, always), { kind: 'as-is', transferSyntaxUid: EXPLICIT_LE });
});

t.test('lossyCompressionOf (PS3.5 §8.2, PS3.3 C.7.6.1.1.5)', async (t) => {
  t.same(lossyCompressionOf('1.2.840.10008.1.2.4.50'), { lossy: 'always', method: 'ISO_10918_1' });
  t.same(lossyCompressionOf('1.2.840.10008.1.2.4.51'), { lossy: 'always', method: 'ISO_10918_1' });
  t.same(lossyCompressionOf('1.2.840.10008.1.2.4.81'), { lossy: 'maybe', method: 'ISO_14495_1' });
  t.same(lossyCompressionOf('1.2.840.10008.1.2.4.91'), { lossy: 'maybe', method: 'ISO_15444_1' });
  t.same(lossyCompressionOf('1.2.840.10008.1.2.4.203'), { lossy: 'maybe', method: 'ISO_15444_15' });
  for (const lossless of [
    '1.2.840.10008.1.2.4.57',
    '1.2.840.10008.1.2.4.70',
    '1.2.840.10008.1.2.4.80',
    '1.2.840.10008.1.2.4.90',
    '1.2.840.10008.1.2.4.201',
    '1.2.840.10008.1.2.5',
    '1.2.840.10008.1.2.8.1',
  ]) {
    t.equal(lossyCompressionOf(lossless), undefined, lossless);
  }
});

/** A stored JPEG file served with synthetic "decoded" pixels: checks the PS3.10 layout, not the codec. */
async function encodeWith(
  path: string,
  module: { samplesPerPixel: number; photometricInterpretation: string; bitsAllocated: number; bitsStored: number },
  pixels: Buffer[],
  length: number,
) {
  const file = readShared(path);
  const source = bufferByteSource(file);
  const header = await readPart10Header(source, OPTIONS);
  const { frames } = await describeInstance(source, OPTIONS);
  const spans = frames!.kind === 'encapsulated' ? frames!.frames.flat() : [];
  const lastEnd = Math.max(...spans.map((s) => s.offset + s.length));
  const trailerStart = await encapsulatedPixelDataEnd(source, lastEnd);
  async function* body() {
    yield* pixels;
  }
  const encoded = await encodeNativePixelPart10(
    source,
    header,
    { kind: 'decode', transferSyntaxUid: EXPLICIT_LE },
    { module, length, body: body() },
    trailerStart,
    { maxHeaderBytes: OPTIONS.maxHeaderBytes },
  );
  const chunks: Buffer[] = [];
  for await (const chunk of encoded.body) chunks.push(chunk);
  return { encoded, bytes: Buffer.concat(chunks), trailerStart, size: file.length };
}

t.test('encodeNativePixelPart10: File Meta, Image Pixel module and defined-length Pixel Data (WADORS-3, DATA-2)', async (t) => {
  const rows = 100;
  const columns = 100;
  const length = rows * columns * 3;
  const pixels = Buffer.alloc(length, 7);
  const { encoded, bytes, trailerStart, size } = await encodeWith(
    'transfer-syntax/small/sc-rgb-jpeg-ybr-422_1.2.840.10008.1.2.4.50.dcm',
    { samplesPerPixel: 3, photometricInterpretation: 'RGB', bitsAllocated: 8, bitsStored: 8 },
    [pixels.subarray(0, 1000), pixels.subarray(1000)],
    length,
  );
  t.equal(trailerStart, size, 'the sequence delimiter ends the stored object');
  t.equal(encoded.length, bytes.length, 'announced length = bytes written');
  const header = await readPart10Header(bufferByteSource(bytes), OPTIONS);
  t.equal(header.transferSyntax.uid, EXPLICIT_LE, 'DATA-2: (0002,0010) is Explicit VR LE');
  const str = (tag: number) => elementString(header.buffer, header.dataset.get(tag)!).trim();
  const int = (tag: number) => elementInteger(header.buffer, header.dataset.get(tag));
  t.equal(str(Tag.PhotometricInterpretation), 'RGB', 'YBR_FULL_422 → RGB as decoded');
  t.equal(int(Tag.PlanarConfiguration), 0);
  t.equal(int(Tag.BitsAllocated), 8);
  t.equal(int(Tag.HighBit), 7);
  t.equal(str(Tag.LossyImageCompression), '01', 'lossy source: (0028,2110) = 01');
  t.equal(header.pixelData?.vr, 'OB', '8-bit pixel data is OB');
  t.equal(header.pixelData?.length, length, 'defined length');
  t.ok(bytes.subarray(header.pixelData!.offset).equals(pixels), 'the pixels, unchanged');
  const again = await describeInstance(bufferByteSource(bytes), OPTIONS);
  t.same(again.frames, { kind: 'native', offset: header.pixelData!.offset, length, count: 1, bitsAllocated: 8 }, 're-parses as one native frame');
});

t.test('encodeNativePixelPart10: odd lengths are padded; a stream of the wrong length fails', async (t) => {
  const path = 'transfer-syntax/small/sc-rgb-jpeg-baseline_1.2.840.10008.1.2.4.50.dcm';
  const module = { samplesPerPixel: 1, photometricInterpretation: 'MONOCHROME2', bitsAllocated: 8, bitsStored: 8 };
  const { bytes } = await encodeWith(path, module, [Buffer.alloc(9, 1)], 9);
  const header = await readPart10Header(bufferByteSource(bytes), OPTIONS);
  t.equal(header.pixelData?.length, 10, 'PS3.5 §7.1: padded to an even length');
  await t.rejects(encodeWith(path, module, [Buffer.alloc(8)], 9), /holds 8 bytes, 9 announced/);
  await t.rejects(encodeWith(path, module, [Buffer.alloc(10)], 9), /longer than the 9 bytes/);
});
