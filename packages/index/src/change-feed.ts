import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.js';

/** What happened to an instance (the feed's `Action`). */
export type ChangeAction = 'create' | 'update' | 'delete';
/** What the instance of a change is now (the feed's `State`). */
export type ChangeState = 'current' | 'replaced' | 'deleted';

/** One entry of the change feed. */
export interface ChangeFeedEntry {
  /** Gap-free from 1, in commit order (migration 2026-12-08T03-00_change-feed). */
  sequence: number;
  action: ChangeAction;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  /** When the change was committed (the database clock). */
  timestamp: Date;
  /** `current`: this is the instance's latest change and it exists; `replaced`: a later change exists; `deleted`: it no longer exists. */
  state: ChangeState;
  /** The instance's current DICOM JSON metadata (text), when asked for and the instance exists. */
  metadata?: string;
}

export interface ChangeFeedQuery {
  /** Entries with a sequence above this one (0: from the start). */
  afterSequence: number;
  /** Entries committed at or after this time. */
  startTime?: Date;
  /** Entries committed before this time (exclusive). */
  endTime?: Date;
  /** Within the time window: entries skipped from its first one. */
  skip?: number;
  limit: number;
  includeMetadata: boolean;
}

/**
 * Reads the change feed. Writing it is the database's job: triggers on `instance` record every
 * change in the transaction that makes it and number it at commit, so a reader never sees a
 * sequence n without every sequence below n (docs/architecture.md, "Change feed").
 */
export class ChangeFeed {
  constructor(private readonly db: Kysely<Database>) {}

  /** Entries in sequence order: those after `afterSequence`, or `skip` entries into the time window. */
  async read(query: ChangeFeedQuery): Promise<ChangeFeedEntry[]> {
    let after = query.afterSequence;
    if (query.startTime !== undefined || query.endTime !== undefined) {
      // Sequence and commit time increase together (both are given under the counter's lock), so
      // the window is one range of sequences: start it at the window's first entry.
      let first = this.db
        .selectFrom('change_feed')
        .select(sql<number | null>`min(sequence)`.as('first'))
        .where('sequence', 'is not', null);
      if (query.startTime) first = first.where('changed_at', '>=', query.startTime);
      if (query.endTime) first = first.where('changed_at', '<', query.endTime);
      const row = await first.executeTakeFirst();
      if (row?.first == null) return [];
      after = Math.max(after, Number(row.first) - 1 + (query.skip ?? 0));
    }
    let select = this.db
      .selectFrom('change_feed as c')
      .leftJoin('instance as i', 'i.sop_instance_uid', 'c.sop_instance_uid')
      .select([
        'c.sequence',
        'c.action',
        'c.study_instance_uid',
        'c.series_instance_uid',
        'c.sop_instance_uid',
        'c.changed_at',
        sql<boolean>`i.pk is not null`.as('present'),
        sql<number>`(select max(l.sequence) from change_feed l where l.sop_instance_uid = c.sop_instance_uid)`.as('latest'),
      ])
      .where('c.sequence', '>', after)
      .orderBy('c.sequence')
      .limit(query.limit);
    if (query.includeMetadata) select = select.select('i.metadata');
    if (query.startTime) select = select.where('c.changed_at', '>=', query.startTime);
    if (query.endTime) select = select.where('c.changed_at', '<', query.endTime);
    const rows = await select.execute();
    return rows.map((row) => {
      const state: ChangeState = !row.present ? 'deleted' : Number(row.latest) === Number(row.sequence) ? 'current' : 'replaced';
      const metadata = 'metadata' in row && typeof row.metadata === 'string' ? row.metadata : undefined;
      return {
        sequence: Number(row.sequence),
        action: row.action as ChangeAction,
        studyInstanceUid: row.study_instance_uid,
        seriesInstanceUid: row.series_instance_uid,
        sopInstanceUid: row.sop_instance_uid,
        timestamp: new Date(row.changed_at),
        state,
        ...(metadata !== undefined ? { metadata } : {}),
      };
    });
  }

  /** The latest entry, or undefined while the feed is empty. */
  async latest(includeMetadata: boolean): Promise<ChangeFeedEntry | undefined> {
    const row = await this.db
      .selectFrom('change_feed')
      .select('sequence')
      .where('sequence', 'is not', null)
      .orderBy('sequence', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!row?.sequence) return undefined;
    const [entry] = await this.read({ afterSequence: Number(row.sequence) - 1, limit: 1, includeMetadata });
    return entry;
  }
}
