import t from 'tap';
import { Tag, bufferByteSource, elementInteger, readPart10Header } from '@tessera/dicom';
import { type TestServer, backendNames, ctInstance, encodeInstance, readShared, startTestServer } from '@tessera/testkit';
import { bulkDataUris, parseMultipart, forEachStoredRealFile, storedPath, transferSyntaxOf, upload } from './retrieve-helpers.js';

/** WADO-RS Retrieve Bulkdata (digest WADORS-7, JSON-10, NEG-6/8), every back end. */

async function get(server: TestServer, url: string, accept?: string) {
  return server.app.inject({ method: 'GET', url, headers: accept === undefined ? {} : { accept } });
}
const local = (uri: string) => uri.replace(/^https?:\/\/[^/]+/, '');

for (const backend of backendNames()) {
  t.test(`${backend}: every BulkDataURI of every real file answers (JSON-10)`, async (t) => {
    let uris = 0;
    await forEachStoredRealFile(backend, undefined, async (server, path, bytes, url) => {
      const metadata = JSON.parse((await get(server, `${url}/metadata`)).body);
      for (const uri of bulkDataUris(metadata)) {
        uris++;
        t.ok(uri.startsWith(`${server.url}/dicomweb/studies/`), `${path}: JSON-10 absolute ${uri}, on the address the server listens on`);
        const res = await get(server, local(uri));
        t.equal(res.statusCode, 200, `${path}: JSON-10 GET ${local(uri)} → 200`);
        if (res.statusCode !== 200) continue;
        const { type, parts } = parseMultipart(res.headers['content-type'], res.rawPayload);
        t.ok(parts.length >= 1, `${path}: WADORS-7 multipart by default (${type})`);
        for (const part of parts) {
          t.ok(transferSyntaxOf(part.headers['content-type']), `${path}: NEG-8 part has transfer-syntax`);
          t.equal(Number(part.headers['content-length']), part.body.length, `${path}: part Content-Length`);
        }
        if (uri.endsWith('/bulkdata/7FE00010') && transferSyntaxOf(parts[0]!.headers['content-type']) === '1.2.840.10008.1.2.1') {
          // Uncompressed pixel data = all frames (WADORS-7): compare with the stored pixel data, little endian.
          const header = await readPart10Header(bufferByteSource(bytes), { maxHeaderBytes: 256 << 20 });
          const p = header.pixelData!;
          const data = header.transferSyntax.deflated ? header.buffer : bytes; // the inflated dataset when deflated
          const expected = Buffer.from(data.subarray(p.offset, p.offset + p.length));
          if (!header.transferSyntax.littleEndian && p.vr === 'OW') expected.swap16();
          t.ok(parts[0]!.body.equals(expected), `${path}: WADORS-7 pixel data bytes`);
        }
      }
    });
    t.ok(uris > 150, `BulkDataURIs fetched: ${uris}`);
  });

  t.test(`${backend}: bulk data values and media types`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const lut = Buffer.alloc(4096);
    for (let i = 0; i < 2048; i++) lut.writeUInt16LE(i * 31, i * 2);
    const spec = ctInstance({ RedPaletteColorLookupTableData: lut }, { rows: 16, columns: 16, frames: 2 });
    const bytes = encodeInstance(spec);
    const url = storedPath((await upload(server, bytes)).body)!;
    const [metadata] = JSON.parse((await get(server, `${url}/metadata`)).body);
    const lutUri = local(metadata['00281201'].BulkDataURI);
    t.equal(lutUri, `${url}/bulkdata/00281201`, 'WADORS-4: BulkDataURI form …/instances/{i}/bulkdata/{tagpath}');

    const multi = await get(server, lutUri, 'multipart/related; type="application/octet-stream"');
    t.equal(multi.statusCode, 200);
    const [part] = parseMultipart(multi.headers['content-type'], multi.rawPayload).parts;
    t.ok(part!.body.equals(lut), 'WADORS-7: the value bytes, little endian');
    t.equal(part!.headers['content-location'], metadata['00281201'].BulkDataURI, 'WADORS-7: part Content-Location = BulkDataURI');
    t.equal(part!.headers['content-type'], 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1');

    const single = await get(server, lutUri, 'application/octet-stream');
    t.equal(single.statusCode, 200, 'WADORS-7: single part when asked');
    t.ok(single.rawPayload.equals(lut));
    t.equal(Number(single.headers['content-length']), lut.length, 'COMMON-5');

    const pixels = await get(server, `${url}/bulkdata/7FE00010`, 'application/octet-stream');
    t.equal(pixels.rawPayload.length, 16 * 16 * 2 * 2, 'WADORS-7: uncompressed pixel data = Rows×Columns×2 bytes×frames');
    t.ok(pixels.rawPayload.equals(bytes.subarray(bytes.length - 1024)), 'WADORS-7: all frames concatenated');

    t.equal((await get(server, `${url}/bulkdata/00100010`)).statusCode, 404, 'no bulk data at that path → 404');
    t.equal((await get(server, lutUri, 'image/jpeg')).statusCode, 406, 'NEG-6: unsupported type → 406');
  });

  t.test(`${backend}: encapsulated pixel data is served as its frames`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const bytes = readShared('multiframe/us-multiframe-jpeg-34fr.dcm');
    const url = storedPath((await upload(server, bytes)).body)!;
    const header = await readPart10Header(bufferByteSource(bytes), { maxHeaderBytes: 1 << 20 });
    const count = elementInteger(header.buffer, header.dataset.get(Tag.NumberOfFrames));
    const res = await get(server, `${url}/bulkdata/7FE00010`, 'multipart/related; type="application/octet-stream"; transfer-syntax=*');
    t.equal(res.statusCode, 200);
    const { parts } = parseMultipart(res.headers['content-type'], res.rawPayload);
    t.equal(parts.length, count, 'one part per frame');
    t.ok(
      parts.every((p) => p.headers['content-type'] === 'image/jpeg; transfer-syntax=1.2.840.10008.1.2.4.50' && p.body.readUInt16BE(0) === 0xffd8),
      'D15: JPEG parts',
    );
    t.equal((await get(server, `${url}/bulkdata/7FE00010`, 'application/octet-stream')).statusCode, 406, 'NEG-6: 34 frames cannot be one part');
  });
}
