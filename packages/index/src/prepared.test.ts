import t from 'tap';
import { type Kysely, sql } from 'kysely';
import { StatementCache, preparedStatement } from './prepared.js';
import { testDatabases } from './testing/test-databases.js';

const postgresUrl = process.env.TESSERA_TEST_POSTGRES_URL;

/**
 * One connection on PostgreSQL, so that pg_prepared_statements shows what this pool's connection
 * prepared; typed as StatementCache takes a database (no schema).
 */
const backends = async () => (await testDatabases({ poolSize: 1 })).map((backend) => ({ ...backend, db: backend.db as unknown as Kysely<never> }));

t.test('StatementCache builds a shape once and binds new values each time', async (t) => {
  for (const backend of await backends()) {
    t.teardown(backend.close);
    const statements = new StatementCache(backend.db);
    let builds = 0;
    const pair = (a: string, b: string) =>
      statements.rows<{ a: string; b: string }>('pair', [a, b], () => {
        builds++;
        return backend.db.selectNoFrom((eb) => [eb.val(a).as('a'), eb.val(b).as('b')]).modifyEnd(preparedStatement());
      });
    t.same(await pair('1.2.3', '4.5'), [{ a: '1.2.3', b: '4.5' }], `${backend.name}: first call`);
    t.same(await pair('6.7', '8.9.10'), [{ a: '6.7', b: '8.9.10' }], `${backend.name}: later calls bind their own values`);
    t.equal(builds, 1, `${backend.name}: the query was built and compiled once`);
    await t.rejects(
      statements.rows('swapped', ['x', 'y'], () => backend.db.selectNoFrom((eb) => [eb.val('y').as('a'), eb.val('x').as('b')])),
      /compiled parameters are not the ones given/,
      `${backend.name}: parameters in another order than the builder's are refused`,
    );
  }
});

t.test(
  'on PostgreSQL a marked query is a named prepared statement, an unmarked one is not',
  { skip: postgresUrl ? false : 'TESSERA_TEST_POSTGRES_URL is not set' },
  async (t) => {
    const [pglite, postgres] = await backends();
    t.teardown(async () => {
      await pglite!.close();
      await postgres!.close();
    });
    const db = postgres!.db;
    const prepared = async () => (await sql<{ name: string }>`select name from pg_prepared_statements order by name`.execute(db)).rows.map((r) => r.name);
    await db.selectNoFrom((eb) => [eb.val('plain').as('a')]).execute();
    t.same(await prepared(), [], 'nothing prepared by an unmarked query');
    for (let i = 0; i < 3; i++)
      await db
        .selectNoFrom((eb) => [eb.val(`v${i}`).as('a')])
        .modifyEnd(preparedStatement())
        .execute();
    const names = await prepared();
    t.equal(names.length, 1, 'one statement for three executions of the same text');
    t.match(names[0], /^tessera_[0-9a-f]{24}$/);
  },
);
