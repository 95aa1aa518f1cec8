import t from 'tap';
import { sql } from 'kysely';
import { migrateToLatest } from '../migrate.js';
import { testDatabases } from '../testing/test-databases.js';
import type { SearchQuery } from './search-query.js';
import { SearchIndex } from './search-index.js';

/**
 * A search within a study or series and nothing else (OHIF's study view, QIDO-RS series of a study)
 * is a named prepared statement, planned once per connection; a search with a filter is planned
 * each time. One connection on PostgreSQL, so that pg_prepared_statements shows what it prepared.
 */
const query = (level: SearchQuery['level'], scope: SearchQuery['scope'], filters: SearchQuery['filters'] = []): SearchQuery => ({
  level,
  scope,
  filters,
  includeFields: [],
  limit: 101,
  offset: 0,
});

for (const backend of await testDatabases({ poolSize: 1 })) {
  t.test(`${backend.name}: scope-only searches are prepared, filtered ones are not`, async (t) => {
    t.teardown(backend.close);
    const { error } = await migrateToLatest(backend.db);
    t.error(error, 'migrated');
    const search = new SearchIndex(backend.db);
    const prepared = async () => (await sql<{ name: string }>`select name from pg_prepared_statements`.execute(backend.db)).rows.map((r) => r.name);
    const before = (await prepared()).length;

    for (const uid of ['1.2.3', '1.2.4']) {
      t.same((await search.searchStudies(query('study', { studyInstanceUid: uid }))).matches, [], 'no study: an empty page');
      t.same((await search.searchSeries(query('series', { studyInstanceUid: uid }))).matches, []);
      t.same((await search.searchInstances(query('instance', { studyInstanceUid: uid, seriesInstanceUid: `${uid}.1` }))).matches, []);
    }
    t.equal((await prepared()).length, before + 3, 'three shapes, each prepared once for its two executions');

    await search.searchStudies(query('study', {}, [{ kind: 'exact', tag: '00100020', value: 'PAT-1' }]));
    t.equal((await prepared()).length, before + 3, 'a search with a filter prepared nothing');

    // An instance search that finds something reads its page's series by key: prepared too.
    const patient = await sql<{ pk: number }>`insert into patient (patient_id, issuer_of_patient_id) values ('p1', '') returning pk`.execute(backend.db);
    const study = await sql<{ pk: number }>`
      insert into study (patient_pk, study_instance_uid, attributes) values (${patient.rows[0]!.pk}, '1.2.9', '{}') returning pk`.execute(backend.db);
    const series = await sql<{ pk: number }>`
      insert into series (study_pk, series_instance_uid, attributes) values (${study.rows[0]!.pk}, '1.2.9.1', '{}') returning pk`.execute(backend.db);
    await sql`
      insert into instance (series_pk, study_pk, sop_instance_uid, sop_class_uid, transfer_syntax_uid, has_file_meta, size, sha256, blob_key, bulk_data, metadata)
      values (${series.rows[0]!.pk}, ${study.rows[0]!.pk}, '1.2.9.1.1', '1.2', '1.2.840.10008.1.2.1', true, 1, 'a', 'blob-a', '{}', '{}')`.execute(backend.db);
    const byKey = async () =>
      (await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(backend.db)).rows.filter((r) =>
        /"series"\."pk" in \(\$1\)/.test(r.statement),
      ).length;
    t.equal(await byKey(), 0, 'no series read by key yet');
    for (let i = 0; i < 2; i++) {
      const { matches } = await search.searchInstances(query('instance', { studyInstanceUid: '1.2.9', seriesInstanceUid: '1.2.9.1' }));
      t.same(
        matches.map((m) => [m.sopInstanceUid, m.series.seriesInstanceUid, m.series.study.studyInstanceUid]),
        [['1.2.9.1.1', '1.2.9.1', '1.2.9']],
        'the instance with its series and study',
      );
    }
    t.equal(await byKey(), 1, "the page's series read by a prepared statement, prepared once for its two executions");
  });
}
