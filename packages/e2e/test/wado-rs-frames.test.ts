import t from 'tap';
import { Tag, bufferByteSource, elementInteger, readPart10Header, transferSyntaxInfo } from '@tessera/dicom';
import { type TestServer, backendNames, ctInstance, encodeInstance, readManifest, readShared, startTestServer } from '@tessera/testkit';
import { parseMultipart, forEachStoredRealFile, storedPath, transferSyntaxOf, upload } from './retrieve-helpers.js';

/** WADO-RS Retrieve Frames (digest WADORS-5/6, NEG-8, D15, D18, DATA-3), every back end. */

const OHIF_ACCEPT = [
  'multipart/related; type=application/octet-stream; transfer-syntax=*',
  'multipart/related; type="application/octet-stream"; transfer-syntax="*"',
];
const manifest = readManifest();

async function get(server: TestServer, url: string, accept?: string) {
  return server.app.inject({ method: 'GET', url, headers: accept === undefined ? {} : { accept } });
}

/**
 * The frames of a file found independently of the server's frame index: native frames cut from the
 * pixel data (swapped to little endian), encapsulated frames from a fresh scan of the items.
 */
async function expectedFrames(bytes: Buffer): Promise<Buffer[] | undefined> {
  const header = await readPart10Header(bufferByteSource(bytes), { maxHeaderBytes: 256 << 20 });
  const pixel = header.pixelData;
  if (!pixel) return undefined;
  const int = (tag: number) => elementInteger(header.buffer, header.dataset.get(tag));
  const count = Math.max(1, int(Tag.NumberOfFrames) ?? 1);
  const data = header.transferSyntax.deflated ? header.buffer : bytes; // the inflated dataset when deflated
  if (pixel.length !== 0xffffffff) {
    const bits = int(Tag.BitsAllocated) ?? 16;
    const length = ((int(Tag.Rows) ?? 0) * (int(Tag.Columns) ?? 0) * (int(Tag.SamplesPerPixel) ?? 1) * bits) / 8;
    if (!Number.isInteger(length) || length === 0) return undefined;
    return Array.from({ length: count }, (_, i) => {
      const frame = Buffer.from(data.subarray(pixel.offset + i * length, pixel.offset + (i + 1) * length));
      return header.transferSyntax.littleEndian ? frame : pixel.vr === 'OW' || bits === 16 ? frame.swap16() : frame;
    });
  }
  const items: Buffer[] = [];
  for (let pos = pixel.offset; data.readUInt16LE(pos + 2) === 0xe000;) {
    const length = data.readUInt32LE(pos + 4);
    items.push(data.subarray(pos + 8, pos + 8 + length));
    pos += 8 + length;
  }
  const [bot, ...fragments] = items;
  if (count === 1) return [Buffer.concat(fragments)];
  if (fragments.length === count) return fragments;
  if (bot && bot.length === 4 * count) {
    const starts = Array.from({ length: count }, (_, i) => bot.readUInt32LE(i * 4));
    const frames: Buffer[][] = starts.map(() => []);
    let offset = 0;
    for (const fragment of fragments) {
      const frame = starts.findLastIndex((s) => s <= offset);
      frames[frame]!.push(fragment);
      offset += 8 + fragment.length;
    }
    return frames.map((f) => Buffer.concat(f));
  }
  const frames: Buffer[][] = [];
  for (const fragment of fragments) {
    if (fragment[0] === 0xff && (fragment[1] === 0xd8 || fragment[1] === 0x4f)) frames.push([fragment]);
    else frames.at(-1)?.push(fragment);
  }
  return frames.length === count ? frames.map((f) => Buffer.concat(f)) : undefined;
}

for (const backend of backendNames()) {
  t.test(`${backend}: frames of the real multi-frame and transfer-syntax samples`, async (t) => {
    const selected = (path: string) => ['multiframe/', 'transfer-syntax/', 'non-image/seg/'].some((folder) => path.startsWith(folder));
    let checked = 0;
    await forEachStoredRealFile(backend, selected, async (server, path, bytes, url) => {
      const expected = await expectedFrames(bytes);
      const probe = await get(server, `${url}/frames/1`, OHIF_ACCEPT[0]);
      if (!expected) {
        t.equal(probe.statusCode, 404, `${path}: D18 no pixel data → 404`);
        return;
      }
      if (probe.statusCode === 404) {
        t.comment(`${path}: frames not locatable at ingest (STOW warning), 404`);
        return;
      }
      const list = expected
        .map((_, i) => i + 1)
        .reverse()
        .join(',');
      for (const accept of OHIF_ACCEPT) {
        const res = await get(server, `${url}/frames/${list}`, accept);
        t.equal(res.statusCode, 200, `${path}: WADORS-6 OHIF Accept ${accept}`);
        const { parts } = parseMultipart(res.headers['content-type'], res.rawPayload);
        t.equal(parts.length, expected.length, `${path}: WADORS-5 one part per requested frame`);
        const ts = transferSyntaxInfo(manifest.get(path)?.transferSyntax || '1.2.840.10008.1.2')!;
        parts.forEach((part, i) => {
          const n = expected.length - i;
          t.ok(part.body.equals(expected[n - 1]!), `${path}: WADORS-5 frame ${n} bytes in requested order`);
          const served = transferSyntaxOf(part.headers['content-type']);
          t.equal(served, ts.encapsulated ? ts.uid : '1.2.840.10008.1.2.1', `${path}: NEG-8 part transfer-syntax`);
          t.ok(part.headers['content-type']!.startsWith(ts.encapsulated ? ts.bulkMediaType : 'application/octet-stream'), `${path}: D15 part media type`);
          t.ok(part.headers['content-location']!.endsWith(`${url}/frames/${n}`), `${path}: WADORS-5 part Content-Location`);
          if (ts.bulkMediaType === 'image/jpeg') t.equal(part.body.readUInt16BE(0), 0xffd8, `${path}: WADORS-6 JPEG frame starts with FF D8`);
        });
      }
      checked++;
    });
    t.ok(checked >= 30, `files whose frames were compared: ${checked}`);
  });

  t.test(`${backend}: frames of a synthetic 3-frame 512x512 16-bit instance`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const spec = ctInstance({}, { rows: 512, columns: 512, frames: 3 });
    const bytes = encodeInstance(spec);
    const url = storedPath((await upload(server, bytes)).body)!;
    const pixelStart = bytes.length - 3 * 524288;
    const frame = (n: number) => bytes.subarray(pixelStart + (n - 1) * 524288, pixelStart + n * 524288);

    const two = await get(server, `${url}/frames/2`, 'multipart/related; type="application/octet-stream"');
    t.equal(two.statusCode, 200);
    const [part] = parseMultipart(two.headers['content-type'], two.rawPayload).parts;
    t.equal(part!.body.length, 524288, 'WADORS-5: frames/2 part length 524288');
    t.ok(part!.body.equals(frame(2)), 'WADORS-5: the bytes of frame 2');
    t.equal(part!.headers['content-type'], 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1', 'WADORS-5: uncompressed part type');

    const order = parseMultipart(
      ...(Object.values(await get(server, `${url}/frames/3,1,3`).then((r) => [r.headers['content-type'], r.rawPayload] as const)) as [string, Buffer]),
    ).parts;
    t.same(
      order.map((p) => (p.body.equals(frame(3)) ? 3 : p.body.equals(frame(1)) ? 1 : 0)),
      [3, 1, 3],
      'WADORS-5: requested order, repeats kept (no Accept, NEG-3)',
    );

    const single = await get(server, `${url}/frames/1`, 'application/octet-stream');
    t.equal(single.statusCode, 200, 'WADORS-5: one frame single-part');
    t.equal(single.headers['content-type'], 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1');
    t.ok(single.rawPayload.equals(frame(1)));
    t.equal((await get(server, `${url}/frames/1,2`, 'application/octet-stream')).statusCode, 406, 'NEG-6: single part for two frames → 406');
    t.equal(
      (await get(server, `${url}/frames/1`, 'multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.4.50')).statusCode,
      406,
      'NEG-7: no encoder → 406',
    );

    t.equal((await get(server, `${url}/frames/4`)).statusCode, 404, 'D18: frame beyond NumberOfFrames → 404');
    for (const list of ['0', '-1', '1.5', 'abc', '1,,2', '1,0'])
      t.equal((await get(server, `${url}/frames/${list}`)).statusCode, 400, `WADORS-5: frames/${list} → 400`);

    const noPixels = storedPath((await upload(server, encodeInstance(ctInstance()))).body)!;
    t.equal((await get(server, `${noPixels}/frames/1`)).statusCode, 404, 'D18: no pixel data → 404');
    t.equal((await get(server, `${url.replace(/instances\/.*/, 'instances/1.2.999')}/frames/1`)).statusCode, 404, 'unknown instance → 404');
  });

  t.test(`${backend}: RLE frames typed image/dicom-rle; legacy image/x-dicom-rle honoured (DATA-3)`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const url = storedPath((await upload(server, readShared('multiframe/sc-rgb-rle-2fr.dcm'))).body)!;
    for (const accept of [
      'multipart/related; type="image/x-dicom-rle"',
      'multipart/related; type="image/dicom-rle"; transfer-syntax=1.2.840.10008.1.2.5',
      '*/*',
    ]) {
      const res = await get(server, `${url}/frames/2`, accept);
      t.equal(res.statusCode, 200, accept);
      const [part] = parseMultipart(res.headers['content-type'], res.rawPayload).parts;
      t.equal(part!.headers['content-type'], 'image/dicom-rle; transfer-syntax=1.2.840.10008.1.2.5', `DATA-3 with Accept ${accept}`);
    }
  });
}
