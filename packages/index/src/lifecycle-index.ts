import { type Kysely, type Transaction, sql } from 'kysely';
import { recomputeStudy } from './instance-index.js';
import type { Database } from './schema.js';

/** What one deletion removed from the index: its blob keys are unreferenced once it returns. */
export interface Deletion {
  studyInstanceUid: string;
  /** The series removed entirely (all of the study's when the study went). */
  seriesInstanceUids: string[];
  /** The SOP Instance UIDs removed. */
  sopInstanceUids: string[];
  /** The blob keys of the removed instances, for the caller to remove after the commit. */
  blobKeys: string[];
  /** Whether the study row itself went (its last instance was removed). */
  studyRemoved: boolean;
}

/** What to delete: a study, a series of it, or an instance of that series. */
export interface DeletionTarget {
  studyInstanceUid: string;
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
}

/** SQLSTATE deadlock_detected: one of two transactions waiting on each other is rolled back. */
const DEADLOCK = '40P01';
const ATTEMPTS = 3;

/**
 * Deletion in the index (issue #15): one transaction per deletion, so QIDO-RS, metadata, frames,
 * the OHIF JSON and the computed counts (QIDO-8) stop showing the instances at once. The change
 * feed hooks here: every deletion goes through `delete` (deleteStudy/Series/Instance).
 *
 * Concurrency with the store transaction (InstanceIndex.storeInstances): the study row is locked
 * (`for update`) first. A store transaction that already inserted rows under the study holds a key
 * share lock on it, so the deletion waits for it and removes its rows too; one that comes later waits
 * on the foreign key check of its insert, fails it once the deletion commits, and retries: its
 * instances then go into a fresh study entry. Never a half-deleted study with new rows.
 */
export class LifecycleIndex {
  constructor(private readonly db: Kysely<Database>) {}

  /** Deletes a study, its series and instances; undefined when it is not stored. */
  deleteStudy(studyInstanceUid: string): Promise<Deletion | undefined> {
    return this.delete({ studyInstanceUid });
  }

  /** Deletes a series of a study and its instances (the study too if nothing is left); undefined when absent. */
  deleteSeries(studyInstanceUid: string, seriesInstanceUid: string): Promise<Deletion | undefined> {
    return this.delete({ studyInstanceUid, seriesInstanceUid });
  }

  /** Deletes one instance (its series and study too if nothing is left in them); undefined when absent. */
  deleteInstance(studyInstanceUid: string, seriesInstanceUid: string, sopInstanceUid: string): Promise<Deletion | undefined> {
    return this.delete({ studyInstanceUid, seriesInstanceUid, sopInstanceUid });
  }

  /** The one place deletions happen. */
  async delete(target: DeletionTarget): Promise<Deletion | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute((trx) => deleteIn(trx, target));
      } catch (error) {
        // A store transaction that locked an instance row of this study and then waited on the study
        // row: PostgreSQL rolled one of the two back. Ours starts again (the store retries its own).
        if ((error as { code?: string }).code === DEADLOCK && attempt < ATTEMPTS) continue;
        throw error;
      }
    }
  }
}

async function deleteIn(trx: Transaction<Database>, target: DeletionTarget): Promise<Deletion | undefined> {
  const study = await trx
    .selectFrom('study')
    .select(['pk', 'patient_pk'])
    .where('study_instance_uid', '=', target.studyInstanceUid)
    .forUpdate()
    .executeTakeFirst();
  if (!study) return undefined;

  let seriesPk: number | undefined;
  if (target.seriesInstanceUid !== undefined) {
    const series = await trx
      .selectFrom('series')
      .select('pk')
      .where('series_instance_uid', '=', target.seriesInstanceUid)
      .where('study_pk', '=', study.pk)
      .executeTakeFirst();
    if (!series) return undefined;
    seriesPk = series.pk;
  }

  let instances = trx.deleteFrom('instance').where('study_pk', '=', study.pk);
  if (seriesPk !== undefined) instances = instances.where('series_pk', '=', seriesPk);
  if (target.sopInstanceUid !== undefined) instances = instances.where('sop_instance_uid', '=', target.sopInstanceUid);
  const removed = await instances.returning(['sop_instance_uid', 'blob_key']).execute();
  if (removed.length === 0 && target.sopInstanceUid !== undefined) return undefined;

  // Series left without instances go with them (a series is never listed empty).
  const seriesGone = await trx
    .deleteFrom('series')
    .where('study_pk', '=', study.pk)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('instance').select('instance.pk').whereRef('instance.series_pk', '=', 'series.pk'))))
    .returning('series_instance_uid')
    .execute();

  const left = await trx.selectFrom('instance').select('pk').where('study_pk', '=', study.pk).limit(1).executeTakeFirst();
  const studyRemoved = left === undefined;
  if (studyRemoved) {
    await trx.deleteFrom('series').where('study_pk', '=', study.pk).execute();
    await trx.deleteFrom('study_refresh_pending').where('study_pk', '=', study.pk).execute();
    await trx.deleteFrom('study').where('pk', '=', study.pk).execute();
    // The patient row holds identifying data: it goes with the patient's last study. Locked first, so
    // that a store creating another study of this patient either committed before (and keeps the row)
    // or waits and retries after us (its foreign key check fails).
    await sql`select pk from patient where pk = ${study.patient_pk} for update`.execute(trx);
    await sql`delete from patient where pk = ${study.patient_pk} and not exists (select 1 from study where study.patient_pk = ${study.patient_pk})`.execute(
      trx,
    );
  } else {
    // The computed attributes in the same transaction: no reader ever sees the old counts without the rows.
    await recomputeStudy(trx, study.pk);
  }
  return {
    studyInstanceUid: target.studyInstanceUid,
    seriesInstanceUids: seriesGone.map((s) => s.series_instance_uid),
    sopInstanceUids: removed.map((r) => r.sop_instance_uid),
    blobKeys: removed.map((r) => r.blob_key),
    studyRemoved,
  };
}
