import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { createScratchDatabase } from '@tessera/index/testing';
import { ctInstance, encodeInstance, freePort, multipartBuffer, newUid } from '@tessera/testkit';

/**
 * `tessera serve` as `pnpm start` runs it (compiled by `pnpm build`, plain node) with WORKERS=2
 * (node:cluster, PostgreSQL + filesystem): both workers answer on the one port, an instance stored
 * through one is found and rendered through any, /metrics sums both workers whichever answers, and
 * SIGTERM stops them all.
 */
const adminUrl = process.env.TESSERA_TEST_POSTGRES_URL;
const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

t.test('compiled, WORKERS=2: one archive served from two processes', { skip: adminUrl ? false : 'TESSERA_TEST_POSTGRES_URL is not set' }, async (t) => {
  const database = await createScratchDatabase(adminUrl!);
  const dataDir = await mkdtemp(join(tmpdir(), 'tessera-cluster-'));
  t.teardown(async () => {
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  });
  const port = await freePort();
  execFileSync(process.execPath, ['packages/cli/scripts/build.mjs'], { cwd: root, stdio: 'ignore' });
  const child = spawn(process.execPath, ['packages/cli/dist/main.js', 'serve'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(port),
      DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      WORKERS: '2',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const ready = await fetch(`${base}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (child.exitCode !== null || i > 600) {
      child.kill('SIGKILL');
      t.fail(`the server did not start:\n${output}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const workers = execFileSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)], { encoding: 'utf8' })
    .trim()
    .split(/\s+/);
  t.equal(workers.length, 2, 'two worker processes under the supervisor');

  const study = newUid();
  const spec = ctInstance({ StudyInstanceUID: study }, { rows: 64, columns: 64, frames: 1 });
  const { contentType, payload } = await multipartBuffer([encodeInstance(spec)]);
  const stored = await fetch(`${base}/dicomweb/studies`, {
    method: 'POST',
    headers: { 'content-type': contentType, accept: 'application/dicom+json' },
    body: payload,
  });
  t.equal(stored.status, 200, 'STOW through one worker');
  // Fresh connections are handed to the workers in turn: every one of them finds the study.
  for (let i = 0; i < 6; i++) {
    const found = await fetch(`${base}/dicomweb/studies?StudyInstanceUID=${study}`, { headers: { connection: 'close' } });
    t.equal(found.status, 200, `QIDO on connection ${i + 1} finds the study`);
  }

  const series = spec.attributes.SeriesInstanceUID as string;
  const sop = spec.attributes.SOPInstanceUID as string;
  const rendered = await fetch(`${base}/dicomweb/studies/${study}/series/${series}/instances/${sop}/rendered`, { headers: { accept: 'image/png' } });
  t.equal(rendered.status, 200, `the compiled server renders (sharp loads from dist)${rendered.ok ? '' : `: ${await rendered.text()}`}`);
  t.equal(rendered.headers.get('content-type'), 'image/png');

  // Whichever worker a scrape reaches, /metrics answers for both: the one STOW and the six searches,
  // whichever workers served them, and the release once.
  const qidoRoute = /^tessera_http_request_duration_seconds_count\{method="GET",route="\/dicomweb\/studies",status_class="2xx"\} (\d+)$/m;
  for (let i = 0; i < 4; i++) {
    const scraped = await fetch(`${base}/metrics`, { headers: { connection: 'close' } });
    t.equal(scraped.status, 200, `scrape ${i + 1} answered`);
    const text = await scraped.text();
    t.match(text, /^tessera_stow_instances_stored_total\{duplicate="false"\} 1$/m, `scrape ${i + 1}: the one stored instance, counted once`);
    t.ok(Number(qidoRoute.exec(text)?.[1]) >= 6, `scrape ${i + 1}: the six searches of both workers`);
    t.match(text, /^tessera_build_info\{version="[^"]+"\} 1$/m, `scrape ${i + 1}: the release once, not once per worker`);
  }

  child.kill('SIGTERM');
  const [code] = await exited;
  t.equal(code, 0, 'SIGTERM stops the supervisor and its workers cleanly');
  const left = spawnSync('ps', ['-o', 'pid=', '-p', workers.join(',')], { encoding: 'utf8' }).stdout.trim();
  t.equal(left, '', 'no worker is left running');
});
