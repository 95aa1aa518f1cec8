import { type Kysely, sql } from 'kysely';
import t from 'tap';
import { ChangeFeed } from './change-feed.js';
import { migrateToLatest } from './migrate.js';
import { testDatabases } from './testing/test-databases.js';

/**
 * The change feed's triggers (issue #17) on every back end: creates, content updates and deletes
 * (also by cascade) are recorded, numbered 1, 2, 3… with no gap after a rollback, and in commit
 * order when transactions overlap (PostgreSQL: two connections).
 */

let next = 0;
async function addStudy(db: Kysely<any>, study: string): Promise<{ studyPk: number; seriesPk: number }> {
  const patient = await sql<{ pk: number }>`insert into patient (patient_id, issuer_of_patient_id) values (${`p${++next}`}, '') returning pk`.execute(db);
  const studyRow = await sql<{
    pk: number;
  }>`insert into study (patient_pk, study_instance_uid, attributes) values (${patient.rows[0]!.pk}, ${study}, '{}') returning pk`.execute(db);
  const studyPk = studyRow.rows[0]!.pk;
  const series = await sql<{
    pk: number;
  }>`insert into series (study_pk, series_instance_uid, attributes) values (${studyPk}, ${`${study}.1`}, '{}') returning pk`.execute(db);
  return { studyPk, seriesPk: series.rows[0]!.pk };
}

async function addInstance(db: Kysely<any>, at: { studyPk: number; seriesPk: number }, study: string, sop: string, sha = 'a'): Promise<void> {
  const metadata = JSON.stringify({
    '0020000D': { vr: 'UI', Value: [study] },
    '0020000E': { vr: 'UI', Value: [`${study}.1`] },
    '00080018': { vr: 'UI', Value: [sop] },
  });
  await sql`
    insert into instance (series_pk, study_pk, sop_instance_uid, sop_class_uid, transfer_syntax_uid, has_file_meta, size, sha256, blob_key, bulk_data, metadata)
    values (${at.seriesPk}, ${at.studyPk}, ${sop}, '1.2', '1.2.840.10008.1.2.1', true, 1, ${sha}, ${`blob-${sop}-${sha}`}, '{}', ${metadata})`.execute(db);
}

for (const database of await testDatabases({ poolSize: 4 })) {
  t.test(`${database.name}: the change feed`, async (t) => {
    t.teardown(() => database.close());
    const { error } = await migrateToLatest(database.db);
    t.equal(error, undefined, 'migrated');
    const db = database.db;
    const feed = new ChangeFeed(db);
    t.equal(await feed.latest(false), undefined, 'an empty feed has no latest entry');

    const at = await addStudy(db, '1.9.1');
    await db.transaction().execute(async (trx) => {
      await addInstance(trx, at, '1.9.1', '1.9.1.1.1');
      await addInstance(trx, at, '1.9.1', '1.9.1.1.2');
    });
    await addInstance(db, at, '1.9.1', '1.9.1.1.3');
    // Rolled back: recorded and numbered nowhere.
    await t.rejects(
      db.transaction().execute(async (trx) => {
        await addInstance(trx, at, '1.9.1', '1.9.1.1.4');
        throw new Error('rollback');
      }),
    );
    // A content update (an overwrite) is an update; an update of another column is no change.
    await sql`update instance set sha256 = 'b', blob_key = 'blob-2b' where sop_instance_uid = '1.9.1.1.2'`.execute(db);
    await sql`update instance set updated_at = now() where sop_instance_uid = '1.9.1.1.3'`.execute(db);
    // A deleted study takes its instances with it (cascade): each is a delete with its UIDs.
    const other = await addStudy(db, '1.9.2');
    await addInstance(db, other, '1.9.2', '1.9.2.1.1');
    await sql`delete from study where study_instance_uid = '1.9.2'`.execute(db);

    const entries = await feed.read({ afterSequence: 0, limit: 100, includeMetadata: true });
    t.same(
      entries.map((e) => [e.sequence, e.action, e.sopInstanceUid, e.state]),
      [
        [1, 'create', '1.9.1.1.1', 'current'],
        [2, 'create', '1.9.1.1.2', 'replaced'],
        [3, 'create', '1.9.1.1.3', 'current'],
        [4, 'update', '1.9.1.1.2', 'current'],
        [5, 'create', '1.9.2.1.1', 'deleted'],
        [6, 'delete', '1.9.2.1.1', 'deleted'],
      ],
      'every change once, numbered from 1 without a gap (the rolled-back one left none)',
    );
    t.same([entries[5]!.studyInstanceUid, entries[5]!.seriesInstanceUid], ['1.9.2', '1.9.2.1'], 'a cascaded delete names its study and series');
    t.equal(JSON.parse(entries[0]!.metadata!)['00080018'].Value[0], '1.9.1.1.1', 'metadata of an instance that exists');
    t.equal(entries[5]!.metadata, undefined, 'no metadata for a deleted instance');
    t.ok(
      entries.every((e, i) => i === 0 || e.timestamp >= entries[i - 1]!.timestamp),
      'timestamps never decrease along the sequence',
    );
    t.same(
      (await feed.read({ afterSequence: 4, limit: 1, includeMetadata: false })).map((e) => e.sequence),
      [5],
      'after a sequence, limited',
    );
    t.equal((await feed.latest(false))?.sequence, 6, 'the latest entry');
    const window = await feed.read({ afterSequence: 0, startTime: entries[2]!.timestamp, skip: 1, limit: 2, includeMetadata: false });
    t.ok(window.length >= 1 && window[0]!.sequence >= 4 && window.every((e) => e.timestamp >= entries[2]!.timestamp), 'a time window, skipping into it');
    t.same(await feed.read({ afterSequence: 0, startTime: new Date(Date.now() + 3_600_000), limit: 10, includeMetadata: false }), [], 'an empty window');

    if (database.name === 'postgres') {
      // Two overlapping transactions: the first to start changes first but commits last, so it is
      // numbered last, and while it is open a reader sees the second one's change.
      let releaseFirst!: () => void;
      const firstMayCommit = new Promise<void>((resolve) => (releaseFirst = resolve));
      let firstWrote!: () => void;
      const firstHasWritten = new Promise<void>((resolve) => (firstWrote = resolve));
      const first = db.transaction().execute(async (trx) => {
        await addInstance(trx, at, '1.9.1', '1.9.1.1.10');
        firstWrote();
        await firstMayCommit;
      });
      await firstHasWritten;
      await addInstance(db, at, '1.9.1', '1.9.1.1.11');
      t.same(
        (await feed.read({ afterSequence: 6, limit: 10, includeMetadata: false })).map((e) => [e.sequence, e.sopInstanceUid]),
        [[7, '1.9.1.1.11']],
        'the change committed first is 7; the open transaction has no number yet',
      );
      releaseFirst();
      await first;
      t.same(
        (await feed.read({ afterSequence: 6, limit: 10, includeMetadata: false })).map((e) => [e.sequence, e.sopInstanceUid]),
        [
          [7, '1.9.1.1.11'],
          [8, '1.9.1.1.10'],
        ],
        'the change committed last is 8',
      );
    }
  });
}
