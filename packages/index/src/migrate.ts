import { type Kysely, type MigrationResultSet, Migrator } from 'kysely';
import { migrations } from '@tessera/migrations';

/** Applies every pending migration of `migrations/` (the same files on Postgres and PGlite). */
export async function migrateToLatest(db: Kysely<unknown>): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'tessera_migration',
    migrationLockTableName: 'tessera_migration_lock',
  });
  return migrator.migrateToLatest();
}
