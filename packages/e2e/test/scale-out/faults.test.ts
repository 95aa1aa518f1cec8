import { request } from 'node:http';
import t from 'tap';
import { ctInstance, encodeInstance } from '@tessera/testkit';
import { retrieveInstance, sha256, skipReason, startCluster, store, studyState } from './harness.js';

/**
 * Issue #17, scenarios 5 and 6, two servers (A, B) on one PostgreSQL and one S3:
 * 5. kill -9 of A while writers upload to both: B keeps answering every request, and every instance
 *    A acknowledged is readable through B, byte for byte; once A is back (its start-up sweep
 *    refreshes what it left marked), the computed counts match the instances listed.
 * 6. `tessera gc --delete` on A while B has uploads in flight (one held mid-body): nothing in flight
 *    is collected; every upload completes and is readable.
 */
t.test('faults on one server of two', { skip: skipReason }, async (t) => {
  // The upload held mid-body waits for gc, which may outlast the default body timeout (60 s) on a
  // loaded machine: this scenario is about gc, not about abandoned uploads (408), so no body timeout.
  const cluster = await startCluster({ servers: 2, env: { HTTP_BODY_TIMEOUT_MS: '0' } });
  t.teardown(() => cluster.close());
  const [a, b] = cluster.servers as [(typeof cluster.servers)[0], (typeof cluster.servers)[0]];

  t.test('5: kill -9 of A during uploads', async (t) => {
    const study = ctInstance().attributes.StudyInstanceUID as string;
    type Acked = { uids: { study: string; series: string; sop: string }; sha: string };
    const ackedBy = { A: [] as Acked[], B: [] as Acked[] };
    const failedOnB: string[] = [];
    let killed = false;
    let stopB = false;
    const writer = async (server: typeof a, w: number) => {
      for (let i = 0; server === a ? !killed : !stopB; i++) {
        const spec = ctInstance({ StudyInstanceUID: study, InstanceNumber: w * 10_000 + i }, { rows: 32, columns: 32, frames: 1 });
        const bytes = encodeInstance(spec);
        try {
          const answer = await store(server, [bytes]);
          const acked = {
            uids: { study, series: spec.attributes.SeriesInstanceUID as string, sop: spec.attributes.SOPInstanceUID as string },
            sha: sha256(bytes),
          };
          if (answer.status === 200) ackedBy[server.name as 'A' | 'B'].push(acked);
          else if (server === b) failedOnB.push(`status ${answer.status}`);
        } catch (error) {
          // A connection to A refused or reset once it is killed: not acknowledged.
          if (server === b) failedOnB.push(String(error));
        }
      }
    };
    const writers = [0, 1, 2, 3].map((w) => writer(w % 2 ? b : a, w));
    while (ackedBy.A.length < 8) await new Promise((r) => setTimeout(r, 20));
    await a.kill();
    killed = true;
    const atKill = ackedBy.B.length;
    while (ackedBy.B.length < atKill + 8) await new Promise((r) => setTimeout(r, 20));
    stopB = true;
    await Promise.all(writers);
    t.same(failedOnB, [], `B answered every request, before and after A died (${ackedBy.B.length} stored, ${ackedBy.B.length - atKill} after the kill)`);
    const unreadable = [];
    for (const acked of [...ackedBy.A, ...ackedBy.B]) {
      const bytes = await retrieveInstance(b, acked.uids);
      if (typeof bytes === 'number' || sha256(bytes) !== acked.sha) unreadable.push(acked.uids.sop);
    }
    t.same(unreadable, [], `all ${ackedBy.A.length} instances A acknowledged and ${ackedBy.B.length} B acknowledged are readable through B, byte for byte`);

    await a.restart();
    const state = await studyState(b, study);
    const listed = new Set(state.sopInstanceUids);
    t.ok(
      [...ackedBy.A, ...ackedBy.B].every((x) => listed.has(x.uids.sop)),
      'every acknowledged instance is listed',
    );
    t.equal(state.instances, state.sopInstanceUids.length, `after A restarted, the computed count (${state.instances}) is the number of instances listed`);
  });

  t.test('6: gc on A while B is uploading', async (t) => {
    const study = ctInstance().attributes.StudyInstanceUID as string;
    // One upload held mid-body on B, and writers on B uploading while gc runs.
    const held = encodeInstance(ctInstance({ StudyInstanceUID: study }, { rows: 64, columns: 64, frames: 1 }));
    let release: () => void = () => undefined;
    const heldAnswer = new Promise<number>((resolve, reject) => {
      const req = request(
        `${b.url}/dicomweb/studies`,
        { method: 'POST', headers: { 'content-type': 'application/dicom', 'content-length': String(held.length) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.write(held.subarray(0, held.length >> 1));
      release = () => req.end(held.subarray(held.length >> 1));
    });
    const acked: { uids: { study: string; series: string; sop: string }; sha: string }[] = [];
    let gcDone = false;
    const writers = [0, 1, 2].map(async (w) => {
      for (let i = 0; !gcDone || i < 3; i++) {
        const spec = ctInstance({ StudyInstanceUID: study, InstanceNumber: w * 1000 + i }, { rows: 32, columns: 32, frames: 1 });
        const bytes = encodeInstance(spec);
        const answer = await store(b, [bytes]);
        if (answer.status !== 200) throw new Error(`B answered ${answer.status}`);
        acked.push({ uids: { study, series: spec.attributes.SeriesInstanceUID as string, sop: spec.attributes.SOPInstanceUID as string }, sha: sha256(bytes) });
      }
    });
    while (acked.length < 3) await new Promise((r) => setTimeout(r, 20));
    const gc = await cluster.cli(a, ['gc', '--delete']);
    gcDone = true;
    t.equal(gc.code, 0, `tessera gc --delete on A ran${gc.code ? `: ${gc.stderr}` : ''}`);
    const examined = Number(/of (\d+) examined/.exec(gc.stdout)?.[1] ?? -1);
    t.match(gc.stdout, /^deleted 0 orphan blob\(s\) of \d+ examined/, 'gc deleted nothing');
    t.ok(examined > 0, `gc looked at the ${examined} objects of the shared bucket`);
    await Promise.all(writers);
    release();
    t.equal(await heldAnswer, 200, 'the upload held mid-body during gc completes');
    const unreadable = [];
    for (const x of acked) {
      const bytes = await retrieveInstance(a, x.uids);
      if (typeof bytes === 'number' || sha256(bytes) !== x.sha) unreadable.push(x.uids.sop);
    }
    t.same(unreadable, [], `all ${acked.length} instances B stored during gc are readable through A, byte for byte`);
    const state = await studyState(a, study);
    t.same([state.instances, state.sopInstanceUids.length], [acked.length + 1, acked.length + 1], 'the study holds them all and the held one, counted exactly');
  });
});
