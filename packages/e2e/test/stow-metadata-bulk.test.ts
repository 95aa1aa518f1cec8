import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { type DicomJsonDataset, bufferByteSource, readPart10Header, transferSyntaxInfo } from '@tessera/dicom';
import { type TestServer, backendNames, ctInstance, encodeInstance, newUid, readManifest, readShared, startTestServer } from '@tessera/testkit';
import { parseMultipart, storedPath, upload } from './retrieve-helpers.js';

/**
 * STOW-RS with metadata and bulk data (digest STOW-3, with STOW-4..8 for its failures), every back
 * end. Real files are turned into metadata + bulk data requests the way a DICOMweb client would
 * make them: from the metadata, bulk data and frames that WADO-RS serves for the uploaded file (on
 * a separate server, so that the instance is new to the server under test).
 */

const manifest = readManifest();
const FRAMES_ACCEPT = 'multipart/related; type="application/octet-stream"; transfer-syntax=*';

interface RequestPart {
  headers: Record<string, string>;
  body: Buffer;
}

/** A multipart/related; type="application/dicom+json" body. */
function metadataBulkBody(parts: RequestPart[], type = 'application/dicom+json'): { contentType: string; payload: Buffer } {
  const boundary = `stow3-${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const head = Object.entries(part.headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    chunks.push(Buffer.from(`--${boundary}\r\n${head}\r\n`), part.body, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { contentType: `multipart/related; type="${type}"; boundary=${boundary}`, payload: Buffer.concat(chunks) };
}

const jsonPart = (metadata: unknown): RequestPart => ({ headers: { 'Content-Type': 'application/dicom+json' }, body: Buffer.from(JSON.stringify(metadata)) });
const bulkPart = (location: string, body: Buffer, type = 'application/octet-stream'): RequestPart => ({
  headers: { 'Content-Type': type, 'Content-Location': location },
  body,
});

async function get(server: TestServer, url: string, accept?: string) {
  return server.app.inject({ method: 'GET', url: url.replace(/^https?:\/\/[^/]+/, ''), headers: accept ? { accept } : {} });
}

async function post(server: TestServer, body: { contentType: string; payload: Buffer }, path = '/dicomweb/studies') {
  const res = await server.app.inject({ method: 'POST', url: path, headers: { 'content-type': body.contentType }, payload: body.payload });
  return { status: res.statusCode, type: String(res.headers['content-type']), body: JSON.parse(res.body) };
}

/** Every BulkDataURI of a dataset, with its tag path (`7FE00010`, `52009230/0/…`). */
function bulkDataUris(dataset: DicomJsonDataset, prefix = ''): { path: string; uri: string }[] {
  const out: { path: string; uri: string }[] = [];
  for (const [key, attribute] of Object.entries(dataset)) {
    if (attribute.BulkDataURI) out.push({ path: prefix + key, uri: attribute.BulkDataURI });
    if (attribute.vr === 'SQ') (attribute.Value ?? []).forEach((item, i) => out.push(...bulkDataUris(item as DicomJsonDataset, `${prefix}${key}/${i}/`)));
  }
  return out;
}

/** The dataset with every BulkDataURI replaced by a marker: the URIs name the server, not the data. */
function withoutUris(dataset: DicomJsonDataset): DicomJsonDataset {
  return JSON.parse(JSON.stringify(dataset, (key, value) => (key === 'BulkDataURI' ? '(bulk data)' : value)));
}

async function frames(server: TestServer, instanceUrl: string, count: number): Promise<{ contentType: string; body: Buffer }[]> {
  const list = Array.from({ length: count }, (_, i) => i + 1).join(',');
  const res = await get(server, `${instanceUrl}/frames/${list}`, FRAMES_ACCEPT);
  if (res.statusCode !== 200) throw new Error(`frames of ${instanceUrl}: ${res.statusCode}`);
  return parseMultipart(res.headers['content-type'], res.rawPayload).parts.map((p) => ({ contentType: p.headers['content-type']!, body: p.body }));
}

/**
 * What a DICOMweb client sends to store `path` as metadata + bulk data: the file is uploaded to
 * `source`, then its metadata (BulkDataURIs as the source serves them) is the first part, each
 * bulk value one application/octet-stream part, and compressed Pixel Data one part per frame in
 * its media type (all Content-Location = the Pixel Data BulkDataURI).
 */
async function clientRequest(source: TestServer, path: string) {
  const stored = await upload(source, readShared(path));
  const url = storedPath(stored.body)!;
  const metadata = JSON.parse((await get(source, `${url}/metadata`)).body)[0] as DicomJsonDataset;
  const syntax = transferSyntaxInfo(manifest.get(path)!.transferSyntax)!;
  const count = Number(metadata['00280008']?.Value?.[0] ?? 1);
  const parts: RequestPart[] = [jsonPart([metadata])];
  const sourceFrames = metadata['7FE00010'] ? await frames(source, url, count) : [];
  for (const { path: tagPath, uri } of bulkDataUris(metadata)) {
    if (tagPath === '7FE00010' && syntax.encapsulated) {
      for (const frame of sourceFrames) parts.push(bulkPart(uri, frame.body, frame.contentType));
      continue;
    }
    const value = await get(source, uri, 'application/octet-stream');
    if (value.statusCode !== 200) throw new Error(`${uri}: ${value.statusCode}`);
    parts.push(bulkPart(uri, value.rawPayload));
  }
  return { metadata, sourceFrames, syntax, body: metadataBulkBody(parts), bulkCount: parts.length - 1 };
}

const source = await startTestServer('embedded');
t.teardown(() => source.close());

for (const backend of backendNames()) {
  t.test(`${backend}: STOW-3 real files stored as metadata + bulk data`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const files = [
      'transfer-syntax/ct-one-image/ct_1.2.840.10008.1.2.1.dcm', // native CT: one octet-stream Pixel Data part
      'multiframe/us-multiframe-jpeg-34fr.dcm', // JPEG baseline, 34 frames: one image/jpeg part per frame
      'multiframe/enhanced-mr-emri_small-10fr-j2k.dcm', // JPEG 2000, 10 frames, functional group sequences
    ];
    for (const path of files) {
      const request = await clientRequest(source, path);
      const res = await post(server, request.body);
      t.equal(res.status, 200, `${path}: STOW-3 stored (${request.bulkCount} bulk data parts)`);
      t.match(res.type, /^application\/dicom\+json/, `${path}: STOW-4 response module`);
      const url = storedPath(res.body)!;
      t.ok(url, `${path}: STOW-10 RetrieveURL of the stored instance`);

      const retrieved = JSON.parse((await get(server, `${url}/metadata`)).body)[0] as DicomJsonDataset;
      const expected = withoutUris(request.metadata);
      // Encapsulated Pixel Data is written as OB (PS3.5 §A.4), whatever the source file had.
      if (request.syntax.encapsulated) expected['7FE00010']!.vr = 'OB';
      t.same(withoutUris(retrieved), expected, `${path}: same metadata (BulkDataURIs aside)`);
      t.same(
        bulkDataUris(retrieved).map((b) => b.path),
        bulkDataUris(request.metadata).map((b) => b.path),
        `${path}: bulk data at the same tag paths`,
      );

      const count = request.sourceFrames.length;
      if (count) {
        const got = await frames(server, url, count);
        t.equal(got.length, count, `${path}: ${count} frames`);
        t.ok(
          got.every((f, i) => f.body.equals(request.sourceFrames[i]!.body)),
          `${path}: WADORS-5 every frame byte for byte`,
        );
        t.same(
          got.map((f) => f.contentType),
          request.sourceFrames.map((f) => f.contentType),
          `${path}: frames in the same media type and transfer syntax`,
        );
      }
      for (const { path: tagPath, uri } of bulkDataUris(retrieved)) {
        if (tagPath === '7FE00010' && request.syntax.encapsulated) continue;
        const mine = await get(server, uri, 'application/octet-stream');
        const theirs = await get(source, bulkDataUris(request.metadata).find((b) => b.path === tagPath)!.uri, 'application/octet-stream');
        t.ok(mine.statusCode === 200 && mine.rawPayload.equals(theirs.rawPayload), `${path}: bulk data ${tagPath} byte for byte`);
      }

      const file = await get(server, url, 'multipart/related; type="application/dicom"; transfer-syntax=*');
      const [part] = parseMultipart(file.headers['content-type'], file.rawPayload).parts;
      const header = await readPart10Header(bufferByteSource(part!.body), { maxHeaderBytes: 64 << 20 });
      t.equal(part!.body.toString('latin1', 128, 132), 'DICM', `${path}: DATA-2 the stored object is a PS3.10 file`);
      t.ok(header.hasFileMeta, `${path}: with File Meta`);
      t.equal(
        header.transferSyntax.uid,
        request.syntax.encapsulated ? request.syntax.uid : '1.2.840.10008.1.2.1',
        `${path}: transfer syntax from the frames' media type`,
      );

      const again = await post(server, request.body);
      t.equal(again.status, 200, `${path}: STOW-9 the same request again is a success that changes nothing`);
    }
  });

  t.test(`${backend}: STOW-3 failures`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const pixels = Buffer.alloc(4 * 4 * 2, 7);
    /** A small native image as a client would send it: metadata plus one octet-stream Pixel Data part. */
    const image = (overrides: DicomJsonDataset = {}, study = newUid()) => {
      const uri = `http://client.example/bulk/${newUid()}`;
      const metadata: DicomJsonDataset = {
        '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.7'] },
        '00080018': { vr: 'UI', Value: [newUid()] },
        '00080060': { vr: 'CS', Value: ['OT'] },
        '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Test^Metadata' }] },
        '0020000D': { vr: 'UI', Value: [study] },
        '0020000E': { vr: 'UI', Value: [newUid()] },
        '00280002': { vr: 'US', Value: [1] },
        '00280004': { vr: 'CS', Value: ['MONOCHROME2'] },
        '00280010': { vr: 'US', Value: [4] },
        '00280011': { vr: 'US', Value: [4] },
        '00280100': { vr: 'US', Value: [16] },
        '00280101': { vr: 'US', Value: [16] },
        '00280102': { vr: 'US', Value: [15] },
        '00280103': { vr: 'US', Value: [0] },
        '7FE00010': { vr: 'OW', BulkDataURI: uri },
        ...overrides,
      };
      return { metadata, uri, sop: metadata['00080018']!.Value![0] as string };
    };
    const sops = (body: any, key: string) => (body[key]?.Value ?? []).map((item: any) => item['00081155']?.Value?.[0]);
    const reasons = (body: any, key: string) => (body[key]?.Value ?? []).map((item: any) => item['00081197']?.Value?.[0]);
    const search = async (sop: string) =>
      JSON.parse((await server.app.inject({ method: 'GET', url: `/dicomweb/instances?SOPInstanceUID=${sop}` })).body || '[]');

    t.test('a native image stored from metadata + one octet-stream part; frame 1 is those bytes', async (t) => {
      const good = image();
      const res = await post(server, metadataBulkBody([jsonPart([good.metadata]), bulkPart(good.uri, pixels)]));
      t.equal(res.status, 200, 'STOW-3: stored');
      const [frame] = await frames(server, storedPath(res.body)!, 1);
      t.ok(frame!.body.equals(pixels), 'STOW-3: GET …/frames/1 returns the same bytes');
    });

    t.test('relative BulkDataURI and Content-Location, InlineBinary values', async (t) => {
      const good = image({
        '00091010': { vr: 'LO', Value: ['TESSERA'] },
        '00091011': { vr: 'OB', InlineBinary: 'AQIDBA==' },
        '7FE00010': { vr: 'OW', BulkDataURI: 'pixels/1' },
      });
      const res = await post(server, metadataBulkBody([jsonPart([good.metadata]), bulkPart('pixels/1', pixels)]));
      t.equal(res.status, 200, 'STOW-3: relative locations match');
      const metadata = JSON.parse((await get(server, `${storedPath(res.body)}/metadata`)).body)[0];
      t.same(metadata['00091011'], { vr: 'OB', InlineBinary: 'AQIDBA==' }, 'JSON-9: InlineBinary decoded and stored');
    });

    t.test('a missing bulk data part fails that instance only (STOW-6: 202)', async (t) => {
      const good = image();
      const orphan = image();
      const res = await post(server, metadataBulkBody([jsonPart([orphan.metadata, good.metadata]), bulkPart(good.uri, pixels)]));
      t.equal(res.status, 202, 'STOW-6: some stored, some failed');
      t.same(sops(res.body, '00081198'), [orphan.sop], 'STOW-4: the instance without its bulk data is in FailedSOPSequence');
      t.same(reasons(res.body, '00081198'), [0xc000], 'STOW-5: FailureReason C000 (cannot understand)');
      t.same(sops(res.body, '00081199'), [good.sop], 'STOW-4: the other instance is stored');
      t.same(await search(orphan.sop), [], 'nothing stored for the failed instance');
    });

    t.test('a BulkDataURI with no part of that Content-Location: 409', async (t) => {
      const one = image();
      const res = await post(server, metadataBulkBody([jsonPart([one.metadata]), bulkPart(`${one.uri}-other`, pixels)]));
      t.equal(res.status, 409, 'STOW-6: nothing stored');
      t.same(sops(res.body, '00081198'), [one.sop], 'STOW-4: FailedSOPSequence names the instance');
      t.same(reasons(res.body, '00081198'), [0xc000], 'STOW-5: C000');
      t.same(await search(one.sop), [], 'not stored');
    });

    t.test('malformed JSON, a first part that is not JSON, a bulk part without Content-Location: 400 problems', async (t) => {
      const malformed = await post(server, metadataBulkBody([{ headers: { 'Content-Type': 'application/dicom+json' }, body: Buffer.from('[{"00080018": ') }]));
      t.equal(malformed.status, 400, 'STOW-6: malformed JSON → 400');
      t.equal(malformed.body.code, 'METADATA_JSON');
      t.match(malformed.type, /^application\/problem\+json/, 'problem+json');
      const notJson = await post(server, metadataBulkBody([bulkPart('x', pixels)]));
      t.equal(notJson.status, 400);
      t.equal(notJson.body.code, 'METADATA_PART', 'the first part must be the metadata');
      const one = image();
      const noLocation = await post(
        server,
        metadataBulkBody([jsonPart([one.metadata]), { headers: { 'Content-Type': 'application/octet-stream' }, body: pixels }]),
      );
      t.equal(noLocation.status, 400);
      t.equal(noLocation.body.code, 'BULK_DATA_LOCATION');
      t.same(await search(one.sop), [], 'nothing half-stored');
      const notArray = await post(server, metadataBulkBody([{ headers: { 'Content-Type': 'application/dicom+json' }, body: Buffer.from('"text"') }]));
      t.equal(notArray.body.code, 'METADATA_JSON', 'a JSON string is not metadata');
      const empty = await post(server, metadataBulkBody([jsonPart([])]));
      t.equal(empty.body.code, 'NO_PARTS', 'an empty array stores nothing: 400');
    });

    t.test('metadata without SOPInstanceUID: 400 with OtherFailuresSequence (STOW-8)', async (t) => {
      const one = image();
      delete one.metadata['00080018'];
      const res = await post(server, metadataBulkBody([jsonPart([one.metadata]), bulkPart(one.uri, pixels)]));
      t.equal(res.status, 400, 'STOW-6: no instance could be identified');
      t.same(reasons(res.body, '0008119A'), [0xa900], 'STOW-8: FailureReason A900 in OtherFailuresSequence');
    });

    t.test('invalid DICOM JSON values fail the instance (C000), named by its UIDs', async (t) => {
      const one = image({ '00280010': { vr: 'US', Value: ['four'] } });
      const res = await post(server, metadataBulkBody([jsonPart([one.metadata]), bulkPart(one.uri, pixels)]));
      t.equal(res.status, 409);
      t.same(sops(res.body, '00081198'), [one.sop]);
      t.same(reasons(res.body, '00081198'), [0xc000]);
    });

    t.test('POST /studies/{s} with an instance of another study: 409, A901 (STOW-7)', async (t) => {
      const study = newUid();
      const mine = image({}, study);
      const other = image();
      const res = await post(
        server,
        metadataBulkBody([jsonPart([mine.metadata, other.metadata]), bulkPart(mine.uri, pixels), bulkPart(other.uri, pixels)]),
        `/dicomweb/studies/${study}`,
      );
      t.equal(res.status, 202, 'STOW-6: one stored, one refused');
      t.same(sops(res.body, '00081198'), [other.sop]);
      t.same(reasons(res.body, '00081198'), [0xa901], 'STOW-7: A901');
      const alone = image();
      const refused = await post(server, metadataBulkBody([jsonPart([alone.metadata]), bulkPart(alone.uri, pixels)]), `/dicomweb/studies/${study}`);
      t.equal(refused.status, 409, 'STOW-7: only a mismatched instance → 409');
    });

    t.test('compressed frames: count and media type are checked', async (t) => {
      const jpeg = readShared('transfer-syntax/small/sc-rgb-jpeg-baseline_1.2.840.10008.1.2.4.50.dcm');
      const soi = jpeg.indexOf(Buffer.from([0xff, 0xd8, 0xff]));
      const frame = jpeg.subarray(soi, jpeg.lastIndexOf(Buffer.from([0xff, 0xd9])) + 2);
      const rgb = (overrides: DicomJsonDataset) =>
        image({
          '00280002': { vr: 'US', Value: [3] },
          '00280004': { vr: 'CS', Value: ['YBR_FULL_422'] },
          '00280006': { vr: 'US', Value: [0] },
          '00280100': { vr: 'US', Value: [8] },
          '00280101': { vr: 'US', Value: [8] },
          '00280102': { vr: 'US', Value: [7] },
          ...overrides,
        });
      const two = rgb({ '00280008': { vr: 'IS', Value: [2] } });
      const type = 'image/jpeg; transfer-syntax=1.2.840.10008.1.2.4.50';
      const mismatch = await post(server, metadataBulkBody([jsonPart([two.metadata]), bulkPart(two.uri, frame, type)]));
      t.equal(mismatch.status, 409, 'NumberOfFrames 2 with one frame part → refused');
      t.same(reasons(mismatch.body, '00081198'), [0xa900], 'STOW-8: A900');
      const png = rgb({});
      const refused = await post(server, metadataBulkBody([jsonPart([png.metadata]), bulkPart(png.uri, frame, 'image/png')]));
      t.same(reasons(refused.body, '00081198'), [0xc122], 'STOW-3: image/png is not stored (C122, transfer syntax not supported)');
      const one = rgb({});
      const stored = await post(server, metadataBulkBody([jsonPart([one.metadata]), bulkPart(one.uri, frame, type)]));
      t.equal(stored.status, 200, 'one JPEG frame → stored');
      const [got] = await frames(server, storedPath(stored.body)!, 1);
      t.ok(got!.body.subarray(0, frame.length).equals(frame), 'the frame as sent (padded to even length)');
      t.match(got!.contentType, /^image\/jpeg; transfer-syntax=1\.2\.840\.10008\.1\.2\.4\.50/, 'DATA-3: stored in the transfer syntax of the part');
      const untyped = rgb({});
      const sniffed = await post(server, metadataBulkBody([jsonPart([untyped.metadata]), bulkPart(untyped.uri, frame, 'image/jpeg')]));
      t.equal(sniffed.status, 200, 'image/jpeg without transfer-syntax → stored');
      const [baseline] = await frames(server, storedPath(sniffed.body)!, 1);
      t.match(
        baseline!.contentType,
        /transfer-syntax=1\.2\.840\.10008\.1\.2\.4\.50/,
        'a baseline frame without parameter is stored as JPEG Baseline (from its SOF0 marker)',
      );
    });

    t.test('limits: metadata above STOW_MAX_HEADER_BYTES, bulk data above STOW_MAX_PART_BYTES → 413, nothing stored or left in the spool', async (t) => {
      const small = await startTestServer(backend, { STOW_MAX_HEADER_BYTES: '4096', STOW_MAX_PART_BYTES: '65536' });
      t.teardown(() => small.close());
      const big = image({ '00081030': { vr: 'LO', Value: ['x'.repeat(60)] }, '00204000': { vr: 'LT', Value: ['y'.repeat(5000)] } });
      const tooLarge = await post(small, metadataBulkBody([jsonPart([big.metadata]), bulkPart(big.uri, pixels)]));
      t.equal(tooLarge.status, 413);
      t.equal(tooLarge.body.code, 'METADATA_TOO_LARGE');
      const one = image();
      const huge = await post(small, metadataBulkBody([jsonPart([one.metadata]), bulkPart(one.uri, Buffer.alloc(100_000))]));
      t.equal(huge.status, 413);
      t.equal(huge.body.code, 'PART_TOO_LARGE');
      const fits = image();
      t.equal(
        (await post(small, metadataBulkBody([jsonPart([fits.metadata]), bulkPart(fits.uri, pixels)]))).status,
        200,
        'a request within the limits is stored',
      );
      t.same(JSON.parse((await small.app.inject({ method: 'GET', url: `/dicomweb/instances?SOPInstanceUID=${one.sop}` })).body || '[]'), [], 'nothing stored');
      const spool = await readdir(join(small.dataDir, 'spool')).catch(() => []);
      t.same(spool, [], 'no spool file left behind');
    });

    t.test('application/dicom requests are unchanged beside it', async (t) => {
      const res = await upload(server, encodeInstance(ctInstance()));
      t.equal(res.status, 200);
    });
  });
}
