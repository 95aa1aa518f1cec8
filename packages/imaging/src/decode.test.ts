import t from 'tap';
import { decodeFrame, type DecodedFrame } from './decode.js';
import { PixelDecodeError, UnsupportedTransferSyntaxError } from './errors.js';
import { modalityRescale } from './pixels.js';
import { loadShared, type LoadedInstance } from './testing/load.js';

const CT = 'transfer-syntax/ct-one-image/';
const decode = async (instance: LoadedInstance, n = 1): Promise<DecodedFrame> => decodeFrame(instance.frame(n), instance.metadata, instance.transferSyntaxUid);

/** Index of the first differing sample, or -1. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

t.test('lossless CT variants decode to exactly the explicit-LE reference pixels', async (t) => {
  const reference = await loadShared(`${CT}ct_1.2.840.10008.1.2.1.dcm`);
  const expected = await decode(reference);
  t.equal(expected.pixels.constructor, Int16Array, 'signed 16-bit CT');
  t.equal(expected.pixels.length, 512 * 512);
  for (const ts of [
    '1.2.840.10008.1.2',
    '1.2.840.10008.1.2.1.99',
    '1.2.840.10008.1.2.2',
    '1.2.840.10008.1.2.4.57',
    '1.2.840.10008.1.2.4.70',
    '1.2.840.10008.1.2.4.80',
    '1.2.840.10008.1.2.4.90',
    '1.2.840.10008.1.2.5',
  ]) {
    const instance = await loadShared(`${CT}ct_${ts}.dcm`);
    t.equal(instance.transferSyntaxUid, ts);
    const decoded = await decode(instance);
    t.match(decoded, { rows: 512, columns: 512, samplesPerPixel: 1, photometricInterpretation: 'MONOCHROME2', pixelRepresentation: 1 }, ts);
    t.equal(firstDifference(decoded.pixels, expected.pixels), -1, `${ts}: every pixel equals the reference`);
  }
});

/**
 * Lossy variants are compared with the reference in modality units (HU), because the lossy files
 * were re-quantised with their own RescaleSlope/Intercept (the 8-bit JPEG baseline has slope 32.1,
 * so one stored step is 32 HU). Tolerance: mean absolute error below 1% of the reference's HU range
 * (≈ 44 HU here: about one stored step of the 8-bit JPEG, whose slope is 32 HU) and maximum error below
 * 3% of the range (≈ 132 HU, four 8-bit steps: JPEG ringing at bone edges). Measured: .50 mean 20 / max
 * 64 HU; .51/.53/.55 4 / 36; .81 (near-lossless) 0.7 / 1; .91 0.6 / 5. The measured values are printed; a decoder that reads the
 * wrong colour space, bit depth, sign or byte order is off by hundreds of HU on average.
 */
t.test('lossy CT variants are close to the reference in HU', async (t) => {
  const reference = await loadShared(`${CT}ct_1.2.840.10008.1.2.1.dcm`);
  const expected = await decode(reference);
  const rescale = modalityRescale(reference.metadata);
  const hu = Float64Array.from(expected.pixels, (v) => v * rescale.slope + rescale.intercept);
  const range = hu.reduce((a, v) => Math.max(a, v), -Infinity) - hu.reduce((a, v) => Math.min(a, v), Infinity);
  for (const file of [
    'ct_1.2.840.10008.1.2.4.50.dcm',
    'ct_4TransferSyntax_1.2.840.10008.1.2.4.51.dcm',
    'ct_8TransferSyntax_1.2.840.10008.1.2.4.53.dcm',
    'ct_12TransferSyntax_1.2.840.10008.1.2.4.55.dcm',
    'ct_1.2.840.10008.1.2.4.81.dcm',
    'ct_1.2.840.10008.1.2.4.91.dcm',
  ]) {
    const instance = await loadShared(`${CT}${file}`);
    const decoded = await decode(instance);
    t.match(decoded, { rows: 512, columns: 512, samplesPerPixel: 1 }, file);
    const r = modalityRescale(instance.metadata);
    let sum = 0;
    let max = 0;
    for (let i = 0; i < hu.length; i++) {
      const error = Math.abs(decoded.pixels[i]! * r.slope + r.intercept - hu[i]!);
      sum += error;
      if (error > max) max = error;
    }
    const mae = sum / hu.length;
    t.comment(`${file}: mean |error| ${mae.toFixed(2)} HU, max ${max.toFixed(1)} HU, range ${range} HU`);
    t.ok(mae < range * 0.01, `${file}: mean absolute error ${mae.toFixed(2)} HU < 1% of ${range} HU`);
    t.ok(max < range * 0.03, `${file}: max error ${max.toFixed(1)} HU < 3% of ${range} HU`);
  }
});

t.test('small MR in six syntaxes decodes identically', async (t) => {
  const base = 'transfer-syntax/small/mr-small_';
  const expected = await decode(await loadShared(`${base}1.2.840.10008.1.2.1_explicit-le.dcm`));
  for (const variant of [
    '1.2.840.10008.1.2_implicit-le',
    '1.2.840.10008.1.2.2_explicit-be',
    '1.2.840.10008.1.2.5_rle',
    '1.2.840.10008.1.2.4.80_jpegls-lossless',
    '1.2.840.10008.1.2.4.90_j2k-lossless',
  ]) {
    const decoded = await decode(await loadShared(`${base}${variant}.dcm`));
    t.equal(firstDifference(decoded.pixels, expected.pixels), -1, variant);
  }
});

t.test('encapsulated multi-frame files: every frame equals the native frame', async (t) => {
  const native = await loadShared('multiframe/enhanced-mr-emri_small-10fr.dcm');
  t.equal(native.numberOfFrames, 10);
  const expected = await Promise.all(Array.from({ length: 10 }, (_, i) => decode(native, i + 1)));
  t.not(firstDifference(expected[0]!.pixels, expected[1]!.pixels), -1, 'frames differ from each other');
  for (const variant of ['rle', 'jls', 'j2k', 'bigendian']) {
    const instance = await loadShared(`multiframe/enhanced-mr-emri_small-10fr-${variant}.dcm`);
    t.equal(instance.numberOfFrames, 10, variant);
    for (let n = 1; n <= 10; n++) {
      const decoded = await decode(instance, n);
      t.equal(firstDifference(decoded.pixels, expected[n - 1]!.pixels), -1, `${variant} frame ${n}`);
    }
  }
});

t.test('JPEG frames split over several fragments decode', async (t) => {
  const instance = await loadShared('multiframe/enhanced-ct-2fr-jpeg-fragmented-nobot.dcm');
  for (let n = 1; n <= instance.numberOfFrames; n++) {
    const decoded = await decode(instance, n);
    t.equal(decoded.pixels.length, decoded.rows * decoded.columns, `frame ${n}`);
    t.ok(new Set(decoded.pixels).size > 10, `frame ${n} is not flat`);
  }
});

/** Share of pixels whose channels differ noticeably (a grey image has none). */
function colourShare(d: DecodedFrame): number {
  let coloured = 0;
  for (let i = 0; i < d.pixels.length; i += 3) {
    const [r, g, b] = [d.pixels[i]!, d.pixels[i + 1]!, d.pixels[i + 2]!];
    if (Math.max(r, g, b) - Math.min(r, g, b) > 16) coloured++;
  }
  return coloured / (d.pixels.length / 3);
}

t.test('RGB: RLE equals native; JPEG YBR decodes to RGB colour', async (t) => {
  const native = await loadShared('multiframe/sc-rgb-2fr.dcm');
  const rle = await loadShared('multiframe/sc-rgb-rle-2fr.dcm');
  for (const n of [1, 2]) {
    const a = await decode(native, n);
    const b = await decode(rle, n);
    t.match(a, { samplesPerPixel: 3, photometricInterpretation: 'RGB' });
    t.ok(colourShare(a) > 0.1, 'native RGB is colourful');
    t.equal(firstDifference(b.pixels, a.pixels), -1, `RLE frame ${n} equals native`);
  }
  const us = await loadShared('multiframe/us-multiframe-jpeg-34fr.dcm');
  t.equal(us.numberOfFrames, 34);
  for (const n of [1, 34]) {
    const decoded = await decode(us, n);
    t.match(decoded, { samplesPerPixel: 3, photometricInterpretation: 'RGB', bitsAllocated: 8 }, `US frame ${n}`);
    t.ok(colourShare(decoded) > 0.001, `US frame ${n} has colour (${(colourShare(decoded) * 100).toFixed(2)}%)`);
  }
  for (const path of [
    'transfer-syntax/small/sc-rgb-jpeg-baseline_1.2.840.10008.1.2.4.50.dcm',
    'transfer-syntax/small/sc-rgb-jpeg-ybr-422_1.2.840.10008.1.2.4.50.dcm',
    'transfer-syntax/small/sc-rgb-jpeg-lossless_1.2.840.10008.1.2.4.70.dcm',
    'transfer-syntax/small/sc-rgb-j2k_1.2.840.10008.1.2.4.91.dcm',
    'transfer-syntax/small/sc-ybr-full-422-uncompressed.dcm',
    'transfer-syntax/small/us-rgb_1.2.840.10008.1.2.2_explicit-be.dcm',
    'edge/missing-uids/htj2k-lossless-rgb_1.2.840.10008.1.2.4.201.dcm',
    'edge/missing-uids/htj2k-rgb_1.2.840.10008.1.2.4.203.dcm',
  ]) {
    const decoded = await decode(await loadShared(path));
    t.match(decoded, { samplesPerPixel: 3, photometricInterpretation: 'RGB' }, path);
    t.ok(colourShare(decoded) > 0.05, `${path} decodes to colour (${(colourShare(decoded) * 100).toFixed(1)}%)`);
  }
});

t.test('the RGB SC samples agree across syntaxes', async (t) => {
  // pydicom's SC_rgb trio: the JPEG/J2K encodings are of the same 100x100 test pattern.
  const reference = await decode(await loadShared('transfer-syntax/small/sc-rgb-jpeg-lossless_1.2.840.10008.1.2.4.70.dcm'));
  for (const path of [
    'transfer-syntax/small/sc-rgb-jpeg-baseline_1.2.840.10008.1.2.4.50.dcm',
    'transfer-syntax/small/sc-rgb-jpeg-ybr-422_1.2.840.10008.1.2.4.50.dcm',
    'transfer-syntax/small/sc-rgb-j2k_1.2.840.10008.1.2.4.91.dcm',
  ]) {
    const decoded = await decode(await loadShared(path));
    if (decoded.rows !== reference.rows || decoded.columns !== reference.columns) continue;
    let sum = 0;
    for (let i = 0; i < decoded.pixels.length; i++) sum += Math.abs(decoded.pixels[i]! - reference.pixels[i]!);
    const mae = sum / decoded.pixels.length;
    t.ok(mae < 8, `${path}: mean |error| ${mae.toFixed(2)} of 255 against the lossless encoding`);
  }
});

t.test('1-bit segmentation: native, J2K and deflated frames agree', async (t) => {
  const native = await loadShared('studies/liver-ct3-seg/liver-seg.dcm');
  const decoded = await decode(native);
  t.equal(decoded.bitsAllocated, 1);
  t.ok(
    decoded.pixels.every((v) => v === 0 || v === 1),
    'values 0/1',
  );
  let ones = 0;
  for (const v of decoded.pixels) ones += v;
  t.ok(ones > 0 && ones < decoded.pixels.length, `${ones} foreground pixels`);
  for (const path of ['transfer-syntax/small/seg_1.2.840.10008.1.2.4.90_j2k.dcm', 'transfer-syntax/small/seg_1.2.840.10008.1.2.8.1_deflated-image-frame.dcm']) {
    const other = await loadShared(path);
    for (let n = 1; n <= Math.min(other.numberOfFrames, native.numberOfFrames); n++) {
      const a = await decode(native, n);
      const b = await decode(other, n);
      t.equal(firstDifference(Array.from(b.pixels), Array.from(a.pixels)), -1, `${path} frame ${n}`);
    }
  }
});

t.test('float pixel data (parametric maps)', async (t) => {
  for (const [path, type] of [
    ['non-image/other/parametric-map-float-OF.dcm', Float32Array],
    ['non-image/other/parametric-map-double-OD.dcm', Float64Array],
  ] as const) {
    const instance = await loadShared(path);
    const decoded = await decode(instance);
    t.equal(decoded.isFloat, true, path);
    t.equal(decoded.pixels.constructor, type, path);
    t.equal(decoded.pixels.length, decoded.rows * decoded.columns);
    t.ok(
      decoded.pixels.every((v) => Number.isFinite(v)),
      'finite values',
    );
  }
});

t.test('errors', async (t) => {
  const ct = await loadShared(`${CT}ct_1.2.840.10008.1.2.1.dcm`);
  await t.rejects(decodeFrame(ct.frame(1), ct.metadata, '1.2.840.10008.1.2.4.100'), UnsupportedTransferSyntaxError);
  await t.rejects(decodeFrame(ct.frame(1), ct.metadata, '1.2.3.4'), UnsupportedTransferSyntaxError);
  await t.rejects(decodeFrame(ct.frame(1).subarray(0, 1000), ct.metadata, '1.2.840.10008.1.2.1'), PixelDecodeError);
  await t.rejects(decodeFrame(Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0, 1, 2]), ct.metadata, '1.2.840.10008.1.2.4.70'), PixelDecodeError);
  await t.rejects(decodeFrame(ct.frame(1), {}, '1.2.840.10008.1.2.1'), PixelDecodeError, 'no Rows/Columns');
  // The WASM module still works after a failed decode.
  const jls = await loadShared(`${CT}ct_1.2.840.10008.1.2.4.80.dcm`);
  t.equal((await decode(jls)).pixels.length, 512 * 512);
});
