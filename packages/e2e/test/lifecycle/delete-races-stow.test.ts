import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import type { BlobStore } from '@tessera/blob-store';
import { backendNames, ctInstance, encodeInstance, newUid, startTestServer, type InstanceSpec, type TestServer } from '@tessera/testkit';
import { findStudy } from '@tessera/index/testing';

/**
 * Issue #15: STOW-RS requests into a study racing a DELETE of it, over real HTTP connections, on every
 * back end. The documented outcome (docs/reliability.md, "Delete"): a store that commits before the
 * deletion is deleted with the study; one that comes after is stored in a fresh study entry; never a
 * half-deleted study with new rows. Checked exactly after each round: every store is acknowledged, the
 * study holds only acknowledged instances, none whose acknowledgement came before the DELETE was sent,
 * every instance stored after the DELETE answered; its counts equal its rows; its blobs in the store are
 * exactly those its rows name (no row without its blob, no blob left behind); nothing is left marked for
 * a refresh.
 */

const ROUNDS = Number(process.env.TESSERA_DELETE_RACE_ROUNDS ?? 6);
/**
 * When the DELETE is sent after the racing stores start, per round, as a fraction of the time they
 * would take one after another (measured on the originals): before, among and after their commits.
 * Only where the DELETE falls changes with the machine's speed; what is checked does not.
 */
const DELAY_FRACTIONS = [0, 0.05, 0.15, 0.3, 0.5, 0.8];
const ORIGINALS = 8;
const NEW_INSTANCES = 16;

interface Racer {
  spec: InstanceSpec;
  status?: number;
  /** performance.now() when the acknowledgement arrived. */
  doneAt?: number;
}

async function stow(server: TestServer, spec: InstanceSpec): Promise<number> {
  const res = await fetch(`${server.url}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': 'application/dicom' }, body: encodeInstance(spec) });
  await res.arrayBuffer();
  return res.status;
}

async function keys(blobs: BlobStore, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for await (const info of blobs.list(prefix)) found.push(info.key);
  return found.sort();
}

const sop = (spec: InstanceSpec) => String(spec.attributes.SOPInstanceUID);

for (const backend of backendNames()) {
  t.test(`${backend}: STOW-RS racing a DELETE of the study`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    let storedBeforeDeletion = 0;
    let storedAfterDeletion = 0;

    for (let round = 0; round < ROUNDS; round++) {
      const study = newUid();
      const seriesA = newUid();
      const seriesB = newUid();
      const spec = (series: string, n: number) =>
        ctInstance({ StudyInstanceUID: study, SeriesInstanceUID: series, InstanceNumber: n, PatientID: `RACE-${round}` });
      const originals = Array.from({ length: ORIGINALS }, (_, i) => spec(seriesA, i + 1));
      const startedAt = performance.now();
      for (const o of originals) t.equal(await stow(server, o), 200, 'an original is stored');
      const perStoreMs = (performance.now() - startedAt) / ORIGINALS;

      // Re-sends of the originals (identical bytes) and new instances into both series, all at once,
      // with the DELETE sent at a different moment each round.
      const racers: Racer[] = [
        ...originals.map((o) => ({ spec: o })),
        ...Array.from({ length: NEW_INSTANCES }, (_, i) => ({ spec: spec(i % 2 ? seriesA : seriesB, 100 + i) })),
      ];
      const started = racers.map(async (r) => {
        r.status = await stow(server, r.spec);
        r.doneAt = performance.now();
      });
      await sleep(DELAY_FRACTIONS[round % DELAY_FRACTIONS.length]! * racers.length * perStoreMs);
      const deleteSentAt = performance.now();
      const deletion = await fetch(`${server.url}/dicomweb/studies/${study}`, { method: 'DELETE' });
      await Promise.all(started);
      t.equal(deletion.status, 204, `round ${round}: the DELETE removed the study`);

      // Stores sent after the DELETE answered are always kept.
      const late = [spec(seriesA, 900), spec(newUid(), 901)];
      for (const l of late) t.equal(await stow(server, l), 200, 'a store after the deletion is acknowledged');

      const refused = racers.filter((r) => r.status !== 200);
      t.same(
        refused.map((r) => r.status),
        [],
        `round ${round}: every racing store was acknowledged (stored in the study or in its fresh entry)`,
      );

      const present = await server.index.instances.findInstances([...racers.map((r) => sop(r.spec)), ...late.map(sop)]);
      const presentUids = new Set(present.map((p) => p.sopInstanceUid));
      for (const r of racers) {
        if (presentUids.has(sop(r.spec))) storedAfterDeletion++;
        else storedBeforeDeletion++;
        if (r.doneAt! < deleteSentAt && presentUids.has(sop(r.spec)))
          t.fail(`round ${round}: ${sop(r.spec)} was acknowledged before the DELETE was sent, yet survived it`);
      }
      for (const l of late) t.ok(presentUids.has(sop(l)), `round ${round}: a store after the deletion is kept`);
      t.ok(
        present.every((p) => p.studyInstanceUid === study),
        'every surviving instance is filed under the study UID',
      );

      // The study as stored equals its rows: counts, series, blobs.
      const series = new Set(present.map((p) => p.seriesInstanceUid));
      t.same(
        await findStudy(server.index, study),
        { numberOfSeries: series.size, numberOfInstances: present.length, modalitiesInStudy: ['CT'], sopClassesInStudy: ['1.2.840.10008.5.1.4.1.1.2'] },
        `round ${round}: the counts equal the ${present.length} rows left`,
      );
      t.same(
        await keys(server.blobs, `instances/${study}/`),
        present.map((p) => p.blobKey).sort(),
        `round ${round}: the study's blobs are exactly its rows' blobs`,
      );
      for (const p of present) {
        const res = await server.app.inject({
          url: `/dicomweb/studies/${study}/series/${p.seriesInstanceUid}/instances/${p.sopInstanceUid}`,
          headers: { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
        });
        if (res.statusCode !== 200) t.fail(`round ${round}: ${p.sopInstanceUid} is indexed but answers ${res.statusCode}`);
      }
      t.equal(await server.index.instances.refreshPendingStudies(), 0, `round ${round}: no study is left marked for a refresh`);
    }
    t.comment(`${storedBeforeDeletion} racing stores were deleted with the study, ${storedAfterDeletion} kept in its fresh entry`);
  });
}
