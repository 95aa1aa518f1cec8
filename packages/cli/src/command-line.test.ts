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
