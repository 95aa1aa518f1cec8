import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/**
 * The command line, parsed without side effects: `--help`/`-h` anywhere asks for help and nothing
 * else, unknown options and stray arguments are errors (exit 2), and `gc` is a dry run unless
 * `--delete` is given. node's parseArgs in strict mode does the option parsing.
 */
export type CommandLine =
  | { kind: 'help'; text: string }
  | { kind: 'version'; text: string }
  | { kind: 'usage-error'; message: string; usage: string }
  | { kind: 'serve' }
  | { kind: 'migrate' }
  | { kind: 'config' }
  | { kind: 'gc'; delete: boolean; graceMinutes: number };

export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const COMMANDS = {
  serve: {
    summary: 'start the DICOMweb server (migrations are applied first); the default command',
    usage: 'tessera serve',
    details: 'Configuration comes from environment variables (`tessera config` lists them).',
  },
  migrate: {
    summary: 'apply pending index migrations and exit',
    usage: 'tessera migrate',
    details: 'Uses DATABASE_URL (PostgreSQL) or the embedded index under DATA_DIR.',
  },
  config: {
    summary: 'print the settings, their defaults and meaning',
    usage: 'tessera config',
    details: 'Prints the environment variables the server reads; it reads none of them itself.',
  },
  gc: {
    summary: 'list (or, with --delete, delete) orphan blobs and stale upload spool files',
    usage: 'tessera gc [--delete] [--grace-minutes N]',
    details: `Orphans are instance blobs that no index row references and upload spool files, left by a
crash between the blob write and the index commit. Only objects older than the grace period are
considered, so a store in progress is never touched.

By default nothing is deleted: gc lists what it would delete (a dry run).

options:
  --delete            delete what is listed
  --dry-run           list only (the default; cannot be combined with --delete)
  --grace-minutes N   leave objects younger than N minutes alone (default 60)
  -h, --help          print this help and do nothing else`,
  },
} as const;

type CommandName = keyof typeof COMMANDS;

export const USAGE = `usage: tessera [--help] [--version] <command> [options]

commands:
${Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(9)} ${summary}`).join('\n')}

\`tessera <command> --help\` describes a command. With no command, tessera serves.
Configuration comes from environment variables (see \`tessera config\` or the README).`;

export function commandHelp(name: CommandName): string {
  const { usage, summary, details } = COMMANDS[name];
  const options = name === 'gc' ? '' : '\n\noptions:\n  -h, --help   print this help and do nothing else';
  return `usage: ${usage}\n\n${summary}.\n\n${details}${options}`;
}

const isCommand = (name: string): name is CommandName => Object.hasOwn(COMMANDS, name);

const help = { type: 'boolean', short: 'h' } as const;

export function parseCommandLine(argv: readonly string[]): CommandLine {
  const first = argv[0];
  if (first === undefined) return { kind: 'serve' };
  if (first.startsWith('-')) {
    // Options before any command: only --help and --version exist there.
    const parsed = tryParse(argv, { help, version: { type: 'boolean', short: 'v' } }, 'tessera', USAGE);
    if ('message' in parsed) return parsed;
    if (parsed.values.help) return { kind: 'help', text: USAGE };
    if (parsed.values.version) return { kind: 'version', text: `tessera ${VERSION}` };
    return { kind: 'usage-error', message: 'tessera: options given without a command', usage: USAGE };
  }
  if (first === 'help') {
    const topic = argv[1];
    if (argv.length > 2) return { kind: 'usage-error', message: `tessera help: unexpected argument '${argv[2]}'`, usage: USAGE };
    if (topic === undefined) return { kind: 'help', text: USAGE };
    return isCommand(topic) ? { kind: 'help', text: commandHelp(topic) } : { kind: 'usage-error', message: `tessera help: unknown command '${topic}'`, usage: USAGE };
  }
  if (first === 'version') {
    return argv.length > 1 ? { kind: 'usage-error', message: `tessera version: unexpected argument '${argv[1]}'`, usage: USAGE } : { kind: 'version', text: `tessera ${VERSION}` };
  }
  if (!isCommand(first)) return { kind: 'usage-error', message: `tessera: unknown command '${first}'`, usage: USAGE };
  const rest = argv.slice(1);
  // --help wins over everything else, even over an otherwise invalid command line: it never acts.
  if (rest.some((arg) => arg === '--help' || arg === '-h')) return { kind: 'help', text: commandHelp(first) };
  switch (first) {
    case 'serve':
    case 'migrate':
    case 'config': {
      const parsed = tryParse(rest, { help }, `tessera ${first}`, commandHelp(first));
      return 'message' in parsed ? parsed : { kind: first };
    }
    case 'gc': {
      const parsed = tryParse(rest, {
        help,
        delete: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        'grace-minutes': { type: 'string' },
      }, 'tessera gc', commandHelp('gc'));
      if ('message' in parsed) return parsed;
      const { values } = parsed;
      if (values.delete && values['dry-run']) return { kind: 'usage-error', message: 'tessera gc: --delete and --dry-run exclude each other', usage: commandHelp('gc') };
      const grace = values['grace-minutes'];
      const graceMinutes = grace === undefined ? 60 : Number(grace);
      if (grace !== undefined && (grace.trim() === '' || !Number.isFinite(graceMinutes) || graceMinutes < 0)) {
        return { kind: 'usage-error', message: `tessera gc: --grace-minutes needs a number of minutes (0 or more), got '${grace}'`, usage: commandHelp('gc') };
      }
      return { kind: 'gc', delete: values.delete === true, graceMinutes };
    }
  }
}

type Options = Parameters<typeof parseArgs>[0] extends infer C ? C extends { options?: infer O } ? NonNullable<O> : never : never;

function tryParse<const O extends Options>(args: readonly string[], options: O, who: string, usage: string) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false });
  } catch (error) {
    // parseArgs' messages name the offending option or argument; the codes say which kind it is.
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    return { kind: 'usage-error' as const, message: `${who}: ${message}`, usage };
  }
}
