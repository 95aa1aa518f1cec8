import t from 'tap';
import { ctInstance, encodeInstance } from '@tessera/testkit';
import { deleteStudy, retrieveInstance, sha256, skipReason, startCluster, store, studyState } from './harness.js';

/**
 * Issue #17, scenario 4: a DELETE of a study on A while B stores new instances into the same study.
 * The rule (docs/reliability.md, "Delete"): the study's rows go in one transaction; a store that meets
 * the deletion is retried and lands in a fresh entry of the study. So the end state, whatever the
 * interleaving: none of the instances stored before the DELETE remains; every instance listed was
 * acknowledged by B and is retrievable with the bytes B received; the computed counts equal what is
 * listed; A and B agree; and the bucket holds exactly one object per listed instance (the deleted
 * instances' blobs are gone, nothing is left referenced or orphaned). The DELETE starts later in each
 * round (250, 400, 550 ms into stores sent every 25 ms), so it lands before, among and after their
 * commits (seen: 12, 9 and 0 of the 12 new instances kept).
 */
const ROUNDS = Number(process.env.SCALE_OUT_DELETE_ROUNDS ?? 3);

t.test('4: DELETE on A while B stores into the same study', { skip: skipReason }, async (t) => {
  const cluster = await startCluster({ servers: 2 });
  t.teardown(() => cluster.close());
  const [a, b] = cluster.servers as [(typeof cluster.servers)[0], (typeof cluster.servers)[0]];

  for (let round = 1; round <= ROUNDS; round++) {
    const first = ctInstance({}, { rows: 16, columns: 16, frames: 1 });
    const study = first.attributes.StudyInstanceUID as string;
    const series = first.attributes.SeriesInstanceUID as string;
    const before = [first, ...Array.from({ length: 9 }, (_, i) => ctInstance({ StudyInstanceUID: study, SeriesInstanceUID: series, InstanceNumber: i + 2 }))];
    t.equal((await store(a, before)).status, 200, `round ${round}: A stores 10 instances`);

    // 12 stores of new instances (in the same and in a new series) on B, the DELETE on A among them.
    const incoming = Array.from({ length: 12 }, (_, i) =>
      ctInstance(
        { StudyInstanceUID: study, ...(i % 2 === 0 ? { SeriesInstanceUID: series } : {}), InstanceNumber: 100 + i },
        { rows: 16, columns: 16, frames: 1 },
      ),
    );
    const bytes = new Map(incoming.map((spec) => [spec.attributes.SOPInstanceUID as string, encodeInstance(spec)]));
    const stores = incoming.map(async (spec, i) => {
      await new Promise((done) => setTimeout(done, i * 25));
      return store(b, [bytes.get(spec.attributes.SOPInstanceUID as string)!]);
    });
    const deletion = (async () => {
      await new Promise((done) => setTimeout(done, 100 + 150 * round));
      return deleteStudy(a, study);
    })();
    const [deleted, ...stored] = await Promise.all([deletion, ...stores]);
    t.equal(deleted, 204, `round ${round}: the DELETE on A answers 204`);
    t.same(
      stored.map((answer) => answer.status),
      incoming.map(() => 200),
      `round ${round}: every store on B succeeds (one that meets the deletion is retried into a fresh entry)`,
    );

    const states = [await studyState(a, study), await studyState(b, study)];
    t.same(states[0], states[1], `round ${round}: A and B agree`);
    const listed = states[1]!.sopInstanceUids;
    const beforeUids = new Set(before.map((spec) => spec.attributes.SOPInstanceUID as string));
    t.notOk(
      listed.some((uid) => beforeUids.has(uid)),
      `round ${round}: none of the 10 instances stored before the DELETE remains`,
    );
    t.ok(
      listed.every((uid) => bytes.has(uid)),
      `round ${round}: every instance listed is one B acknowledged (${listed.length} of 12 kept, the others deleted with the study)`,
    );
    if (listed.length === 0) {
      t.equal(states[1]!.instances, undefined, `round ${round}: no study entry is left`);
    } else {
      t.equal(states[1]!.instances, listed.length, `round ${round}: the computed instance count equals the instances listed`);
    }
    for (const uid of listed) {
      const spec = incoming.find((s) => s.attributes.SOPInstanceUID === uid)!;
      const got = await retrieveInstance(a, { study, series: spec.attributes.SeriesInstanceUID as string, sop: uid });
      if (!Buffer.isBuffer(got) || sha256(got) !== sha256(bytes.get(uid)!))
        t.fail(`round ${round}: ${uid} is not retrievable with the bytes B received (${Buffer.isBuffer(got) ? 'other bytes' : got})`);
    }
    const objects = await fetch(`${cluster.s3.endpoint}/${cluster.s3.bucket}?list-type=2&prefix=archive/instances/${study}/`);
    const keys = [...(await objects.text()).matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]!);
    t.equal(keys.length, listed.length, `round ${round}: the bucket holds one object per listed instance (the deleted ones removed)`);
  }
});
