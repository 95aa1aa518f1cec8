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
  });
}
