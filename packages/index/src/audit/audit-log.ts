import { CompiledQuery, type Kysely, sql } from 'kysely';
import type { Database } from '../schema.js';

/**
 * The audit event types of DICOM PS3.15 A.5.3 that Tessera records, by a short name. The coded
 * EventID (DCM) of each is in AUDIT_EVENT_CODES; docs/security.md says which request records which.
 */
export const AUDIT_EVENT_TYPES = [
  'query',
  'instances-accessed',
  'instances-transferred',
  'study-deleted',
  'user-authentication',
  'audit-log-used',
  'share-created',
  'share-opened',
  'share-revoked',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** EventID codes (PS3.16 CID 400, scheme DCM) of the event types. */
export const AUDIT_EVENT_CODES: Readonly<Record<AuditEventType, { code: string; meaning: string }>> = {
  query: { code: '110112', meaning: 'Query' },
  'instances-accessed': { code: '110103', meaning: 'DICOM Instances Accessed' },
  'instances-transferred': { code: '110104', meaning: 'DICOM Instances Transferred' },
  'study-deleted': { code: '110105', meaning: 'DICOM Study Deleted' },
  'user-authentication': { code: '110114', meaning: 'User Authentication' },
  'audit-log-used': { code: '110101', meaning: 'Audit Log Used' },
  // Share links (issue #14): a change of who may read a study is a Security Alert (PS3.15 A.5.3.11);
  // opening a link exchanges it for a session cookie, a User Authentication (A.5.3.12).
  'share-created': { code: '110113', meaning: 'Security Alert' },
  'share-opened': { code: '110114', meaning: 'User Authentication' },
  'share-revoked': { code: '110113', meaning: 'Security Alert' },
};

/** EventActionCode (PS3.15 A.5.1): Create, Read, Update, Delete, Execute. */
export type AuditAction = 'C' | 'R' | 'U' | 'D' | 'E';

/** EventOutcomeIndicator (PS3.15 A.5.1): success, minor failure, serious failure, major failure. */
export const AUDIT_OUTCOMES = [0, 4, 8, 12] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** One event as recorded. Never holds a secret, a query value or patient attributes other than study UIDs. */
export interface AuditEvent {
  occurredAt: Date;
  type: AuditEventType;
  action: AuditAction;
  outcome: AuditOutcome;
  httpStatus?: number;
  actor: { kind: string; id: string; name?: string };
  clientAddress?: string;
  requestId?: string;
  /** The route pattern (`GET /dicomweb/studies/:study`), never the URL with its values. */
  route?: string;
  studyUids: readonly string[];
  detail: Readonly<Record<string, string | number | boolean>>;
}

/** An event read back, with its position in the log (ids increase in insertion order). */
export interface StoredAuditEvent extends AuditEvent {
  id: number;
}

export interface AuditFilter {
  since?: Date;
  /** Exclusive. */
  until?: Date;
  actorId?: string;
  studyUid?: string;
  outcome?: AuditOutcome;
  type?: AuditEventType;
  /** Events after this id (keyset paging: the last id of the previous page). */
  afterId?: number;
}

/**
 * Rows per INSERT statement. The statement takes one array per column (13 parameters, whatever the
 * number of rows), so this only bounds the size of one message to the database.
 */
const INSERT_ROWS = 1_000;

/**
 * One statement appends a batch: the columns arrive as arrays and `unnest` turns them into rows, in
 * order (`with ordinality`). A VALUES list of 13 parameters per row cost the server and PostgreSQL
 * about a fifth of a retrieval's CPU (docs/benchmarks.md, 2026-12-07); this costs a fraction of it.
 * `study_uids` travels as one array literal per row (built by `textArrayLiteral`), `detail` as JSON text.
 */
const APPEND = `insert into audit_event
  (occurred_at, event_type, action, outcome, http_status, actor_kind, actor_id, actor_name, client_address, request_id, route, study_uids, detail)
  select occurred_at, event_type, action, outcome, http_status, actor_kind, actor_id, actor_name, client_address, request_id, route,
    study_uids::text[], detail::jsonb
  from unnest($1::timestamptz[], $2::text[], $3::text[], $4::smallint[], $5::smallint[], $6::text[], $7::text[], $8::text[],
    $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
    with ordinality as batch(occurred_at, event_type, action, outcome, http_status, actor_kind, actor_id, actor_name, client_address,
      request_id, route, study_uids, detail, position)
  order by position`;

/** A PostgreSQL array literal of strings, every element quoted (so any text round-trips). */
function textArrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
}

/**
 * The audit trail's storage. Three operations and no more: append, read, and delete by age (the
 * retention job, the only delete path). There is deliberately no update; the table refuses one
 * (migration 2026-12-07T01-00).
 */
export class AuditLog {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Appends events, in order, in one transaction: a batch is stored whole or not at all, so a retry
   * after a failure never duplicates part of it (a failed COMMIT of unknown outcome may, which the
   * recorder accepts: a duplicated event beats a lost one).
   */
  async append(events: readonly AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < events.length; i += INSERT_ROWS) {
        const batch = events.slice(i, i + INSERT_ROWS);
        const column = <T>(value: (e: AuditEvent) => T) => batch.map(value);
        await trx.executeQuery(
          CompiledQuery.raw(APPEND, [
            column((e) => e.occurredAt.toISOString()),
            column((e) => e.type),
            column((e) => e.action),
            column((e) => e.outcome),
            column((e) => e.httpStatus ?? null),
            column((e) => e.actor.kind),
            column((e) => e.actor.id),
            column((e) => e.actor.name ?? null),
            column((e) => e.clientAddress ?? null),
            column((e) => e.requestId ?? null),
            column((e) => e.route ?? null),
            column((e) => textArrayLiteral(e.studyUids)),
            column((e) => JSON.stringify(e.detail)),
          ]),
        );
      }
    });
  }

  /** Events matching the filter, oldest first (by id), at most `limit`. */
  async find(filter: AuditFilter, limit: number): Promise<StoredAuditEvent[]> {
    let query = this.db.selectFrom('audit_event').selectAll();
    if (filter.since) query = query.where('occurred_at', '>=', filter.since);
    if (filter.until) query = query.where('occurred_at', '<', filter.until);
    if (filter.actorId !== undefined) query = query.where('actor_id', '=', filter.actorId);
    if (filter.studyUid !== undefined) query = query.where(sql<boolean>`study_uids @> array[${filter.studyUid}]::text[]`);
    if (filter.outcome !== undefined) query = query.where('outcome', '=', filter.outcome);
    if (filter.type !== undefined) query = query.where('event_type', '=', filter.type);
    if (filter.afterId !== undefined) query = query.where('id', '>', filter.afterId);
    const rows = await query.orderBy('id').limit(limit).execute();
    return rows.map((row) => ({
      id: Number(row.id),
      occurredAt: new Date(row.occurred_at),
      type: row.event_type as AuditEventType,
      action: row.action as AuditAction,
      outcome: row.outcome as AuditOutcome,
      ...(row.http_status === null ? {} : { httpStatus: row.http_status }),
      actor: { kind: row.actor_kind, id: row.actor_id, ...(row.actor_name === null ? {} : { name: row.actor_name }) },
      ...(row.client_address === null ? {} : { clientAddress: row.client_address }),
      ...(row.request_id === null ? {} : { requestId: row.request_id }),
      ...(row.route === null ? {} : { route: row.route }),
      studyUids: row.study_uids,
      detail: (typeof row.detail === 'string' ? JSON.parse(row.detail) : row.detail) as AuditEvent['detail'],
    }));
  }

  /** The retention job: deletes events that occurred before `cutoff`; returns how many. The only delete. */
  async deleteOlderThan(cutoff: Date): Promise<number> {
    const result = await this.db.deleteFrom('audit_event').where('occurred_at', '<', cutoff).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
