import fs from 'node:fs';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import t from 'tap';
import { type Kysely, sql } from 'kysely';
import { PGlite } from '@electric-sql/pglite';
import { openDatabase } from '../database.js';
import { durableStartParams } from './durable-nodefs.js';

// Why this proves durability: the only way data reaches the disk before a power loss is a sync
// system call on the file's descriptor. PGlite reaches Node's file system through the `node:fs`
// module object (Emscripten's NODEFS calls `fs.writeSync`, `fs.fdatasyncSync`... on it), so
// every sync of the embedded index goes through the two functions spied on here; each call's
// descriptor is resolved through /proc/self/fd to the file it syncs. As PGlite ships, neither is
// ever called (fsync off, and no fsync in NODEFS).

const root = await realpath(await mkdtemp(join(tmpdir(), 'tessera-durable-nodefs-')));
t.teardown(() => rm(root, { recursive: true, force: true }));

/** The files synced while `run` runs, by path (fdatasync and fsync alike). */
async function syncedDuring(run: () => Promise<unknown>): Promise<string[]> {
  const synced: string[] = [];
  const { fdatasyncSync, fsyncSync } = fs;
  const record = (fd: number) => synced.push(fs.readlinkSync(`/proc/self/fd/${fd}`));
  fs.fdatasyncSync = (fd) => {
    record(fd);
    fdatasyncSync(fd);
  };
  fs.fsyncSync = (fd) => {
    record(fd);
    fsyncSync(fd);
  };
  try {
    await run();
  } finally {
    fs.fdatasyncSync = fdatasyncSync;
    fs.fsyncSync = fsyncSync;
  }
  return synced;
}

t.test('a committed insert is synced to the WAL before it returns; a read syncs nothing', async (t) => {
  const dataDir = join(root, 'index');
  const opened = await openDatabase({ kind: 'pglite', dataDir });
  t.teardown(opened.close);
  const db = opened.db as unknown as Kysely<any>;
  t.same(
    (await sql<{ fsync: string; method: string }>`select current_setting('fsync') as fsync, current_setting('wal_sync_method') as method`.execute(db)).rows,
    [{ fsync: 'on', method: 'fsync' }],
  );
  await sql`create table sample (uid text primary key)`.execute(db);

  const insert = await syncedDuring(() => sql`insert into sample values ('1.2.3')`.execute(db));
  const wal = insert.filter((path) => path.startsWith(join(dataDir, 'pg_wal') + sep));
  t.ok(wal.length >= 1, `the commit synced a WAL segment (synced: ${insert.join(', ') || 'nothing'})`);

  const inTransaction = await syncedDuring(() =>
    db.transaction().execute(async (trx) => {
      await sql`insert into sample values ('1.2.4')`.execute(trx);
      const before = await syncedDuring(async () => sql`insert into sample values ('1.2.5')`.execute(trx));
      t.same(before, [], 'nothing is synced before the commit');
    }),
  );
  t.ok(
    inTransaction.some((path) => path.startsWith(join(dataDir, 'pg_wal') + sep)),
    'the commit of a transaction syncs the WAL',
  );

  const read = await syncedDuring(() => sql`select uid from sample order by uid`.execute(db));
  t.same(read, [], 'a read-only query syncs nothing');

  const checkpoint = await syncedDuring(() => sql`checkpoint`.execute(db));
  t.ok(
    checkpoint.some((path) => path.startsWith(join(dataDir, 'base') + sep)),
    'a checkpoint syncs the data files it wrote',
  );
});

t.test('an index in memory has nothing to sync and keeps PGlite defaults', async (t) => {
  const opened = await openDatabase({ kind: 'pglite' });
  t.teardown(opened.close);
  const db = opened.db as unknown as Kysely<any>;
  t.same((await sql<{ fsync: string }>`select current_setting('fsync') as fsync`.execute(db)).rows, [{ fsync: 'off' }]);
});

t.test('the start parameters drop -F and turn fsync on, keeping the rest', async (t) => {
  const params = durableStartParams(PGlite.defaultStartParams);
  t.notOk(params.includes('-F'));
  t.ok(PGlite.defaultStartParams.includes('-F'), 'PGlite still passes -F (if it stops, this fix can go)');
  t.same(params.slice(-4), ['-c', 'fsync=on', '-c', 'wal_sync_method=fsync']);
  t.same(
    params.slice(0, -4),
    PGlite.defaultStartParams.filter((param) => param !== '-F'),
  );
});
