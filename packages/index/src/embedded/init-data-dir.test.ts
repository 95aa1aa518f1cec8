import { readlinkSync } from 'node:fs';
import { type FileHandle, mkdtemp, open, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { initDataDirOnce } from './init-data-dir.js';

const root = await realpath(await mkdtemp(join(tmpdir(), 'tessera-init-data-dir-')));
t.teardown(() => rm(root, { recursive: true, force: true }));

t.test('a new directory gets a PostgreSQL data directory with the given settings; an existing one is left alone', async (t) => {
  const dataDir = join(root, 'index');
  await initDataDirOnce(dataDir, ['-c', 'shared_buffers=8MB']);
  t.match(await readFile(join(dataDir, 'PG_VERSION'), 'utf8'), /^18\b/, 'initdb ran (PostgreSQL 18)');
  t.match(await readFile(join(dataDir, 'postgresql.conf'), 'utf8'), /^shared_buffers = 8MB/m, 'with the settings given');
  const made = (await stat(join(dataDir, 'PG_VERSION'))).mtimeMs;
  await initDataDirOnce(dataDir, ['-c', 'shared_buffers=32MB']);
  t.equal((await stat(join(dataDir, 'PG_VERSION'))).mtimeMs, made, 'not made again');
  t.match(await readFile(join(dataDir, 'postgresql.conf'), 'utf8'), /^shared_buffers = 8MB/m, 'its settings untouched');
});

t.test('a new directory is synced to disk before it is used; an existing one is not synced again', async (t) => {
  // Every FileHandle.sync() (fsync) of this process, by the path its descriptor names: initdb ran with
  // fsync off in the child, so these syncs are what puts the new catalog on disk.
  const probe = await open(root, 'r');
  const proto = Object.getPrototypeOf(probe) as FileHandle;
  await probe.close();
  const { sync } = proto;
  const synced: string[] = [];
  proto.sync = function (this: FileHandle) {
    synced.push(readlinkSync(`/proc/self/fd/${this.fd}`));
    return sync.call(this);
  };
  t.teardown(() => {
    proto.sync = sync;
  });
  const dataDir = join(root, 'synced');
  await initDataDirOnce(dataDir, []);
  for (const path of ['PG_VERSION', 'global/pg_control', 'global', 'pg_wal', ''])
    t.ok(synced.includes(join(dataDir, path)), `synced ${path || 'the directory itself'}`);
  t.ok(
    synced.some((path) => path.startsWith(join(dataDir, 'base') + '/')),
    'and the database files',
  );
  synced.length = 0;
  await initDataDirOnce(dataDir, []);
  t.same(synced, [], 'nothing synced when the directory exists');
});

t.test('a directory that cannot be made fails with an error naming it', async (t) => {
  const file = join(root, 'a-file');
  await writeFile(file, 'not a directory');
  const dataDir = join(file, 'index');
  await t.rejects(initDataDirOnce(dataDir, []), { message: new RegExp(`creating the embedded index in ${dataDir}: `) });
});
