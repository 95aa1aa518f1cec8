import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { initDataDirOnce } from './init-data-dir.js';

const root = await mkdtemp(join(tmpdir(), 'tessera-init-data-dir-'));
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

t.test('a directory that cannot be made fails with an error naming it', async (t) => {
  const file = join(root, 'a-file');
  await writeFile(file, 'not a directory');
  const dataDir = join(file, 'index');
  await t.rejects(initDataDirOnce(dataDir, []), { message: new RegExp(`creating the embedded index in ${dataDir}: `) });
});
