import t from 'tap';
import { FailureReason } from '@tessera/dicom';
import { ctInstance, encodeInstance } from '@tessera/testkit';
import { failureReasons, retrieveInstance, sha256, skipReason, startCluster, store, studyState } from './harness.js';

/**
 * Issue #17, scenarios 1 and 2: two `tessera serve` processes (A, B) on one PostgreSQL and one S3.
 * 1. What A stores, B serves at once: QIDO (with computed counts), metadata, frames, thumbnails and
 *    the OHIF JSON, byte for byte.
 * 2. 20 concurrent writers split over A and B store into one study: identical re-sends all succeed
 *    with one stored copy; 20 different versions of one SOP Instance UID: exactly one wins, the 19
 *    others get the duplicate failure (0xA7F0), the stored bytes are the winner's, counts are exact.
 */
t.test('two servers, one storage', { skip: skipReason }, async (t) => {
  const cluster = await startCluster({ servers: 2 });
  t.teardown(() => cluster.close());
  const [a, b] = cluster.servers as [(typeof cluster.servers)[0], (typeof cluster.servers)[0]];

  t.test('1: stored on A, served by B at once', async (t) => {
    const first = ctInstance({}, { rows: 64, columns: 48, frames: 2 });
    const study = first.attributes.StudyInstanceUID as string;
    const series = first.attributes.SeriesInstanceUID as string;
    const second = ctInstance({ StudyInstanceUID: study, SeriesInstanceUID: series, InstanceNumber: 2 }, { rows: 64, columns: 48, frames: 1 });
    const stored = await store(a, [first, second]);
    t.equal(stored.status, 200, 'A stores two instances');

    t.same(
      await studyState(b, study),
      { series: 1, instances: 2, sopInstanceUids: [first.attributes.SOPInstanceUID, second.attributes.SOPInstanceUID].sort() },
      'QIDO on B: the study, its computed counts, both instances',
    );
    const uids = { study, series, sop: first.attributes.SOPInstanceUID as string };
    t.equal(sha256((await retrieveInstance(b, uids)) as Buffer), sha256(encodeInstance(first)), 'WADO-RS on B: the bytes A received');
    const metadata = await fetch(`${b.url}/dicomweb/studies/${study}/metadata`, { headers: { accept: 'application/dicom+json' } });
    t.equal(metadata.status, 200);
    const items = (await metadata.json()) as Record<string, { Value?: unknown[] }>[];
    t.same(
      items.map((i) => i['00080018']?.Value?.[0]).sort(),
      [first.attributes.SOPInstanceUID, second.attributes.SOPInstanceUID].sort(),
      'metadata on B: both instances',
    );
    const frame = await fetch(`${b.url}/dicomweb/studies/${study}/series/${series}/instances/${uids.sop}/frames/2`, {
      headers: { accept: 'multipart/related; type="application/octet-stream"' },
    });
    t.equal(frame.status, 200, 'frame 2 on B');
    const frameBody = Buffer.from(await frame.arrayBuffer());
    const pixels = encodeInstance(first).subarray(-64 * 48 * 2);
    t.ok(frameBody.includes(pixels), 'frame 2 on B holds the pixels A received');
    const thumbnail = await fetch(`${b.url}/dicomweb/studies/${study}/thumbnail`, { headers: { accept: 'image/png' } });
    t.equal(thumbnail.status, 200, 'study thumbnail on B');
    t.equal(thumbnail.headers.get('content-type'), 'image/png');
    const ohif = await fetch(`${b.url}/ohif/dicomjson/studies/${study}`);
    t.equal(ohif.status, 200, 'OHIF JSON on B');
    const doc = JSON.stringify(await ohif.json());
    t.ok(doc.includes(uids.sop) && doc.includes(second.attributes.SOPInstanceUID as string), 'the OHIF JSON lists both instances');
  });

  t.test('2: 20 concurrent writers over A and B, one study', async (t) => {
    const base = ctInstance({}, { rows: 16, columns: 16, frames: 1 });
    const study = base.attributes.StudyInstanceUID as string;
    const series = base.attributes.SeriesInstanceUID as string;
    const shared = Array.from({ length: 10 }, (_, i) =>
      encodeInstance(ctInstance({ StudyInstanceUID: study, SeriesInstanceUID: series, InstanceNumber: i + 1 }, { rows: 16, columns: 16, frames: 1 })),
    );
    const contested = ctInstance({ StudyInstanceUID: study, SeriesInstanceUID: series, InstanceNumber: 99 }, { rows: 16, columns: 16, frames: 1 });
    const contestedUid = contested.attributes.SOPInstanceUID as string;
    // 20 versions of one SOP Instance UID, each writer its own (ImageComments differ).
    const versions = Array.from({ length: 20 }, (_, w) =>
      encodeInstance({ ...contested, attributes: { ...contested.attributes, ImageComments: `writer ${w}` } }),
    );
    const answers = await Promise.all(
      versions.map((version, w) => {
        // Each writer sends the ten shared instances (identical bytes for every writer) and its own version.
        const order = [...shared.slice(w % 10), ...shared.slice(0, w % 10)];
        return store(w % 2 === 0 ? a : b, [...order, version]);
      }),
    );
    const winners = answers.flatMap((answer, w) => (answer.status === 200 ? [w] : []));
    t.equal(winners.length, 1, `exactly one writer stores its version (statuses ${answers.map((x) => x.status).join(',')})`);
    const losers = answers.filter((answer) => answer.status !== 200);
    t.ok(
      losers.every(
        (answer) =>
          answer.status === 202 && failureReasons(answer).size === 1 && failureReasons(answer).get(contestedUid) === FailureReason.DuplicateSOPInstance,
      ),
      'the 19 others: 202, one failure, the duplicate (0xA7F0), for the contested instance only; the ten shared ones succeed',
    );
    const winner = winners[0]!;
    t.equal(
      sha256((await retrieveInstance(b, { study, series, sop: contestedUid })) as Buffer),
      sha256(versions[winner]!),
      "the stored bytes are the winner's (read through B)",
    );
    t.equal(sha256((await retrieveInstance(a, { study, series, sop: contestedUid })) as Buffer), sha256(versions[winner]!), 'and through A');
    for (const server of [a, b]) {
      const state = await studyState(server, study);
      t.same([state.series, state.instances, state.sopInstanceUids.length], [1, 11, 11], `${server.name}: 1 series, 11 instances, counts exact`);
    }
    // One stored copy each: the bucket holds exactly one object per instance of the study.
    const listed = await fetch(`${cluster.s3.endpoint}/${cluster.s3.bucket}?list-type=2&prefix=archive/instances/${study}/`);
    const keys = [...(await listed.text()).matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]!);
    t.equal(keys.length, 11, 'the bucket holds 11 objects for the study: one per instance, the losers removed');
  });
});
