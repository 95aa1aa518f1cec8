import { type Kysely, sql } from 'kysely';

/**
 * The audit trail: one row per access to patient data or authentication attempt (the event types of
 * DICOM PS3.15 A.5.3). Written in batches by the server's audit recorder.
 *
 * Append-only: the application inserts rows and the retention job deletes those older than the
 * configured age; nothing updates a row. A trigger makes the database refuse any UPDATE too, so a
 * future code path (or a hand-typed statement) cannot rewrite history without dropping it first.
 *
 * `study_uids` is an array (an event may concern several studies: a STOW request, a search), with a
 * GIN index for the "events about this study" filter. `id` orders events for keyset paging.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_event')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('action', 'char(1)', (c) => c.notNull().check(sql`action in ('C', 'R', 'U', 'D', 'E')`))
    .addColumn('outcome', 'smallint', (c) => c.notNull().check(sql`outcome in (0, 4, 8, 12)`))
    .addColumn('http_status', 'smallint')
    .addColumn('actor_kind', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('actor_name', 'text')
    .addColumn('client_address', 'text')
    .addColumn('request_id', 'text')
    .addColumn('route', 'text')
    .addColumn('study_uids', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('detail', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'`))
    .execute();
  await db.schema.createIndex('audit_event_occurred_at').on('audit_event').columns(['occurred_at', 'id']).execute();
  await db.schema.createIndex('audit_event_actor').on('audit_event').columns(['actor_id', 'id']).execute();
  await db.schema.createIndex('audit_event_study_uids').on('audit_event').using('gin').column('study_uids').execute();
  await sql`
    create function audit_event_refuse_update() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_event is append-only: rows are never updated';
    end
    $$`.execute(db);
  await sql`
    create trigger audit_event_append_only before update on audit_event
    for each statement execute function audit_event_refuse_update()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_event').execute();
  await sql`drop function audit_event_refuse_update()`.execute(db);
}
