import type { Kysely } from 'kysely';
import { openDatabase } from '../database.js';
import { createScratchDatabase } from './scratch-database.js';

export interface TestDatabase {
  name: 'pglite' | 'postgres';
  /** An open, unmigrated database. */
  db: Kysely<any>;
  close(): Promise<void>;
}

/**
 * Raw databases for the index's own tests, one per back end: PGlite in memory, always; and a scratch
 * database on TESSERA_TEST_POSTGRES_URL when it is set, dropped on close.
 */
export async function testDatabases(options: { poolSize?: number } = {}): Promise<TestDatabase[]> {
  const pglite = await openDatabase({ kind: 'pglite' });
  const list: TestDatabase[] = [{ name: 'pglite', db: pglite.db as Kysely<any>, close: pglite.close }];
  const postgresUrl = process.env.TESSERA_TEST_POSTGRES_URL;
  if (postgresUrl) {
    const scratch = await createScratchDatabase(postgresUrl);
    const opened = await openDatabase({ kind: 'postgres', url: scratch.url, poolSize: options.poolSize });
    list.push({
      name: 'postgres',
      db: opened.db as Kysely<any>,
      close: async () => {
        await opened.close();
        await scratch.drop();
      },
    });
  }
  return list;
}
