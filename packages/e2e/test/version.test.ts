import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { VERSION } from '@tessera/server';
import { REPOSITORY_ROOT, runCli } from '@tessera/testkit';

/**
 * Issue #16: the packages have one real release version (the root's, CHANGELOG.md's latest), the
 * server reads it in one place (packages/server/src/version.ts), and the start-up log names it.
 */

const version = async (dir: string) => (JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version?: string }).version;

t.test('every package of the workspace has the release version of the root', async (t) => {
  const root = await version(REPOSITORY_ROOT);
  t.match(root, /^\d+\.\d+\.\d+$/, `the root: ${root}`);
  t.equal(VERSION, root, 'the server reports it');
  const dirs = [...(await readdir(join(REPOSITORY_ROOT, 'packages'))).map((d) => join(REPOSITORY_ROOT, 'packages', d)), join(REPOSITORY_ROOT, 'migrations')];
  for (const dir of dirs) t.equal(await version(dir), root, dir.slice(REPOSITORY_ROOT.length + 1));
  const changelog = await readFile(join(REPOSITORY_ROOT, 'CHANGELOG.md'), 'utf8');
  t.match(changelog, new RegExp(`^## \\[${root!.replaceAll('.', '\\.')}\\] - \\d{4}-\\d{2}-\\d{2}$`, 'm'), 'CHANGELOG.md has its section (Keep a Changelog)');
});

t.test('the start-up log line carries the version', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'tessera-version-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const run = await runCli(['serve'], { PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info' }, { until: /DICOMweb root/ });
  const line = (run.stdout + run.stderr).split('\n').find((l) => l.includes('DICOMweb root'));
  t.ok(line, 'the server started');
  const logged = JSON.parse(line!) as { version?: string; msg?: string };
  t.equal(logged.version, VERSION, 'as a field');
  t.match(logged.msg, new RegExp(`^Tessera ${VERSION.replaceAll('.', '\\.')}: DICOMweb root http://`), 'and in the message');
});
