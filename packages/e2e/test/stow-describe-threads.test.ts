import { createHash } from 'node:crypto';
import t, { type Test } from 'tap';
import { FailureReason } from '@tessera/dicom';
import { findInstance } from '@tessera/index/testing';
import { buildApp } from '@tessera/server';
import { ctInstance, encodeInstance, multipartBuffer, newUid, openTestStorage } from '@tessera/testkit';

/**
 * STOW_DESCRIBE_THREADS: parts hashed and described in worker threads store exactly what the event
 * loop stores: the same Store Instances Response, the same SHA-256 in the index (STOW-9's duplicate
 * check depends on it), the same DICOM JSON metadata, the same per-instance failures. The request
 * mixes an instance, its byte-identical re-send, an instance larger than the worker's 1 MiB header
 * buffer (hashed across further reads), one of another study and bytes that are not DICOM.
 */

type Json = Record<string, { vr: string; Value?: any[] }>;

const studyUid = newUid();
const small = encodeInstance(ctInstance({ StudyInstanceUID: studyUid, PatientName: 'Orsted^Hans' }, { rows: 64, columns: 64, frames: 1 }));
const largeSpec = ctInstance({ StudyInstanceUID: studyUid }, { rows: 512, columns: 512, frames: 3 });
const large = encodeInstance(largeSpec);
const otherStudy = encodeInstance(ctInstance());
const notDicom = Buffer.from('this is not a DICOM file at all, just some words '.repeat(8));

async function store(t: Test, describeThreads: number) {
  const storage = await openTestStorage('embedded');
  const config = { ...storage.config, stow: { ...storage.config.stow, describeThreads } };
  const app = await buildApp({ config, index: storage.index, blobs: storage.blobs, logger: false });
  t.teardown(async () => {
    await app.close();
    await storage.close();
  });
  const { contentType, payload } = await multipartBuffer([small, small, large, otherStudy, notDicom]);
  const res = await app.inject({
    method: 'POST',
    url: `/dicomweb/studies/${studyUid}`,
    headers: { 'content-type': contentType, accept: 'application/dicom+json' },
    payload,
  });
  const body = JSON.parse(res.body) as Json;
  const stored = (body['00081199']?.Value ?? []) as Json[];
  const sops = stored.map((item) => String(item['00081155']?.Value?.[0]));
  const rows = await Promise.all(sops.map((sop) => findInstance(storage.index, sop)));
  const metadata = await Promise.all(
    rows.map(async (row) => {
      const answer = await app.inject({
        method: 'GET',
        url: `/dicomweb/studies/${row!.studyInstanceUid}/series/${row!.seriesInstanceUid}/instances/${row!.sopInstanceUid}/metadata`,
        headers: { accept: 'application/dicom+json' },
      });
      return JSON.parse(answer.body) as unknown;
    }),
  );
  // The RetrieveURLs name the request's host, the same for both apps.
  return { status: res.statusCode, body, rows, metadata };
}

t.test('worker threads store what the event loop stores', async (t) => {
  const inThread = await store(t, 0);
  const inWorkers = await store(t, 1);

  t.equal(inThread.status, 202, 'some stored, some failed');
  t.equal(inWorkers.status, inThread.status, 'the same status');
  t.same(inWorkers.body, inThread.body, 'the same Store Instances Response');
  const failed = inWorkers.body['00081198']?.Value as Json[];
  t.same(
    failed.map((item) => item['00081197']?.Value?.[0]),
    [FailureReason.StudyInstanceUIDMismatch],
    'the instance of another study fails with A901 (its UIDs were read in the worker)',
  );
  const other = inWorkers.body['0008119A']?.Value as Json[];
  t.equal(other.length, 1, 'the bytes that are not DICOM fail as OtherFailuresSequence');
  t.equal(other[0]!['00081197']?.Value?.[0] & 0xf000, 0xc000, 'with a C000-family reason, as a DicomParseError from the worker');

  const expected = [small, small, large].map((bytes) => createHash('sha256').update(bytes).digest('hex'));
  t.same(
    inWorkers.rows.map((row) => row?.sha256),
    expected,
    'the index holds the SHA-256 of the bytes, also beyond the first MiB',
  );
  t.same(
    inWorkers.rows.map((row) => row?.size),
    [small.length, small.length, large.length],
  );
  t.ok(large.length > 1 << 20, `the large instance (${large.length} bytes) is longer than the worker's header buffer`);
  t.same(inWorkers.metadata, inThread.metadata, 'the same DICOM JSON metadata (text decoded, bulk data and frames located)');
  t.equal(inWorkers.rows[2]?.sopInstanceUid, largeSpec.attributes.SOPInstanceUID);
});
