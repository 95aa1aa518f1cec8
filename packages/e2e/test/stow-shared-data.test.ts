import { createHash } from 'node:crypto';
import t, { type Test } from 'tap';
import { FailureReason } from '@tessera/dicom';
import { type TestServer, backendNames, readBadIndex, readManifest, readShared, startTestServer } from '@tessera/testkit';
import { sharedRounds } from './retrieve-helpers.js';
import { findInstance, indexCounts } from '@tessera/index/testing';

/**
 * Every file of packages/test-data/dicom through STOW-RS: the broken inputs of bad/ answered as
 * bad/INDEX.tsv says, every real file stored byte-identical and indexed under its UIDs.
 */

/** bad/ inputs that INDEX.tsv allows a server to accept; we accept exactly these. */
const BAD_BUT_ACCEPTED = new Set([
  'garbage-preamble-text.dcm', // preamble content is free (PS3.10 §7.1)
  'odd-length-element.dcm', // lenient: an odd length is read as declared
  'hostile-strings-xss-sql.dcm', // valid DICOM; escaping is the output's job
  'overlong-values.dcm', // stored intact, never truncated
  'tags-out-of-order.dcm', // read, and rendered in tag order
  'trailing-garbage.dcm', // bytes after Pixel Data are ignored
  'no-patient-id.dcm', // Type 2 attributes may be empty
  'meta-sop-uid-mismatch.dcm', // indexed by the dataset UID, with a warning
]);

/**
 * Real files that are refused on purpose, with the reason: they lack what an archive indexes by,
 * or they are cut short (storing a truncated object would hide data loss).
 */
const REAL_BUT_REFUSED: Record<string, number> = {
  'edge/pixel/mr-truncated-pixeldata.dcm': FailureReason.CannotUnderstand,
  'edge/pixel/rtplan-truncated.dcm': FailureReason.CannotUnderstand,
  'edge/pixel/j2k-too-short.dcm': FailureReason.CannotUnderstand,
  'edge/no-meta/ct-small-no-meta.dcm': FailureReason.CannotUnderstand, // a stray byte before the first element
  'edge/vr/invalid-sequence-in-jpeg-ll.dcm': FailureReason.DataSetDoesNotMatchSOPClass, // hex digests as UIDs
};
const MEDIA_STORAGE_DIRECTORY = FailureReason.SOPClassNotSupported;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const isUid = (s: string) => s.length > 0 && s.length <= 64 && /^(0|[1-9]\d*)(\.(0|[1-9]\d*))*$/.test(s);

async function upload(server: TestServer, bytes: Buffer) {
  const res = await server.app.inject({ method: 'POST', url: '/dicomweb/studies', headers: { 'content-type': 'application/dicom' }, payload: bytes });
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, { Value?: Record<string, { Value?: unknown[] }>[] }> };
}

const reasonsOf = (body: Awaited<ReturnType<typeof upload>>['body']): number[] =>
  [...(body['00081198']?.Value ?? []), ...(body['0008119A']?.Value ?? [])].map((item) => Number(item['00081197']?.Value?.[0]));

async function assertNothingHalfStored(t: Test, server: TestServer) {
  let blobs = 0;
  for await (const info of server.blobs.list('instances/')) {
    blobs++;
    if (!(await server.index.instances.isBlobReferenced(info.key))) t.fail(`orphan blob ${info.key}`);
  }
  t.equal(blobs, (await indexCounts(server.index)).instances, 'every blob has its row and every row its blob');
}

const manifest = readManifest();

for (const backend of backendNames()) {
  t.test(`${backend}: bad/ inputs are answered as bad/INDEX.tsv says`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    for (const { file, expected } of readBadIndex()) {
      const { status, body } = await upload(server, readShared(`bad/${file}`));
      t.ok(status < 500, `${file}: no 5xx (${status})`);
      if (BAD_BUT_ACCEPTED.has(file)) {
        t.ok(status === 200 || status === 202, `${file}: accepted (${expected})`);
        t.equal(body['00081199']?.Value?.length, 1, `${file}: referenced`);
      } else {
        t.ok(status === 400 || status === 409, `${file}: refused with ${status} (${expected})`);
        if ((body as { code?: string }).code === 'EMPTY_BODY') {
          t.equal(file, 'zero-length.dcm', 'only the empty file is refused as an empty request (400 problem+json)');
          continue;
        }
        const reasons = reasonsOf(body);
        t.equal(reasons.length, 1, `${file}: one failure item`);
        t.ok(
          reasons.every((r) => (r >= 0xa700 && r <= 0xa9ff) || (r >= 0xc000 && r <= 0xcfff)),
          `${file}: reason ${reasons.map((r) => r.toString(16))} is in the A7xx/A9xx/Cxxx families`,
        );
      }
    }
    const { instances } = await indexCounts(server.index);
    t.equal(instances, BAD_BUT_ACCEPTED.size, 'only the accepted inputs are indexed');
    const mismatch = await upload(server, readShared('bad/meta-sop-uid-mismatch.dcm'));
    const sop = mismatch.body['00081199']?.Value?.[0]?.['00081155']?.Value?.[0];
    t.equal(sop, '2.25.1176356872864640955511709400536012124', 'meta-sop-uid-mismatch: indexed under the dataset UID, not the File Meta one');
    const live = await server.app.inject({ method: 'GET', url: '/healthz' });
    t.equal(live.statusCode, 200, 'the server is still up');
    await assertNothingHalfStored(t, server);
  });

  t.test(`${backend}: every real file is stored byte-identical under its UIDs`, async (t) => {
    // Files that share a SOP Instance UID on purpose go to separate fresh stores (rounds).
    let accepted = 0;
    for (const [roundIndex, files] of sharedRounds().entries()) {
      const server = await startTestServer(backend);
      try {
        for (const path of files) {
          const row = manifest.get(path);
          const bytes = readShared(path);
          const { status, body } = await upload(server, bytes);
          t.ok(status < 500, `${path}: no 5xx`);
          const expectedRefusal =
            REAL_BUT_REFUSED[path] ??
            (path.includes('DICOMDIR') ? MEDIA_STORAGE_DIRECTORY : undefined) ??
            (!row || ![row.studyUid, row.seriesUid, row.sopUid].every(isUid) || !isUid(row.sopClass) ? FailureReason.DataSetDoesNotMatchSOPClass : undefined);
          if (expectedRefusal !== undefined) {
            t.same(reasonsOf(body), [expectedRefusal], `${path}: refused with 0x${expectedRefusal.toString(16)} (documented)`);
            continue;
          }
          accepted++;
          t.ok(status === 200 || status === 202, `${path}: stored (${status})`);
          t.notOk(body['00081198'] ?? body['0008119A'], `${path}: no failure`);
          const found = await findInstance(server.index, row!.sopUid);
          t.ok(found, `${path}: indexed under SOP Instance UID ${row!.sopUid}`);
          if (!found) continue;
          t.equal(found.studyInstanceUid, row!.studyUid, `${path}: StudyInstanceUID`);
          t.equal(found.seriesInstanceUid, row!.seriesUid, `${path}: SeriesInstanceUID`);
          const retrievable = await server.index.retrieve.instance({
            studyInstanceUid: row!.studyUid,
            seriesInstanceUid: row!.seriesUid,
            sopInstanceUid: row!.sopUid,
          });
          if (row!.transferSyntax) t.equal(retrievable?.transferSyntaxUid, row!.transferSyntax, `${path}: transfer syntax`);
          t.equal(found.sha256, sha256(bytes), `${path}: SHA-256 recorded`);
          const chunks: Buffer[] = [];
          for await (const chunk of await server.blobs.get(found.blobKey)) chunks.push(chunk as Buffer);
          t.ok(Buffer.concat(chunks).equals(bytes), `${path}: stored bytes identical`);
        }
        await assertNothingHalfStored(t, server);
      } finally {
        await server.close();
      }
      t.comment(`round ${roundIndex}: ${files.length} files`);
    }
    t.ok(accepted > 200, `most real files are archived (${accepted})`);
  });

  t.test(`${backend}: re-encodings of one SOP Instance in one store: the second is refused`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const first = readShared('transfer-syntax/ct-one-image/ct_1.2.840.10008.1.2.1.dcm');
    const second = readShared('transfer-syntax/ct-one-image/ct_1.2.840.10008.1.2.dcm');
    t.equal((await upload(server, first)).status, 200);
    const res = await upload(server, second);
    t.equal(res.status, 409);
    t.same(reasonsOf(res.body), [FailureReason.DuplicateSOPInstance]);
    const found = await findInstance(server.index, '1.2.840.113619.2.30.1.1762295590.1623.978668950.109');
    t.equal(found?.sha256, sha256(first), 'the first encoding is kept');
    await assertNothingHalfStored(t, server);
  });
}
