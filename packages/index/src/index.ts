import { sql } from 'kysely';
import { type IndexConfig, type PoolStats, openDatabase } from './database.js';
import { AuditLog } from './audit/audit-log.js';
import { IndexUnavailableError } from './errors.js';
import { ApiKeyIndex } from './api-key-index.js';
import { ShareIndex } from './share-index.js';
import { ChangeFeed } from './change-feed.js';
import { InstanceIndex } from './instance-index.js';
import { LifecycleIndex } from './lifecycle-index.js';
import { migrateToLatest } from './migrate.js';
import { RetrieveIndex } from './retrieve/retrieve-index.js';
import { SearchIndex } from './search/search-index.js';

export type { IndexConfig, PoolStats } from './database.js';
export { IndexUnavailableError, IndexOutcomeUnknownError, IndexStorageFullError } from './errors.js';
export { STUDY_LEVEL_TAGS, SERIES_LEVEL_TAGS } from './levels.js';
export type { RetrievableInstance, RetrieveScope, InstanceScope, ScopeVersion, InstanceMetadataText } from './retrieve/retrieve-index.js';
export {
  type Level,
  type AttributeLevel,
  type SearchQuery,
  type Filter,
  SEARCHABLE_ATTRIBUTES,
  type StudyMatch,
  type SeriesMatch,
  type InstanceMatch,
} from './search/index.js';
export * from './api-key-index.js';
export * from './share-index.js';
export type { Deletion, DeletionTarget, LifecycleIndex } from './lifecycle-index.js';
export * from './audit/audit-log.js';
export * from './change-feed.js';

/** The index as the services see it. */
export interface Index {
  readonly description: string;
  readonly instances: InstanceIndex;
  /** Queries of the Retrieve transaction (WADO-RS, WADO-URI). */
  readonly retrieve: RetrieveIndex;
  /** Deletion of studies, series and instances (one transaction each; the change feed hooks here). */
  readonly lifecycle: LifecycleIndex;
  /** QIDO-RS searches (the query model is in ./search). */
  readonly search: SearchIndex;
  /** API keys (create, find, list, revoke, last-used time). */
  readonly apiKeys: ApiKeyIndex;
  /** Study share links (create, find, list, revoke). */
  readonly shares: ShareIndex;
  /** The audit trail (append, read, delete by age; never update). */
  readonly audit: AuditLog;
  /**
   * The embedded index only (undefined on PostgreSQL, where pg_dump is the tool): a consistent copy
   * of the PGlite data directory as a gzipped tarball, taken while the server runs. Extracted into an
   * empty directory, it is a data directory PGlite opens. Built in memory (PGlite's dumpDataDir).
   */
  readonly snapshot?: () => Promise<Blob>;
  /** The change feed (read only: the database writes it, migration 2026-12-08T03-00). */
  readonly changes: ChangeFeed;
  /** Throws IndexUnavailableError if the database does not answer (used by `/readyz`). */
  check(): Promise<void>;
  /** The PostgreSQL pool's connections now; undefined on PGlite (one connection, no pool). */
  poolStats?(): PoolStats | undefined;
  close(): Promise<void>;
}

/** Opens the index and, unless told not to, applies pending migrations. */
export async function openIndex(config: IndexConfig, options: { migrate?: boolean; onConnectionError?: (error: Error) => void } = {}): Promise<Index> {
  const { db, description, close, snapshot, poolStats } = await openDatabase(config, { onConnectionError: options.onConnectionError });
  if (options.migrate !== false) {
    const { error } = await migrateToLatest(db as never);
    if (error) {
      await close();
      throw error instanceof Error ? error : new Error('the migration failed with a value that is not an Error', { cause: error });
    }
  }
  const apiKeys = new ApiKeyIndex(db);
  return {
    description,
    instances: new InstanceIndex(db),
    retrieve: new RetrieveIndex(db),
    lifecycle: new LifecycleIndex(db),
    search: new SearchIndex(db),
    apiKeys,
    shares: new ShareIndex(db),
    audit: new AuditLog(db),
    ...(snapshot ? { snapshot } : {}),
    changes: new ChangeFeed(db),
    async check() {
      try {
        await sql`select 1`.execute(db);
      } catch (error) {
        throw new IndexUnavailableError(`index ${description} does not answer: ${(error as Error).message}`);
      }
    },
    poolStats: () => poolStats?.(),
    async close() {
      await apiKeys.settle();
      await close();
    },
  };
}
