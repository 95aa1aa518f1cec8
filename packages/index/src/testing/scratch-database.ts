import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Creates an empty database next to the one `adminUrl` names, for one test file or benchmark run,
 * and returns its URL and a function that drops it.
 */
export async function createScratchDatabase(adminUrl: string, label = 'test'): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `tessera_${label.replace(/\W/g, '_')}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
