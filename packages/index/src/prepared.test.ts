import t from 'tap';
import { type Kysely, sql } from 'kysely';
import { openDatabase } from './database.js';
import { StatementCache, preparedStatement } from './prepared.js';
import { createScratchDatabase } from './scratch-database.js';

const postgresUrl = process.env.TESSERA_TEST_POSTGRES_URL;

async function backends(): Promise<{ name: string; db: Kysely<never>; close(): Promise<void> }[]> {
  const list = [];
  const pglite = await openDatabase({ kind: 'pglite' });
  list.push({ name: 'pglite', db: pglite.db as unknown as Kysely<never>, close: pglite.close });
  if (postgresUrl) {
    const scratch = await createScratchDatabase(postgresUrl);
    // One connection, so that pg_prepared_statements shows what this pool's connection prepared.
    const opened = await openDatabase({ kind: 'postgres', url: scratch.url, poolSize: 1 });
    list.push({ name: 'postgres', db: opened.db as unknown as Kysely<never>, close: async () => { await opened.close(); await scratch.drop(); } });
  }
  return list;
}

t.test('StatementCache builds a shape once and binds new values each time', async (t) => {
  for (const backend of await backends()) {
    t.teardown(backend.close);
    const statements = new StatementCache(backend.db);
    let builds = 0;
    const pair = (a: string, b: string) => statements.rows<{ a: string; b: string }>('pair', [a, b], () => {
      builds++;
      return backend.db.selectNoFrom((eb) => [eb.val(a).as('a'), eb.val(b).as('b')]).modifyEnd(preparedStatement());
    });
    t.same(await pair('1.2.3', '4.5'), [{ a: '1.2.3', b: '4.5' }], `${backend.name}: first call`);
    t.same(await pair('6.7', '8.9.10'), [{ a: '6.7', b: '8.9.10' }], `${backend.name}: later calls bind their own values`);
    t.equal(builds, 1, `${backend.name}: the query was built and compiled once`);
    await t.rejects(
      statements.rows('swapped', ['x', 'y'], () => backend.db.selectNoFrom((eb) => [eb.val('y').as('a'), eb.val('x').as('b')])),
      /compiled parameters are not the ones given/, `${backend.name}: parameters in another order than the builder's are refused`);
  }
});

t.test('on PostgreSQL a marked query is a named prepared statement, an unmarked one is not', { skip: postgresUrl ? false : 'TESSERA_TEST_POSTGRES_URL is not set' }, async (t) => {
  const [pglite, postgres] = await backends();
  t.teardown(async () => { await pglite!.close(); await postgres!.close(); });
  const db = postgres!.db;
  const prepared = async () => (await sql<{ name: string }>`select name from pg_prepared_statements order by name`.execute(db)).rows.map((r) => r.name);
  await db.selectNoFrom((eb) => [eb.val('plain').as('a')]).execute();
  t.same(await prepared(), [], 'nothing prepared by an unmarked query');
  for (let i = 0; i < 3; i++) await db.selectNoFrom((eb) => [eb.val(`v${i}`).as('a')]).modifyEnd(preparedStatement()).execute();
  const names = await prepared();
  t.equal(names.length, 1, 'one statement for three executions of the same text');
  t.match(names[0], /^tessera_[0-9a-f]{24}$/);
});
