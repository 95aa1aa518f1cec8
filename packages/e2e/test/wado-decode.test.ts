import t from 'tap';
import {
  Tag,
  TransferSyntax,
  bufferByteSource,
  describeInstance,
  elementInteger,
  elementString,
  encodeFileMeta,
  lossyCompressionOf,
  readPart10Header,
  transferSyntaxInfo,
} from '@tessera/dicom';
import { type TestServer, backendNames, readManifest, readShared, startTestServer } from '@tessera/testkit';
import { forEachStoredRealFile, parseMultipart, storedPath, transferSyntaxOf, upload } from './retrieve-helpers.js';

/**
 * Compressed pixel data decoded to Explicit VR Little Endian when a client asks that syntax by UID
 * (digest WADORS-3, WADORS-5, WADORS-7, WADOURI-3, NEG-7, NEG-8), while no parameter and `*` keep
 * serving the stored syntax (D17), on every back end.
 */

const EXPLICIT_LE = TransferSyntax.ExplicitVRLittleEndian;
const OPTIONS = { maxHeaderBytes: 64 << 20, inlineBinaryMaxBytes: 1024 };
const DICOM_LE = `application/dicom; transfer-syntax=${EXPLICIT_LE}`;
const MULTIPART_DICOM_LE = `multipart/related; type="application/dicom"; transfer-syntax=${EXPLICIT_LE}`;
const FRAMES_LE = `multipart/related; type="application/octet-stream"; transfer-syntax=${EXPLICIT_LE}`;
const OCTET_LE = `application/octet-stream; transfer-syntax=${EXPLICIT_LE}`;
const manifest = readManifest();

/**
 * The compressed syntaxes of the shared samples, all of which Tessera decodes (the WASM codecs of
 * dcmjs-codecs: JPEG baseline/extended/lossless, JPEG-LS, JPEG 2000, RLE; deflated image frames).
 */
const DECODABLE = new Set(
  ['50', '51', '53', '55', '57', '70', '80', '81', '90', '91'].map((n) => `1.2.840.10008.1.2.4.${n}`).concat(['1.2.840.10008.1.2.5', '1.2.840.10008.1.2.8.1']),
);

const CT = 'transfer-syntax/ct-one-image/';
const CT_REFERENCE = `${CT}ct_1.2.840.10008.1.2.1.dcm`;
const MR_REFERENCE = 'transfer-syntax/small/mr-small_1.2.840.10008.1.2.1_explicit-le.dcm';
const SEG_REFERENCE = 'studies/liver-ct3-seg/liver-seg.dcm';
/** Lossless samples and the explicit-LE file of the same image: decoded pixel bytes must be equal. */
const LOSSLESS_REFERENCE: Record<string, string> = {
  ...Object.fromEntries(['57', '70', '80', '90'].map((n) => [`${CT}ct_1.2.840.10008.1.2.4.${n}.dcm`, CT_REFERENCE])),
  [`${CT}ct_1.2.840.10008.1.2.5.dcm`]: CT_REFERENCE,
  'transfer-syntax/small/mr-small_1.2.840.10008.1.2.4.80_jpegls-lossless.dcm': MR_REFERENCE,
  'transfer-syntax/small/mr-small_1.2.840.10008.1.2.4.90_j2k-lossless.dcm': MR_REFERENCE,
  'transfer-syntax/small/mr-small_1.2.840.10008.1.2.5_rle.dcm': MR_REFERENCE,
  'transfer-syntax/small/seg_1.2.840.10008.1.2.4.90_j2k.dcm': SEG_REFERENCE,
  'transfer-syntax/small/seg_1.2.840.10008.1.2.8.1_deflated-image-frame.dcm': SEG_REFERENCE,
};
/** Lossy CT variants, compared with the reference in HU as imaging's decode test does. */
const LOSSY_CT = [
  'ct_1.2.840.10008.1.2.4.50.dcm',
  'ct_4TransferSyntax_1.2.840.10008.1.2.4.51.dcm',
  'ct_8TransferSyntax_1.2.840.10008.1.2.4.53.dcm',
  'ct_12TransferSyntax_1.2.840.10008.1.2.4.55.dcm',
  'ct_1.2.840.10008.1.2.4.81.dcm',
  'ct_1.2.840.10008.1.2.4.91.dcm',
].map((f) => `${CT}${f}`);
const RGB_LOSSLESS = 'transfer-syntax/small/sc-rgb-jpeg-lossless_1.2.840.10008.1.2.4.70.dcm';
const RGB_LOSSY = [
  'sc-rgb-jpeg-baseline_1.2.840.10008.1.2.4.50.dcm',
  'sc-rgb-jpeg-ybr-422_1.2.840.10008.1.2.4.50.dcm',
  'sc-rgb-j2k_1.2.840.10008.1.2.4.91.dcm',
].map((f) => `transfer-syntax/small/${f}`);
/** Attributes that decoding may change (Image Pixel module, lossy compression, offset tables). */
const PIXEL_MODULE = new Set([
  '00280004',
  '00280006',
  '00280100',
  '00280101',
  '00280102',
  '00282110',
  '00282114',
  '7FE00001',
  '7FE00002',
  '7FE00003',
  '7FE00010',
]);

async function get(server: TestServer, url: string, accept?: string) {
  return server.app.inject({ method: 'GET', url, headers: accept === undefined ? {} : { accept } });
}

const wadoUri = (url: string, transferSyntax?: string) => {
  const [, , , study, , series, , sop] = url.split('/');
  return `/wadouri?requestType=WADO&studyUID=${study}&seriesUID=${series}&objectUID=${sop}&contentType=application%2Fdicom${transferSyntax ? `&transferSyntax=${transferSyntax}` : ''}`;
};

/** A native Explicit VR LE PS3.10 file read with our own Part 10 reader: its Image Pixel module and Pixel Data bytes. */
interface NativeImage {
  transferSyntaxUid: string;
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: number;
  frames: number;
  photometric: string;
  planarConfiguration?: number;
  lossyImageCompression?: string;
  slope: number;
  intercept: number;
  pixelVr: string;
  pixels: Buffer;
}

async function nativeImage(bytes: Buffer): Promise<NativeImage> {
  const header = await readPart10Header(bufferByteSource(bytes), OPTIONS);
  const int = (tag: number) => elementInteger(header.buffer, header.dataset.get(tag));
  const str = (tag: number) => {
    const el = header.dataset.get(tag);
    return el ? elementString(header.buffer, el).trim() : undefined;
  };
  const pixel = header.pixelData!;
  if (pixel.length === 0xffffffff) throw new Error('encapsulated pixel data');
  return {
    transferSyntaxUid: header.transferSyntax.uid,
    rows: int(Tag.Rows)!,
    columns: int(Tag.Columns)!,
    samplesPerPixel: int(Tag.SamplesPerPixel) ?? 1,
    bitsAllocated: int(Tag.BitsAllocated)!,
    bitsStored: int(Tag.BitsStored)!,
    pixelRepresentation: int(Tag.PixelRepresentation) ?? 0,
    frames: int(Tag.NumberOfFrames) ?? 1,
    photometric: str(Tag.PhotometricInterpretation) ?? '',
    planarConfiguration: int(Tag.PlanarConfiguration),
    lossyImageCompression: str(Tag.LossyImageCompression),
    slope: Number(str(0x00281053) ?? 1),
    intercept: Number(str(0x00281052) ?? 0),
    pixelVr: pixel.vr,
    pixels: bytes.subarray(pixel.offset, pixel.offset + pixel.length),
  };
}

/** Bytes of one frame (1-bit frames are whole bytes in these samples) and of all frames, without padding. */
const frameLength = (i: NativeImage) => Math.ceil((i.rows * i.columns * i.samplesPerPixel * i.bitsAllocated) / 8);
const pixelLength = (i: NativeImage) => Math.ceil((i.rows * i.columns * i.samplesPerPixel * i.bitsAllocated * i.frames) / 8);

function samples(i: NativeImage): Float64Array {
  const count = i.rows * i.columns * i.samplesPerPixel * i.frames;
  const out = new Float64Array(count);
  for (let n = 0; n < count; n++) {
    out[n] =
      i.bitsAllocated === 8
        ? i.pixelRepresentation
          ? i.pixels.readInt8(n)
          : i.pixels.readUInt8(n)
        : i.pixelRepresentation
          ? i.pixels.readInt16LE(n * 2)
          : i.pixels.readUInt16LE(n * 2);
  }
  return out;
}

for (const backend of backendNames()) {
  t.test(`${backend}: every compressed transfer-syntax sample comes back in Explicit VR LE when asked (WADORS-3, WADOURI-3, NEG-7/8)`, async (t) => {
    const served = new Map<string, NativeImage>();
    const compressed = (path: string) =>
      path.startsWith('transfer-syntax/') && transferSyntaxInfo(manifest.get(path)?.transferSyntax ?? '')?.encapsulated === true;
    await forEachStoredRealFile(backend, compressed, async (server, path, bytes, url) => {
      const stored = manifest.get(path)!.transferSyntax;
      t.ok(DECODABLE.has(stored), `${path}: ${stored} has a decoder`);

      const single = await get(server, url, DICOM_LE);
      t.equal(single.statusCode, 200, `${path}: WADORS-3 transfer-syntax=${EXPLICIT_LE} → 200`);
      if (single.statusCode !== 200) return;
      t.equal(single.headers['content-type'], DICOM_LE, `${path}: NEG-8 Content-Type names Explicit VR LE`);
      t.equal(Number(single.headers['content-length']), single.rawPayload.length, `${path}: COMMON-5 Content-Length`);
      const described = await describeInstance(bufferByteSource(single.rawPayload), OPTIONS);
      t.equal(described.transferSyntaxUid, EXPLICIT_LE, `${path}: DATA-2 (0002,0010) = Explicit VR LE, re-parsed by our Part 10 reader`);
      const original = await describeInstance(bufferByteSource(bytes), OPTIONS);
      const image = await nativeImage(single.rawPayload);
      const value = (tag: string) => original.metadata[tag]?.Value?.[0];
      t.match(
        image,
        { rows: value('00280010'), columns: value('00280011'), samplesPerPixel: value('00280002') ?? 1, frames: original.numberOfFrames ?? 1 },
        `${path}: rows, columns, samples, frames kept`,
      );
      t.equal(described.numberOfFrames, original.numberOfFrames, `${path}: WADORS-5 same frame count`);
      const expected = pixelLength(image);
      t.equal(image.pixels.length, expected + (expected % 2), `${path}: Pixel Data length = rows × columns × samples × bytes × frames (${expected})`);
      t.equal(image.pixelVr, image.bitsAllocated <= 8 ? 'OB' : 'OW', `${path}: OB for ≤ 8 bits, OW above`);
      if (image.samplesPerPixel === 3) {
        t.equal(image.planarConfiguration, 0, `${path}: PlanarConfiguration 0`);
        t.notMatch(image.photometric, /^YBR_(FULL_422|ICT|RCT)$/, `${path}: PhotometricInterpretation describes the decoded colour (${image.photometric})`);
      }
      const lossy = lossyCompressionOf(stored);
      if (lossy?.lossy === 'always' || value('00282110') === '01')
        t.equal(image.lossyImageCompression, '01', `${path}: lossy source → LossyImageCompression 01`);
      const strip = (m: Record<string, unknown>) => Object.fromEntries(Object.entries(m).filter(([k]) => !PIXEL_MODULE.has(k)));
      t.same(strip(described.metadata), strip(original.metadata), `${path}: WADORS-3 every other attribute unchanged`);

      const multi = await get(server, url, MULTIPART_DICOM_LE);
      t.equal(multi.statusCode, 200, `${path}: WADORS-2 multipart with transfer-syntax=${EXPLICIT_LE}`);
      const [part] = parseMultipart(multi.headers['content-type'], multi.rawPayload).parts;
      t.equal(transferSyntaxOf(part!.headers['content-type']), EXPLICIT_LE, `${path}: NEG-8 part transfer-syntax`);
      t.ok(part!.body.equals(single.rawPayload), `${path}: the multipart part is the same file`);

      const uri = await get(server, wadoUri(url, EXPLICIT_LE));
      t.equal(uri.statusCode, 200, `${path}: WADOURI-3 transferSyntax=${EXPLICIT_LE} → 200`);
      t.ok(uri.rawPayload.equals(single.rawPayload), `${path}: WADOURI-3 the same file as WADO-RS`);
      t.equal(Number(uri.headers['content-length']), uri.rawPayload.length, `${path}: WADOURI-6 Content-Length`);

      const none = await get(server, url, 'multipart/related; type="application/dicom"');
      t.equal(
        transferSyntaxOf(parseMultipart(none.headers['content-type'], none.rawPayload).parts[0]!.headers['content-type']),
        stored,
        `${path}: D17 no parameter → stored syntax`,
      );
      const star = await get(server, wadoUri(url, '*'));
      t.ok(star.rawPayload.equals(bytes), `${path}: WADOURI-3 transferSyntax=* → the stored bytes`);
      const absent = await get(server, wadoUri(url));
      t.ok(absent.rawPayload.equals(bytes), `${path}: D17 WADO-URI without transferSyntax → the stored bytes`);
      served.set(path, image);
    });
    t.ok(served.size >= 25, `compressed samples decoded: ${served.size}`);

    t.test('lossless samples: pixel bytes equal the explicit-LE file of the same image (WADORS-3)', async (t) => {
      for (const [path, referencePath] of Object.entries(LOSSLESS_REFERENCE)) {
        const image = served.get(path);
        if (!t.ok(image, `${path} was served`)) continue;
        const reference = await nativeImage(readShared(referencePath));
        t.match(
          image,
          { bitsAllocated: reference.bitsAllocated, bitsStored: reference.bitsStored, photometric: reference.photometric },
          `${path}: Image Pixel module as ${referencePath}`,
        );
        const length = pixelLength(reference);
        t.ok(image!.pixels.subarray(0, length).equals(reference.pixels.subarray(0, length)), `${path}: every pixel byte equals ${referencePath}`);
      }
    });

    t.test('lossy CT samples: within the HU tolerance of the imaging decode tests', async (t) => {
      const reference = await nativeImage(readShared(CT_REFERENCE));
      const hu = samples(reference).map((v) => v * reference.slope + reference.intercept);
      const range = hu.reduce((a, v) => Math.max(a, v), -Infinity) - hu.reduce((a, v) => Math.min(a, v), Infinity);
      for (const path of LOSSY_CT) {
        const image = served.get(path);
        if (!t.ok(image, `${path} was served`)) continue;
        const values = samples(image!);
        let sum = 0;
        let max = 0;
        for (let i = 0; i < hu.length; i++) {
          const error = Math.abs(values[i]! * image!.slope + image!.intercept - hu[i]!);
          sum += error;
          max = Math.max(max, error);
        }
        const mae = sum / hu.length;
        t.ok(mae < range * 0.01, `${path}: mean |error| ${mae.toFixed(2)} HU < 1% of ${range} HU`);
        t.ok(max < range * 0.03, `${path}: max |error| ${max.toFixed(1)} HU < 3% of ${range} HU`);
      }
    });

    t.test('lossy RGB samples: close to the lossless encoding of the same pattern, decoded to RGB', async (t) => {
      const reference = served.get(RGB_LOSSLESS)!;
      t.equal(reference.photometric, 'RGB');
      for (const path of RGB_LOSSY) {
        const image = served.get(path);
        if (!t.ok(image, `${path} was served`)) continue;
        t.equal(image!.photometric, 'RGB', `${path}: PhotometricInterpretation RGB`);
        let sum = 0;
        for (let i = 0; i < reference.pixels.length; i++) sum += Math.abs(image!.pixels[i]! - reference.pixels[i]!);
        const mae = sum / reference.pixels.length;
        t.ok(mae < 8, `${path}: mean |error| ${mae.toFixed(2)} of 255`);
      }
    });
  });

  t.test(`${backend}: compressed frames and pixel data decoded on request (WADORS-5/7, NEG-7/8, D15, D17)`, async (t) => {
    const pairs = [
      ['multiframe/enhanced-mr-emri_small-10fr-rle.dcm', 'multiframe/enhanced-mr-emri_small-10fr.dcm'],
      ['multiframe/enhanced-mr-emri_small-10fr-jls.dcm', 'multiframe/enhanced-mr-emri_small-10fr.dcm'],
      ['multiframe/enhanced-mr-emri_small-10fr-j2k.dcm', 'multiframe/enhanced-mr-emri_small-10fr.dcm'],
      ['multiframe/sc-rgb-rle-2fr.dcm', 'multiframe/sc-rgb-2fr.dcm'],
      ['transfer-syntax/small/seg_1.2.840.10008.1.2.4.90_j2k.dcm', SEG_REFERENCE],
    ];
    for (const [path, referencePath] of pairs) {
      // Samples of one image share a SOP Instance UID: one server each.
      const server = await startTestServer(backend);
      try {
        const url = storedPath((await upload(server, readShared(path!))).body)!;
        const reference = await nativeImage(readShared(referencePath!));
        const length = frameLength(reference);
        const frame = (n: number) => reference.pixels.subarray((n - 1) * length, n * length);
        const count = reference.frames;
        const stored = transferSyntaxInfo(manifest.get(path!)!.transferSyntax)!;

        const list = [count, 1, ...(count > 2 ? [2] : []), count];
        const res = await get(server, `${url}/frames/${list.join(',')}`, FRAMES_LE);
        t.equal(res.statusCode, 200, `${path}: WADORS-5 frames with transfer-syntax=${EXPLICIT_LE}`);
        const { type, parts } = parseMultipart(res.headers['content-type'], res.rawPayload);
        t.equal(type, 'application/octet-stream', `${path}: NEG-9 root type`);
        t.equal(parts.length, list.length, `${path}: one part per requested frame, repeats kept`);
        parts.forEach((part, i) => {
          const n = list[i]!;
          t.equal(part.headers['content-type'], OCTET_LE, `${path}: NEG-8 frame ${n} typed ${OCTET_LE}`);
          t.equal(Number(part.headers['content-length']), part.body.length, `${path}: frame ${n} Content-Length`);
          t.ok(part.body.equals(frame(n)), `${path}: WADORS-5 frame ${n} equals the native frame of ${referencePath}`);
          t.ok(part.headers['content-location']?.endsWith(`${url}/frames/${n}`), `${path}: frame ${n} Content-Location`);
        });

        const one = await get(server, `${url}/frames/2`, OCTET_LE);
        t.equal(one.statusCode, 200, `${path}: single-part frame`);
        t.equal(one.headers['content-type'], OCTET_LE, `${path}: NEG-8 single-part Content-Type`);
        t.ok(one.rawPayload.equals(frame(2)), `${path}: frame 2 decoded`);

        const bulk = await get(server, `${url}/bulkdata/7FE00010`, OCTET_LE);
        t.equal(bulk.statusCode, 200, `${path}: WADORS-7 Pixel Data as one decoded value`);
        t.equal(Number(bulk.headers['content-length']), pixelLength(reference), `${path}: WADORS-7 all frames`);
        t.ok(bulk.rawPayload.equals(reference.pixels.subarray(0, pixelLength(reference))), `${path}: WADORS-7 equals the native Pixel Data`);
        const bulkParts = await get(server, `${url}/bulkdata/7FE00010`, FRAMES_LE);
        const [bulkPart] = parseMultipart(bulkParts.headers['content-type'], bulkParts.rawPayload).parts;
        t.equal(bulkPart!.headers['content-type'], OCTET_LE, `${path}: WADORS-7 one octet-stream part`);
        t.ok(bulkPart!.body.equals(bulk.rawPayload), `${path}: WADORS-7 multipart holds the same value`);

        for (const accept of ['multipart/related; type="application/octet-stream"; transfer-syntax=*', 'multipart/related; type="application/octet-stream"']) {
          const asStored = await get(server, `${url}/frames/1`, accept);
          const [p] = parseMultipart(asStored.headers['content-type'], asStored.rawPayload).parts;
          t.equal(p!.headers['content-type'], `${stored.bulkMediaType}; transfer-syntax=${stored.uid}`, `${path}: D15/D17 ${accept} → stored codestream`);
        }
      } finally {
        await server.close();
      }
    }

    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const url = storedPath((await upload(server, readShared('multiframe/us-multiframe-jpeg-34fr.dcm'))).body)!;
    const res = await get(server, `${url}/frames/34,1`, FRAMES_LE);
    const { parts } = parseMultipart(res.headers['content-type'], res.rawPayload);
    t.same(
      parts.map((p) => [p.headers['content-type'], p.body.length]),
      [
        [OCTET_LE, 430 * 480 * 3],
        [OCTET_LE, 430 * 480 * 3],
      ],
      'lossy YBR_FULL_422 JPEG frames decode to RGB, 3 bytes per pixel',
    );
    t.equal((await get(server, `${url}/frames/1,2`, OCTET_LE)).statusCode, 406, 'NEG-6: two frames cannot be one single-part body');
  });

  t.test(`${backend}: streaming: frames are decoded one at a time, as the response is read (WADORS-3)`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const url = storedPath((await upload(server, readShared('multiframe/us-multiframe-jpeg-34fr.dcm'))).body)!;
    const reads: number[] = [];
    const originalGet = server.blobs.get.bind(server.blobs);
    server.blobs.get = async (key, range) => {
      reads.push(range?.start ?? 0);
      return originalGet(key, range);
    };
    t.teardown(() => {
      server.blobs.get = originalGet;
    });
    const res = await fetch(`${server.url}${url}`, { headers: { accept: DICOM_LE } });
    t.equal(res.status, 200);
    t.ok(Number(res.headers.get('content-length')) > 34 * 430 * 480 * 3, 'Content-Length (34 decoded RGB frames and the header) announced before decoding');
    const reader = res.body!.getReader();
    let received = 0;
    while (received < 256 * 1024) received += (await reader.read()).value?.length ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 300));
    const early = reads.length;
    t.ok(
      early < 20,
      `after ${received} bytes (and a pause) only ${early} ranged reads of 35 (header + 34 frames of 619 kB decoded): decoding follows the reader`,
    );
    let total = received;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
    }
    t.equal(reads.length, 35, 'the header and every frame read once by the end (frame 1, decoded up front, is not decoded again)');
    t.equal(total, Number(res.headers.get('content-length')), 'the whole file');
  });

  t.test(`${backend}: a frame that does not decode is a 422 problem; a syntax without decoder stays 406 (NEG-7)`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());

    // A JPEG-LS codestream whose markers after SOI are wiped: stored fine, cannot be decoded.
    const file = Buffer.from(readShared('transfer-syntax/small/mr-small_1.2.840.10008.1.2.4.80_jpegls-lossless.dcm'));
    const { frames } = await describeInstance(bufferByteSource(file), OPTIONS);
    const span = frames!.kind === 'encapsulated' ? frames!.frames[0]![0]! : undefined;
    file.fill(0, span!.offset + 2, span!.offset + span!.length);
    const broken = storedPath((await upload(server, file)).body)!;
    const series = broken.replace(/\/instances\/.*$/, '');
    for (const [label, url, accept] of [
      ['frame', `${broken}/frames/1`, FRAMES_LE],
      ['instance', broken, DICOM_LE],
      ['series', series, MULTIPART_DICOM_LE],
      ['WADO-URI', wadoUri(broken, EXPLICIT_LE), undefined],
      ['bulk data', `${broken}/bulkdata/7FE00010`, OCTET_LE],
    ] as const) {
      const res = await get(server, url, accept);
      t.equal(res.statusCode, 422, `${label}: 422 before any byte is sent`);
      t.match(res.headers['content-type'], /^application\/problem\+json/, `${label}: problem+json`);
      t.equal(JSON.parse(res.body).code, 'PIXEL_DATA_UNREADABLE', `${label}: code PIXEL_DATA_UNREADABLE`);
    }
    t.equal((await get(server, broken, 'application/dicom; transfer-syntax=*')).statusCode, 200, 'NEG-7: * still serves the stored object');

    // A JPEG 2000 codestream labelled H.264 (1.2.840.10008.1.2.4.102): no decoder for that syntax.
    const ct = readShared(`${CT}ct_1.2.840.10008.1.2.4.90.dcm`);
    const header = await readPart10Header(bufferByteSource(ct), OPTIONS);
    const uid = (tag: number) => elementString(header.buffer, header.dataset.get(tag)!);
    const video = Buffer.concat([
      encodeFileMeta({
        mediaStorageSopClassUid: uid(Tag.SOPClassUID),
        mediaStorageSopInstanceUid: uid(Tag.SOPInstanceUID),
        transferSyntaxUid: '1.2.840.10008.1.2.4.102',
      }),
      ct.subarray(header.datasetOffset),
    ]);
    const stored = await upload(server, video);
    const url = storedPath(stored.body)!;
    t.equal((await get(server, url, DICOM_LE)).statusCode, 406, 'NEG-7: no decoder → 406 (instance)');
    t.equal((await get(server, url, MULTIPART_DICOM_LE)).statusCode, 406, 'NEG-7: no decoder → 406 (multipart)');
    t.equal((await get(server, `${url}/frames/1`, FRAMES_LE)).statusCode, 406, 'NEG-7: no decoder → 406 (frames)');
    t.equal((await get(server, wadoUri(url, EXPLICIT_LE))).statusCode, 406, 'WADOURI-3: no decoder → 406');
    const asStored = await get(server, url, 'multipart/related; type="application/dicom"; transfer-syntax=*');
    t.equal(
      transferSyntaxOf(parseMultipart(asStored.headers['content-type'], asStored.rawPayload).parts[0]!.headers['content-type']),
      '1.2.840.10008.1.2.4.102',
      'NEG-7: * → stored',
    );
  });
}
