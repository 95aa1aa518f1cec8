import t from 'tap';
import { type CommandLine, USAGE, VERSION, commandHelp, parseCommandLine } from './command-line.js';

/**
 * The command line parsed in-process, without side effects (issue #12, section 3): every case as a
 * value. main.test.ts runs a few of them as a real child process.
 */

t.test('commands and their options', async (t) => {
  const cases: [string[], CommandLine][] = [
    [[], { kind: 'serve' }],
    [['serve'], { kind: 'serve' }],
    [['migrate'], { kind: 'migrate' }],
    [['config'], { kind: 'config' }],
    [['gc'], { kind: 'gc', delete: false, graceMinutes: 60 }],
    [['gc', '--dry-run'], { kind: 'gc', delete: false, graceMinutes: 60 }],
    [['gc', '--delete'], { kind: 'gc', delete: true, graceMinutes: 60 }],
    [['gc', '--grace-minutes', '0'], { kind: 'gc', delete: false, graceMinutes: 0 }],
    [['gc', '--grace-minutes=2.5', '--delete'], { kind: 'gc', delete: true, graceMinutes: 2.5 }],
    [['--version'], { kind: 'version', text: `tessera ${VERSION}` }],
    [['-v'], { kind: 'version', text: `tessera ${VERSION}` }],
    [['version'], { kind: 'version', text: `tessera ${VERSION}` }],
    [['share', '1.2.3', '--expires', '7d'], { kind: 'share-create', studyInstanceUid: '1.2.3', expiresInMs: 7 * 86_400_000 }],
    [
      ['share', '1.2.3', '--expires=30m', '--note', ' for Dr Who '],
      { kind: 'share-create', studyInstanceUid: '1.2.3', expiresInMs: 1_800_000, note: 'for Dr Who' },
    ],
    [['share', 'list'], { kind: 'share-list' }],
    [['share', 'list', '--study', '1.2.3'], { kind: 'share-list', studyInstanceUid: '1.2.3' }],
    [['share', 'revoke', '0123456789abcdef'], { kind: 'share-revoke', id: '0123456789abcdef' }],
  ];
  for (const [argv, expected] of cases) t.same(parseCommandLine(argv), expected, argv.join(' ') || '(nothing)');
  t.match(VERSION, /^\d+\.\d+\.\d+/, 'the version of @tessera/cli');
});

t.test('--help anywhere asks for help and nothing else', async (t) => {
  const cases: [string[], string][] = [
    [['--help'], USAGE],
    [['-h'], USAGE],
    [['help'], USAGE],
    [['--version', '--help'], USAGE],
    [['help', 'gc'], commandHelp('gc')],
    [['serve', '--help'], commandHelp('serve')],
    [['migrate', '-h'], commandHelp('migrate')],
    [['config', '--help'], commandHelp('config')],
    [['gc', '--delete', '--help'], commandHelp('gc')],
    [['gc', '--dryrun', 'now', '-h'], commandHelp('gc')],
  ];
  for (const [argv, text] of cases) t.same(parseCommandLine(argv), { kind: 'help', text }, argv.join(' '));
});

t.test('help texts', async (t) => {
  for (const command of ['serve', 'migrate', 'config', 'gc'] as const) {
    t.match(USAGE, new RegExp(`^  ${command} +\\S`, 'm'), `USAGE lists ${command}`);
    t.match(commandHelp(command), new RegExp(`^usage: tessera ${command}`), `${command} help starts with its usage`);
    t.match(commandHelp(command), /-h, --help/, `${command} help names --help`);
  }
  t.match(commandHelp('gc'), /--delete[\s\S]*--dry-run[\s\S]*--grace-minutes N/, 'gc help names its options');
  t.match(commandHelp('gc'), /a dry run/, 'gc help says the default is a dry run');
});

t.test('usage errors name what is wrong and carry the usage to print', async (t) => {
  const cases: [string[], RegExp, string][] = [
    [['unload'], /^tessera: unknown command 'unload'$/, USAGE],
    [['--verbose'], /^tessera: Unknown option '--verbose'$/, USAGE],
    [['--version', 'serve'], /^tessera: Unexpected argument 'serve'(\.|$)/, USAGE],
    [['help', 'unload'], /^tessera help: unknown command 'unload'$/, USAGE],
    [['help', 'gc', 'now'], /^tessera help: unexpected argument 'now'$/, USAGE],
    [['version', 'now'], /^tessera version: unexpected argument 'now'$/, USAGE],
    [['serve', '--port', '9000'], /^tessera serve: Unknown option '--port'$/, commandHelp('serve')],
    [['migrate', 'now'], /^tessera migrate: Unexpected argument 'now'(\.|$)/, commandHelp('migrate')],
    [['config', '-x'], /^tessera config: Unknown option '-x'$/, commandHelp('config')],
    [['gc', '--dryrun'], /^tessera gc: Unknown option '--dryrun'$/, commandHelp('gc')],
    [['gc', 'now'], /^tessera gc: Unexpected argument 'now'(\.|$)/, commandHelp('gc')],
    [['gc', '--grace-minutes'], /^tessera gc: Option '--grace-minutes <value>' argument missing$/, commandHelp('gc')],
    [['gc', '--delete', '--dry-run'], /^tessera gc: --delete and --dry-run exclude each other$/, commandHelp('gc')],
    [['gc', '--delete=yes'], /^tessera gc: Option '--delete' does not take an argument$/, commandHelp('gc')],
    [['share'], /^tessera share: a study UID/, commandHelp('share')],
    [['share', '1.2.3'], /^tessera share: --expires is needed/, commandHelp('share')],
    [['share', '1.2.3', '--expires', '7 days'], /^tessera share: --expires needs/, commandHelp('share')],
    [['share', 'not-a-uid', '--expires', '7d'], /is not a StudyInstanceUID/, commandHelp('share')],
    [['share', '1.2.3', '--expires', '7d', '--scopes', 'admin'], /^tessera share: Unknown option '--scopes'$/, commandHelp('share')],
    [['share', 'revoke'], /^tessera share: revoke needs exactly one share id/, commandHelp('share')],
    [['share', 'revoke', 'tsl_x'], /^tessera share: revoke needs exactly one share id/, commandHelp('share')],
    [['share', 'list', '--study', 'x'], /^tessera share: --study needs a StudyInstanceUID/, commandHelp('share')],
  ];
  for (const value of ['soon', '-1', '', ' ', 'Infinity']) {
    cases.push([
      ['gc', `--grace-minutes=${value}`],
      new RegExp(`^tessera gc: --grace-minutes needs a number of minutes \\(0 or more\\), got '${value}'$`),
      commandHelp('gc'),
    ]);
  }
  for (const [argv, message, usage] of cases) {
    const parsed = parseCommandLine(argv);
    t.equal(parsed.kind, 'usage-error', argv.join(' '));
    if (parsed.kind !== 'usage-error') continue;
    t.match(parsed.message, message, `${argv.join(' ')}: message`);
    t.equal(parsed.usage, usage, `${argv.join(' ')}: usage`);
  }
});

t.test('delete: a study, a series or an instance; --yes skips the confirmation', async (t) => {
  const study = '1.2.3.4';
  const cases: [string[], CommandLine][] = [
    [['delete', study], { kind: 'delete', study, yes: false }],
    [['delete', study, '--yes'], { kind: 'delete', study, yes: true }],
    [['delete', '-y', study], { kind: 'delete', study, yes: true }],
    [['delete', study, '--series', '1.2.3.4.5'], { kind: 'delete', study, series: '1.2.3.4.5', yes: false }],
    [
      ['delete', study, '--series', '1.2.3.4.5', '--instance=1.2.3.4.5.6', '--yes'],
      { kind: 'delete', study, series: '1.2.3.4.5', instance: '1.2.3.4.5.6', yes: true },
    ],
  ];
  for (const [argv, expected] of cases) t.same(parseCommandLine(argv), expected, argv.join(' '));
  t.same(parseCommandLine(['delete', '--help', study]), { kind: 'help', text: commandHelp('delete') }, '--help wins');
  t.match(USAGE, /^ {2}delete +\S/m, 'USAGE lists delete');
  t.match(commandHelp('delete'), /--series UID[\s\S]*--instance UID[\s\S]*--yes[\s\S]*-h, --help/, 'delete help names its options');
  t.match(commandHelp('delete'), /without a terminal it refuses unless --yes/, 'delete help says when it refuses');
  const errors: [string[], RegExp][] = [
    [['delete'], /the Study Instance UID is needed/],
    [['delete', study, '1.2.3.5'], /unexpected argument '1.2.3.5'/],
    [['delete', '1.2.03'], /study: '1.2.03' is not a valid UID/],
    [['delete', study, '--series', 'x'], /--series: 'x' is not a valid UID/],
    [['delete', study, '--instance', '1.2.3.4.5.6'], /--instance needs --series/],
    [['delete', study, '--force'], /Unknown option '--force'/],
    [['delete', study, '--series'], /argument missing/],
  ];
  for (const [argv, message] of errors) {
    const parsed = parseCommandLine(argv);
    t.equal(parsed.kind, 'usage-error', argv.join(' '));
    if (parsed.kind === 'usage-error') {
      t.match(parsed.message, message, `${argv.join(' ')}: message`);
      t.equal(parsed.usage, commandHelp('delete'), `${argv.join(' ')}: usage`);
    }
  }
});

t.test('tessera verify: level, rate, json and study; bad values are usage errors', async (t) => {
  t.same(parseCommandLine(['verify']), { kind: 'verify', level: 'checksum', json: false }, 'checksum is the default level');
  t.same(parseCommandLine(['verify', '--level', 'exists', '--rate', '50/s', '--json', '--study', '1.2.3']), {
    kind: 'verify',
    level: 'exists',
    rate: 50,
    json: true,
    study: '1.2.3',
  });
  t.same(parseCommandLine(['verify', '--level=size', '--rate=2.5']), { kind: 'verify', level: 'size', rate: 2.5, json: false });
  t.same(parseCommandLine(['verify', '--level', 'nope', '--help']), { kind: 'help', text: commandHelp('verify') }, '--help wins');
  const errors: [string[], RegExp][] = [
    [['verify', '--level', 'md5'], /^tessera verify: --level is exists, size or checksum, got 'md5'$/],
    [['verify', '--rate', '0'], /^tessera verify: --rate needs a number of blobs per second above 0/],
    [['verify', '--rate', 'fast'], /^tessera verify: --rate needs a number/],
    [['verify', '--study', "1.2'; drop"], /^tessera verify: --study needs a Study Instance UID/],
    [['verify', 'everything'], /^tessera verify: Unexpected argument 'everything'/],
  ];
  for (const [argv, message] of errors) {
    const parsed = parseCommandLine(argv);
    t.equal(parsed.kind, 'usage-error', argv.join(' '));
    if (parsed.kind === 'usage-error') {
      t.match(parsed.message, message);
      t.equal(parsed.usage, commandHelp('verify'));
    }
  }
});

t.test('upload: files and folders, with its options', async (t) => {
  const defaults = { concurrency: 4, batch: 50, retries: 5 };
  const cases: [string[], CommandLine][] = [
    [['upload', 'a'], { kind: 'upload', paths: ['a'], ...defaults }],
    [['upload', 'a', 'b/c.dcm'], { kind: 'upload', paths: ['a', 'b/c.dcm'], ...defaults }],
    [
      ['upload', '--url', 'https://pacs.example/dicom-web', 'a', '--concurrency', '8', '--batch=10', '--retries', '0', '--token', 'tsk_x'],
      { kind: 'upload', paths: ['a'], url: 'https://pacs.example/dicom-web', token: 'tsk_x', concurrency: 8, batch: 10, retries: 0 },
    ],
  ];
  for (const [argv, expected] of cases) t.same(parseCommandLine(argv), expected, argv.join(' '));
  const errors: [string[], RegExp][] = [
    [['upload'], /^tessera upload: give at least one file or folder$/],
    [['upload', 'a', '--concurrency', '0'], /--concurrency needs a whole number from 1 to 64, got '0'/],
    [['upload', 'a', '--batch', 'many'], /--batch needs a whole number from 1 to 10000, got 'many'/],
    [['upload', 'a', '--retries', '-1'], /--retries/],
    [['upload', 'a', '--url', 'ftp://x/'], /--url needs an http:\/\/ or https:\/\/ URL, got 'ftp:\/\/x\/'/],
    [['upload', 'a', '--url', 'not a url'], /--url needs an http/],
    [['upload', 'a', '--token', ''], /--token is empty/],
    [['upload', 'a', '--tokn', 'x'], /Unknown option '--tokn'/],
  ];
  for (const [argv, message] of errors) {
    const parsed = parseCommandLine(argv);
    t.equal(parsed.kind, 'usage-error', argv.join(' '));
    if (parsed.kind === 'usage-error') {
      t.match(parsed.message, message, `${argv.join(' ')}: message`);
      t.equal(parsed.usage, commandHelp('upload'));
    }
  }
  t.same(parseCommandLine(['upload', 'a', '--help']), { kind: 'help', text: commandHelp('upload') }, '--help wins');
  t.match(commandHelp('upload'), /TESSERA_TOKEN/, 'the help names the environment variable for the token');
});
