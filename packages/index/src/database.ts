import { mkdir } from 'node:fs/promises';
import type { PGlite as PGliteInstance } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { IndexStorageFullError } from './errors.js';
import type { Database } from './schema.js';
import { guardedPool } from './guarded-pool.js';
import { withUnavailableErrors } from './unavailable.js';
import { embeddedInitDbParams, embeddedStartParams } from './embedded/pglite-settings.js';
import { initDataDirOnce } from './embedded/init-data-dir.js';
import { withBaselineWasmCompiler } from './embedded/baseline-compiler.js';

export type IndexConfig =
  | {
      kind: 'postgres';
      url: string;
      poolSize?: number;
      statementTimeoutMs?: number;
      /** Send the hot lookups as named prepared statements (default true; see prepared.ts). */
      preparedStatements?: boolean;
    }
  | { kind: 'pglite'; dataDir?: string };

// int8 (bigserial keys, sizes) as numbers: every value we store is far below 2^53.
pg.types.setTypeParser(20, Number);

export interface OpenDatabase {
  db: Kysely<Database>;
  description: string;
  close: () => Promise<void>;
  /** Embedded (PGlite) only: a tarball of the data directory, taken between two queries (see Index.snapshot). */
  snapshot?: () => Promise<Blob>;
  /** PostgreSQL only: the pool's connections now (for the server's metrics). */
  poolStats?: () => PoolStats;
}

/** A connection pool's state: connections open, of those idle, and queries waiting for one. */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/** Opens the index: a pg pool on Postgres, or PGlite (in memory, or in `dataDir`). */
export interface OpenDatabaseOptions {
  /** Told about connection errors no query was waiting for (a reset idle connection), for the log. */
  onConnectionError?: (error: Error) => void;
}

export async function openDatabase(config: IndexConfig, options: OpenDatabaseOptions = {}): Promise<OpenDatabase> {
  if (config.kind === 'postgres') {
    const timeout = config.statementTimeoutMs ?? 30_000;
    const pool = new pg.Pool({
      connectionString: config.url,
      max: config.poolSize ?? 10,
      connectionTimeoutMillis: 10_000,
      // A stalled database must fail requests, not hang them: pg waits forever on a
      // stalled server unless both timeouts are set (measured with injected faults).
      statement_timeout: timeout,
      query_timeout: timeout + 1_000,
    });
    // A lost connection never crashes the process and is never reused: the query fails with
    // IndexUnavailableError (503) and the pool reconnects (guarded-pool.ts).
    const guarded = guardedPool(pool, { preparedStatements: config.preparedStatements !== false, onConnectionError: options.onConnectionError });
    const db = new Kysely<Database>({ dialect: withUnavailableErrors(new PostgresDialect({ pool: guarded })) });
    const url = new URL(config.url);
    return {
      db,
      description: `postgres://${url.host}${url.pathname}`,
      close: () => db.destroy(),
      poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    };
  }
  const dataDir = config.dataDir;
  const diskFull = (error: unknown): never => {
    throw dataDir && isDiskFull(error) ? new IndexStorageFullError(dataDir, { cause: error }) : error;
  };
  if (dataDir) await mkdir(dataDir, { recursive: true }).catch(diskFull);
  // Loaded only for the embedded index: a PostgreSQL server process does not carry PGlite (≈ 19 MB resident).
  const [{ PGlite }, { pg_trgm }, { unaccent }, { PGliteDialect }, { withPreparedStatements }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite/contrib/pg_trgm'),
    import('@electric-sql/pglite/contrib/unaccent'),
    import('kysely-pglite-dialect'),
    import('./embedded/prepared-client.js'),
  ]);
  // PGlite as shipped never syncs to disk; a data directory's commits are synced (embedded/durable-nodefs.ts).
  const { DurableNodeFS, durableStartParams } = await import('./embedded/durable-nodefs.js');
  // A new data directory is made by a child process (init-data-dir.ts: initdb's memory leaves with it).
  if (dataDir) await initDataDirOnce(dataDir, embeddedInitDbParams()).catch(diskFull);
  const pglite = await withBaselineWasmCompiler(() =>
    PGlite.create(dataDir, {
      // The contrib extensions the search migration creates (trigram indexes, accent folding).
      extensions: { pg_trgm, unaccent },
      // In memory there is nothing to sync; on disk, every commit is synced before it returns.
      ...(dataDir ? { fs: new DurableNodeFS(dataDir) } : {}),
      // PostgreSQL's memory settings for one embedded process (embedded/pglite-settings.ts), and
      // fsync on (PGlite's defaults turn it off) where there is a disk.
      startParams: [...(dataDir ? durableStartParams(PGlite.defaultStartParams) : PGlite.defaultStartParams), ...embeddedStartParams()],
      initDbStartParams: embeddedInitDbParams(),
    }),
  ).catch(diskFull);
  // The kysely dialect's one connection: hot lookups as named prepared statements (prepared-client.ts).
  const db = new Kysely<Database>({ dialect: new PGliteDialect(withPreparedStatements(pglite) as unknown as PGliteInstance) });
  return {
    db,
    description: config.dataDir ? `pglite:${config.dataDir}` : 'pglite:memory',
    // PGlite's own dump (what its clone() uses): runs under its query lock, so no statement is half
    // written; a transaction open at that moment is rolled back when the copy is opened (crash recovery).
    snapshot: () => pglite.dumpDataDir('gzip'),
    close: async () => {
      await db.destroy(); // the PGlite dialect closes PGlite with it
      if (!pglite.closed) await pglite.close();
    },
  };
}

/** ENOSPC/EDQUOT from Node, or from PGlite's Emscripten file system (errno 51 there, no code). */
function isDiskFull(error: unknown): boolean {
  const { code, errno, name } = (error ?? {}) as { code?: string; errno?: number; name?: string };
  const emscripten = name === 'ErrnoError' || (error as object | undefined)?.constructor?.name === 'ErrnoError';
  return code === 'ENOSPC' || code === 'EDQUOT' || (emscripten && errno === 51);
}
