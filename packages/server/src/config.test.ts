import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';
import { type Config, ConfigError, SETTINGS, loadConfig } from './config.js';

/** loadConfig, the only reader of the environment: every setting's default, valid values, and each invalid value as a ConfigError. */

const DEFAULTS: Config = {
  host: '127.0.0.1',
  port: 8080,
  workers: 1,
  dataDir: resolve('./data'),
  publicUrl: undefined,
  trustProxy: false,
  allowedHosts: [],
  logLevel: 'info',
  index: { kind: 'pglite', dataDir: resolve('./data/index') },
  blobs: { kind: 'filesystem', root: resolve('./data/blobs') },
  stow: { maxBodyBytes: 64 * 2 ** 30, maxPartBytes: 8 * 2 ** 30, maxHeaderBytes: 64 * 2 ** 20, duplicatePolicy: 'reject', describeThreads: 0 },
  qido: { maxLimit: 1000 },
  http: { idleTimeoutMs: 120_000, bodyTimeoutMs: 60_000, bodyMinBytes: 65_536 },
  inlineBinaryMaxBytes: 1024,
  corsAllowedOrigins: '*',
  viewerDir: undefined,
  auth: { methods: [], keyCacheMs: 5000, failuresPerMinute: 20 },
  audit: { enabled: true, retentionDays: 2190 },
  shares: { maxLifetimeMs: 30 * 86_400_000 },
  metrics: { enabled: true },
};
const PG = { DATABASE_URL: 'postgres://u@db:5432/tessera' };
const S3 = { S3_BUCKET: 'b' };

const fails = (env: Record<string, string>): string => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return '(no error)';
};

t.test('defaults: an empty environment', async (t) => {
  t.same(loadConfig({}), DEFAULTS);
  t.same(
    loadConfig(Object.fromEntries(SETTINGS.map(([name]) => [name, '']))),
    { ...DEFAULTS, corsAllowedOrigins: [] },
    'an empty value is the default, except CORS_ALLOWED_ORIGINS, where empty disables CORS',
  );
});

t.test('valid values of each setting', async (t) => {
  const cases: { env: Record<string, string>; pick: (c: Config) => unknown; expect: unknown }[] = [
    { env: { PORT: '0' }, pick: (c) => c.port, expect: 0 },
    { env: { SHARE_MAX_DAYS: '365' }, pick: (c) => c.shares.maxLifetimeMs, expect: 365 * 86_400_000 },
    { env: { PORT: '65535' }, pick: (c) => c.port, expect: 65535 },
    { env: { HOST: '0.0.0.0', AUTH_MODE: 'apikey' }, pick: (c) => c.host, expect: '0.0.0.0' },
    { env: { WORKERS: '4', ...PG }, pick: (c) => c.workers, expect: 4 },
    {
      env: { DATA_DIR: '/srv/tessera' },
      pick: (c) => [c.dataDir, c.index, c.blobs],
      expect: ['/srv/tessera', { kind: 'pglite', dataDir: '/srv/tessera/index' }, { kind: 'filesystem', root: '/srv/tessera/blobs' }],
    },
    {
      env: { ...PG },
      pick: (c) => c.index,
      expect: { kind: 'postgres', url: PG.DATABASE_URL, poolSize: 10, statementTimeoutMs: 30_000, preparedStatements: true },
    },
    {
      env: { DATABASE_URL: 'postgresql://u@db/t/', DATABASE_POOL_SIZE: '3', DATABASE_STATEMENT_TIMEOUT_MS: '100', DATABASE_PREPARED_STATEMENTS: 'no' },
      pick: (c) => c.index,
      expect: { kind: 'postgres', url: 'postgresql://u@db/t', poolSize: 3, statementTimeoutMs: 100, preparedStatements: false },
    },
    {
      env: { ...S3 },
      pick: (c) => c.blobs,
      expect: {
        kind: 's3',
        bucket: 'b',
        endpoint: undefined,
        region: 'us-east-1',
        prefix: undefined,
        accessKeyId: undefined,
        secretAccessKey: undefined,
        forcePathStyle: false,
        requestTimeoutMs: 30_000,
      },
    },
    {
      env: {
        ...S3,
        S3_ENDPOINT: 'http://minio:9000/',
        S3_REGION: 'eu-west-3',
        S3_PREFIX: 'a/b-c/',
        S3_ACCESS_KEY_ID: 'k',
        S3_SECRET_ACCESS_KEY: 's',
        S3_FORCE_PATH_STYLE: 'TRUE',
        S3_REQUEST_TIMEOUT_MS: '5000',
      },
      pick: (c) => c.blobs,
      expect: {
        kind: 's3',
        bucket: 'b',
        endpoint: 'http://minio:9000',
        region: 'eu-west-3',
        prefix: 'a/b-c/',
        accessKeyId: 'k',
        secretAccessKey: 's',
        forcePathStyle: true,
        requestTimeoutMs: 5000,
      },
    },
    { env: { PUBLIC_URL: 'https://pacs.example.org/tessera/' }, pick: (c) => c.publicUrl, expect: 'https://pacs.example.org/tessera' },
    { env: { TRUST_PROXY: '1' }, pick: (c) => c.trustProxy, expect: true },
    {
      env: { ALLOWED_HOSTS: ' Pacs.Example.org , localhost:8080,[::1]:8080,' },
      pick: (c) => c.allowedHosts,
      expect: ['pacs.example.org', 'localhost:8080', '[::1]:8080'],
    },
    {
      env: {
        STOW_MAX_BODY_BYTES: '1',
        STOW_MAX_PART_BYTES: '2',
        STOW_MAX_HEADER_BYTES: '1024',
        STOW_DUPLICATE_POLICY: 'overwrite',
        STOW_DESCRIBE_THREADS: '2',
      },
      pick: (c) => c.stow,
      expect: { maxBodyBytes: 1, maxPartBytes: 2, maxHeaderBytes: 1024, duplicatePolicy: 'overwrite', describeThreads: 2 },
    },
    {
      env: { HTTP_IDLE_TIMEOUT_MS: '0', HTTP_BODY_TIMEOUT_MS: '0', HTTP_BODY_MIN_BYTES: '1' },
      pick: (c) => c.http,
      expect: { idleTimeoutMs: 0, bodyTimeoutMs: 0, bodyMinBytes: 1 },
    },
    { env: { QIDO_MAX_LIMIT: '1000000' }, pick: (c) => c.qido.maxLimit, expect: 1_000_000 },
    { env: { INLINE_BINARY_MAX_BYTES: '0' }, pick: (c) => c.inlineBinaryMaxBytes, expect: 0 },
    {
      env: { CORS_ALLOWED_ORIGINS: 'https://viewer.example.org, http://localhost:3000' },
      pick: (c) => c.corsAllowedOrigins,
      expect: ['https://viewer.example.org', 'http://localhost:3000'],
    },
    { env: { CORS_ALLOWED_ORIGINS: ' * ' }, pick: (c) => c.corsAllowedOrigins, expect: '*' },
    { env: { VIEWER_DIR: '/opt/ohif' }, pick: (c) => c.viewerDir, expect: '/opt/ohif' },
    { env: { LOG_LEVEL: 'silent' }, pick: (c) => c.logLevel, expect: 'silent' },
  ];
  for (const c of cases) t.same(c.pick(loadConfig(c.env)), c.expect, JSON.stringify(c.env));
});

t.test('each invalid value is a ConfigError naming the setting', async (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: '65536' }, /^PORT must be an integer from 0 to 65535, got '65536'$/],
    [{ SHARE_MAX_DAYS: '0' }, /^SHARE_MAX_DAYS must be an integer from 1 to 365/],
    [{ PORT: '80a' }, /^PORT must be an integer from 0 to 65535, got '80a'$/],
    [{ PORT: '-1' }, /^PORT must be an integer/],
    [{ PORT: '1e3' }, /^PORT must be an integer/],
    [{ WORKERS: '0' }, /^WORKERS must be an integer from 1 to 64/],
    [{ WORKERS: '65', ...PG }, /^WORKERS must be an integer from 1 to 64/],
    [{ WORKERS: '2' }, /^WORKERS above 1 needs DATABASE_URL/],
    [{ DATABASE_URL: 'mysql://db/x' }, /^DATABASE_URL must be a postgres: or postgresql: URL, got 'mysql:'$/],
    [{ DATABASE_URL: 'not a url' }, /^DATABASE_URL is not a URL: 'not a url'$/],
    [{ ...PG, DATABASE_POOL_SIZE: '0' }, /^DATABASE_POOL_SIZE must be an integer from 1 to 1000/],
    [{ ...PG, DATABASE_STATEMENT_TIMEOUT_MS: '99' }, /^DATABASE_STATEMENT_TIMEOUT_MS must be an integer from 100/],
    [{ ...PG, DATABASE_PREPARED_STATEMENTS: 'maybe' }, /^DATABASE_PREPARED_STATEMENTS must be true or false, got 'maybe'$/],
    [{ S3_ENDPOINT: 'http://minio:9000' }, /^S3_BUCKET is required when other S3_ settings are given$/],
    [{ S3_ACCESS_KEY_ID: 'k' }, /^S3_BUCKET is required/],
    [{ ...S3, S3_ENDPOINT: 'ftp://minio' }, /^S3_ENDPOINT must be a http: or https: URL, got 'ftp:'$/],
    [{ ...S3, S3_PREFIX: 'no-slash' }, /^S3_PREFIX must be path segments ending in '\/', got 'no-slash'$/],
    [{ ...S3, S3_PREFIX: 'a//' }, /^S3_PREFIX must be path segments/],
    [{ ...S3, S3_FORCE_PATH_STYLE: 'on' }, /^S3_FORCE_PATH_STYLE must be true or false/],
    [{ ...S3, S3_REQUEST_TIMEOUT_MS: '10' }, /^S3_REQUEST_TIMEOUT_MS must be an integer from 100/],
    [{ PUBLIC_URL: 'pacs.example.org' }, /^PUBLIC_URL is not a URL/],
    [{ PUBLIC_URL: 'ws://pacs' }, /^PUBLIC_URL must be a http: or https: URL, got 'ws:'$/],
    [{ TRUST_PROXY: 'yes please' }, /^TRUST_PROXY must be true or false, got 'yes please'$/],
    [{ ALLOWED_HOSTS: 'https://pacs.example.org' }, /^ALLOWED_HOSTS: 'https:\/\/pacs.example.org' is not a host\[:port\]/],
    [{ ALLOWED_HOSTS: 'a b' }, /^ALLOWED_HOSTS: 'a b' is not a host/],
    [{ STOW_MAX_BODY_BYTES: '0' }, /^STOW_MAX_BODY_BYTES must be an integer from 1/],
    [{ STOW_MAX_PART_BYTES: '0' }, /^STOW_MAX_PART_BYTES must be an integer from 1/],
    [{ STOW_MAX_HEADER_BYTES: '1023' }, /^STOW_MAX_HEADER_BYTES must be an integer from 1024/],
    [{ STOW_DUPLICATE_POLICY: 'ignore' }, /^STOW_DUPLICATE_POLICY must be one of reject, overwrite, got 'ignore'$/],
    [{ STOW_DESCRIBE_THREADS: '65' }, /^STOW_DESCRIBE_THREADS must be an integer from 0 to 64/],
    [{ HTTP_IDLE_TIMEOUT_MS: String(2 ** 31) }, /^HTTP_IDLE_TIMEOUT_MS must be an integer from 0 to 2147483647/],
    [{ HTTP_BODY_TIMEOUT_MS: '1.5' }, /^HTTP_BODY_TIMEOUT_MS must be an integer/],
    [{ HTTP_BODY_MIN_BYTES: '0' }, /^HTTP_BODY_MIN_BYTES must be an integer from 1/],
    [{ QIDO_MAX_LIMIT: '1000001' }, /^QIDO_MAX_LIMIT must be an integer from 1 to 1000000/],
    [{ INLINE_BINARY_MAX_BYTES: String(2 ** 20 + 1) }, /^INLINE_BINARY_MAX_BYTES must be an integer from 0 to 1048576/],
    [{ CORS_ALLOWED_ORIGINS: 'https://viewer.example.org/' }, /^CORS_ALLOWED_ORIGINS: 'https:\/\/viewer.example.org\/' is not an origin/],
    [{ CORS_ALLOWED_ORIGINS: 'viewer.example.org' }, /^CORS_ALLOWED_ORIGINS: 'viewer.example.org' is not an origin/],
    [{ LOG_LEVEL: 'verbose' }, /^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got 'verbose'$/],
  ];
  for (const [env, message] of cases) t.match(fails(env), message, JSON.stringify(env));
  const names = new Set(SETTINGS.map(([name]) => name));
  for (const [env] of cases) for (const name of Object.keys(env)) t.ok(names.has(name as never), `${name} is a documented setting`);
});

t.test('CONFIG_FILE: a JSON object of the same variables; the environment wins', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };
  const good = await file('good.json', JSON.stringify({ PORT: 9000, TRUST_PROXY: true, LOG_LEVEL: 'warn', CORS_ALLOWED_ORIGINS: '' }));
  const config = loadConfig({ CONFIG_FILE: good, LOG_LEVEL: 'debug' });
  t.equal(config.port, 9000, 'numbers in the file are read as their text');
  t.equal(config.trustProxy, true);
  t.equal(config.logLevel, 'debug', 'the environment wins over the file');
  t.same(config.corsAllowedOrigins, [], 'an empty CORS_ALLOWED_ORIGINS in the file disables CORS');

  const cases: [string, RegExp][] = [
    [await file('broken.json', '{"PORT":'), /^CONFIG_FILE .*broken\.json cannot be read as JSON: /],
    [join(dir, 'absent.json'), /^CONFIG_FILE .*absent\.json cannot be read as JSON: .*ENOENT/],
    [await file('array.json', '[]'), /^CONFIG_FILE .*array\.json must hold a JSON object$/],
    [await file('unknown.json', '{"PROT": 1}'), /^CONFIG_FILE .*unknown\.json: unknown setting PROT$/],
    [await file('invalid.json', '{"PORT": "x"}'), /^PORT must be an integer from 0 to 65535, got 'x'$/],
  ];
  for (const [path, message] of cases) t.match(fails({ CONFIG_FILE: path }), message, path);
});

t.test('SETTINGS: one row per variable, each with a description', async (t) => {
  const names = SETTINGS.map(([name]) => name);
  t.equal(new Set(names).size, names.length, 'no variable twice');
  for (const [name, , description] of SETTINGS) {
    t.match(name, /^[A-Z][A-Z0-9_]*$/, `${name}: an environment variable name`);
    t.not(description.trim(), '', `${name} is described`);
  }
});
