import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import t from 'tap';
import { openDatabase } from './database.js';

// Issue #15, backup of the embedded index: the snapshot (PGlite's dumpDataDir, GET /api/backup/index)
// taken while a transaction is open, extracted with tar as scripts/restore-embedded.sh does, opens as
// a data directory holding what was committed and nothing of the open transaction.
t.test('a snapshot taken inside an open transaction restores the committed rows only', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-snapshot-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const live = await openDatabase({ kind: 'pglite', dataDir: join(dir, 'live') });
  t.ok(live.snapshot, 'the embedded index offers a snapshot');
  await sql`create table t (x int)`.execute(live.db);
  await sql`insert into t values (1)`.execute(live.db);
  let tarball: Blob | undefined;
  await live.db.transaction().execute(async (trx) => {
    await sql`insert into t values (2)`.execute(trx);
    const started = Date.now();
    tarball = await live.snapshot!();
    t.comment(`snapshot: ${tarball.size} bytes in ${Date.now() - started} ms (the event loop is busy meanwhile)`);
    await sql`insert into t values (3)`.execute(trx);
  });
  t.same((await sql<{ x: number }>`select x from t order by x`.execute(live.db)).rows, [{ x: 1 }, { x: 2 }, { x: 3 }], 'the live index committed all three');
  await live.close();

  await writeFile(join(dir, 'index.tar.gz'), Buffer.from(await tarball!.arrayBuffer()));
  await mkdir(join(dir, 'restored'));
  execFileSync('tar', ['-xzf', join(dir, 'index.tar.gz'), '-C', join(dir, 'restored')], { stdio: 'ignore' });
  const restored = await openDatabase({ kind: 'pglite', dataDir: join(dir, 'restored') });
  t.teardown(() => restored.close());
  t.same(
    (await sql<{ x: number }>`select x from t order by x`.execute(restored.db)).rows,
    [{ x: 1 }],
    'the restored copy: the committed row, nothing of the open transaction',
  );
  await sql`insert into t values (4)`.execute(restored.db);
  t.same((await sql<{ x: number }>`select count(*)::int as x from t`.execute(restored.db)).rows, [{ x: 2 }], 'and it takes writes');
});
