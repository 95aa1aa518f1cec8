import { gunzipSync } from 'node:zlib';
import t from 'tap';
import { type TestServer, backendNames, ctInstance, encodeInstance, multipartBuffer, newUid, startTestServer } from '@tessera/testkit';
import { bulkDataUris } from './retrieve-helpers.js';

/** WADO-RS Retrieve Metadata (digest WADORS-4, JSON-1/2/10, NEG-3/5/6, COMMON-6), every back end. */

const SERIES_SIZE = 500;

async function get(server: TestServer, url: string, headers: Record<string, string> = {}) {
  return server.app.inject({ method: 'GET', url, headers });
}

for (const backend of backendNames()) {
  t.test(`${backend}: metadata`, async (t) => {
    // Both public hosts used below are configured ones (ALLOWED_HOSTS, issue #21 item 13).
    const server = await startTestServer(backend, { ALLOWED_HOSTS: 'pacs.example:8443,elsewhere.example' });
    t.teardown(() => server.close());
    const study = newUid();
    const series = newUid();
    const other = newUid();
    const specs = Array.from({ length: SERIES_SIZE }, (_, i) =>
      ctInstance(
        {
          StudyInstanceUID: study,
          SeriesInstanceUID: series,
          InstanceNumber: i + 1,
          SeriesDescription: 'Big "quoted" <series>',
          // A palette LUT above the inline limit: a second BulkDataURI per instance.
          RedPaletteColorLookupTableData: Buffer.alloc(2048, i % 251),
        },
        { rows: 4, columns: 4, frames: 1 },
      ),
    );
    specs.push(ctInstance({ StudyInstanceUID: study, SeriesInstanceUID: other, SeriesNumber: 2 }));
    for (let i = 0; i < specs.length; i += 100) {
      const { contentType, payload } = await multipartBuffer(specs.slice(i, i + 100).map(encodeInstance));
      const res = await server.app.inject({ method: 'POST', url: '/dicomweb/studies', headers: { 'content-type': contentType }, payload });
      t.equal(res.statusCode, 200, 'stored');
    }
    const seriesUrl = `/dicomweb/studies/${study}/series/${series}`;

    t.test('WADORS-4 / JSON-1: series metadata is one array, one object per instance, absolute BulkDataURIs', async (t) => {
      const res = await get(server, `${seriesUrl}/metadata`, { accept: 'application/dicom+json', host: 'pacs.example:8443' });
      t.equal(res.statusCode, 200);
      t.match(res.headers['content-type'], /^application\/dicom\+json/);
      const body = JSON.parse(res.body) as Record<string, any>[];
      t.equal(body.length, SERIES_SIZE, 'JSON-1: one object per instance');
      t.same(
        body.map((ds) => ds['00200013'].Value[0]),
        Array.from({ length: SERIES_SIZE }, (_, i) => i + 1),
        'ordered by InstanceNumber',
      );
      t.equal(body[0]!['0008103E'].Value[0], 'Big "quoted" <series>', 'text with quotes intact through the BulkDataURI rewrite');
      const uris = bulkDataUris(body);
      t.equal(uris.length, SERIES_SIZE * 2, 'pixel data and LUT data as BulkDataURI');
      const sop = body[7]!['00080018'].Value[0];
      t.equal(
        body[7]!['7FE00010'].BulkDataURI,
        `http://pacs.example:8443${seriesUrl}/instances/${sop}/bulkdata/7FE00010`,
        'JSON-10: absolute URI of the instance',
      );
      t.notOk(body[7]!['7FE00010'].InlineBinary, 'WADORS-4: no InlineBinary for pixel data');
      t.ok(
        uris.every((u) => u.startsWith('http://pacs.example:8443/dicomweb/studies/')),
        'JSON-10: every BulkDataURI absolute',
      );
      const lut = await get(server, body[7]!['00281201'].BulkDataURI.replace('http://pacs.example:8443', ''), { accept: 'application/octet-stream' });
      t.equal(lut.statusCode, 200, 'WADORS-7: the LUT BulkDataURI answers');
      t.ok(lut.rawPayload.equals(Buffer.alloc(2048, 7)), 'WADORS-7: with the value bytes');
    });

    t.test(`measured: ${SERIES_SIZE}-instance series metadata time`, async (t) => {
      const median = async (encoding: string) => {
        const times: number[] = [];
        for (let i = 0; i < 15; i++) {
          const start = process.hrtime.bigint();
          const res = await fetch(`${server.url}${seriesUrl}/metadata`, { headers: { 'accept-encoding': encoding } });
          await res.arrayBuffer();
          if (i >= 5) times.push(Number(process.hrtime.bigint() - start) / 1e6); // 5 warm-up requests
        }
        return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
      };
      const identity = await median('identity');
      const gzip = await median('gzip');
      t.comment(
        `${backend}: ${SERIES_SIZE}-instance series metadata over HTTP, median of 10 after warm-up: ${identity.toFixed(1)} ms uncompressed, ${gzip.toFixed(1)} ms gzip (target 40 ms)`,
      );
      t.ok(identity < 400, 'sanity bound (the 40 ms target is reported, not asserted: test machines are shared)');
    });

    t.test('study and instance levels', async (t) => {
      const study_ = JSON.parse((await get(server, `/dicomweb/studies/${study}/metadata`)).body) as unknown[];
      t.equal(study_.length, SERIES_SIZE + 1, 'study level: every instance of every series');
      const sop = specs[0]!.attributes.SOPInstanceUID;
      const one = await get(server, `${seriesUrl}/instances/${sop}/metadata`);
      t.ok(one.body.startsWith('['), 'JSON-1: instance metadata is an array');
      t.equal(JSON.parse(one.body).length, 1, 'JSON-1: of length 1');
    });

    t.test('JSON-2: keys sorted, 8 hex digits, no group 0002, no group lengths', async (t) => {
      const [ds] = JSON.parse((await get(server, `${seriesUrl}/instances/${specs[3]!.attributes.SOPInstanceUID}/metadata`)).body) as Record<string, unknown>[];
      const keys = Object.keys(ds!);
      t.ok(keys.every((k) => /^[0-9A-F]{8}$/.test(k) && !k.endsWith('0000') && !k.startsWith('0002')));
      t.same(keys, [...keys].sort());
    });

    t.test('ETag and 304 (WADORS-4)', async (t) => {
      const first = await get(server, `${seriesUrl}/metadata`);
      const etag = first.headers.etag as string;
      t.ok(etag, 'ETag present');
      const again = await get(server, `${seriesUrl}/metadata`, { 'if-none-match': etag });
      t.equal(again.statusCode, 304);
      t.equal(again.body, '', 'COMMON-5: 304 has no body');
      t.equal((await get(server, `${seriesUrl}/metadata`, { 'if-none-match': '"other"' })).statusCode, 200);
      t.not((await get(server, `${seriesUrl}/metadata`, { host: 'elsewhere.example' })).headers.etag, etag, 'ETag depends on the base URL');
      const added = ctInstance({ StudyInstanceUID: study, SeriesInstanceUID: series, InstanceNumber: SERIES_SIZE + 1 });
      await server.app.inject({ method: 'POST', url: '/dicomweb/studies', headers: { 'content-type': 'application/dicom' }, payload: encodeInstance(added) });
      const changed = await get(server, `${seriesUrl}/metadata`, { 'if-none-match': etag });
      t.equal(changed.statusCode, 200, 'a new instance changes the ETag');
      t.equal(JSON.parse(changed.body).length, SERIES_SIZE + 1);
    });

    t.test('gzip when Accept-Encoding allows', async (t) => {
      const plain = await get(server, `${seriesUrl}/metadata`);
      const zipped = await get(server, `${seriesUrl}/metadata`, { 'accept-encoding': 'gzip, deflate' });
      t.equal(zipped.headers['content-encoding'], 'gzip');
      t.match(zipped.headers.vary, /Accept-Encoding/);
      t.ok(zipped.rawPayload.length < plain.rawPayload.length / 3, `compressed ${plain.rawPayload.length} → ${zipped.rawPayload.length}`);
      t.ok(gunzipSync(zipped.rawPayload).equals(plain.rawPayload), 'same JSON once inflated');
      t.notOk((await get(server, `${seriesUrl}/metadata`, { 'accept-encoding': 'gzip;q=0' })).headers['content-encoding'], 'q=0 refuses gzip');
    });

    t.test('negotiation and errors', async (t) => {
      t.equal((await get(server, `${seriesUrl}/metadata`)).statusCode, 200, 'NEG-3: no Accept → 200');
      t.equal((await get(server, `${seriesUrl}/metadata`, { accept: 'application/dicom+json, image/jpeg' })).statusCode, 400, 'NEG-5');
      // The XML form, multipart/related; type="application/dicom+xml", is served: xml-media-types.test.ts.
      t.equal(
        (await get(server, `${seriesUrl}/metadata`, { accept: 'multipart/related; type="application/octet-stream"' })).statusCode,
        406,
        'NEG-6: not a form of metadata',
      );
      t.equal((await get(server, '/dicomweb/studies/1.2.03/metadata')).statusCode, 400, 'COMMON-6');
      t.equal((await get(server, '/dicomweb/studies/1.2.999/metadata')).statusCode, 404, 'COMMON-6');
      t.equal((await get(server, `/dicomweb/studies/${study}/series/1.2.999/metadata`)).statusCode, 404);
    });
  });
}
