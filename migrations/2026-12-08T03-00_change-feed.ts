import { type Kysely, sql } from 'kysely';

/**
 * The change feed: one row per create, update (overwrite) or delete of an instance row, numbered by
 * a gap-free `sequence` in commit order (docs/architecture.md, "Change feed").
 *
 * Recorded by triggers on `instance`, so every code path that writes instances (STOW-RS, an
 * overwrite, a delete, a cascade from a deleted study or series) is recorded in its own transaction
 * without knowing about the feed:
 *
 * 1. Statement triggers (not deferred) insert the changes with `sequence` null, the UIDs read at the
 *    time of the change (for a delete, from the deleted row's metadata when its study is gone already).
 * 2. A deferred constraint trigger on `change_feed` runs at COMMIT, after every other statement of
 *    the transaction, and numbers the transaction's rows, in the order they were recorded, from the
 *    one-row counter `change_feed_counter`. The counter
 *    row's lock is held from there until the transaction has committed, so the next transaction
 *    to number a change waits for this one's commit: sequence order is commit order, and a reader
 *    that sees sequence n also sees every sequence below n. A transaction that rolls back numbers
 *    nothing, so there are no gaps.
 *
 * The counter lock is taken at the very end of the transaction, after every other lock, so it adds
 * no lock-order cycle (no deadlock) and is held only for the time of the commit itself.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('change_feed')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('sequence', 'bigint', (c) => c.unique())
    .addColumn('action', 'text', (c) => c.notNull().check(sql`action in ('create', 'update', 'delete')`))
    .addColumn('study_instance_uid', 'text', (c) => c.notNull())
    .addColumn('series_instance_uid', 'text', (c) => c.notNull())
    .addColumn('sop_instance_uid', 'text', (c) => c.notNull())
    .addColumn('changed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`clock_timestamp()`))
    .execute();
  await db.schema.createIndex('change_feed_sop_sequence').on('change_feed').columns(['sop_instance_uid', 'sequence']).execute();
  await db.schema.createIndex('change_feed_changed_at').on('change_feed').columns(['changed_at', 'sequence']).execute();
  await db.schema.createIndex('change_feed_unnumbered').on('change_feed').column('id').where(sql.ref('sequence'), 'is', null).execute();
  await db.schema
    .createTable('change_feed_counter')
    .addColumn('last_sequence', 'bigint', (c) => c.notNull())
    .execute();
  await sql`insert into change_feed_counter (last_sequence) values (0)`.execute(db);

  // Statement-level triggers with transition tables: one INSERT … SELECT per statement, however many
  // rows it changed (a STOW chunk inserts up to 32 instances in one statement).
  for (const [operation, action, table] of [
    ['insert', 'create', 'changed_rows'],
    ['delete', 'delete', 'changed_rows'],
  ] as const) {
    await sql
      .raw(
        `create function change_feed_record_${operation}() returns trigger language plpgsql as $$
        begin
          insert into change_feed (action, study_instance_uid, series_instance_uid, sop_instance_uid)
          select '${action}',
            -- A cascade from a deleted study or series: the parent row is gone, the metadata still names it.
            coalesce(st.study_instance_uid, r.metadata::jsonb -> '0020000D' -> 'Value' ->> 0, ''),
            coalesce(se.series_instance_uid, r.metadata::jsonb -> '0020000E' -> 'Value' ->> 0, ''),
            r.sop_instance_uid
          from ${table} r
          left join study st on st.pk = r.study_pk
          left join series se on se.pk = r.series_pk
          order by r.pk;
          return null;
        end
        $$`,
      )
      .execute(db);
    await sql
      .raw(
        `create trigger instance_change_feed_${operation} after ${operation} on instance
        referencing ${operation === 'insert' ? 'new' : 'old'} table as ${table}
        for each statement execute function change_feed_record_${operation}()`,
      )
      .execute(db);
  }
  // An update is a change of content (an overwrite); other column updates are not changes to follow.
  await sql`
    create function change_feed_record_update() returns trigger language plpgsql as $$
    begin
      insert into change_feed (action, study_instance_uid, series_instance_uid, sop_instance_uid)
      select 'update', coalesce(st.study_instance_uid, ''), coalesce(se.series_instance_uid, ''), n.sop_instance_uid
      from new_rows n
      join old_rows o on o.pk = n.pk
      left join study st on st.pk = n.study_pk
      left join series se on se.pk = n.series_pk
      where o.sha256 is distinct from n.sha256 or o.blob_key is distinct from n.blob_key or o.metadata is distinct from n.metadata
      order by n.pk;
      return null;
    end
    $$`.execute(db);
  await sql`
    create trigger instance_change_feed_update after update on instance
    referencing old table as old_rows new table as new_rows
    for each statement execute function change_feed_record_update()`.execute(db);

  // Numbers every change of the transaction at its first firing (rows with no sequence are visible
  // to their own transaction only, so they are exactly this transaction's); the later firings of the
  // same transaction find their row numbered (one primary-key probe) and return. A bulk insert of n
  // instances therefore costs one numbering pass, not n counter updates.
  await sql`
    create function change_feed_number() returns trigger language plpgsql as $$
    declare
      unnumbered bigint;
      base bigint;
    begin
      if (select sequence from change_feed where id = new.id) is not null then
        return null;
      end if;
      select count(*) into unnumbered from change_feed where sequence is null;
      update change_feed_counter set last_sequence = last_sequence + unnumbered returning last_sequence - unnumbered into base;
      update change_feed c set sequence = base + r.n, changed_at = clock_timestamp()
      from (select id, row_number() over (order by id) as n from change_feed where sequence is null) r
      where c.id = r.id;
      return null;
    end
    $$`.execute(db);
  await sql`
    create constraint trigger change_feed_number_at_commit after insert on change_feed
    deferrable initially deferred
    for each row execute function change_feed_number()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const operation of ['insert', 'update', 'delete']) await sql.raw(`drop trigger instance_change_feed_${operation} on instance`).execute(db);
  await db.schema.dropTable('change_feed').execute();
  await db.schema.dropTable('change_feed_counter').execute();
  for (const operation of ['insert', 'update', 'delete']) await sql.raw(`drop function change_feed_record_${operation}()`).execute(db);
  await sql`drop function change_feed_number()`.execute(db);
}
