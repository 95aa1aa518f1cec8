import t from 'tap';
import { ctInstance, encodeInstance } from '@tessera/testkit';
import { retrieveInstance, sha256, skipReason, startCluster, store, studyState } from './harness.js';

/**
 * Issue #17, scenario 3: STOW_DUPLICATE_POLICY=overwrite on two servers. An instance replaced through
 * A is never served stale by B: metadata, its ETag (a conditional GET with the old one is a 200),
 * frames, rendered images, thumbnails and the bytes are the new version's. Then writers over A and B
 * replace one instance back and forth concurrently: whatever wins, the row's blob exists and holds
 * the bytes of one of the versions sent.
 */
const pngSize = (png: Buffer) => ({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) });

t.test('overwrite on A, read on B', { skip: skipReason }, async (t) => {
  const cluster = await startCluster({ servers: 2, env: { STOW_DUPLICATE_POLICY: 'overwrite' } });
  t.teardown(() => cluster.close());
  const [a, b] = cluster.servers as [(typeof cluster.servers)[0], (typeof cluster.servers)[0]];

  t.test('3: no stale metadata, ETag, frame, rendered image or thumbnail', async (t) => {
    const v1 = ctInstance({ SeriesDescription: 'version 1' }, { rows: 64, columns: 64, frames: 1 });
    const uids = {
      study: v1.attributes.StudyInstanceUID as string,
      series: v1.attributes.SeriesInstanceUID as string,
      sop: v1.attributes.SOPInstanceUID as string,
    };
    const instance = `${b.url}/dicomweb/studies/${uids.study}/series/${uids.series}/instances/${uids.sop}`;
    t.equal((await store(a, [v1])).status, 200, 'A stores version 1');

    // B reads everything once, so any per-process cache would hold version 1.
    const metadata1 = await fetch(`${b.url}/dicomweb/studies/${uids.study}/metadata`, { headers: { accept: 'application/dicom+json' } });
    const etag1 = metadata1.headers.get('etag')!;
    t.ok(etag1, 'B: metadata of version 1 with an ETag');
    await metadata1.arrayBuffer();
    const thumb1 = Buffer.from(await (await fetch(`${instance}/thumbnail`, { headers: { accept: 'image/png' } })).arrayBuffer());
    t.same(
      pngSize(Buffer.from(await (await fetch(`${instance}/rendered`, { headers: { accept: 'image/png' } })).arrayBuffer())),
      { width: 64, height: 64 },
      'B: rendered 64×64',
    );
    t.equal(
      (await fetch(`${b.url}/dicomweb/studies/${uids.study}/metadata`, { headers: { accept: 'application/dicom+json', 'if-none-match': etag1 } })).status,
      304,
      'B: unchanged → 304',
    );

    const v2 = ctInstance({ ...v1.attributes, SeriesDescription: 'version 2', Rows: 32, Columns: 48 }, { rows: 32, columns: 48, frames: 1 });
    t.equal((await store(a, [v2])).status, 200, 'A replaces it with version 2 (32×48)');

    const metadata2 = await fetch(`${b.url}/dicomweb/studies/${uids.study}/metadata`, {
      headers: { accept: 'application/dicom+json', 'if-none-match': etag1 },
    });
    t.equal(metadata2.status, 200, 'B: a conditional GET with the old ETag is a 200, not a 304');
    t.not(metadata2.headers.get('etag'), etag1, 'B: a new ETag');
    const [item] = (await metadata2.json()) as Record<string, { Value?: unknown[] }>[];
    t.same([item?.['0008103E']?.Value?.[0], item?.['00280010']?.Value?.[0], item?.['00280011']?.Value?.[0]], ['version 2', 32, 48], 'B: metadata of version 2');
    t.equal(sha256((await retrieveInstance(b, uids)) as Buffer), sha256(encodeInstance(v2)), 'B: the bytes of version 2');
    const frame = Buffer.from(
      await (await fetch(`${instance}/frames/1`, { headers: { accept: 'multipart/related; type="application/octet-stream"' } })).arrayBuffer(),
    );
    t.ok(frame.includes(encodeInstance(v2).subarray(-32 * 48 * 2)) && frame.length < 64 * 64 * 2, 'B: frame 1 of version 2');
    t.same(
      pngSize(Buffer.from(await (await fetch(`${instance}/rendered`, { headers: { accept: 'image/png' } })).arrayBuffer())),
      { width: 48, height: 32 },
      'B: rendered 48×32',
    );
    const thumb2 = Buffer.from(await (await fetch(`${instance}/thumbnail`, { headers: { accept: 'image/png' } })).arrayBuffer());
    t.not(sha256(thumb2), sha256(thumb1), 'B: a new thumbnail');
    t.equal(pngSize(thumb2).width * 32, pngSize(thumb2).height * 48, 'B: the thumbnail has version 2’s aspect ratio (48:32)');
    t.same(await studyState(b, uids.study), { series: 1, instances: 1, sopInstanceUids: [uids.sop] }, 'B: still one instance');
  });

  t.test('3b: concurrent replacements over A and B leave a readable winner', async (t) => {
    const base = ctInstance({}, { rows: 16, columns: 16, frames: 1 });
    const uids = {
      study: base.attributes.StudyInstanceUID as string,
      series: base.attributes.SeriesInstanceUID as string,
      sop: base.attributes.SOPInstanceUID as string,
    };
    // Two versions, sent again and again: a version comes back after the other replaced it (A→B→A).
    const versions = [0, 1].map((v) => encodeInstance({ ...base, attributes: { ...base.attributes, ImageComments: `version ${v}` } }));
    const hashes = versions.map(sha256);
    for (let round = 0; round < 15; round++) {
      const answers = await Promise.all(Array.from({ length: 6 }, (_, w) => store(w % 2 ? b : a, [versions[(w + round) % 2]!])));
      t.ok(
        answers.every((x) => x.status === 200),
        `round ${round + 1}: every replacement succeeds (${answers.map((x) => x.status).join(',')})`,
      );
      const bytes = await retrieveInstance(b, uids);
      if (typeof bytes === 'number' || !hashes.includes(sha256(bytes))) {
        t.fail(
          `round ${round + 1}: the stored instance is not readable as one of the versions (${typeof bytes === 'number' ? `status ${bytes}` : 'other bytes'})`,
        );
        return;
      }
    }
    t.pass('after 15 rounds of 6 concurrent replacements the instance is readable as one of the versions each time');
  });
});
