import { type DicomJsonDataset, DicomJsonMembers, type InstanceDescription, Tag, stringifyDicomJson, valuesOnly } from '@tessera/dicom';
import { type Insertable, type Kysely, type Transaction, sql } from 'kysely';
import { SERIES_LEVEL_TAGS, STUDY_LEVEL_TAGS, firstInteger, firstString, personNameSearchForm, personNameString, pick } from './levels.js';
import type { Database, InstanceTable } from './schema.js';
import { preparedStatement } from './prepared.js';

/** What the store transaction hands to the index for one instance whose blob is already durable. */
export interface InstanceRecord {
  description: InstanceDescription;
  size: number;
  sha256: string;
  blobKey: string;
}

/** The outcome of indexing one instance: a value, never an exception, for the expected cases. */
export type IndexOutcome =
  { kind: 'stored' } | { kind: 'identical' } | { kind: 'replaced'; previousBlobKey: string } | { kind: 'conflict'; detail: string; existingBlobKey?: string };

/**
 * An indexed instance as the store transaction's duplicate check sees it: where it is filed (study,
 * series, blob key) and what it holds (SHA-256, size). What a retrieval needs is
 * `RetrievableInstance` (./retrieve).
 */
export interface StoredInstance {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  size: number;
  sha256: string;
  blobKey: string;
}

/**
 * The instance side of the index: records instances, maintains the computed study and series
 * attributes (QIDO-8), finds stored instances. Rows are only written after their blob is durable,
 * so a row never points to a missing object.
 */
/** Attempts of a store transaction that lost a race (an insert of the same UID, a deletion). */
const ATTEMPTS = 5;

export class InstanceIndex {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Records instances whose blobs are durable, in one transaction (a STOW request's chunk: a few
   * statements for the whole chunk rather than seven round trips per instance). Per instance, an
   * existing SOP Instance UID with the same SHA-256 is `identical`; with other content it is a
   * `conflict` unless `overwrite` is set; under another study or series it is always a `conflict`
   * (an instance never moves). Outcomes are in the order of `records`; SOP Instance UIDs must be
   * distinct within one call.
   */
  async storeInstances(records: readonly InstanceRecord[], options: { overwrite: boolean }): Promise<IndexOutcome[]> {
    if (records.length === 0) return [];
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction().execute((trx) => this.storeIn(trx, records, options));
      } catch (error) {
        // Another request inserted one of these SOP Instance UIDs between our check and insert:
        // everything rolled back, and the next attempt sees its row.
        // Or a deletion removed the study (or series, or patient) it was filing under: the next attempt
        // files it under a fresh study entry (lifecycle-index.ts).
        if ((error instanceof RetryableRace || RACED_WITH_DELETION.has((error as { code?: string }).code ?? '')) && attempt < ATTEMPTS) continue;
        throw error;
      }
    }
  }

  private async storeIn(trx: Transaction<Database>, records: readonly InstanceRecord[], options: { overwrite: boolean }): Promise<IndexOutcome[]> {
    // One statement for the chunk's existing instance rows (locked) and the series the chunk files
    // under (a chunk is nearly always one series): one round trip fewer than a lookup each.
    const seriesUids = [...new Set(records.map((r) => r.description.seriesInstanceUid))];
    const looked = await trx
      .with('existing', (db) =>
        db
          .selectFrom('instance')
          .innerJoin('series', 'series.pk', 'instance.series_pk')
          .innerJoin('study', 'study.pk', 'instance.study_pk')
          .select([
            'instance.pk',
            'instance.study_pk',
            'instance.sop_instance_uid',
            'instance.sha256',
            'instance.blob_key',
            'series.series_instance_uid',
            'study.study_instance_uid',
          ])
          .where(
            'instance.sop_instance_uid',
            'in',
            records.map((r) => r.description.sopInstanceUid),
          )
          // Lock the instance rows only: locking the joined study and series too would deadlock with
          // refreshStudies, which locks the study first and then updates its series.
          .forUpdate('instance'),
      )
      .selectFrom('existing')
      .select((eb) => [
        'pk',
        'study_pk',
        eb.ref('sop_instance_uid').$castTo<string | null>().as('sop_instance_uid'),
        eb.ref('sha256').$castTo<string | null>().as('sha256'),
        eb.ref('blob_key').$castTo<string | null>().as('blob_key'),
        'series_instance_uid',
        'study_instance_uid',
      ])
      .unionAll((eb) =>
        eb
          .selectFrom('series')
          .innerJoin('study', 'study.pk', 'series.study_pk')
          .select([
            'series.pk',
            'series.study_pk',
            sql<string | null>`null`.as('sop_instance_uid'),
            sql<string | null>`null`.as('sha256'),
            sql<string | null>`null`.as('blob_key'),
            'series.series_instance_uid',
            'study.study_instance_uid',
          ])
          .where('series.series_instance_uid', 'in', seriesUids),
      )
      // Prepared (one per count of UIDs): equality on unique keys, whose generic plan is the best.
      .modifyEnd(preparedStatement())
      .execute();
    const existingRows = looked.flatMap((row) =>
      row.sop_instance_uid === null ? [] : [{ ...row, sop_instance_uid: row.sop_instance_uid, sha256: row.sha256!, blob_key: row.blob_key! }],
    );
    const knownSeries = new Map(looked.flatMap((row) => (row.sop_instance_uid === null ? [[row.series_instance_uid, row] as const] : [])));
    const existing = new Map(existingRows.map((row) => [row.sop_instance_uid, row]));

    const outcomes: IndexOutcome[] = [];
    /** Studies whose computed attributes this transaction changes. */
    const changedStudies = new Set<number>();
    /** Records not stored yet, with their place in `outcomes`. */
    const fresh: { record: InstanceRecord; slot: number }[] = [];
    for (const record of records) {
      const d = record.description;
      const row = existing.get(d.sopInstanceUid);
      if (!row) {
        fresh.push({ record, slot: outcomes.length });
        outcomes.push({ kind: 'stored' });
      } else if (row.study_instance_uid !== d.studyInstanceUid || row.series_instance_uid !== d.seriesInstanceUid) {
        outcomes.push({
          kind: 'conflict',
          detail: `SOP Instance ${d.sopInstanceUid} is already stored in study ${row.study_instance_uid}, series ${row.series_instance_uid}`,
        });
      } else if (row.sha256 === record.sha256) {
        outcomes.push({ kind: 'identical' });
      } else if (!options.overwrite) {
        outcomes.push({ kind: 'conflict', detail: `SOP Instance ${d.sopInstanceUid} is already stored with different content (SHA-256 ${row.sha256})` });
      } else {
        await trx
          .updateTable('instance')
          .set({ ...instanceColumns(record), updated_at: sql`now()` as never })
          .where('pk', '=', row.pk)
          .execute();
        outcomes.push({ kind: 'replaced', previousBlobKey: row.blob_key });
        changedStudies.add(row.study_pk);
      }
    }
    if (fresh.length === 0) return this.markForRefresh(trx, changedStudies, outcomes);

    // Studies and series once per chunk (a chunk is nearly always one series of one study).
    const studyPks = new Map<string, number>();
    const seriesPks = new Map<string, number>();
    const refused = new Map<string, string>();
    for (const {
      record: { description: d },
    } of fresh) {
      if (seriesPks.has(d.seriesInstanceUid) || refused.has(d.seriesInstanceUid)) continue;
      // A series never moves: checked before anything is written for it.
      const known = knownSeries.get(d.seriesInstanceUid);
      if (known && known.study_instance_uid !== d.studyInstanceUid) {
        refused.set(d.seriesInstanceUid, `Series ${d.seriesInstanceUid} already belongs to study ${known.study_instance_uid}`);
        continue;
      }
      if (known) {
        studyPks.set(d.studyInstanceUid, known.study_pk);
        seriesPks.set(d.seriesInstanceUid, known.pk);
        continue;
      }
      let studyPk = studyPks.get(d.studyInstanceUid);
      if (studyPk === undefined) {
        studyPk = await this.ensureStudy(trx, d.metadata, d.studyInstanceUid);
        studyPks.set(d.studyInstanceUid, studyPk);
      }
      const series = await this.ensureSeries(trx, d.metadata, d.seriesInstanceUid, studyPk);
      // Inserted concurrently under another study between our check and insert: decide again.
      if (series.studyPk !== studyPk) throw new RetryableRace();
      seriesPks.set(d.seriesInstanceUid, series.pk);
    }
    const rows: Insertable<InstanceTable>[] = [];
    for (const { record, slot } of fresh) {
      const d = record.description;
      const seriesPk = seriesPks.get(d.seriesInstanceUid);
      if (seriesPk === undefined) {
        outcomes[slot] = { kind: 'conflict', detail: refused.get(d.seriesInstanceUid)! };
        continue;
      }
      rows.push({ ...instanceColumns(record), series_pk: seriesPk, study_pk: studyPks.get(d.studyInstanceUid)! });
    }
    if (rows.length === 0) return this.markForRefresh(trx, changedStudies, outcomes);
    // The rows and their studies' refresh marks in one statement (one round trip fewer per chunk).
    const { inserted } = await trx
      .with('inserted', (db) =>
        db
          .insertInto('instance')
          .values(rows)
          .onConflict((oc) => oc.column('sop_instance_uid').doNothing())
          .returning('study_pk'),
      )
      .with('marked', (db) =>
        db
          .insertInto('study_refresh_pending')
          .columns(['study_pk'])
          .expression((eb) => eb.selectFrom('inserted').select('study_pk').distinct()),
      )
      .selectFrom('inserted')
      .select((eb) => eb.fn.countAll<number | string>().as('inserted'))
      .executeTakeFirstOrThrow();
    // Fewer rows: another request inserted one of these UIDs meanwhile (the marks roll back too).
    if (Number(inserted) !== rows.length) throw new RetryableRace();
    // Studies of replaced instances that no inserted row marked yet (overwrite only).
    for (const row of rows) changedStudies.delete(row.study_pk);
    return this.markForRefresh(trx, changedStudies, outcomes);
  }

  /**
   * Records, in the store transaction itself, that these studies' computed attributes must be
   * recomputed. refreshStudies clears the marks; marks left by a server that died before its refresh
   * are found by refreshPendingStudies (at start and periodically), so no count stays stale.
   */
  private async markForRefresh(trx: Transaction<Database>, studyPks: ReadonlySet<number>, outcomes: IndexOutcome[]): Promise<IndexOutcome[]> {
    if (studyPks.size)
      await trx
        .insertInto('study_refresh_pending')
        .values([...studyPks].map((pk) => ({ study_pk: pk })))
        .execute();
    return outcomes;
  }

  private async ensureStudy(trx: Transaction<Database>, metadata: DicomJsonDataset, uid: string): Promise<number> {
    const found = await trx.selectFrom('study').select('pk').where('study_instance_uid', '=', uid).executeTakeFirst();
    if (found) return found.pk;
    const patientId = firstString(metadata, Tag.PatientID) ?? '';
    const issuer = firstString(metadata, Tag.IssuerOfPatientID) ?? '';
    const patientName = personNameString(metadata, Tag.PatientName);
    await trx
      .insertInto('patient')
      .values({ patient_id: patientId, issuer_of_patient_id: issuer, patient_name: patientName })
      .onConflict((oc) => oc.constraint('patient_identity').doNothing())
      .execute();
    const patient = await trx
      .selectFrom('patient')
      .select('pk')
      .where('patient_id', '=', patientId)
      .where('issuer_of_patient_id', '=', issuer)
      .executeTakeFirst();
    // Deleted with its last study between our insert and this read: decide again.
    if (!patient) throw new RetryableRace();
    const referring = personNameString(metadata, Tag.ReferringPhysicianName);
    await trx
      .insertInto('study')
      .values({
        patient_pk: patient.pk,
        study_instance_uid: uid,
        study_date: firstString(metadata, Tag.StudyDate),
        study_time: firstString(metadata, Tag.StudyTime),
        accession_number: firstString(metadata, Tag.AccessionNumber),
        referring_physician_name: referring,
        referring_physician_name_search: personNameSearchForm(referring),
        study_id: firstString(metadata, Tag.StudyID),
        study_description: firstString(metadata, Tag.StudyDescription),
        timezone_offset_from_utc: firstString(metadata, Tag.TimezoneOffsetFromUTC),
        patient_name: patientName,
        patient_name_search: personNameSearchForm(patientName),
        patient_id: firstString(metadata, Tag.PatientID),
        issuer_of_patient_id: firstString(metadata, Tag.IssuerOfPatientID),
        patient_birth_date: firstString(metadata, Tag.PatientBirthDate),
        patient_sex: firstString(metadata, Tag.PatientSex),
        attributes: DicomJsonMembers.from(valuesOnly(pick(metadata, STUDY_LEVEL_TAGS))).text,
      })
      .onConflict((oc) => oc.column('study_instance_uid').doNothing())
      .execute();
    const study = await trx.selectFrom('study').select('pk').where('study_instance_uid', '=', uid).executeTakeFirst();
    // Deleted between the insert (which found it) and this read: decide again.
    if (!study) throw new RetryableRace();
    return study.pk;
  }

  private async ensureSeries(trx: Transaction<Database>, metadata: DicomJsonDataset, uid: string, studyPk: number): Promise<{ pk: number; studyPk: number }> {
    await trx
      .insertInto('series')
      .values({
        study_pk: studyPk,
        series_instance_uid: uid,
        modality: firstString(metadata, Tag.Modality),
        series_number: firstInteger(metadata, Tag.SeriesNumber),
        series_description: firstString(metadata, Tag.SeriesDescription),
        series_date: firstString(metadata, Tag.SeriesDate),
        series_time: firstString(metadata, Tag.SeriesTime),
        performed_procedure_step_start_date: firstString(metadata, Tag.PerformedProcedureStepStartDate),
        performed_procedure_step_start_time: firstString(metadata, Tag.PerformedProcedureStepStartTime),
        timezone_offset_from_utc: firstString(metadata, Tag.TimezoneOffsetFromUTC),
        attributes: DicomJsonMembers.from(valuesOnly(pick(metadata, SERIES_LEVEL_TAGS))).text,
      })
      .onConflict((oc) => oc.column('series_instance_uid').doNothing())
      .execute();
    const series = await trx.selectFrom('series').select(['pk', 'study_pk']).where('series_instance_uid', '=', uid).executeTakeFirst();
    if (!series) throw new RetryableRace();
    return { pk: series.pk, studyPk: series.study_pk };
  }

  /**
   * Recomputes the counts, ModalitiesInStudy and SOPClassesInStudy of studies and their series
   * (QIDO-8). Called once per request for the studies it touched, not once per instance: one
   * statement per study, the database function `refresh_study` (migration
   * 2026-12-08T04-00_refresh-study-function), which takes the study row lock first, so concurrent
   * refreshes of one study serialise and the last one sees every committed instance. Its commit does
   * not wait for the WAL flush: the marks that the store transaction committed durably stay until a
   * refresh that removed them is itself durable, so a crash leaves the study to the sweep.
   */
  async refreshStudies(studyInstanceUids: Iterable<string>): Promise<void> {
    for (const uid of new Set(studyInstanceUids)) await sql`select refresh_study(${uid})`.execute(this.db);
  }

  /**
   * Refreshes every study still marked for a refresh: those of store transactions whose request
   * never got to its refresh (the server was killed, or the refresh itself failed). Marks of studies
   * that no longer exist are dropped. Returns how many studies were refreshed.
   */
  async refreshPendingStudies(): Promise<number> {
    const pending = await this.db
      .selectFrom('study_refresh_pending')
      .leftJoin('study', 'study.pk', 'study_refresh_pending.study_pk')
      .select(['study_refresh_pending.study_pk', 'study.study_instance_uid'])
      .distinct()
      .execute();
    const gone = pending.filter((p) => p.study_instance_uid === null).map((p) => p.study_pk);
    if (gone.length) await this.db.deleteFrom('study_refresh_pending').where('study_pk', 'in', gone).execute();
    const uids = pending.flatMap((p) => (p.study_instance_uid === null ? [] : [p.study_instance_uid]));
    await this.refreshStudies(uids);
    return uids.length;
  }

  /** The stored instances among these SOP Instance UIDs (one query; absent ones are left out). */
  async findInstances(sopInstanceUids: readonly string[]): Promise<StoredInstance[]> {
    if (sopInstanceUids.length === 0) return [];
    // Prepared, as the store transaction's lookup: STOW's duplicate check runs once per chunk.
    const rows = await this.storedInstances().where('instance.sop_instance_uid', 'in', sopInstanceUids).modifyEnd(preparedStatement()).execute();
    return rows.map(toStoredInstance);
  }

  /** The instance rows with their study and series UIDs, as `StoredInstance` reads them (and their pk). */
  private storedInstances() {
    return this.db
      .selectFrom('instance')
      .innerJoin('series', 'series.pk', 'instance.series_pk')
      .innerJoin('study', 'study.pk', 'instance.study_pk')
      .select([
        'instance.pk',
        'study.study_instance_uid',
        'series.series_instance_uid',
        'instance.sop_instance_uid',
        'instance.size',
        'instance.sha256',
        'instance.blob_key',
      ]);
  }

  /**
   * One page of stored instances in primary-key order, after the row `afterPk` (keyset pagination:
   * each page is one index range scan, and a walk over the whole archive holds one page in memory).
   * `studyInstanceUid` limits the walk to one study. Used by `tessera verify`.
   */
  async pageInstances(options: { afterPk: number; limit: number; studyInstanceUid?: string }): Promise<(StoredInstance & { pk: number })[]> {
    let query = this.storedInstances().where('instance.pk', '>', options.afterPk);
    if (options.studyInstanceUid !== undefined) query = query.where('study.study_instance_uid', '=', options.studyInstanceUid);
    const rows = await query.orderBy('instance.pk').limit(options.limit).execute();
    return rows.map((row) => ({ pk: row.pk, ...toStoredInstance(row) }));
  }

  /** How many instances are stored (in one study if given): the total a `tessera verify` progress bar counts to. */
  async countInstances(options: { studyInstanceUid?: string } = {}): Promise<number> {
    let query = this.db.selectFrom('instance').select((eb) => eb.fn.countAll<number | string>().as('n'));
    if (options.studyInstanceUid !== undefined)
      query = query.innerJoin('study', 'study.pk', 'instance.study_pk').where('study.study_instance_uid', '=', options.studyInstanceUid);
    const row = await query.executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Whether any instance row refers to this blob (used before deleting a blob and by the orphan sweep). */
  async isBlobReferenced(blobKey: string): Promise<boolean> {
    const row = await this.db.selectFrom('instance').select('pk').where('blob_key', '=', blobKey).executeTakeFirst();
    return row !== undefined;
  }
}

/**
 * Recomputes one study's computed attributes and its series' counts (QIDO-8) and clears its refresh
 * marks, inside a transaction that holds the study row's lock (a deletion). The statements are the
 * database function `recompute_study` (migration 2026-12-08T04-00_refresh-study-function), which
 * `refresh_study` runs too: one definition for both.
 */
export async function recomputeStudy(trx: Transaction<Database>, studyPk: number): Promise<void> {
  await sql`select recompute_study(${studyPk})`.execute(trx);
}

/** SQLSTATEs of a store that lost a race with a deletion (lifecycle-index.ts): the whole chunk is tried again. */
const RACED_WITH_DELETION = new Set([
  // foreign_key_violation: the study, series or patient it was filing under was deleted meanwhile.
  '23503',
  // deadlock_detected: it held an instance row the deletion wanted while waiting on the study row.
  '40P01',
]);

/** Thrown when a concurrent request inserted the same instance first; the caller retries once. */
export class RetryableRace extends Error {
  override readonly name = 'RetryableRace';
}

function instanceColumns(record: InstanceRecord) {
  const d = record.description;
  return {
    sop_instance_uid: d.sopInstanceUid,
    sop_class_uid: d.sopClassUid,
    instance_number: firstInteger(d.metadata, Tag.InstanceNumber),
    rows: firstInteger(d.metadata, Tag.Rows),
    columns: firstInteger(d.metadata, Tag.Columns),
    bits_allocated: firstInteger(d.metadata, Tag.BitsAllocated),
    number_of_frames: d.numberOfFrames ?? firstInteger(d.metadata, Tag.NumberOfFrames),
    transfer_syntax_uid: d.transferSyntaxUid,
    has_file_meta: d.hasFileMeta,
    size: record.size,
    sha256: record.sha256,
    blob_key: record.blobKey,
    frames: d.frames ? JSON.stringify(d.frames) : null,
    bulk_data: JSON.stringify(d.bulkData),
    metadata: stringifyDicomJson(d.metadata),
  };
}

const toStoredInstance = (row: {
  study_instance_uid: string;
  series_instance_uid: string;
  sop_instance_uid: string;
  size: number;
  sha256: string;
  blob_key: string;
}): StoredInstance => ({
  studyInstanceUid: row.study_instance_uid,
  seriesInstanceUid: row.series_instance_uid,
  sopInstanceUid: row.sop_instance_uid,
  size: row.size,
  sha256: row.sha256,
  blobKey: row.blob_key,
});
