import { createHash } from 'node:crypto';
import t, { type Test } from 'tap';
import { FailureReason } from '@tessera/dicom';
import { backendNames, ctInstance, encodeInstance, multipartBuffer, newUid, startTestServer, type TestServer } from '@tessera/testkit';
import { findInstance, findStudy, indexCounts } from '@tessera/index/testing';

/** Behaviour of STOW-RS (digest STOW-1..12), the same cases on every storage back end. */

const json = (body: string) => JSON.parse(body) as Record<string, { vr: string; Value?: any[] }>;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function post(server: TestServer, parts: Buffer[], options: { path?: string; quoted?: boolean; headers?: Record<string, string> } = {}) {
  const { contentType, payload } = await multipartBuffer(parts, { quoted: options.quoted });
  return server.app.inject({
    method: 'POST',
    url: options.path ?? '/dicomweb/studies',
    headers: { 'content-type': contentType, accept: 'application/dicom+json', ...options.headers },
    payload,
  });
}

async function storedBytes(server: TestServer, sopInstanceUid: string): Promise<Buffer | undefined> {
  const found = await findInstance(server.index, sopInstanceUid);
  if (!found) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of await server.blobs.get(found.blobKey)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Every blob must be referenced by an index row, and every row's blob must exist. */
async function assertNothingHalfStored(t: Test, server: TestServer) {
  const keys: string[] = [];
  for await (const info of server.blobs.list('instances/')) keys.push(info.key);
  for (const key of keys) t.ok(await server.index.instances.isBlobReferenced(key), `blob ${key} has an index row`);
  const { instances } = await indexCounts(server.index);
  t.equal(keys.length, instances, 'one blob per indexed instance');
}

for (const backend of backendNames()) {
  t.test(backend, async (t) => {
    // pacs.example:8443 may shape URLs because it is configured (ALLOWED_HOSTS, issue #21 item 13).
    const server = await startTestServer(backend, { ALLOWED_HOSTS: 'pacs.example:8443' });
    t.teardown(() => server.close());

    t.test('STOW-2: a single-part application/dicom body is stored (200)', async (t) => {
      const file = encodeInstance(ctInstance());
      const res = await server.app.inject({ method: 'POST', url: '/dicomweb/studies', headers: { 'content-type': 'application/dicom' }, payload: file });
      t.equal(res.statusCode, 200);
      t.match(res.headers['content-type'], /^application\/dicom\+json/, 'STOW-12: response is application/dicom+json');
      const body = json(res.body);
      t.equal(body['00081199']?.Value?.length, 1, 'STOW-4: one ReferencedSOPSequence item');
      t.notOk(body['00081198'], 'STOW-4: no FailedSOPSequence when nothing failed');
    });

    t.test('NEG-9: quoted and unquoted boundary and type both parse', async (t) => {
      for (const quoted of [true, false]) {
        const res = await post(server, [encodeInstance(ctInstance()), encodeInstance(ctInstance())], { quoted });
        t.equal(res.statusCode, 200, `quoted=${quoted}`);
        t.equal(json(res.body)['00081199']?.Value?.length, 2, 'two instances referenced');
      }
    });

    t.test('STOW-4/10: response module keys and absolute RetrieveURLs', async (t) => {
      const spec = ctInstance();
      const a = spec.attributes;
      const res = await post(server, [encodeInstance(spec)], { headers: { host: 'pacs.example:8443' } });
      const body = json(res.body);
      t.same(Object.keys(body), ['00081190', '00081199'], 'keys in tag order: study RetrieveURL, ReferencedSOPSequence');
      t.same(body['00081190'], { vr: 'UR', Value: [`http://pacs.example:8443/dicomweb/studies/${a.StudyInstanceUID}`] }, 'STOW-10: study URL');
      const item = body['00081199']!.Value![0];
      t.same(item['00081150'], { vr: 'UI', Value: [a.SOPClassUID] });
      t.same(item['00081155'], { vr: 'UI', Value: [a.SOPInstanceUID] });
      t.same(
        item['00081190'].Value,
        [`http://pacs.example:8443/dicomweb/studies/${a.StudyInstanceUID}/series/${a.SeriesInstanceUID}/instances/${a.SOPInstanceUID}`],
        'STOW-10: instance URL',
      );
    });

    t.test('STOW-10 (PROJECT D7): top-level RetrieveURL is empty when instances span studies', async (t) => {
      const res = await post(server, [encodeInstance(ctInstance()), encodeInstance(ctInstance())]);
      t.same(json(res.body)['00081190'], { vr: 'UR' });
    });

    t.test('STOW-2: other media types are 415 problems', async (t) => {
      const zip = await server.app.inject({
        method: 'POST',
        url: '/dicomweb/studies',
        headers: { 'content-type': 'application/zip' },
        payload: Buffer.from('PK'),
      });
      t.equal(zip.statusCode, 415);
      t.match(zip.headers['content-type'], /^application\/problem\+json/);
      t.equal(JSON.parse(zip.body).status, 415);
      const xmlType = await server.app.inject({
        method: 'POST',
        url: '/dicomweb/studies',
        headers: { 'content-type': 'multipart/related; type="application/dicom+xml"; boundary=x' },
        payload: '--x--',
      });
      t.equal(xmlType.statusCode, 415, 'STOW-3 with XML metadata is not supported: 415');
      t.match(JSON.parse(xmlType.body).detail, /application\/dicom/);
      // JSON metadata + bulk data is supported (stow-metadata-bulk.test.ts): an empty body is 400, not 415.
      const jsonType = await server.app.inject({
        method: 'POST',
        url: '/dicomweb/studies',
        headers: { 'content-type': 'multipart/related; type="application/dicom+json"; boundary=x' },
        payload: '--x--',
      });
      t.equal(jsonType.statusCode, 400, 'STOW-3 JSON metadata + bulk data without parts: 400');
      t.equal(JSON.parse(jsonType.body).code, 'NO_PARTS');
    });

    t.test('STOW-6/7: study UID mismatch with the path fails that instance (43265)', async (t) => {
      const studyUid = newUid();
      const good = ctInstance({ StudyInstanceUID: studyUid });
      const other = ctInstance();
      const mixed = await post(server, [encodeInstance(good), encodeInstance(other)], { path: `/dicomweb/studies/${studyUid}` });
      t.equal(mixed.statusCode, 202, 'one stored, one failed: 202');
      const body = json(mixed.body);
      t.equal(body['00081199']?.Value?.length, 1);
      t.equal(body['00081198']?.Value?.length, 1);
      t.same(body['00081198']!.Value![0]['00081197'], { vr: 'US', Value: [FailureReason.StudyInstanceUIDMismatch] }, 'FailureReason is a JSON number 43265');
      t.equal(FailureReason.StudyInstanceUIDMismatch, 43265);
      t.notOk(await findInstance(server.index, String(other.attributes.SOPInstanceUID)), 'the mismatched instance is not stored');

      const only = await post(server, [encodeInstance(ctInstance())], { path: `/dicomweb/studies/${studyUid}` });
      t.equal(only.statusCode, 409, 'nothing stored: 409');
      t.same(json(only.body)['00081190'], { vr: 'UR' }, 'RetrieveURL present and empty (Type 2)');
    });

    t.test('STOW-8: unreadable parts', async (t) => {
      const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff));
      const alone = await post(server, [random]);
      t.equal(alone.statusCode, 400, 'a random part alone: 400');
      t.same(json(alone.body)['0008119A']?.Value?.[0]?.['00081197'], { vr: 'US', Value: [FailureReason.CannotUnderstand] });

      const mixed = await post(server, [encodeInstance(ctInstance()), random]);
      t.equal(mixed.statusCode, 202, 'next to a good file: 202');
      const others = json(mixed.body)['0008119A']?.Value;
      t.equal(others?.length, 1, 'one OtherFailuresSequence item');
      t.same(Object.keys(others?.[0] ?? {}), ['00081197', '0040A160'], 'FailureReason and its reason in words (Text Value), nothing else');
      t.same(others?.[0]?.['00081197'], { vr: 'US', Value: [49152] }, 'OtherFailuresSequence with 49152');
      t.match(others?.[0]?.['0040A160'], { vr: 'UT', Value: [/\S/] }, 'the reason in words is a UT element');

      const noStudy = ctInstance({ StudyInstanceUID: undefined });
      const missing = await post(server, [encodeInstance(noStudy)]);
      t.equal(missing.statusCode, 409);
      const failed = json(missing.body)['00081198']!.Value![0];
      t.same(failed['00081155'], { vr: 'UI', Value: [noStudy.attributes.SOPInstanceUID] }, 'failure reported against the SOP Instance');
      t.same(failed['00081197'], { vr: 'US', Value: [FailureReason.DataSetDoesNotMatchSOPClass] }, '43264 for a missing StudyInstanceUID');

      const badUid = await post(server, [encodeInstance(ctInstance({ SeriesInstanceUID: '1.2.03.4' }))]);
      t.same(json(badUid.body)['00081198']!.Value![0]['00081197'], { vr: 'US', Value: [43264] }, 'invalid UID: 43264');
    });

    t.test('STOW-6 (D10): empty or malformed bodies are 400 problems', async (t) => {
      const empty = await server.app.inject({
        method: 'POST',
        url: '/dicomweb/studies',
        headers: { 'content-type': 'multipart/related; type="application/dicom"; boundary=abc' },
        payload: '--abc--\r\n',
      });
      t.equal(empty.statusCode, 400);
      t.equal(JSON.parse(empty.body).code, 'NO_PARTS');
      const truncated = await server.app.inject({
        method: 'POST',
        url: '/dicomweb/studies',
        headers: { 'content-type': 'multipart/related; type="application/dicom"; boundary=abc' },
        payload: Buffer.concat([Buffer.from('--abc\r\nContent-Type: application/dicom\r\n\r\n'), encodeInstance(ctInstance()).subarray(0, 300)]),
      });
      t.equal(truncated.statusCode, 400, 'a body cut before its closing boundary');
      t.match(truncated.headers['content-type'], /problem\+json/);
      const noBoundary = await server.app.inject({
        method: 'POST',
        url: '/dicomweb/studies',
        headers: { 'content-type': 'multipart/related; type="application/dicom"' },
        payload: 'x',
      });
      t.equal(noBoundary.statusCode, 400, 'no boundary');
    });

    t.test('STOW-9: byte-identical re-send succeeds and changes nothing', async (t) => {
      const spec = ctInstance();
      const file = encodeInstance(spec);
      const first = await post(server, [file]);
      const before = await indexCounts(server.index);
      const second = await post(server, [file]);
      t.equal(first.statusCode, 200);
      t.equal(second.statusCode, 200, 'the re-send is a success');
      t.equal(json(second.body)['00081199']?.Value?.length, 1, 'listed in ReferencedSOPSequence');
      t.same(await indexCounts(server.index), before, 'no row added');
      t.equal(sha256((await storedBytes(server, String(spec.attributes.SOPInstanceUID)))!), sha256(file));
    });

    t.test('STOW-9: same SOP Instance UID, different bytes: refused, original intact', async (t) => {
      const spec = ctInstance();
      const original = encodeInstance(spec);
      const altered = encodeInstance({ ...spec, attributes: { ...spec.attributes, PatientName: 'Other^Name' } });
      t.equal((await post(server, [original])).statusCode, 200);
      const res = await post(server, [altered]);
      t.equal(res.statusCode, 409);
      t.same(json(res.body)['00081198']!.Value![0]['00081197'], { vr: 'US', Value: [FailureReason.DuplicateSOPInstance] });
      t.same(await storedBytes(server, String(spec.attributes.SOPInstanceUID)), original, 'the stored bytes are the original');

      const moved = encodeInstance({ ...spec, attributes: { ...spec.attributes, StudyInstanceUID: newUid() } });
      const movedRes = await post(server, [moved]);
      t.equal(movedRes.statusCode, 409, 'the same SOP Instance UID under another study is refused, never moved');
      t.equal((await findInstance(server.index, String(spec.attributes.SOPInstanceUID)))?.studyInstanceUid, spec.attributes.StudyInstanceUID);
      await assertNothingHalfStored(t, server);
    });

    t.test('a series UID reused under another study is refused', async (t) => {
      const seriesUid = newUid();
      t.equal((await post(server, [encodeInstance(ctInstance({ SeriesInstanceUID: seriesUid }))])).statusCode, 200);
      const res = await post(server, [encodeInstance(ctInstance({ SeriesInstanceUID: seriesUid }))]);
      t.equal(res.statusCode, 409);
      await assertNothingHalfStored(t, server);
    });

    t.test('QIDO-8: computed attributes after several requests', async (t) => {
      const studyUid = newUid();
      const ctSeries = newUid();
      await post(server, [encodeInstance(ctInstance({ StudyInstanceUID: studyUid, SeriesInstanceUID: ctSeries }))]);
      await post(server, [
        encodeInstance(ctInstance({ StudyInstanceUID: studyUid, SeriesInstanceUID: ctSeries, InstanceNumber: 2 })),
        encodeInstance(ctInstance({ StudyInstanceUID: studyUid, Modality: 'SR', SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.11' })),
      ]);
      const study = (await findStudy(server.index, studyUid))!;
      t.equal(study.numberOfSeries, 2, 'NumberOfStudyRelatedSeries');
      t.equal(study.numberOfInstances, 3, 'NumberOfStudyRelatedInstances');
      t.same(study.modalitiesInStudy, ['CT', 'SR'], 'ModalitiesInStudy');
      t.same(study.sopClassesInStudy, ['1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.5.1.4.1.1.88.11'], 'SOPClassesInStudy');
    });

    t.test('concurrent uploads of the same instance end in one consistent state', async (t) => {
      const spec = ctInstance();
      const file = encodeInstance(spec);
      const results = await Promise.all(Array.from({ length: 6 }, () => post(server, [file])));
      t.same(
        results.map((r) => r.statusCode),
        [200, 200, 200, 200, 200, 200],
        'every identical upload succeeds',
      );
      const contested = ctInstance();
      const versions = Array.from({ length: 5 }, (_, i) =>
        encodeInstance({ ...contested, attributes: { ...contested.attributes, PatientName: `Version^${i}` } }),
      );
      const outcomes = await Promise.all(versions.map((v) => post(server, [v])));
      t.equal(outcomes.filter((r) => r.statusCode === 200).length, 1, 'exactly one differing version wins');
      t.equal(outcomes.filter((r) => r.statusCode === 409).length, 4, 'the others are refused');
      const stored = await storedBytes(server, String(contested.attributes.SOPInstanceUID));
      t.ok(
        versions.some((v) => stored?.equals(v)),
        'the stored bytes are one complete version',
      );
      const row = await findInstance(server.index, String(contested.attributes.SOPInstanceUID));
      t.equal(row?.sha256, sha256(stored!), 'the row describes the stored bytes');
      await assertNothingHalfStored(t, server);
    });

    t.test('STOW-12: Accept application/json still gets application/dicom+json', async (t) => {
      const res = await post(server, [encodeInstance(ctInstance())], { headers: { accept: 'application/json' } });
      t.equal(res.statusCode, 200);
      t.match(res.headers['content-type'], /^application\/dicom\+json/);
    });

    t.test('STOW-1: other methods on /studies are 405 with Allow', async (t) => {
      const res = await server.app.inject({ method: 'DELETE', url: '/dicomweb/studies' });
      t.equal(res.statusCode, 405);
      t.match(res.headers.allow, /POST/);
      t.ok(res.body.length > 0, 'COMMON-4: a 4xx has a body');
    });

    t.test('invalid study UID in the path is 400', async (t) => {
      const res = await post(server, [encodeInstance(ctInstance())], { path: '/dicomweb/studies/1.2.03' });
      t.equal(res.statusCode, 400);
      t.equal(JSON.parse(res.body).code, 'INVALID_UID');
    });
  });

  t.test(`${backend}: overwrite policy replaces differing content`, async (t) => {
    const server = await startTestServer(backend, { STOW_DUPLICATE_POLICY: 'overwrite' });
    t.teardown(() => server.close());
    const spec = ctInstance();
    const original = encodeInstance(spec);
    const altered = encodeInstance({ ...spec, attributes: { ...spec.attributes, PatientName: 'Other^Name' } });
    t.equal((await post(server, [original])).statusCode, 200);
    t.equal((await post(server, [altered])).statusCode, 200);
    t.same(await storedBytes(server, String(spec.attributes.SOPInstanceUID)), altered, 'the new bytes replaced the old');
    t.equal((await indexCounts(server.index)).instances, 1);
    await assertNothingHalfStored(t, server);
  });

  t.test(`${backend}: limits answer 413`, async (t) => {
    const server = await startTestServer(backend, { STOW_MAX_BODY_BYTES: '50000', STOW_MAX_PART_BYTES: '20000' });
    t.teardown(() => server.close());
    const big = encodeInstance(ctInstance({}, { rows: 128, columns: 128, frames: 1 }));
    const part = await post(server, [big]);
    t.equal(part.statusCode, 413, 'a part above STOW_MAX_PART_BYTES');
    t.equal(JSON.parse(part.body).code, 'PART_TOO_LARGE');
    const body = await post(server, [encodeInstance(ctInstance({}, { rows: 64, columns: 64, frames: 1 })), big, big]);
    t.equal(body.statusCode, 413, 'a body above STOW_MAX_BODY_BYTES');
    await assertNothingHalfStored(t, server);
  });
}
