import sharp from 'sharp';
import t from 'tap';
import { decodeFrame, type DecodedFrame } from './decode.js';
import { PixelDecodeError, RenderParameterError } from './errors.js';
import { modalityRescale, toDisplayImage } from './pixels.js';
import { renderFrame, thumbnail } from './render.js';
import { loadShared, type LoadedInstance } from './testing/load.js';

const CT = 'transfer-syntax/ct-one-image/ct_1.2.840.10008.1.2.1.dcm';
const decode = (i: LoadedInstance, n = 1): Promise<DecodedFrame> => decodeFrame(i.frame(n), i.metadata, i.transferSyntaxUid);
/** Decoded output pixels; greyscale files stay one channel (sharp would otherwise expand to sRGB). */
const raw = async (body: Buffer) => {
  const { channels } = await sharp(body).metadata();
  const image = channels === 1 ? sharp(body).toColourspace('b-w') : sharp(body);
  return image.raw().toBuffer({ resolveWithObject: true });
};

/** An independent LINEAR window (PS3.3 C.11.2.1.2.1) to 8 bits, for comparison with the renderer. */
function linear8(x: number, c: number, w: number): number {
  if (x <= c - 0.5 - (w - 1) / 2) return 0;
  if (x > c - 0.5 + (w - 1) / 2) return 255;
  return Math.round(((x - (c - 0.5)) / (w - 1) + 0.5) * 255);
}

t.test('rendered JPEG of the CT: source size, non-uniform', async (t) => {
  const ct = await loadShared(CT);
  const rendered = await renderFrame(await decode(ct), ct.metadata);
  t.equal(rendered.contentType, 'image/jpeg');
  t.same([...rendered.body.subarray(0, 2)], [0xff, 0xd8]);
  const { data, info } = await raw(rendered.body);
  t.match(info, { width: 512, height: 512 });
  const distinct = new Set(data);
  t.ok(distinct.size > 50, `${distinct.size} grey levels`);
});

t.test('rendered PNG equals an independent windowing of the reference pixels', async (t) => {
  const ct = await loadShared(CT);
  const decoded = await decode(ct);
  // Metadata window 40/400, slope 1, intercept -1024.
  const rendered = await renderFrame(decoded, ct.metadata, { contentType: 'image/png' });
  t.same([...rendered.body.subarray(1, 4)], [0x50, 0x4e, 0x47], 'PNG signature');
  const { data, info } = await raw(rendered.body);
  t.equal(info.channels, 1);
  const expected = Uint8Array.from(decoded.pixels, (v) => linear8(v - 1024, 40, 400));
  t.equal(Buffer.compare(data, Buffer.from(expected)), 0, 'metadata window 40/400 matches exactly');

  const explicit = await renderFrame(decoded, ct.metadata, { contentType: 'image/png', window: { center: 300, width: 1500, function: 'linear' } });
  const expected2 = Uint8Array.from(decoded.pixels, (v) => linear8(v - 1024, 300, 1500));
  t.equal(Buffer.compare((await raw(explicit.body)).data, Buffer.from(expected2)), 0, 'window parameter overrides metadata');

  const exact = await renderFrame(decoded, ct.metadata, { contentType: 'image/png', window: { center: 0, width: 100, function: 'linear-exact' } });
  const expected3 = Uint8Array.from(decoded.pixels, (v) => {
    const x = v - 1024;
    return x <= -50 ? 0 : x > 50 ? 255 : Math.round(((x - 0) / 100 + 0.5) * 255);
  });
  t.equal(Buffer.compare((await raw(exact.body)).data, Buffer.from(expected3)), 0, 'linear-exact');

  const sigmoid = await renderFrame(decoded, ct.metadata, { contentType: 'image/png', window: { center: 40, width: 400, function: 'sigmoid' } });
  const expected4 = Uint8Array.from(decoded.pixels, (v) => Math.round(255 / (1 + Math.exp((-4 * (v - 1024 - 40)) / 400))));
  t.equal(Buffer.compare((await raw(sigmoid.body)).data, Buffer.from(expected4)), 0, 'sigmoid');

  const noWindow = { ...ct.metadata };
  delete noWindow['00281050'];
  delete noWindow['00281051'];
  const minMax = await raw((await renderFrame(decoded, noWindow, { contentType: 'image/png' })).body);
  t.equal(
    minMax.data.reduce((a, v) => Math.min(a, v), 255),
    0,
    'min/max window: minimum → 0',
  );
  t.equal(
    minMax.data.reduce((a, v) => Math.max(a, v), 0),
    255,
    'min/max window: maximum → 255',
  );
});

t.test('MONOCHROME1 inverts', async (t) => {
  const ct = await loadShared(CT);
  const decoded = await decode(ct);
  const normal = await raw((await renderFrame(decoded, ct.metadata, { contentType: 'image/png' })).body);
  const inverted = await raw((await renderFrame({ ...decoded, photometricInterpretation: 'MONOCHROME1' }, ct.metadata, { contentType: 'image/png' })).body);
  t.ok(
    normal.data.every((v, i) => inverted.data[i] === 255 - v),
    'every pixel is 255 - the MONOCHROME2 value',
  );
});

t.test('viewport: crop, flip, scale to fit with aspect kept', async (t) => {
  const ct = await loadShared(CT);
  const decoded = await decode(ct);
  const full = await raw((await renderFrame(decoded, ct.metadata, { contentType: 'image/png' })).body);
  const scaled = await renderFrame(decoded, ct.metadata, { viewport: { vw: 256, vh: 128 } });
  t.match(scaled, { width: 128, height: 128 }, 'square source fits 256x128 as 128x128');
  t.match(await raw(scaled.body).then((r) => r.info), { width: 128, height: 128 });

  const crop = await raw(
    (await renderFrame(decoded, ct.metadata, { contentType: 'image/png', viewport: { vw: 100, vh: 50, sx: 200, sy: 300, sw: 100, sh: 50 } })).body,
  );
  t.match(crop.info, { width: 100, height: 50 });
  const at = (x: number, y: number) => full.data[y * 512 + x];
  t.ok(
    crop.data.every((v, i) => v === at(200 + (i % 100), 300 + Math.floor(i / 100))),
    'crop at 1:1 is the source region',
  );

  const flipped = await raw(
    (await renderFrame(decoded, ct.metadata, { contentType: 'image/png', viewport: { vw: 100, vh: 50, sx: 200, sy: 300, sw: -100, sh: -50 } })).body,
  );
  t.ok(
    flipped.data.every((v, i) => v === at(299 - (i % 100), 349 - Math.floor(i / 100))),
    'negative sw/sh mirror both axes',
  );

  const quality = async (q: number) => (await renderFrame(decoded, ct.metadata, { quality: q })).body.length;
  t.ok((await quality(10)) < (await quality(95)), 'JPEG quality changes the size');

  await t.rejects(renderFrame(decoded, ct.metadata, { viewport: { vw: 10, vh: 10, sx: 600, sy: 0, sw: 10, sh: 10 } }), RenderParameterError);
  const gif = await renderFrame(decoded, ct.metadata, { contentType: 'image/gif' });
  t.equal(gif.body.subarray(0, 3).toString('latin1'), 'GIF');
});

t.test('WADO-URI region and rows/columns', async (t) => {
  const ct = await loadShared(CT);
  const decoded = await decode(ct);
  const region = await renderFrame(decoded, ct.metadata, { region: { xmin: 0.25, ymin: 0, xmax: 0.75, ymax: 1 } });
  t.match(region, { width: 256, height: 512 });
  t.match(await renderFrame(decoded, ct.metadata, { region: { xmin: 0.25, ymin: 0, xmax: 0.75, ymax: 1 }, rows: 128 }), { width: 64, height: 128 });
  t.match(await renderFrame(decoded, ct.metadata, { columns: 100 }), { width: 100, height: 100 });
  t.match(await renderFrame(decoded, ct.metadata, { columns: 100, rows: 50 }), { width: 50, height: 50 });
});

t.test('thumbnail', async (t) => {
  const ct = await loadShared(CT);
  const decoded = await decode(ct);
  const small = await thumbnail(decoded, ct.metadata);
  t.match(small, { contentType: 'image/jpeg', width: 128, height: 128 });
  t.same([...small.body.subarray(0, 2)], [0xff, 0xd8]);
  t.match(await thumbnail(decoded, ct.metadata, { vw: 64, vh: 64 }), { width: 64, height: 64 });
  const mr = await loadShared('transfer-syntax/small/mr-small_1.2.840.10008.1.2.1_explicit-le.dcm');
  t.match(await thumbnail(await decode(mr), mr.metadata), { width: 64, height: 64 }, 'a 64x64 image is not enlarged');
});

/** Share of pixels whose channels differ noticeably. */
async function colourShare(body: Buffer): Promise<number> {
  const { data, info } = await raw(body);
  if (info.channels < 3) return 0;
  let coloured = 0;
  for (let i = 0; i < data.length; i += info.channels) {
    if (Math.max(data[i]!, data[i + 1]!, data[i + 2]!) - Math.min(data[i]!, data[i + 1]!, data[i + 2]!) > 16) coloured++;
  }
  return coloured / (data.length / info.channels);
}

t.test('colour images render as colour', async (t) => {
  for (const [path, frame] of [
    ['multiframe/sc-rgb-2fr.dcm', 1],
    ['multiframe/sc-rgb-rle-2fr.dcm', 2],
    ['multiframe/us-multiframe-jpeg-34fr.dcm', 10],
    ['multiframe/us-palette-rle-2fr.dcm', 1],
    ['transfer-syntax/small/sc-rgb-jpeg-ybr-422_1.2.840.10008.1.2.4.50.dcm', 1],
  ] as const) {
    const instance = await loadShared(path);
    const decoded = await decode(instance, frame);
    const resolveBulkData = async (uri: string) => {
      throw new Error(`unexpected BulkDataURI ${uri}`);
    };
    const png = await renderFrame(decoded, instance.metadata, { contentType: 'image/png', frameNumber: frame, resolveBulkData });
    t.match(png, { width: decoded.columns, height: decoded.rows }, path);
    const share = await colourShare(png.body);
    t.ok(share > 0.001, `${path} frame ${frame}: ${(share * 100).toFixed(2)}% coloured pixels`);
  }
});

t.test('per-frame windowing and rescale of an enhanced multi-frame', async (t) => {
  const instance = await loadShared('multiframe/mr-4fr-windowing.dcm');
  t.equal(instance.numberOfFrames, 4);
  // Frame 1 has its own Frame VOI LUT (16/128); frames 3 and 4 rescale with slope 2.
  const first = await toDisplayImage(await decode(instance, 1), instance.metadata, { frameNumber: 1 });
  t.match(first.window, { center: 16, width: 128, function: 'linear', source: 'metadata' });
  t.same(modalityRescale(instance.metadata, 2), { slope: 1, intercept: 100 });
  t.same(modalityRescale(instance.metadata, 3), { slope: 2, intercept: 0 });
  const second = await toDisplayImage(await decode(instance, 2), instance.metadata, { frameNumber: 2 });
  t.equal(second.window?.source, 'min-max', 'no window for frame 2: min/max');
  for (let n = 1; n <= 4; n++) {
    const rendered = await renderFrame(await decode(instance, n), instance.metadata, { contentType: 'image/png', frameNumber: n });
    t.match(rendered, { width: instance.metadata['00280011']?.Value?.[0], height: instance.metadata['00280010']?.Value?.[0] }, `frame ${n}`);
  }
});

t.test('palette LUT data behind a BulkDataURI', async (t) => {
  const instance = await loadShared('multiframe/us-palette-rle-2fr.dcm');
  const decoded = await decode(instance);
  const inline = await renderFrame(decoded, instance.metadata, { contentType: 'image/png' });
  const metadata = structuredClone(instance.metadata);
  const store = new Map<string, Buffer>();
  for (const key of ['00281201', '00281202', '00281203']) {
    const uri = `bulkdata/${key}`;
    store.set(uri, Buffer.from(metadata[key]!.InlineBinary!, 'base64'));
    metadata[key] = { vr: 'OW', BulkDataURI: uri };
  }
  await t.rejects(renderFrame(decoded, metadata), PixelDecodeError, 'no resolver → PixelDecodeError');
  const resolved = await renderFrame(decoded, metadata, { contentType: 'image/png', resolveBulkData: async (uri) => store.get(uri)! });
  t.equal(Buffer.compare(resolved.body, inline.body), 0, 'same image through the resolver');
});

t.test('1-bit segmentation and float parametric map render', async (t) => {
  for (const path of ['studies/liver-ct3-seg/liver-seg.dcm', 'non-image/other/parametric-map-float-OF.dcm']) {
    const instance = await loadShared(path);
    const decoded = await decode(instance);
    const { data } = await raw((await renderFrame(decoded, instance.metadata, { contentType: 'image/png' })).body);
    t.ok(new Set(data).size >= 2, `${path}: not uniform`);
  }
});
