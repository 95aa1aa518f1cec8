import { type Kysely, type MigrationResultSet, Migrator } from 'kysely';
import { migrations } from '@tessera/migrations';

/** The migrator of the index: every migration of `migrations/` (the same files on Postgres and PGlite). */
export function indexMigrator(db: Kysely<unknown>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'tessera_migration',
    migrationLockTableName: 'tessera_migration_lock',
  });
}

/** Applies every pending migration. */
export async function migrateToLatest(db: Kysely<unknown>): Promise<MigrationResultSet> {
  return indexMigrator(db).migrateToLatest();
}
