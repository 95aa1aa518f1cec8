import { type Kysely, sql } from 'kysely';

/**
 * Study share links (issue #14): a link `/s/<token>` that opens one study, read-only, until it
 * expires or is revoked. The token is `tsl_<id>_<secret>`; only the SHA-256 of the secret is stored
 * (`secret_hash`), so the table gives nothing to open a share with. A revoked share keeps its row
 * (`revoked_at`), so the audit trail can still name it. `created_by` is the creator's principal
 * (`api-key:<id>`, `oidc:<sub>`, `cli`), never a secret.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('study_share')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('study_instance_uid', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('study_share_study').on('study_share').column('study_instance_uid').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('study_share').execute();
}
