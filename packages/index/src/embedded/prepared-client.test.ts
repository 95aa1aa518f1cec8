import t from 'tap';
import { type Kysely, sql } from 'kysely';
import { openDatabase } from '../database.js';
import { preparedStatement } from '../prepared.js';

/** The embedded index as the server opens it (PGlite in memory, through kysely and withPreparedStatements). */
const opened = await openDatabase({ kind: 'pglite' });
t.teardown(opened.close);
const db = opened.db as unknown as Kysely<any>;

const preparedNames = async () => (await sql<{ name: string }>`select name from pg_prepared_statements order by name`.execute(db)).rows.map((r) => r.name);

await sql`create table sample (pk bigserial primary key, uid text unique not null, doc jsonb not null, at timestamptz not null)`.execute(db);
await sql`insert into sample (uid, doc, at) values ('1.2.3', '{"a":[1,2]}', '2026-12-06T10:00:00Z'), ('1.2.4', '{"b":true}', '2026-12-06T11:00:00Z')`.execute(
  db,
);

const byUid = (uid: string) => db.selectFrom('sample').select(['pk', 'uid', 'doc', 'at']).where('uid', '=', uid).modifyEnd(preparedStatement());

t.test('a marked statement is prepared once by name and returns what an unmarked one returns', async (t) => {
  const plain = await db.selectFrom('sample').select(['pk', 'uid', 'doc', 'at']).where('uid', '=', '1.2.3').execute();
  t.same(await preparedNames(), [], 'an unmarked statement prepares nothing');
  const first = await byUid('1.2.3').execute();
  t.same(first, plain, 'same rows, same parsed types (bigint key, jsonb object, timestamptz Date)');
  t.ok(first[0]?.at instanceof Date);
  t.same(first[0]?.doc, { a: [1, 2] });
  t.same(await byUid('1.2.4').execute(), [{ pk: 2, uid: '1.2.4', doc: { b: true }, at: new Date('2026-12-06T11:00:00Z') }], 'later calls bind their own value');
  t.same(await byUid('9.9').execute(), [], 'no row');
  const names = await preparedNames();
  t.equal(names.length, 1, 'one prepared statement for four executions of one text');
  t.match(names[0], /^tessera_[0-9a-f]{24}$/);
});

t.test('an error in a marked statement is the database error, and the session goes on', async (t) => {
  const asInt = (value: string) => db.selectNoFrom(sql<number>`${value}::int`.as('n')).modifyEnd(preparedStatement());
  const before = (await preparedNames()).length;
  // Parse succeeds (the name is taken), Bind fails: the next call must not send Parse again.
  await t.rejects(asInt('not a number').execute(), { code: '22P02' }, 'invalid_text_representation, with its SQLSTATE');
  t.same(await asInt('42').execute(), [{ n: 42 }], 'the same statement runs with a valid value');
  t.equal((await preparedNames()).length, before + 1, 'prepared once');
  // A statement that does not parse is not remembered as prepared: it fails the same way each time.
  const broken = () => sql`select nothing_here from sample where uid = ${'1.2.3'} ${preparedStatement()}`.execute(db);
  await t.rejects(broken(), { code: '42703' });
  await t.rejects(broken(), { code: '42703' }, 'undefined_column again, not duplicate_prepared_statement');
  t.same(
    await byUid('1.2.3')
      .execute()
      .then((rows) => rows.map((r) => r.uid)),
    ['1.2.3'],
    'other statements still run',
  );
});

t.test('inside a transaction a marked statement sees the transaction, and a failed one aborts it', async (t) => {
  await db.transaction().execute(async (tx) => {
    await tx
      .insertInto('sample')
      .values({ uid: '1.2.5', doc: sql`'{}'::jsonb`, at: new Date() })
      .execute();
    t.same(
      (await tx.selectFrom('sample').select('uid').where('uid', '=', '1.2.5').modifyEnd(preparedStatement()).execute()).map((r) => r.uid),
      ['1.2.5'],
      'the uncommitted row is visible to its own transaction',
    );
  });
  await t.rejects(
    db.transaction().execute(async (tx) => {
      await tx
        .insertInto('sample')
        .values({ uid: '1.2.6', doc: sql`'{}'::jsonb`, at: new Date() })
        .execute();
      await tx
        .selectNoFrom(sql<number>`${'x'}::int`.as('n'))
        .modifyEnd(preparedStatement())
        .execute();
    }),
    { code: '22P02' },
  );
  t.same((await byUid('1.2.6').execute()).length, 0, 'the failed transaction was rolled back');
  t.same((await byUid('1.2.5').execute()).length, 1, 'the committed one stays');
});

t.test('a marked statement with whole numbers (LIMIT, OFFSET) is prepared, and reads them as their inferred type', async (t) => {
  const before = await preparedNames();
  const page = (limit: number, offset: number) =>
    db.selectFrom('sample').select('uid').orderBy('uid').limit(limit).offset(offset).modifyEnd(preparedStatement()).execute();
  t.same(await page(1, 0), [{ uid: '1.2.3' }]);
  t.same(await page(5, 1), [{ uid: '1.2.4' }, { uid: '1.2.5' }], 'new numbers bound');
  t.same(await db.selectFrom('sample').select('uid').where('pk', '=', 1).modifyEnd(preparedStatement()).execute(), [{ uid: '1.2.3' }], 'a bigint key compared');
  t.equal((await preparedNames()).length, before.length + 2, 'both prepared');
});

t.test('a marked statement with a parameter that is neither text nor a whole number goes the ordinary way', async (t) => {
  const before = await preparedNames();
  const at = new Date('2026-12-06T10:00:00Z');
  const rows = await db.selectFrom('sample').select('uid').where('at', '=', at).modifyEnd(preparedStatement()).execute();
  t.same(rows, [{ uid: '1.2.3' }], "PGlite's serializer typed the Date");
  const fractional = await db
    .selectNoFrom(sql<string>`${1.5}::numeric`.as('n'))
    .modifyEnd(preparedStatement())
    .execute();
  t.equal(Number(fractional[0]?.n), 1.5, 'a fractional number too');
  t.same(await preparedNames(), before, 'nothing new prepared');
});
