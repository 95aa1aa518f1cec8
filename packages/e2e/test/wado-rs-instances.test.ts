import t, { type Test } from 'tap';
import { TransferSyntax, bufferByteSource, describeInstance, planPart10 } from '@tessera/dicom';
import { type TestServer, backendNames, ctInstance, encodeInstance, multipartBuffer, newUid, readShared, startTestServer } from '@tessera/testkit';
import { parseMultipart, forEachStoredRealFile, storedPath, transferSyntaxOf, upload } from './retrieve-helpers.js';

/** WADO-RS Retrieve Study / Series / Instance (digest WADORS-1/2/3/10, NEG-1..9, DATA-2), every back end. */

const DESCRIBE = { maxHeaderBytes: 64 << 20, inlineBinaryMaxBytes: 1024 };
const EXPLICIT_LE = TransferSyntax.ExplicitVRLittleEndian;
const ANY_TS = 'multipart/related; type="application/dicom"; transfer-syntax=*';

async function get(server: TestServer, url: string, accept?: string) {
  return server.app.inject({ method: 'GET', url, headers: accept === undefined ? {} : { accept } });
}

/** DATA-2: a PS3.10 file whose (0002,0010) is `ts`. */
async function assertPart10(t: Test, bytes: Buffer, ts: string | undefined, label: string) {
  t.equal(bytes.toString('latin1', 128, 132), 'DICM', `DATA-2: ${label}: DICM at byte 128`);
  const described = await describeInstance(bufferByteSource(bytes), DESCRIBE);
  t.equal(described.transferSyntaxUid, ts, `NEG-8: ${label}: part transfer-syntax equals (0002,0010)`);
  t.ok(described.hasFileMeta, `DATA-2: ${label}: has File Meta`);
  return described;
}

for (const backend of backendNames()) {
  t.test(`${backend}: every real file STOW accepts comes back through WADO-RS and WADO-URI`, async (t) => {
    let identical = 0;
    let reencoded = 0;
    await forEachStoredRealFile(backend, undefined, async (server, path, bytes, url) => {
      const [, , , study, , series, , sop] = url.split('/');
      const row = await server.index.retrieve.instance({ studyInstanceUid: study!, seriesInstanceUid: series!, sopInstanceUid: sop! });
      const plan = planPart10(row!, '*')!;
      const original = await describeInstance(bufferByteSource(bytes), DESCRIBE);

      const rs = await get(server, url, ANY_TS);
      t.equal(rs.statusCode, 200, `${path}: WADORS-2 200`);
      const { type, parts } = parseMultipart(rs.headers['content-type'], rs.rawPayload);
      t.equal(type, 'application/dicom', `${path}: NEG-9 root type`);
      t.equal(parts.length, 1, `${path}: WADORS-2 one part`);
      const part = parts[0]!;
      t.match(part.headers['content-type'], /^application\/dicom; transfer-syntax=/, `${path}: NEG-8 part typed with transfer-syntax`);
      t.ok(part.headers['content-location']?.endsWith(url), `${path}: NEG-9 Content-Location`);

      const uri = await get(
        server,
        `/wadouri?requestType=WADO&studyUID=${study}&seriesUID=${series}&objectUID=${sop}&contentType=application%2Fdicom&transferSyntax=*`,
      );
      t.equal(uri.statusCode, 200, `${path}: WADOURI-3 200`);
      t.equal(uri.headers['content-type'], 'application/dicom', `${path}: WADOURI-6 Content-Type`);

      if (plan.kind === 'as-is') {
        identical++;
        t.ok(part.body.equals(bytes), `${path}: WADORS-3 transfer-syntax=* serves the stored bytes`);
        t.ok(uri.rawPayload.equals(bytes), `${path}: WADOURI-3 transferSyntax=* serves the stored bytes`);
        t.equal(transferSyntaxOf(part.headers['content-type']), row!.transferSyntaxUid, `${path}: NEG-8 stored syntax`);
        return;
      }
      reencoded++;
      t.not(row!.transferSyntaxUid === EXPLICIT_LE && row!.hasFileMeta, true, `${path}: only implicit, big endian, deflated or no-meta objects are re-encoded`);
      for (const [label, served, ts] of [
        ['WADO-RS', part.body, transferSyntaxOf(part.headers['content-type'])],
        ['WADO-URI', uri.rawPayload, plan.transferSyntaxUid],
      ] as const) {
        const again = await assertPart10(t, served, ts, `${path} (${label})`);
        t.equal(again.transferSyntaxUid, plan.transferSyntaxUid, `${path} (${label}): NEG-7 never implicit or big endian`);
        t.same(again.metadata, original.metadata, `${path} (${label}): WADORS-3 re-encoded object has the same metadata JSON`);
        t.same(again.frames === undefined, original.frames === undefined, `${path} (${label}): pixel data kept`);
      }
    });
    t.ok(identical > 150, `byte-identical retrievals: ${identical}`);
    t.ok(reencoded >= 20, `re-encoded retrievals: ${reencoded}`);
  });

  t.test(`${backend}: WADO-RS instances`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const study = newUid();
    const series = newUid();
    const specs = [3, 1, 2].map((n) =>
      ctInstance({ StudyInstanceUID: study, SeriesInstanceUID: series, InstanceNumber: n }, { rows: 8, columns: 8, frames: 1 }),
    );
    const { contentType, payload } = await multipartBuffer(specs.map(encodeInstance));
    t.equal((await server.app.inject({ method: 'POST', url: '/dicomweb/studies', headers: { 'content-type': contentType }, payload })).statusCode, 200);
    const seriesUrl = `/dicomweb/studies/${study}/series/${series}`;
    const instanceUrl = `${seriesUrl}/instances/${specs[0]!.attributes.SOPInstanceUID}`;

    t.test('WADORS-2: study with 3 instances → 3 parts in instance-number order, each a PS3.10 file of the study', async (t) => {
      const res = await get(server, `/dicomweb/studies/${study}`, 'multipart/related; type="application/dicom"');
      t.equal(res.statusCode, 200);
      t.ok(
        res.rawPayload.toString('latin1').endsWith(`--${/boundary=([^;]+)/.exec(res.headers['content-type'] as string)![1]}--\r\n`),
        'NEG-9: closed by --boundary--',
      );
      const { parts } = parseMultipart(res.headers['content-type'], res.rawPayload);
      t.equal(parts.length, 3);
      const numbers: unknown[] = [];
      for (const part of parts) {
        const d = await assertPart10(t, part.body, transferSyntaxOf(part.headers['content-type']), 'part');
        t.equal(d.studyInstanceUid, study, 'WADORS-2: (0020,000D) = {s}');
        numbers.push(d.metadata['00200013']?.Value?.[0]);
        t.equal(Number(part.headers['content-length']), part.body.length, 'NEG-9: part Content-Length');
      }
      t.same(numbers, [1, 2, 3], 'ordered by InstanceNumber');
    });

    t.test('NEG-3/NEG-4: no Accept and */* give multipart application/dicom in Explicit VR LE', async (t) => {
      for (const accept of [
        undefined,
        '*/*',
        'MULTIPART/RELATED; TYPE="application/dicom"',
        'multipart/related; type=application/dicom; transfer-syntax="1.2.840.10008.1.2.1"',
      ]) {
        const res = await get(server, seriesUrl, accept);
        t.equal(res.statusCode, 200, `Accept ${accept}`);
        const { type, parts } = parseMultipart(res.headers['content-type'], res.rawPayload);
        t.equal(type, 'application/dicom');
        t.equal(parts.length, 3);
        t.equal(transferSyntaxOf(parts[0]!.headers['content-type']), EXPLICIT_LE);
      }
    });

    t.test('NEG-6: application/dicom only for one instance', async (t) => {
      const multi = await get(server, `/dicomweb/studies/${study}`, 'application/dicom');
      t.equal(multi.statusCode, 406, 'NEG-6: study with Accept application/dicom → 406');
      t.match(multi.headers['content-type'], /problem\+json/);
      t.match(JSON.parse(multi.body).detail, /multipart\/related/, 'NEG-6: 406 lists available types');
      const one = await get(server, instanceUrl, 'application/dicom');
      t.equal(one.statusCode, 200, 'NEG-6: instance with Accept application/dicom → 200 single part');
      t.equal(one.headers['content-type'], `application/dicom; transfer-syntax=${EXPLICIT_LE}`);
      t.ok(one.rawPayload.equals(encodeInstance(specs[0]!)), 'the stored file');
      t.equal(Number(one.headers['content-length']), one.rawPayload.length, 'COMMON-5: Content-Length');
    });

    t.test('NEG-7 / WADORS-3: a syntax that cannot be produced → 406; implicit never served', async (t) => {
      t.equal((await get(server, seriesUrl, 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.90')).statusCode, 406);
      t.equal((await get(server, seriesUrl, 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2')).statusCode, 406);
      t.equal(
        (
          await get(
            server,
            seriesUrl,
            'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.90, multipart/related; type="application/dicom"; q=0.5',
          )
        ).statusCode,
        200,
        'NEG-1: falls back to the next acceptable entry',
      );
    });

    t.test('NEG-2: the accept query parameter comes first and must be covered by Accept', async (t) => {
      const res = await get(server, `${instanceUrl}?accept=application%2Fdicom`, '*/*');
      t.equal(res.statusCode, 200);
      t.match(res.headers['content-type'], /^application\/dicom;/);
      t.equal((await get(server, `${instanceUrl}?accept=application%2Fdicom`, 'multipart/related')).statusCode, 406, 'NEG-2: not covered by the header');
    });

    t.test('NEG-5: DICOM and rendered types together → 400', async (t) => {
      t.equal((await get(server, instanceUrl, 'application/dicom, image/jpeg')).statusCode, 400);
    });

    t.test('COMMON-6 / WADORS-1: malformed UID → 400, unknown → 404', async (t) => {
      t.equal((await get(server, '/dicomweb/studies/1.2.03')).statusCode, 400);
      t.equal((await get(server, `/dicomweb/studies/${study}/series/1..2`)).statusCode, 400);
      t.equal((await get(server, '/dicomweb/studies/1.2.999')).statusCode, 404);
      t.equal((await get(server, `/dicomweb/studies/${study}/series/1.2.999`)).statusCode, 404);
      t.equal((await get(server, `${seriesUrl}/instances/1.2.999`)).statusCode, 404);
      t.equal((await get(server, `/dicomweb/studies/${newUid()}/series/${series}`)).statusCode, 404, 'series under another study → 404');
    });

    t.test('WADORS-10: no 206 without Range', async (t) => {
      t.equal((await get(server, seriesUrl)).statusCode, 200);
    });
  });

  t.test(`${backend}: NEG-1 / NEG-7 / D17 on a JPEG baseline instance`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const stored = await upload(server, readShared('transfer-syntax/ct-one-image/ct_1.2.840.10008.1.2.4.50.dcm'));
    const url = storedPath(stored.body)!;
    const first = await get(
      server,
      url,
      'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50, multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.57; q=0.5',
    );
    t.equal(first.statusCode, 200);
    t.equal(
      transferSyntaxOf(parseMultipart(first.headers['content-type'], first.rawPayload).parts[0]!.headers['content-type']),
      '1.2.840.10008.1.2.4.50',
      'NEG-1',
    );
    const star = await get(server, url, ANY_TS);
    t.equal(
      transferSyntaxOf(parseMultipart(star.headers['content-type'], star.rawPayload).parts[0]!.headers['content-type']),
      '1.2.840.10008.1.2.4.50',
      'NEG-7: * → stored',
    );
    const none = await get(server, url, 'multipart/related; type="application/dicom"');
    t.equal(
      transferSyntaxOf(parseMultipart(none.headers['content-type'], none.rawPayload).parts[0]!.headers['content-type']),
      '1.2.840.10008.1.2.4.50',
      'D17: no parameter → stored compressed syntax',
    );
    t.equal(
      (await get(server, url, 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.90')).statusCode,
      406,
      'NEG-7: no transcoder → 406',
    );
    const decoded = await get(server, url, 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1');
    t.equal(decoded.statusCode, 200, 'NEG-7 / WADORS-3: Explicit VR LE asked by UID → decoded (wado-decode.test.ts checks the pixels)');
    t.equal(
      transferSyntaxOf(parseMultipart(decoded.headers['content-type'], decoded.rawPayload).parts[0]!.headers['content-type']),
      EXPLICIT_LE,
      'NEG-8: decoded part typed Explicit VR LE',
    );
  });
}
