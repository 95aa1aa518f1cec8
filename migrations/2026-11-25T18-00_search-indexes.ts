import { type Kysely, sql } from 'kysely';

/**
 * What QIDO-RS needs to search a large archive (1M instances) quickly.
 *
 * - pg_trgm: trigram GIN indexes answer `*x*` wildcards (OHIF wraps every text filter so) and
 *   case-insensitive person-name matching without a full scan (digest MATCH-3, MATCH-4).
 * - unaccent: accent folding for `fuzzymatching=true` (QIDO-10). `unaccent()` is only STABLE, so it
 *   is wrapped in an IMMUTABLE function that the generated `*_fold` columns and indexes can use.
 * - `*_fold` columns: the lower-cased, accent-free name with every separator (`^`, `=`, `,`, `-`)
 *   turned into a space and a leading space, so "a name part starting with x" is `like '% x%'`.
 *   They are generated from the `*_search` columns (already lower-cased at store time), so existing
 *   rows are filled here and new rows by the database itself.
 * - btree indexes in the result orders of QIDO-12, so `limit` stops early.
 *
 * Runs on PostgreSQL (the extensions ship in contrib) and PGlite (loaded by openDatabase).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create extension if not exists pg_trgm`.execute(db);
  await sql`create extension if not exists unaccent`.execute(db);
  const schema = (
    await sql<{ schema: string }>`
    select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'unaccent'`.execute(db)
  ).rows[0]!.schema;
  await sql`
    create or replace function tessera_unaccent(value text) returns text
    language sql immutable strict parallel safe
    as ${sql.lit(`select ${quoteIdent(schema)}.unaccent('${schema.replace(/'/g, "''")}.unaccent'::regdictionary, value)`)}`.execute(db);

  await sql`
    alter table study
      add column patient_name_fold text generated always as
        (' ' || translate(tessera_unaccent(patient_name_search), '^=,-', '    ')) stored,
      add column referring_physician_name_fold text generated always as
        (' ' || translate(tessera_unaccent(referring_physician_name_search), '^=,-', '    ')) stored`.execute(db);

  // Result order of /studies (QIDO-12): StudyDate desc, StudyTime desc, StudyInstanceUID.
  await sql`create index study_result_order on study (study_date desc nulls last, study_time desc nulls last, study_instance_uid)`.execute(db);
  // Case-insensitive person-name matching: exact and prefix (`doe*`) by btree, `*x*` by trigram.
  await sql`create index study_patient_name_prefix on study (patient_name_search text_pattern_ops)`.execute(db);
  for (const column of [
    'patient_name_search',
    'referring_physician_name_search',
    'patient_name_fold',
    'referring_physician_name_fold',
    'patient_id',
    'accession_number',
    'study_description',
    'study_id',
  ]) {
    await sql`create index ${sql.id(`study_${column}_trgm`)} on study using gin (${sql.id(column)} gin_trgm_ops)`.execute(db);
  }
  // Prefix matching (`ABC*`) on case-sensitive text keys.
  for (const column of ['patient_id', 'accession_number', 'study_id']) {
    await sql`create index ${sql.id(`study_${column}_prefix`)} on study (${sql.id(column)} text_pattern_ops)`.execute(db);
  }
  await sql`create index study_patient_birth_date on study (patient_birth_date)`.execute(db);
  await sql`create index study_modalities_in_study on study using gin (modalities_in_study)`.execute(db);
  await sql`create index study_sop_classes_in_study on study using gin (sop_classes_in_study)`.execute(db);

  // Result order of /series: SeriesNumber, SeriesInstanceUID (within a study: series_study_pk).
  await sql`create index series_result_order on series (series_number, series_instance_uid)`.execute(db);
  await sql`create index series_study_result_order on series (study_pk, series_number, series_instance_uid)`.execute(db);
  await sql`create index series_description_trgm on series using gin (series_description gin_trgm_ops)`.execute(db);
  await sql`create index series_date on series (series_date)`.execute(db);

  // Result order of instance searches: InstanceNumber, SOPInstanceUID.
  await sql`create index instance_result_order on instance (instance_number, sop_instance_uid)`.execute(db);
  await sql`create index instance_series_result_order on instance (series_pk, instance_number, sop_instance_uid)`.execute(db);
  await sql`create index instance_study_result_order on instance (study_pk, instance_number, sop_instance_uid)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const index of [
    'study_result_order',
    'study_patient_name_prefix',
    'study_patient_birth_date',
    'study_modalities_in_study',
    'study_sop_classes_in_study',
    'series_result_order',
    'series_study_result_order',
    'series_description_trgm',
    'series_date',
    'instance_result_order',
    'instance_series_result_order',
    'instance_study_result_order',
    ...[
      'patient_name_search',
      'referring_physician_name_search',
      'patient_name_fold',
      'referring_physician_name_fold',
      'patient_id',
      'accession_number',
      'study_description',
      'study_id',
    ].map((c) => `study_${c}_trgm`),
    ...['patient_id', 'accession_number', 'study_id'].map((c) => `study_${c}_prefix`),
  ]) {
    await sql`drop index if exists ${sql.id(index)}`.execute(db);
  }
  await sql`alter table study drop column if exists patient_name_fold, drop column if exists referring_physician_name_fold`.execute(db);
  await sql`drop function if exists tessera_unaccent(text)`.execute(db);
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
