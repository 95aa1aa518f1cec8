import { createHash } from 'node:crypto';
import t from 'tap';
import { bufferByteSource, describeInstance } from '@tessera/dicom';
import { buildApp } from '@tessera/server';
import { backendNames, ctInstance, encodeInstance, newUid, openTestStorage } from '@tessera/testkit';
import { findStudy } from '@tessera/index/testing';

/**
 * Issue #21 item 10: a server killed after a store transaction committed but before the request
 * recomputed its study's counts (QIDO-8) must not leave the counts stale. The store transaction marks
 * the study; the next server start recomputes marked studies. The crash window is reproduced exactly:
 * the index's store transaction runs, the request's refresh never does, and a new server starts.
 */
for (const backend of backendNames()) {
  t.test(`${backend}: counts left stale by a killed request are right once a server starts`, async (t) => {
    const storage = await openTestStorage(backend);
    t.teardown(() => storage.close());
    const studyUid = newUid();
    const seriesUids = [newUid(), newUid()];
    const records = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const bytes = encodeInstance(ctInstance({ StudyInstanceUID: studyUid, SeriesInstanceUID: seriesUids[i % 2]!, SOPInstanceUID: newUid() }));
        const description = await describeInstance(bufferByteSource(bytes), { maxHeaderBytes: 1 << 20, inlineBinaryMaxBytes: 0 });
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        const blobKey = `instances/${studyUid}/${description.seriesInstanceUid}/${description.sopInstanceUid}.${sha256}.dcm`;
        await storage.blobs.put(blobKey, bytes, bytes.length);
        return { description, size: bytes.length, sha256, blobKey };
      }),
    );
    // The first phase of a STOW request: blobs, then the index transaction. Then the process "dies".
    await storage.index.instances.storeInstances(records, { overwrite: false });
    t.equal((await findStudy(storage.index, studyUid))?.numberOfInstances, 0, 'the counts are stale (the crash window)');

    const app = await buildApp({ config: storage.config, index: storage.index, blobs: storage.blobs, logger: false });
    t.teardown(() => app.close());
    await app.ready();
    const res = await app.inject({ method: 'GET', url: `/dicomweb/studies?StudyInstanceUID=${studyUid}&includefield=00201208&includefield=00201206` });
    t.equal(res.statusCode, 200);
    const [study] = JSON.parse(res.body) as Record<string, { Value?: unknown[] }>[];
    t.same(study!['00201208']?.Value, [3], 'NumberOfStudyRelatedInstances after the start');
    t.same(study!['00201206']?.Value, [2], 'NumberOfStudyRelatedSeries after the start');
    t.equal(await storage.index.instances.refreshPendingStudies(), 0, 'nothing is left marked');
  });

  t.test(`${backend}: an ordinary upload leaves no study marked`, async (t) => {
    const storage = await openTestStorage(backend);
    t.teardown(() => storage.close());
    const app = await buildApp({ config: storage.config, index: storage.index, blobs: storage.blobs, logger: false });
    t.teardown(() => app.close());
    const res = await app.inject({
      method: 'POST',
      url: '/dicomweb/studies',
      headers: { 'content-type': 'application/dicom' },
      payload: encodeInstance(ctInstance()),
    });
    t.equal(res.statusCode, 200);
    t.equal(await storage.index.instances.refreshPendingStudies(), 0, 'the request refreshed its study and cleared the mark');
  });
}
