import { type Kysely, sql } from 'kysely';

/**
 * The refresh of a study's computed attributes (counts, ModalitiesInStudy, SOPClassesInStudy;
 * QIDO-8) as two database functions, so that a STOW-RS request refreshes its study in one round trip
 * (`select refresh_study(uid)`) instead of six (BEGIN, lock, marks, series, study, COMMIT).
 *
 * `recompute_study(pk)` runs the statements the index ran one by one until now, unchanged, in a
 * transaction that holds the study row's lock (a deletion calls it inside its own transaction).
 *
 * `refresh_study(uid)` locks the study row, then recomputes. Inside a VOLATILE plpgsql function each
 * statement takes a fresh snapshot under READ COMMITTED, as the separate statements of a transaction
 * did: the marks are removed after the lock is granted and the counts computed after that, so they
 * include every instance whose mark this call removes, and concurrent refreshes of one study still
 * serialise on the row lock (the last one sees every committed instance).
 *
 * Its transaction commits without waiting for the WAL flush (synchronous_commit off, for that
 * transaction only). The counts are derived data; what must survive a crash is the mark that says a
 * study needs them, and the mark is written with the instance rows by the store transaction, which
 * commits synchronously. A crash that loses a refresh loses its removal of the marks too, so the
 * sweep at the next start recomputes the study (pending-refresh.ts). Readers see the refreshed
 * counts as soon as the function returns, flushed or not; a later synchronous commit (the next
 * store) flushes it with its own WAL.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function recompute_study(target_pk bigint) returns void language plpgsql as $$
    begin
      delete from study_refresh_pending where study_pk = target_pk;
      update series set
        number_of_instances = (select count(*) from instance where instance.series_pk = series.pk),
        updated_at = now()
      where series.study_pk = target_pk;
      update study set
        number_of_series = (select count(*) from series where series.study_pk = study.pk),
        number_of_instances = (select count(*) from instance where instance.study_pk = study.pk),
        modalities_in_study = array(select distinct modality from series where series.study_pk = study.pk and modality is not null order by 1),
        sop_classes_in_study = array(select distinct sop_class_uid from instance where instance.study_pk = study.pk order by 1),
        updated_at = now()
      where study.pk = target_pk;
    end
    $$`.execute(db);
  await sql`
    create function refresh_study(target_uid text) returns void language plpgsql as $$
    declare
      target_pk bigint;
    begin
      perform set_config('synchronous_commit', 'off', true);
      select pk into target_pk from study where study_instance_uid = target_uid for update;
      if found then
        perform recompute_study(target_pk);
      end if;
    end
    $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function refresh_study(text)`.execute(db);
  await sql`drop function recompute_study(bigint)`.execute(db);
}
