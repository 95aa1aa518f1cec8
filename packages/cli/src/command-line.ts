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
  | { kind: 'upload'; paths: string[]; url?: string; token?: string; concurrency: number; batch: number; retries: number };

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
  upload: {
    summary: 'send DICOM files and folders to a DICOMweb server with STOW-RS',
    usage: 'tessera upload <files or folders…> [--url URL] [--token TOKEN] [--concurrency N] [--batch N] [--retries N]',
    details: `Walks the folders recursively and sends every DICOM file (found by its content, a 128-byte
preamble then "DICM", whatever its name) with STOW-RS, in batches, several at once. DICOMDIR files
and non-DICOM files are skipped with a note. Transient failures (connection errors, 408, 429, 5xx,
Retry-After) are retried with backoff. The summary lists per study what was stored, already present
(asked with QIDO-RS before sending) and refused, with the server's reasons. Re-running on the same
folder stores nothing new and says so.

A progress bar (files, MB, rate, ETA) on a terminal, one line per batch otherwise; the summary on stdout.

exit codes: 0 every file stored or already present, 1 some refused or not sent,
            2 usage error, server unreachable or credential refused

options:
  --url URL           the DICOMweb service root (default http://127.0.0.1:$PORT/dicomweb, PORT default 8080)
  --token TOKEN       an API key or access token, sent as Authorization: Bearer; better: set
                      TESSERA_TOKEN, which stays out of shell history and process lists
  --concurrency N     STOW-RS requests in flight at once (default 4)
  --batch N           files per request (default 50)
  --retries N         further attempts of a request after a transient failure (default 5, 0 for none)
  -h, --help          print this help and do nothing else`,
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
  const options = name === 'gc' || name === 'keys' || name === 'upload' ? '' : '\n\noptions:\n  -h, --help   print this help and do nothing else';
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
    case 'upload':
      return parseUpload(rest);
  }
}

function parseUpload(args: readonly string[]): CommandLine {
  const usageError = (message: string): CommandLine => ({ kind: 'usage-error', message: `tessera upload: ${message}`, usage: commandHelp('upload') });
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        help,
        url: { type: 'string' },
        token: { type: 'string' },
        concurrency: { type: 'string' },
        batch: { type: 'string' },
        retries: { type: 'string' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    return usageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const { values, positionals } = parsed;
  if (positionals.length === 0) return usageError('give at least one file or folder');
  const count = (name: 'concurrency' | 'batch' | 'retries', fallback: number, min: number, max: number): number | string => {
    const given = values[name];
    if (given === undefined) return fallback;
    const n = Number(given);
    return /^\d+$/.test(given) && n >= min && n <= max ? n : `--${name} needs a whole number from ${min} to ${max}, got '${given}'`;
  };
  const concurrency = count('concurrency', 4, 1, 64);
  const batch = count('batch', 50, 1, 10_000);
  const retries = count('retries', 5, 0, 20);
  if (typeof concurrency === 'string') return usageError(concurrency);
  if (typeof batch === 'string') return usageError(batch);
  if (typeof retries === 'string') return usageError(retries);
  if (values.url !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(values.url);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) return usageError(`--url needs an http:// or https:// URL, got '${values.url}'`);
  }
  if (values.token !== undefined && values.token.trim() === '') return usageError('--token is empty');
  return {
    kind: 'upload',
    paths: positionals,
    ...(values.url === undefined ? {} : { url: values.url }),
    ...(values.token === undefined ? {} : { token: values.token }),
    concurrency,
    batch,
    retries,
  };
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
