import { type Kysely, sql } from 'kysely';

/**
 * GIN indexes of the search migration (trigram and array indexes) without a pending list.
 *
 * With `fastupdate` (the default) a GIN index collects new entries in an unsorted pending list that
 * every scan reads in full, until VACUUM or `gin_pending_list_limit` (4 MB) merges it. Measured on a
 * 1,000,000-instance index (10,000 studies) right after they were stored: the whole study table sat
 * in the pending lists (336 pages, 10,113 entries), a `*mit*` patient-name scan took 2.5 ms in the
 * index instead of 0.06 ms, and the planner chose a sequential scan of the study table. QIDO speed
 * then depends on when autovacuum last ran (and on autovacuum being on at all). Without the pending
 * list each study row updates its indexes when it is stored: a few trigram entries per name, once per
 * study or series (instance rows have no GIN index), so STOW pays little.
 *
 * Entries already pending are merged here (`gin_clean_pending_list`). Plain PostgreSQL syntax, so it
 * runs on PGlite as on PostgreSQL.
 */
const GIN_INDEXES = [
  'study_patient_name_search_trgm',
  'study_referring_physician_name_search_trgm',
  'study_patient_name_fold_trgm',
  'study_referring_physician_name_fold_trgm',
  'study_patient_id_trgm',
  'study_accession_number_trgm',
  'study_study_description_trgm',
  'study_study_id_trgm',
  'study_modalities_in_study',
  'study_sop_classes_in_study',
  'series_description_trgm',
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const index of GIN_INDEXES) {
    await sql`alter index ${sql.id(index)} set (fastupdate = off)`.execute(db);
    await sql`select gin_clean_pending_list(${index}::regclass)`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const index of GIN_INDEXES) await sql`alter index ${sql.id(index)} reset (fastupdate)`.execute(db);
}
