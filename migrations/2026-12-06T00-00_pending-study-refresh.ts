import { type Kysely, sql } from 'kysely';

/**
 * Studies whose computed attributes (counts, ModalitiesInStudy, SOPClassesInStudy) must be recomputed.
 *
 * The store transaction adds a row here for each study it changes, in the same transaction as the
 * instance rows; the refresh that recomputes a study deletes its rows. A server killed between the
 * two (kill -9, a crash, a lost connection) leaves the rows behind, and the next server start (or the
 * periodic sweep) recomputes those studies: counts are never stale for longer than that.
 *
 * Append-only and without a foreign key on purpose: concurrent writers of one study insert without
 * waiting on each other or on the study row's lock.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('study_refresh_pending')
    .addColumn('study_pk', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('study_refresh_pending_study_pk').on('study_refresh_pending').column('study_pk').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('study_refresh_pending').execute();
}
