import type { BulkDataRef, FrameIndex } from '@tessera/dicom';
import { type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import { StatementCache, preparedStatement } from '../prepared.js';
import type { Database } from '../schema.js';

/** What a retrieval needs of one stored instance, read from the index alone (never from the blob). */
export interface RetrievableInstance {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  sopClassUid: string;
  transferSyntaxUid: string;
  hasFileMeta: boolean;
  size: number;
  blobKey: string;
  frames: FrameIndex | null;
  bulkData: BulkDataRef[];
}

/** The scope of a retrieval: a study, a series of it, or one instance of that series. */
export interface RetrieveScope {
  studyInstanceUid: string;
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
}

/** The scope of a retrieval of one instance: every UID given. */
export interface InstanceScope {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
}

/** Metadata of one instance: the compact DICOM JSON text stored at ingest (relative BulkDataURIs). */
export interface InstanceMetadataText {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  metadata: string;
}

/** Changes whenever an instance of the scope is added, replaced or removed (for ETags). */
export interface ScopeVersion {
  count: number;
  version: string;
}

/**
 * Index queries of the Retrieve transaction (WADO-RS, WADO-URI): the instances of a study, series or
 * one instance, in a stable order (series number, series UID, instance number, SOP Instance UID).
 * An empty answer means the scope is not stored (404).
 */
export class RetrieveIndex {
  readonly #statements: StatementCache;

  constructor(private readonly db: Kysely<Database>) {
    this.#statements = new StatementCache(db as unknown as Kysely<never>);
  }

  /** The one instance a scope of three UIDs names, or undefined when it is not stored. */
  async instance(scope: InstanceScope): Promise<RetrievableInstance | undefined> {
    const [row] = await this.instances(scope);
    return row;
  }

  async instances(scope: RetrieveScope): Promise<RetrievableInstance[]> {
    const rows = await this.#statements.rows(`instances:${levelOf(scope)}`, parametersOf(scope), () =>
      this.scoped(scope)
        .select([
          'study.study_instance_uid',
          'series.series_instance_uid',
          'instance.sop_instance_uid',
          'instance.sop_class_uid',
          'instance.transfer_syntax_uid',
          'instance.has_file_meta',
          'instance.size',
          'instance.blob_key',
          'instance.frames',
          'instance.bulk_data',
        ])
        .modifyEnd(preparedStatement()),
    );
    return rows.map((row) => ({
      studyInstanceUid: row.study_instance_uid,
      seriesInstanceUid: row.series_instance_uid,
      sopInstanceUid: row.sop_instance_uid,
      sopClassUid: row.sop_class_uid,
      transferSyntaxUid: row.transfer_syntax_uid,
      hasFileMeta: row.has_file_meta,
      size: Number(row.size),
      blobKey: row.blob_key,
      frames: jsonValue(row.frames) as FrameIndex | null,
      bulkData: (jsonValue(row.bulk_data) ?? []) as BulkDataRef[],
    }));
  }

  /**
   * The stored metadata text of each instance in scope, in retrieval order, with the scope's
   * version computed from the same rows (so a 200 needs one query).
   */
  async metadata(scope: RetrieveScope): Promise<{ rows: InstanceMetadataText[]; version: ScopeVersion }> {
    const rows = await this.#statements.rows(`metadata:${levelOf(scope)}`, parametersOf(scope), () =>
      this.scoped(scope)
        .select([
          'study.study_instance_uid',
          'series.series_instance_uid',
          'instance.sop_instance_uid',
          'instance.metadata',
          'instance.pk',
          'instance.updated_at',
        ])
        .modifyEnd(preparedStatement()),
    );
    let latest = 0;
    let pks = 0n;
    for (const row of rows) {
      latest = Math.max(latest, new Date(row.updated_at).getTime());
      pks += BigInt(row.pk);
    }
    return {
      rows: rows.map((row) => ({
        studyInstanceUid: row.study_instance_uid,
        seriesInstanceUid: row.series_instance_uid,
        sopInstanceUid: row.sop_instance_uid,
        metadata: row.metadata,
      })),
      version: versionOf(rows.length, latest, pks),
    };
  }

  /** A cheap fingerprint of the scope's content (count, latest update, set of rows), for If-None-Match. */
  async version(scope: RetrieveScope): Promise<ScopeVersion> {
    const [row] = await this.#statements.rows(`version:${levelOf(scope)}`, parametersOf(scope), () =>
      this.scoped(scope, false)
        .select([
          sql<string>`count(*)::text`.as('count'),
          sql<Date | string | null>`max(instance.updated_at)`.as('updated'),
          sql<string>`coalesce(sum(instance.pk), 0)::text`.as('pks'),
        ])
        .modifyEnd(preparedStatement()),
    );
    const updated = row?.updated ? new Date(row.updated).getTime() : 0;
    return versionOf(Number(row?.count ?? 0), updated, BigInt(row?.pks ?? 0));
  }

  private scoped(scope: RetrieveScope, ordered = true): SelectQueryBuilder<Database, 'instance' | 'series' | 'study', object> {
    let query = this.db
      .selectFrom('instance')
      .innerJoin('series', 'series.pk', 'instance.series_pk')
      .innerJoin('study', 'study.pk', 'instance.study_pk')
      .where('study.study_instance_uid', '=', scope.studyInstanceUid);
    if (scope.seriesInstanceUid !== undefined) query = query.where('series.series_instance_uid', '=', scope.seriesInstanceUid);
    if (scope.sopInstanceUid !== undefined) query = query.where('instance.sop_instance_uid', '=', scope.sopInstanceUid);
    if (!ordered) return query;
    return query
      .orderBy(sql`series.series_number asc nulls last`)
      .orderBy('series.series_instance_uid')
      .orderBy(sql`instance.instance_number asc nulls last`)
      .orderBy('instance.sop_instance_uid');
  }
}

/** Which UIDs the scope gives: each combination is its own statement. */
const levelOf = (scope: RetrieveScope): string =>
  `study${scope.seriesInstanceUid !== undefined ? '+series' : ''}${scope.sopInstanceUid !== undefined ? '+instance' : ''}`;

/** The scope's UIDs in the order `scoped` binds them. */
const parametersOf = (scope: RetrieveScope): string[] =>
  [scope.studyInstanceUid, scope.seriesInstanceUid, scope.sopInstanceUid].filter((uid): uid is string => uid !== undefined);

const versionOf = (count: number, latestMs: number, pks: bigint): ScopeVersion => ({ count, version: `${count}-${latestMs}-${pks}` });

/** jsonb comes back parsed from pg and PGlite; tolerate text too. */
function jsonValue(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}
