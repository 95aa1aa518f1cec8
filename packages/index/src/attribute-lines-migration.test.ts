import t from 'tap';
import { sql } from 'kysely';
import { type DicomJsonDataset, DicomJsonMembers, valuesOnly } from '@tessera/dicom';
import { indexMigrator } from './migrate.js';
import { testDatabases } from './testing/test-databases.js';

/**
 * Migration 2026-11-26T04-00_attribute-member-lines on rows stored before it: the jsonb attributes
 * of studies and series become the member lines the server writes for new rows (byte for byte,
 * values only), and `down` gives back the same jsonb without the bulk data. On PGlite, and on
 * PostgreSQL when configured.
 */
const BEFORE = '2026-11-26T02-00_gin-without-pending-list';

const STUDY: DicomJsonDataset = {
  '00080005': { vr: 'CS', Value: ['ISO_IR 192'] },
  '00080020': { vr: 'DA', Value: ['20260101'] },
  '00081030': { vr: 'LO', Value: ['line\nbreak "00100010":{} \\ é'] },
  '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' }] },
  '00100020': { vr: 'LO', Value: ['PID-1'] },
  '00101002': { vr: 'SQ', Value: [{ '00100020': { vr: 'LO', Value: ['OTHER'] }, '00100022': { vr: 'CS', Value: ['TEXT'] } }] },
  '0020000D': { vr: 'UI', Value: ['1.2.3'] },
  '00321060': { vr: 'LO' },
  '00880200': { vr: 'SQ', Value: [{ '00282110': { vr: 'CS', Value: ['00'] }, '7FE00010': { vr: 'OB', InlineBinary: 'AAEC' } }] },
  '00091010': { vr: 'OB', InlineBinary: 'AAECAw==' },
};
const SERIES: DicomJsonDataset = {
  '00080060': { vr: 'CS', Value: ['MR'] },
  '0020000E': { vr: 'UI', Value: ['1.2.3.4'] },
  '00200011': { vr: 'IS', Value: [7] },
  '00400275': {
    vr: 'SQ',
    Value: [{ '20051430': { vr: 'CS', Value: ['X'] }, '00401001': { vr: 'SH', Value: ['RP1'] }, '00420011': { vr: 'OB', BulkDataURI: 'bulkdata/x' } }],
  },
};

for (const backend of await testDatabases()) {
  t.test(`${backend.name}: jsonb attributes become member lines, and back`, async (t) => {
    t.teardown(backend.close);
    const { db } = backend;
    const migrator = indexMigrator(db);
    const before = await migrator.migrateTo(BEFORE);
    t.error(before.error, 'migrated to the schema before the change');

    const patient = await sql<{ pk: number }>`insert into patient (patient_id, issuer_of_patient_id) values ('PID-1', '') returning pk`.execute(db);
    const study = await sql<{ pk: number }>`insert into study (patient_pk, study_instance_uid, attributes)
      values (${patient.rows[0]!.pk}, '1.2.3', ${JSON.stringify(STUDY)}::jsonb) returning pk`.execute(db);
    await sql`insert into study (patient_pk, study_instance_uid, attributes) values (${patient.rows[0]!.pk}, '1.2.5', '{}'::jsonb)`.execute(db);
    await sql`insert into series (study_pk, series_instance_uid, attributes)
      values (${study.rows[0]!.pk}, '1.2.3.4', ${JSON.stringify(SERIES)}::jsonb)`.execute(db);

    const up = await migrator.migrateToLatest();
    t.error(up.error, 'migrated to the latest schema');
    const studies = await sql<{ uid: string; attributes: string }>`select study_instance_uid as uid, attributes from study order by pk`.execute(db);
    t.equal(studies.rows[0]!.attributes, DicomJsonMembers.from(valuesOnly(STUDY)).text, 'a study: the text the server writes for a new row');
    t.notMatch(studies.rows[0]!.attributes, /InlineBinary|00091010|7FE00010/, 'bulk data dropped, at the top and in a sequence item');
    t.match(studies.rows[0]!.attributes, /"00282110"/, 'the rest of that item kept');
    t.equal(studies.rows[1]!.attributes, '', 'an empty dataset');
    const series = await sql<{ attributes: string }>`select attributes from series`.execute(db);
    t.equal(series.rows[0]!.attributes, DicomJsonMembers.from(valuesOnly(SERIES)).text, 'a series, with a sequence, an integer-like key and bulk data');
    t.same(new DicomJsonMembers(series.rows[0]!.attributes).dataset(), valuesOnly(SERIES));
    const nullable = await sql<{ n: number }>`select count(*)::int as n from study where attributes is null`.execute(db);
    t.equal(nullable.rows[0]!.n, 0);

    // Down to the schema before the change, undoing any later migration first.
    const down = await migrator.migrateTo(BEFORE);
    t.error(down.error, 'migrated back down');
    const jsonb = await sql<{ attributes: string }>`select attributes::text as attributes from study order by pk`.execute(db);
    t.same(JSON.parse(jsonb.rows[0]!.attributes), valuesOnly(STUDY), 'down: the same jsonb document, values only');
    t.same(JSON.parse(jsonb.rows[1]!.attributes), {});
    const seriesDown = await sql<{ attributes: string }>`select attributes::text as attributes from series`.execute(db);
    t.same(JSON.parse(seriesDown.rows[0]!.attributes), valuesOnly(SERIES));
  });
}
