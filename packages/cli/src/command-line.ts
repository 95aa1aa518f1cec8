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
  | { kind: 'gc'; delete: boolean; graceMinutes: number }
  | { kind: 'keys-create'; name: string; scopes: string[]; expiresInMs?: number }
  | { kind: 'keys-list' }
  | { kind: 'keys-revoke'; id: string }
  | { kind: 'verify'; level: 'exists' | 'size' | 'checksum'; rate?: number; json: boolean; study?: string };

/** The scopes a key may hold (the same list as @tessera/access's SCOPES; the CLI parses without importing the server). */
const KEY_SCOPES = ['read', 'write', 'delete', 'admin'];

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
  keys: {
    summary: 'create, list or revoke API keys (AUTH_MODE=apikey)',
    usage: 'tessera keys create --name NAME --scopes SCOPE[,SCOPE…] [--expires 90d] | keys list | keys revoke ID',
    details: `API keys are for machines: PACS routers, scripts, the upload CLI. They are sent as
\`Authorization: Bearer <key>\`. Only a hash of each key is stored: \`keys create\` prints the key
once, and it cannot be shown again. A revoked key stops working on every server process within
AUTH_KEY_CACHE_SECONDS (docs/security.md).

subcommands:
  create --name NAME --scopes LIST [--expires N]
                      LIST: comma list of read, write, delete, admin; N: a number of days (90d) or hours (12h)
  list                id, name, scopes, created, last used, expires, revoked (never the key)
  revoke ID           the key stops working; its row stays for the audit trail

options:
  -h, --help          print this help and do nothing else`,
  },
  verify: {
    summary: 'check that every indexed instance has its blob, of the stored size and SHA-256',
    usage: 'tessera verify [--level exists|size|checksum] [--rate N/s] [--json] [--study UID]',
    details: `Walks the index page by page and checks each instance's blob in the blob store:
  exists    the blob is there (one HEAD or stat per instance)
  size      and its size is the size stored at ingest
  checksum  and its bytes hash to the SHA-256 stored at ingest (reads every byte; the default)
Problems are reported as missing, truncated (size differs) or corrupt (hash differs), with the
Study, Series and SOP Instance UIDs and the blob key. A progress bar is drawn on stderr when it is
a terminal.

exit code: 0 nothing wrong, 1 problems found, 2 usage error or the check could not be done.

options:
  --level L      exists, size or checksum (default checksum)
  --rate N/s     check at most N blobs per second (default: no limit); "50" or "50/s"
  --json         JSON Lines on stdout: {"type":"problem",…} per problem, then {"type":"summary",…}
  --study UID    only the instances of this study
  -h, --help     print this help and do nothing else`,
  },
} as const;

type CommandName = keyof typeof COMMANDS;

export const USAGE = `usage: tessera [--help] [--version] <command> [options]

commands:
${Object.entries(COMMANDS)
  .map(([name, { summary }]) => `  ${name.padEnd(9)} ${summary}`)
  .join('\n')}

\`tessera <command> --help\` describes a command. With no command, tessera serves.
Configuration comes from environment variables (see \`tessera config\` or the README).`;

export function commandHelp(name: CommandName): string {
  const { usage, summary, details } = COMMANDS[name];
  const options = name === 'gc' || name === 'keys' || name === 'verify' ? '' : '\n\noptions:\n  -h, --help   print this help and do nothing else';
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
    return isCommand(topic)
      ? { kind: 'help', text: commandHelp(topic) }
      : { kind: 'usage-error', message: `tessera help: unknown command '${topic}'`, usage: USAGE };
  }
  if (first === 'version') {
    return argv.length > 1
      ? { kind: 'usage-error', message: `tessera version: unexpected argument '${argv[1]}'`, usage: USAGE }
      : { kind: 'version', text: `tessera ${VERSION}` };
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
      const parsed = tryParse(
        rest,
        {
          help,
          delete: { type: 'boolean' },
          'dry-run': { type: 'boolean' },
          'grace-minutes': { type: 'string' },
        },
        'tessera gc',
        commandHelp('gc'),
      );
      if ('message' in parsed) return parsed;
      const { values } = parsed;
      if (values.delete && values['dry-run'])
        return { kind: 'usage-error', message: 'tessera gc: --delete and --dry-run exclude each other', usage: commandHelp('gc') };
      const grace = values['grace-minutes'];
      const graceMinutes = grace === undefined ? 60 : Number(grace);
      if (grace !== undefined && (grace.trim() === '' || !Number.isFinite(graceMinutes) || graceMinutes < 0)) {
        return { kind: 'usage-error', message: `tessera gc: --grace-minutes needs a number of minutes (0 or more), got '${grace}'`, usage: commandHelp('gc') };
      }
      return { kind: 'gc', delete: values.delete === true, graceMinutes };
    }
    case 'keys':
      return parseKeys(rest);
    case 'verify':
      return parseVerify(rest);
  }
}

function parseVerify(args: readonly string[]): CommandLine {
  const usageError = (message: string): CommandLine => ({ kind: 'usage-error', message: `tessera verify: ${message}`, usage: commandHelp('verify') });
  const parsed = tryParse(
    args,
    { help, level: { type: 'string' }, rate: { type: 'string' }, json: { type: 'boolean' }, study: { type: 'string' } },
    'tessera verify',
    commandHelp('verify'),
  );
  if ('message' in parsed) return parsed;
  const { level = 'checksum', rate, json, study } = parsed.values;
  if (level !== 'exists' && level !== 'size' && level !== 'checksum') return usageError(`--level is exists, size or checksum, got '${level}'`);
  const command: CommandLine = { kind: 'verify', level, json: json === true };
  if (rate !== undefined) {
    const match = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(rate.trim());
    const perSecond = match ? Number(match[1]) : NaN;
    if (!(perSecond > 0)) return usageError(`--rate needs a number of blobs per second above 0, like 50 or 50/s, got '${rate}'`);
    command.rate = perSecond;
  }
  if (study !== undefined) {
    if (!/^[0-9.]{1,64}$/.test(study)) return usageError(`--study needs a Study Instance UID (digits and dots), got '${study}'`);
    command.study = study;
  }
  return command;
}

function parseKeys(args: readonly string[]): CommandLine {
  const usageError = (message: string): CommandLine => ({ kind: 'usage-error', message: `tessera keys: ${message}`, usage: commandHelp('keys') });
  const [sub, ...rest] = args;
  switch (sub) {
    case 'create': {
      const parsed = tryParse(
        rest,
        { help, name: { type: 'string' }, scopes: { type: 'string' }, expires: { type: 'string' } },
        'tessera keys create',
        commandHelp('keys'),
      );
      if ('message' in parsed) return parsed;
      const { name, scopes, expires } = parsed.values;
      if (!name?.trim()) return usageError('create needs --name NAME');
      if (!scopes?.trim()) return usageError(`create needs --scopes (a comma list of ${KEY_SCOPES.join(', ')})`);
      const list = [...new Set(scopes.split(',').map((s) => s.trim()))];
      const unknown = list.filter((s) => !KEY_SCOPES.includes(s));
      if (unknown.length > 0) return usageError(`unknown scope '${unknown[0]}'; scopes are ${KEY_SCOPES.join(', ')}`);
      if (expires === undefined) return { kind: 'keys-create', name: name.trim(), scopes: list };
      const match = /^([1-9]\d{0,4})([dh])$/.exec(expires);
      if (!match) return usageError(`--expires needs a number of days or hours, like 90d or 12h, got '${expires}'`);
      return { kind: 'keys-create', name: name.trim(), scopes: list, expiresInMs: Number(match[1]) * (match[2] === 'd' ? 86_400_000 : 3_600_000) };
    }
    case 'list': {
      const parsed = tryParse(rest, { help }, 'tessera keys list', commandHelp('keys'));
      return 'message' in parsed ? parsed : { kind: 'keys-list' };
    }
    case 'revoke': {
      if (rest.length !== 1 || rest[0]!.startsWith('-')) return usageError('revoke needs exactly one key id');
      return { kind: 'keys-revoke', id: rest[0]! };
    }
    case undefined:
      return usageError('a subcommand is needed: create, list or revoke');
    default:
      return usageError(`unknown subcommand '${sub}'`);
  }
}

type Options = Parameters<typeof parseArgs>[0] extends infer C ? (C extends { options?: infer O } ? NonNullable<O> : never) : never;

function tryParse<const O extends Options>(args: readonly string[], options: O, who: string, usage: string) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false });
  } catch (error) {
    // parseArgs' messages name the offending option or argument; the codes say which kind it is.
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    return { kind: 'usage-error' as const, message: `${who}: ${message}`, usage };
  }
}
