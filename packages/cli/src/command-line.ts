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
  | { kind: 'delete'; study: string; series?: string; instance?: string; yes: boolean }
  | { kind: 'keys-create'; name: string; scopes: string[]; expiresInMs?: number }
  | { kind: 'keys-list' }
  | { kind: 'keys-revoke'; id: string }
  | { kind: 'share-create'; studyInstanceUid: string; expiresInMs: number; note?: string }
  | { kind: 'share-list'; studyInstanceUid?: string }
  | { kind: 'share-revoke'; id: string }
  | { kind: 'verify'; level: 'exists' | 'size' | 'checksum'; rate?: number; json: boolean; study?: string }
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
  delete: {
    summary: 'delete a study, a series or an instance (asks for confirmation)',
    usage: 'tessera delete STUDY_UID [--series UID [--instance UID]] [--yes]',
    details: `Deletes from the configured index and blob store (DATABASE_URL or the embedded index under
DATA_DIR): the index rows in one transaction, then the blobs and their cached thumbnails. A blob whose
removal fails is left unreferenced and removed by \`tessera gc\`. The deletion is recorded in the audit
trail. It cannot be undone.

tessera asks for confirmation on a terminal; without a terminal it refuses unless --yes is given.

options:
  --series UID        delete this series of the study only
  --instance UID      delete this instance of the series only (needs --series)
  -y, --yes           do not ask for confirmation
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
  share: {
    summary: 'create, list or revoke study share links',
    usage: 'tessera share STUDY_UID --expires 7d [--note TEXT] | share list [--study STUDY_UID] | share revoke ID',
    details: `A share link opens one study, read-only, in the hosted viewer, for a limited time, for someone
without an account (docs/security.md, "Share links"). \`share STUDY_UID\` prints the link once, on
stdout; only a hash of its token is stored. The link starts with PUBLIC_URL (set it, or prefix the
printed path with the server's address). A revoked share stops working on every server process
within AUTH_KEY_CACHE_SECONDS.

subcommands:
  STUDY_UID --expires N [--note TEXT]
                      N: minutes (30m), hours (12h) or days (7d), at most SHARE_MAX_DAYS
  list [--study UID]  id, study, note, created by, created, expires, state (never the token)
  revoke ID           the link and every cookie it gave stop working; the row stays for the audit trail

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
  const options =
    name === 'gc' || name === 'keys' || name === 'share' || name === 'delete' || name === 'verify' || name === 'upload'
      ? ''
      : '\n\noptions:\n  -h, --help   print this help and do nothing else';
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
    case 'share':
      return parseShare(rest);
    case 'delete':
      return parseDelete(rest);
    case 'verify':
      return parseVerify(rest);
    case 'upload':
      return parseUpload(rest);
  }
}

/** A UID as PS3.5 §9.1 writes it (the CLI parses without importing @tessera/dicom). */
const UID = /^(0|[1-9]\d*)(\.(0|[1-9]\d*))+$/;
const isUid = (value: string) => value.length <= 64 && UID.test(value);

function parseShare(args: readonly string[]): CommandLine {
  const usageError = (message: string): CommandLine => ({ kind: 'usage-error', message: `tessera share: ${message}`, usage: commandHelp('share') });
  const [first, ...rest] = args;
  switch (first) {
    case undefined:
      return usageError('a study UID (or list, or revoke ID) is needed');
    case 'list': {
      const parsed = tryParse(rest, { help, study: { type: 'string' } }, 'tessera share list', commandHelp('share'));
      if ('message' in parsed) return parsed;
      const study = parsed.values.study;
      if (study !== undefined && (!UID.test(study) || study.length > 64)) return usageError(`--study needs a StudyInstanceUID, got '${study}'`);
      return study === undefined ? { kind: 'share-list' } : { kind: 'share-list', studyInstanceUid: study };
    }
    case 'revoke':
      if (rest.length !== 1 || !/^[0-9a-f]{16}$/.test(rest[0]!))
        return usageError('revoke needs exactly one share id (16 hex digits; tessera share list shows them)');
      return { kind: 'share-revoke', id: rest[0]! };
    default: {
      if (!UID.test(first) || first.length > 64) return usageError(`'${first}' is not a StudyInstanceUID (nor list or revoke)`);
      const parsed = tryParse(rest, { help, expires: { type: 'string' }, note: { type: 'string' } }, 'tessera share', commandHelp('share'));
      if ('message' in parsed) return parsed;
      const { expires, note } = parsed.values;
      if (expires === undefined) return usageError('--expires is needed (a share link always ends): 30m, 12h, 7d');
      const match = /^([1-9]\d{0,5})([mhd])$/.exec(expires);
      if (!match) return usageError(`--expires needs a number of minutes, hours or days, like 30m, 12h or 7d, got '${expires}'`);
      const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'm' | 'h' | 'd'];
      if (note !== undefined && note.length > 200) return usageError('--note is at most 200 characters');
      return { kind: 'share-create', studyInstanceUid: first, expiresInMs: Number(match[1]) * unit, ...(note?.trim() ? { note: note.trim() } : {}) };
    }
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

function parseDelete(args: readonly string[]): CommandLine {
  const usage = commandHelp('delete');
  const usageError = (message: string): CommandLine => ({ kind: 'usage-error', message: `tessera delete: ${message}`, usage });
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { help, series: { type: 'string' }, instance: { type: 'string' }, yes: { type: 'boolean', short: 'y' } },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    return usageError((error as Error).message);
  }
  const { positionals, values } = parsed;
  if (positionals.length === 0) return usageError('the Study Instance UID is needed');
  if (positionals.length > 1) return usageError(`unexpected argument '${positionals[1]}'`);
  const study = positionals[0]!;
  for (const [what, uid] of [
    ['study', study],
    ['--series', values.series],
    ['--instance', values.instance],
  ] as const) {
    if (uid !== undefined && !isUid(uid)) return usageError(`${what}: '${uid}' is not a valid UID`);
  }
  if (values.instance !== undefined && values.series === undefined) return usageError('--instance needs --series (the series of the instance)');
  return {
    kind: 'delete',
    study,
    ...(values.series !== undefined ? { series: values.series } : {}),
    ...(values.instance !== undefined ? { instance: values.instance } : {}),
    yes: values.yes === true,
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
