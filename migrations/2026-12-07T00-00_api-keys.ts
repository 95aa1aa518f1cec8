import { type Kysely, sql } from 'kysely';

/**
 * API keys for machines (PACS routers, scripts, the upload CLI). A key is `tsk_<id>_<secret>`; only
 * the SHA-256 of the secret is stored (`secret_hash`), so the table gives nothing to sign in with.
 * `scopes` is a space-separated list (read, write, delete, admin). A revoked key keeps its row
 * (`revoked_at`), so the audit trail can still name it; `last_used_at` is written at most once a
 * minute per key and server process.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('api_key')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('last_used_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('api_key').execute();
}
