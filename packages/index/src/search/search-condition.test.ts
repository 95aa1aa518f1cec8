import t from 'tap';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import { migrateToLatest } from '../migrate.js';
import type { Database } from '../schema.js';
import { testDatabases } from '../testing/test-databases.js';
import { condition, likePattern } from './search-index.js';
import type { Filter } from './search-query.js';

/**
 * The SQL of each Filter kind (digest MATCH-1..15, QIDO-10): first as compiled text and parameters
 * (no database: kysely's compile-only dialect), then a few run against real rows on every back end.
 */

const compiler = new Kysely<Database>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});
const compile = (filter: Filter) => {
  const { sql, parameters } = condition(filter).compile(compiler);
  return { sql, parameters };
};
/** A stored TM normalised to `HHMMSS.ffffff`, as the index compares times (MATCH-2, MATCH-7). */
const time = (col: string) => `(rpad(split_part(replace(${col}, ':', ''), '.', 1), 6, '0') || '.' || rpad(split_part(${col}, '.', 2), 6, '0'))`;
const STUDY_TIME = time('"study"."study_time"');

t.test('likePattern: DICOM wildcards to LIKE, LIKE metacharacters escaped (MATCH-4)', async (t) => {
  const cases: [string, string][] = [
    ['doe*', 'doe%'],
    ['d?e', 'd_e'],
    ['100%', '100\\%'],
    ['a_b', 'a\\_b'],
    ['c:\\x*', 'c:\\\\x%'],
    ['plain', 'plain'],
  ];
  for (const [dicom, like] of cases) t.equal(likePattern(dicom), like, `${dicom} → ${like}`);
});

t.test('compiled SQL and parameters per filter kind', async (t) => {
  const cases: { rule: string; filter: Filter; sql: string; parameters: unknown[] }[] = [
    { rule: 'MATCH-2 text', filter: { kind: 'exact', tag: '00100020', value: 'P1' }, sql: '"study"."patient_id" = $1', parameters: ['P1'] },
    {
      rule: 'MATCH-2 on a multi-valued column',
      filter: { kind: 'exact', tag: '00080061', value: 'CT' },
      sql: '$1 = any("study"."modalities_in_study")',
      parameters: ['CT'],
    },
    {
      rule: 'MATCH-2 TM by meaning',
      filter: { kind: 'exact', tag: '00080030', value: '103000.000000' },
      sql: `${STUDY_TIME} = $1`,
      parameters: ['103000.000000'],
    },
    {
      rule: 'MATCH-4 wildcard, LIKE characters literal',
      filter: { kind: 'wildcard', tag: '00100020', pattern: 'P%_*?' },
      sql: '"study"."patient_id" like $1',
      parameters: ['P\\%\\_%_'],
    },
    {
      rule: 'MATCH-4 on a multi-valued column',
      filter: { kind: 'wildcard', tag: '00080061', pattern: 'C*' },
      sql: 'exists (select 1 from unnest("study"."modalities_in_study") as v(value) where v.value like $1)',
      parameters: ['C%'],
    },
    {
      rule: 'MATCH-6 open-ended DA range',
      filter: { kind: 'range', tag: '00080020', from: '20200101', to: null },
      sql: '("study"."study_date" is not null and "study"."study_date" >= $1)',
      parameters: ['20200101'],
    },
    {
      rule: 'MATCH-7 TM range, upper bound only',
      filter: { kind: 'range', tag: '00080030', from: null, to: '103059.999999' },
      sql: `("study"."study_time" is not null and ${STUDY_TIME} <= $1)`,
      parameters: ['103059.999999'],
    },
    {
      rule: 'MATCH-8 date-time range: with a time, or on the date alone',
      filter: { kind: 'dateTimeRange', dateTag: '00080020', timeTag: '00080030', from: '20060705100000.000000', to: null },
      sql: `(("study"."study_time" is not null and "study"."study_date" is not null and ("study"."study_date" || ${STUDY_TIME}) >= $1) or ("study"."study_time" is null and "study"."study_date" is not null and "study"."study_date" >= $2))`,
      parameters: ['20060705100000.000000', '20060705'],
    },
    {
      rule: 'MATCH-5 UID list',
      filter: { kind: 'uidList', tag: '0020000D', uids: ['1.2', '1.3'] },
      sql: '"study"."study_instance_uid" in ($1, $2)',
      parameters: ['1.2', '1.3'],
    },
    {
      rule: 'MATCH-5 UID list on a multi-valued column',
      filter: { kind: 'uidList', tag: '00080062', uids: ['1.2'] },
      sql: '"study"."sop_classes_in_study" && array[$1]::text[]',
      parameters: ['1.2'],
    },
    { rule: 'MATCH-2 IS as a number', filter: { kind: 'number', tag: '00200011', value: 7 }, sql: '"series"."series_number" = $1', parameters: [7] },
    {
      rule: 'MATCH-15 empty text',
      filter: { kind: 'empty', tag: '00080050' },
      sql: `("study"."accession_number" is null or "study"."accession_number" = '')`,
      parameters: [],
    },
    { rule: 'MATCH-15 empty multi-valued', filter: { kind: 'empty', tag: '00080061' }, sql: 'cardinality("study"."modalities_in_study") = 0', parameters: [] },
    { rule: 'MATCH-15 empty integer', filter: { kind: 'empty', tag: '00200011' }, sql: '"series"."series_number" is null', parameters: [] },
    {
      rule: 'MATCH-3 a name in any component group',
      filter: { kind: 'personName', tag: '00100010', groups: ['doe*'], anyGroup: true },
      sql: `((split_part("study"."patient_name_search", '=', 1) like $1 or split_part("study"."patient_name_search", '=', 2) like $2 or split_part("study"."patient_name_search", '=', 3) like $3) and "study"."patient_name_search" like $4)`,
      parameters: ['doe%', 'doe%', 'doe%', '%doe%%'],
    },
    {
      rule: 'MATCH-3 per group, null groups ignored',
      filter: { kind: 'personName', tag: '00100010', groups: ['doe^john', null, 'x'], anyGroup: false },
      sql: `(split_part("study"."patient_name_search", '=', 1) = $1 and split_part("study"."patient_name_search", '=', 3) = $2)`,
      parameters: ['doe^john', 'x'],
    },
    {
      rule: 'MATCH-3 no group given',
      filter: { kind: 'personName', tag: '00100010', groups: [null], anyGroup: false },
      sql: '"study"."patient_name_search" is not null',
      parameters: [],
    },
    {
      rule: 'QIDO-10 fuzzy: every word starts a name part',
      filter: { kind: 'fuzzyName', tag: '00100010', words: ['jer', 'do'] },
      sql: `("study"."patient_name_fold" like ('% ' || tessera_unaccent($1) || '%') and "study"."patient_name_fold" like ('% ' || tessera_unaccent($2) || '%'))`,
      parameters: ['jer', 'do'],
    },
    {
      rule: 'D3 any of several values',
      filter: {
        kind: 'anyOf',
        filters: [
          { kind: 'exact', tag: '00080060', value: 'CT' },
          { kind: 'exact', tag: '00080060', value: 'MR' },
        ],
      },
      sql: '("series"."modality" = $1 or "series"."modality" = $2)',
      parameters: ['CT', 'MR'],
    },
    {
      rule: 'MATCH-10 all of several values',
      filter: {
        kind: 'allOf',
        filters: [
          { kind: 'exact', tag: '00080061', value: 'CT' },
          { kind: 'exact', tag: '00080061', value: 'MR' },
        ],
      },
      sql: '($1 = any("study"."modalities_in_study") and $2 = any("study"."modalities_in_study"))',
      parameters: ['CT', 'MR'],
    },
    { rule: 'an empty anyOf matches nothing', filter: { kind: 'anyOf', filters: [] }, sql: 'false', parameters: [] },
    { rule: 'an empty allOf matches everything', filter: { kind: 'allOf', filters: [] }, sql: 'true', parameters: [] },
  ];
  for (const c of cases) t.same(compile(c.filter), { sql: c.sql, parameters: c.parameters }, `${c.rule}: ${c.filter.kind}`);
});

t.test('values never reach the SQL text', async (t) => {
  const hostile = "x' or '1'='1";
  for (const filter of [
    { kind: 'exact', tag: '00100020', value: hostile },
    { kind: 'wildcard', tag: '00081030', pattern: `${hostile}*` },
    { kind: 'personName', tag: '00100010', groups: [hostile], anyGroup: true },
    { kind: 'uidList', tag: '0020000D', uids: [hostile] },
  ] satisfies Filter[])
    t.notMatch(compile(filter).sql, /or '1'/, filter.kind);
});

t.test('an attribute that is not searchable is a programming error, not SQL', async (t) => {
  t.throws(() => condition({ kind: 'exact', tag: '00181030', value: 'x' }), /attribute 00181030 is not searchable/);
  t.throws(() => condition({ kind: 'fuzzyName', tag: '00100020', words: ['x'] }), /no fuzzy column for PatientID/);
});

t.test('conditions run against real rows, every back end', async (t) => {
  for (const backend of await testDatabases()) {
    t.teardown(backend.close);
    const { error } = await migrateToLatest(backend.db);
    if (error) throw error instanceof Error ? error : new Error(String(error));
    const db = backend.db as unknown as Kysely<Database>;
    const { pk: patientPk } = await db.insertInto('patient').values({ patient_id: 'P', issuer_of_patient_id: '' }).returning('pk').executeTakeFirstOrThrow();
    const rows = [
      {
        study_instance_uid: '1.1',
        study_date: '20060705',
        study_time: '0930',
        accession_number: 'A_1',
        patient_name_search: 'doe^john',
        modalities_in_study: ['CT', 'MR'],
      },
      {
        study_instance_uid: '1.2',
        study_date: '20060705',
        study_time: '11:15:00.5',
        accession_number: 'AX1',
        patient_name_search: 'müller^jérôme=ミュラー',
        modalities_in_study: ['CT'],
      },
      { study_instance_uid: '1.3', study_date: '20060706', study_time: null, accession_number: '', patient_name_search: null, modalities_in_study: [] },
      { study_instance_uid: '1.4', study_date: null, study_time: null, accession_number: null, patient_name_search: 'smith^doe', modalities_in_study: ['MR'] },
    ];
    await db
      .insertInto('study')
      .values(rows.map((row) => ({ ...row, patient_pk: patientPk, attributes: '' })))
      .execute();
    const match = async (filter: Filter) =>
      (await db.selectFrom('study').select('study_instance_uid').where(condition(filter)).orderBy('study_instance_uid').execute()).map(
        (r) => r.study_instance_uid,
      );
    const cases: { rule: string; filter: Filter; uids: string[] }[] = [
      { rule: 'MATCH-4: `_` is literal, not any character', filter: { kind: 'wildcard', tag: '00080050', pattern: 'A_*' }, uids: ['1.1'] },
      {
        rule: 'MATCH-7: times of any precision compare by meaning',
        filter: { kind: 'range', tag: '00080030', from: '100000.000000', to: null },
        uids: ['1.2'],
      },
      {
        rule: 'MATCH-8: a study without a time matches by its date',
        filter: { kind: 'dateTimeRange', dateTag: '00080020', timeTag: '00080030', from: '20060705100000.000000', to: '20060706235959.999999' },
        uids: ['1.2', '1.3'],
      },
      { rule: 'MATCH-15: empty means absent or zero-length', filter: { kind: 'empty', tag: '00080050' }, uids: ['1.3', '1.4'] },
      {
        rule: 'MATCH-10: all of CT and MR',
        filter: {
          kind: 'allOf',
          filters: [
            { kind: 'exact', tag: '00080061', value: 'CT' },
            { kind: 'exact', tag: '00080061', value: 'MR' },
          ],
        },
        uids: ['1.1'],
      },
      {
        rule: 'MATCH-3: the ideographic group matches with anyGroup',
        filter: { kind: 'personName', tag: '00100010', groups: ['ミュ*'], anyGroup: true },
        uids: ['1.2'],
      },
      {
        rule: 'MATCH-3: the family name component, not any component',
        filter: { kind: 'personName', tag: '00100010', groups: ['doe^*'], anyGroup: false },
        uids: ['1.1'],
      },
      {
        rule: 'QIDO-10: fuzzy ignores accents and matches the start of any name part',
        filter: { kind: 'fuzzyName', tag: '00100010', words: ['jero'] },
        uids: ['1.2'],
      },
      { rule: 'QIDO-10: fuzzy never matches inside a word', filter: { kind: 'fuzzyName', tag: '00100010', words: ['ohn'] }, uids: [] },
    ];
    for (const c of cases) t.same(await match(c.filter), c.uids, `${backend.name}: ${c.rule}`);
  }
});
