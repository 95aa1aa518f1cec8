import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { type Kysely, sql } from 'kysely';
import { PGlite } from '@electric-sql/pglite';
import { openDatabase } from '../database.js';
import { EMBEDDED_SETTINGS } from './pglite-settings.js';

const root = await mkdtemp(join(tmpdir(), 'tessera-pglite-settings-'));
t.teardown(() => rm(root, { recursive: true, force: true }));

/** What the running backend says each embedded setting is (`current_setting`, in the units it was given). */
async function settingsOf(db: Kysely<any>): Promise<Record<string, string>> {
  const names = Object.keys(EMBEDDED_SETTINGS);
  const { rows } = await sql<{ name: string; value: string }>`select name, current_setting(name) as value from unnest(${names}::text[]) as name`.execute(db);
  return Object.fromEntries(rows.map((row) => [row.name, row.value]));
}

t.test('a new data directory runs with the embedded settings, written into its postgresql.conf too', async (t) => {
  const dataDir = join(root, 'new');
  const opened = await openDatabase({ kind: 'pglite', dataDir });
  t.same(await settingsOf(opened.db as Kysely<any>), EMBEDDED_SETTINGS);
  await opened.close();
  const conf = await readFile(join(dataDir, 'postgresql.conf'), 'utf8');
  for (const [name, value] of Object.entries(EMBEDDED_SETTINGS)) t.match(conf, new RegExp(`^${name} = '?${value}'?(\\s|$)`, 'm'), `initdb wrote ${name}`);
  const reopened = await openDatabase({ kind: 'pglite', dataDir });
  t.same(await settingsOf(reopened.db as Kysely<any>), EMBEDDED_SETTINGS, 'and again when it is opened next');
  await reopened.close();
});

t.test('a data directory made before these settings (PGlite defaults) runs with them as well', async (t) => {
  const dataDir = join(root, 'older');
  const plain = await PGlite.create(dataDir);
  const before = (await plain.query<{ shared_buffers: string }>('show shared_buffers')).rows[0]?.shared_buffers;
  await plain.close();
  t.not(before, EMBEDDED_SETTINGS.shared_buffers, 'the older directory has another shared_buffers');
  const opened = await openDatabase({ kind: 'pglite', dataDir });
  t.same(await settingsOf(opened.db as Kysely<any>), EMBEDDED_SETTINGS);
  await opened.close();
});
