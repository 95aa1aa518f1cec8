import { type Kysely, sql } from 'kysely';

/**
 * The archive index: patient ← study ← series ← instance.
 *
 * Study and series rows keep the attributes QIDO-RS matches and returns (digest QIDO-4, -6, -8)
 * as columns, the computed counts maintained by the store transaction, and the level's DICOM JSON
 * (`attributes`) for includefield. Instance rows keep what retrieval needs without reading the
 * blob: transfer syntax, size, SHA-256, blob key, frame index, bulk data locations, and the
 * DICOM JSON metadata computed at ingest.
 *
 * Text in person-name columns is stored as the DICOM string (`Alphabetic=Ideographic=Phonetic`);
 * `*_search` columns hold the lower-cased form used for case-insensitive matching (MATCH-3).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('patient')
    .addColumn('pk', 'bigserial', (c) => c.primaryKey())
    .addColumn('patient_id', 'text', (c) => c.notNull())
    .addColumn('issuer_of_patient_id', 'text', (c) => c.notNull())
    .addColumn('patient_name', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('patient_identity', ['patient_id', 'issuer_of_patient_id'])
    .execute();

  await db.schema
    .createTable('study')
    .addColumn('pk', 'bigserial', (c) => c.primaryKey())
    .addColumn('patient_pk', 'bigint', (c) => c.notNull().references('patient.pk'))
    .addColumn('study_instance_uid', 'text', (c) => c.notNull().unique())
    .addColumn('study_date', 'text')
    .addColumn('study_time', 'text')
    .addColumn('accession_number', 'text')
    .addColumn('referring_physician_name', 'text')
    .addColumn('referring_physician_name_search', 'text')
    .addColumn('study_id', 'text')
    .addColumn('study_description', 'text')
    .addColumn('timezone_offset_from_utc', 'text')
    .addColumn('patient_name', 'text')
    .addColumn('patient_name_search', 'text')
    .addColumn('patient_id', 'text')
    .addColumn('issuer_of_patient_id', 'text')
    .addColumn('patient_birth_date', 'text')
    .addColumn('patient_sex', 'text')
    .addColumn('modalities_in_study', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('sop_classes_in_study', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('number_of_series', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('number_of_instances', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('attributes', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('study_patient_pk').on('study').column('patient_pk').execute();
  await db.schema.createIndex('study_patient_id').on('study').column('patient_id').execute();
  await db.schema.createIndex('study_accession_number').on('study').column('accession_number').execute();
  await db.schema.createIndex('study_date_time').on('study').columns(['study_date', 'study_time']).execute();

  await db.schema
    .createTable('series')
    .addColumn('pk', 'bigserial', (c) => c.primaryKey())
    .addColumn('study_pk', 'bigint', (c) => c.notNull().references('study.pk').onDelete('cascade'))
    .addColumn('series_instance_uid', 'text', (c) => c.notNull().unique())
    .addColumn('modality', 'text')
    .addColumn('series_number', 'integer')
    .addColumn('series_description', 'text')
    .addColumn('series_date', 'text')
    .addColumn('series_time', 'text')
    .addColumn('performed_procedure_step_start_date', 'text')
    .addColumn('performed_procedure_step_start_time', 'text')
    .addColumn('timezone_offset_from_utc', 'text')
    .addColumn('number_of_instances', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('attributes', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('series_study_pk').on('series').columns(['study_pk', 'series_number']).execute();
  await db.schema.createIndex('series_modality').on('series').column('modality').execute();

  await db.schema
    .createTable('instance')
    .addColumn('pk', 'bigserial', (c) => c.primaryKey())
    .addColumn('series_pk', 'bigint', (c) => c.notNull().references('series.pk').onDelete('cascade'))
    .addColumn('study_pk', 'bigint', (c) => c.notNull().references('study.pk').onDelete('cascade'))
    .addColumn('sop_instance_uid', 'text', (c) => c.notNull().unique())
    .addColumn('sop_class_uid', 'text', (c) => c.notNull())
    .addColumn('instance_number', 'integer')
    .addColumn('rows', 'integer')
    .addColumn('columns', 'integer')
    .addColumn('bits_allocated', 'integer')
    .addColumn('number_of_frames', 'integer')
    .addColumn('transfer_syntax_uid', 'text', (c) => c.notNull())
    .addColumn('has_file_meta', 'boolean', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('blob_key', 'text', (c) => c.notNull())
    .addColumn('frames', 'jsonb')
    .addColumn('bulk_data', 'jsonb', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('instance_series_pk').on('instance').columns(['series_pk', 'instance_number']).execute();
  await db.schema.createIndex('instance_study_pk').on('instance').column('study_pk').execute();
  await db.schema.createIndex('instance_sop_class_uid').on('instance').column('sop_class_uid').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['instance', 'series', 'study', 'patient']) await db.schema.dropTable(table).execute();
}
