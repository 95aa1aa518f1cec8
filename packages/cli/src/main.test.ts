import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parseApiKey } from '@tessera/access';
import { type CliRun, runCli } from '@tessera/testkit';

// Issue #12, section 3: every command answers --help/-h with help and nothing else; unknown options
// and arguments are errors (exit 2); gc lists what it would delete and deletes only with --delete.
// The CLI runs as a user runs it: a child process, from the sources, with its own DATA_DIR.

const root = resolve(fileURLToPath(import.meta.url), '../../../..');
const version = (JSON.parse(readFileSync(join(root, 'packages/cli/package.json'), 'utf8')) as { version: string }).version;
const scratch = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

/** The CLI on its own DATA_DIR, as a user runs it (a child process, from the sources). */
const cli = (args: string[], dataDir: string): Promise<CliRun> => runCli(args, { DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent' });

const untouched = () => join(scratch, `untouched-${Math.random().toString(36).slice(2)}`);

t.test('--help and -h print help and do nothing else', async (t) => {
  for (const args of [
    ['--help'],
    ['-h'],
    ['help'],
    ['serve', '--help'],
    ['serve', '-h'],
    ['migrate', '--help'],
    ['config', '-h'],
    ['gc', '--help'],
    ['gc', '-h'],
    ['gc', '--delete', '--help'],
    ['gc', '--dryrun', '-h'],
    ['help', 'gc'],
  ]) {
    const dataDir = untouched();
    const run = await cli(args, dataDir);
    t.equal(run.code, 0, `${args.join(' ')}: exit 0`);
    t.match(run.stdout, /^usage: tessera/, `${args.join(' ')}: prints usage`);
    t.equal(run.stderr, '', `${args.join(' ')}: nothing on stderr`);
    t.notOk(existsSync(dataDir), `${args.join(' ')}: DATA_DIR not created (no index opened, nothing started)`);
  }
  const gcHelp = await cli(['gc', '--help'], untouched());
  t.match(gcHelp.stdout, /--delete/, 'gc help names the flag that deletes');
  t.match(gcHelp.stdout, /dry run/, 'gc help says the default is a dry run');
});

t.test('--version prints the version', async (t) => {
  for (const args of [['--version'], ['-v'], ['version']]) {
    const run = await cli(args, untouched());
    t.equal(run.code, 0, `${args.join(' ')}: exit 0`);
    t.equal(run.stdout, `tessera ${version}\n`, `${args.join(' ')}: tessera ${version}`);
  }
});

t.test('unknown commands, options and arguments are errors', async (t) => {
  const cases: [string[], RegExp][] = [
    [['gc', '--dryrun'], /Unknown option '--dryrun'/],
    [['gc', 'now'], /Unexpected argument 'now'/],
    [['gc', '--grace-minutes', 'soon'], /--grace-minutes needs a number/],
    [['gc', '--grace-minutes'], /argument missing/],
    [['gc', '--delete', '--dry-run'], /exclude each other/],
    [['serve', '--port', '9000'], /Unknown option '--port'/],
    [['migrate', 'now'], /Unexpected argument 'now'/],
    [['config', '-x'], /Unknown option '-x'/],
    [['unload'], /unknown command 'unload'/],
    [['--verbose'], /Unknown option '--verbose'/],
    [['help', 'unload'], /unknown command 'unload'/],
  ];
  for (const [args, message] of cases) {
    const dataDir = untouched();
    const run = await cli(args, dataDir);
    t.equal(run.code, 2, `${args.join(' ')}: exit 2`);
    t.match(run.stderr, message, `${args.join(' ')}: says what is wrong`);
    t.match(run.stderr, /usage: tessera/, `${args.join(' ')}: shows the usage`);
    t.equal(run.stdout, '', `${args.join(' ')}: nothing on stdout`);
    t.notOk(existsSync(dataDir), `${args.join(' ')}: nothing done`);
  }
});

t.test('gc lists what it would delete and deletes only with --delete', async (t) => {
  const dataDir = join(scratch, 'gc');
  const migrated = await cli(['migrate'], dataDir);
  t.equal(migrated.code, 0, `migrate: ${migrated.stderr}`);
  // An instance blob no index row references, and a stale spool file: what a crash leaves behind.
  const orphanKey = 'instances/1.2.3/4.5.6/7.8.9.dcm';
  const orphan = join(dataDir, 'blobs', orphanKey);
  const spooled = join(dataDir, 'spool', 'upload-stale');
  mkdirSync(join(orphan, '..'), { recursive: true });
  mkdirSync(join(spooled, '..'), { recursive: true });
  writeFileSync(orphan, 'orphan');
  writeFileSync(spooled, 'stale');
  const hoursAgo = new Date(Date.now() - 3 * 3600_000);
  utimesSync(orphan, hoursAgo, hoursAgo);
  utimesSync(spooled, hoursAgo, hoursAgo);

  for (const args of [['gc'], ['gc', '--dry-run']]) {
    const dry = await cli(args, dataDir);
    t.equal(dry.code, 0, `${args.join(' ')}: exit 0 (${dry.stderr})`);
    t.match(dry.stdout, /dry run: would delete 1 orphan blob\(s\) of 1 examined and 1 stale spool file\(s\)/, `${args.join(' ')}: says what it would delete`);
    t.match(dry.stdout, orphanKey, `${args.join(' ')}: lists the blob`);
    t.match(dry.stdout, /tessera gc --delete/, `${args.join(' ')}: names the flag that deletes`);
    t.ok(existsSync(orphan) && existsSync(spooled), `${args.join(' ')}: nothing deleted`);
  }
  const young = await cli(['gc', '--delete', '--grace-minutes', '600'], dataDir);
  t.match(
    young.stdout,
    /deleted 0 orphan blob\(s\) of 1 examined and 0 stale spool file\(s\), older than 600 min/,
    'objects inside the grace period are left alone',
  );
  t.ok(existsSync(orphan) && existsSync(spooled), 'nothing deleted inside the grace period');

  const real = await cli(['gc', '--delete'], dataDir);
  t.equal(real.code, 0, `gc --delete: exit 0 (${real.stderr})`);
  t.match(real.stdout, /deleted 1 orphan blob\(s\) of 1 examined and 1 stale spool file\(s\)/, 'says what it deleted');
  t.match(real.stdout, orphanKey, 'lists the blob it deleted');
  t.notOk(existsSync(orphan), 'the orphan blob is gone');
  t.notOk(existsSync(spooled), 'the stale spool file is gone');
});

t.test('keys: create prints the key once, list never shows it, revoke marks it', async (t) => {
  const dataDir = join(scratch, 'keys');
  const created = await cli(['keys', 'create', '--name', 'router', '--scopes', 'write,read', '--expires', '90d'], dataDir);
  t.equal(created.code, 0, `create: exit 0 (${created.stderr})`);
  const key = created.stdout.trim();
  t.match(key, /^tsk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/, 'stdout holds the key alone');
  const id = key.split('_')[1]!;
  t.match(created.stderr, new RegExp(`created key ${id} 'router' with scopes write,read, expiring \\d{4}-`), 'stderr says what was created');
  const listed = await cli(['keys', 'list'], dataDir);
  t.equal(listed.code, 0);
  const row = listed.stdout.split('\n').find((line) => line.startsWith(id));
  t.match(row, /^[0-9a-f]{16}\trouter\twrite,read\t\d{4}-\S+\t-\t\d{4}-\S+\t-$/, 'id, name, scopes, created, never used, expires, not revoked');
  // The whole secret (base64url may hold '_': splitting the key on '_' could give a fragment).
  const secret = parseApiKey(key)!.secret;
  t.equal(secret.length, 43);
  t.notOk(listed.stdout.includes(secret), 'the secret is not listed');
  const revoked = await cli(['keys', 'revoke', id], dataDir);
  t.equal(revoked.code, 0, `revoke: exit 0 (${revoked.stderr})`);
  t.match((await cli(['keys', 'list'], dataDir)).stdout, new RegExp(`${id}\\trouter.*\\t\\d{4}-[^\\t]+$`, 'm'), 'the revocation time is listed');
  const unknown = await cli(['keys', 'revoke', '0000000000000000'], dataDir);
  t.equal(unknown.code, 1, 'an unknown id fails');
  t.match(unknown.stderr, /no key with id/);
});

t.test('keys: usage errors', async (t) => {
  const cases: [string[], RegExp][] = [
    [['keys'], /a subcommand is needed/],
    [['keys', 'rotate'], /unknown subcommand 'rotate'/],
    [['keys', 'create', '--scopes', 'read'], /--name/],
    [['keys', 'create', '--name', 'x'], /--scopes/],
    [['keys', 'create', '--name', 'x', '--scopes', 'read,root'], /unknown scope 'root'/],
    [['keys', 'create', '--name', 'x', '--scopes', 'read', '--expires', 'soon'], /--expires needs/],
    [['keys', 'create', '--name', 'x', '--scopes', 'read', '--secret', 'y'], /Unknown option '--secret'/],
    [['keys', 'list', 'all'], /Unexpected argument 'all'/],
    [['keys', 'revoke'], /exactly one key id/],
    [['keys', 'revoke', 'a', 'b'], /exactly one key id/],
  ];
  for (const [args, message] of cases) {
    const dataDir = untouched();
    const run = await cli(args, dataDir);
    t.equal(run.code, 2, `${args.join(' ')}: exit 2`);
    t.match(run.stderr, message, `${args.join(' ')}: says what is wrong`);
    t.equal(run.stdout, '', `${args.join(' ')}: nothing on stdout`);
    t.notOk(existsSync(dataDir), `${args.join(' ')}: nothing done`);
  }
  const help = await cli(['keys', 'create', '--help'], untouched());
  t.equal(help.code, 0);
  t.match(help.stdout, /shown once|printed\s+once|prints the key\s+once/, 'help says the key is printed once');
});

t.test('delete: refuses without a terminal unless --yes, then deletes from the configured index and blob store', async (t) => {
  const dataDir = join(scratch, 'delete');
  const { buildApp, loadConfig } = await import('@tessera/server');
  const { openIndex } = await import('@tessera/index');
  const { createBlobStore } = await import('@tessera/blob-store');
  const { ctInstance, encodeInstance, newUid } = await import('@tessera/testkit');
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const study = newUid();
  const series = [newUid(), newUid()] as const;
  const specs = [ctInstance({ StudyInstanceUID: study, SeriesInstanceUID: series[0] }), ctInstance({ StudyInstanceUID: study, SeriesInstanceUID: series[1] })];
  {
    const index = await openIndex(config.index);
    const blobs = createBlobStore(config.blobs);
    const app = await buildApp({ config, index, blobs, logger: false });
    for (const spec of specs) {
      const res = await app.inject({
        method: 'POST',
        url: '/dicomweb/studies',
        headers: { 'content-type': 'application/dicom' },
        payload: encodeInstance(spec),
      });
      t.equal(res.statusCode, 200, 'stored');
    }
    await app.close();
    await index.close();
    await blobs.close();
  }
  const studyBlobs = join(dataDir, 'blobs', 'instances', study);
  const files = (dir: string) => (existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length : 0);
  t.equal(files(studyBlobs), 2, 'two blobs on disk');

  const refused = await cli(['delete', study], dataDir);
  t.equal(refused.code, 2, 'no terminal, no --yes: refused');
  t.match(refused.stderr, /refusing to delete study .* without confirmation.*--yes/);
  t.equal(files(studyBlobs), 2, 'nothing deleted');

  const instance = await cli(['delete', study, '--series', series[0], '--instance', String(specs[0]!.attributes.SOPInstanceUID), '--yes'], dataDir);
  t.equal(instance.code, 0, `delete an instance: exit 0 (${instance.stderr})`);
  t.match(instance.stdout, /deleted 1 instance\(s\) and 1 series/, 'the instance and its emptied series');
  t.equal(files(studyBlobs), 1, 'its blob is gone');

  const whole = await cli(['delete', study, '-y'], dataDir);
  t.equal(whole.code, 0, `delete the study: exit 0 (${whole.stderr})`);
  t.match(whole.stdout, /deleted 1 instance\(s\) and 1 series; the study is gone/);
  t.equal(files(studyBlobs), 0, 'no blob of the study is left');

  const again = await cli(['delete', study, '--yes'], dataDir);
  t.equal(again.code, 1, 'a study not stored: exit 1');
  t.match(again.stderr, /is not stored; nothing was deleted/);

  const index = await openIndex(config.index);
  t.teardown(() => index.close());
  t.same(await index.instances.findInstances(specs.map((s) => String(s.attributes.SOPInstanceUID))), [], 'nothing is left in the index');
  const events = await index.audit.find({ studyUid: study }, 10);
  t.same(
    events.filter((e) => e.route === 'tessera delete').map((e) => [e.type, e.action, e.outcome, e.detail.level]),
    [
      ['instances-accessed', 'D', 0, 'instance'],
      ['study-deleted', 'D', 0, 'study'],
      ['study-deleted', 'D', 4, 'study'],
    ],
    'each deletion is in the audit trail (the refused one never reached it)',
  );
});
