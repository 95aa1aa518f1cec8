import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BlobStoreConfig } from '@tessera/blob-store';
import type { IndexConfig } from '@tessera/index';
import { type Scope, parseScopeMap } from '@tessera/access';
import { isHost } from './public-url.js';

/** The server's whole configuration, validated. `loadConfig` is the only reader of the environment. */
export interface Config {
  host: string;
  port: number;
  /** Server processes sharing the port; more than one needs PostgreSQL. */
  workers: number;
  dataDir: string;
  publicUrl?: string;
  trustProxy: boolean;
  /** Host header values (`host[:port]`, lower case) that may shape emitted URLs when PUBLIC_URL is unset. */
  allowedHosts: string[];
  logLevel: string;
  index: IndexConfig;
  blobs: BlobStoreConfig;
  stow: {
    maxBodyBytes: number;
    maxPartBytes: number;
    maxHeaderBytes: number;
    duplicatePolicy: 'reject' | 'overwrite';
    /** Worker threads hashing and describing parts (0: on the event loop). */
    describeThreads: number;
  };
  qido: {
    maxLimit: number;
  };
  http: {
    /** A connection with nothing read or written for this long is closed (0: never). */
    idleTimeoutMs: number;
    /** A request body must deliver bodyMinBytes in every bodyTimeoutMs the server waits for it (0: no check). */
    bodyTimeoutMs: number;
    bodyMinBytes: number;
  };
  inlineBinaryMaxBytes: number;
  corsAllowedOrigins: string[] | '*';
  /** Undefined: the packaged viewer. */
  viewerDir?: string;
  auth: AuthConfig;
  /** OpenID Connect (people's bearer tokens, the viewer's sign-in); undefined without OIDC_ISSUER. */
  oidc?: OidcConfig;
  audit: {
    enabled: boolean;
    /** 0: events are kept forever. */
    retentionDays: number;
  };
  /** Study share links (issue #14). */
  shares: {
    /** The longest lifetime a share may be given. */
    maxLifetimeMs: number;
  };
  metrics: {
    /** false: no /metrics route, nothing observed (to measure the cost; docs/benchmarks.md). */
    enabled: boolean;
  };
}

export interface OidcConfig {
  issuer: string;
  audience: string[];
  scopesClaim: string;
  /** Claim value → scopes; undefined: the claim's values are scope names. */
  scopeMap?: Map<string, Scope[]>;
  clockToleranceSeconds: number;
  /** The public client the hosted viewer signs in with (authorization code + PKCE); undefined: no sign-in. */
  viewerClientId?: string;
  viewerScope: string;
}

/** Access control (docs/security.md). No method: AUTH_MODE=none, everyone may do everything. */
export interface AuthConfig {
  methods: AuthMethod[];
  keyCacheMs: number;
  failuresPerMinute: number;
}

export type AuthMethod = 'apikey' | 'oidc';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Source = Record<string, string | undefined>;

/**
 * One row per setting: the variable, its default and its meaning. The README's configuration
 * table is this list; `tessera config` prints it.
 */
export const SETTINGS = [
  ['PORT', '8080', 'TCP port to listen on'],
  ['HOST', '127.0.0.1', 'interface to listen on (0.0.0.0 for all)'],
  ['WORKERS', '1', 'server processes sharing the port (node:cluster); above 1 needs DATABASE_URL (PGlite is one process)'],
  ['DATA_DIR', './data', 'embedded mode: PGlite database (DATA_DIR/index) and blobs (DATA_DIR/blobs); also the upload spool (DATA_DIR/spool)'],
  ['DATABASE_URL', '', 'postgres://… to use PostgreSQL instead of the embedded PGlite'],
  ['DATABASE_POOL_SIZE', '10', 'PostgreSQL connections'],
  ['DATABASE_STATEMENT_TIMEOUT_MS', '30000', 'a query running longer fails (503) instead of hanging'],
  ['DATABASE_PREPARED_STATEMENTS', 'true', 'false behind a pooler that cannot keep named prepared statements (PgBouncer before 1.21 in transaction mode)'],
  ['S3_BUCKET', '', 'set to store blobs in S3/MinIO instead of DATA_DIR/blobs'],
  ['S3_ENDPOINT', '', 'S3 endpoint URL, e.g. http://minio:9000 (empty: AWS)'],
  ['S3_REGION', 'us-east-1', 'S3 region'],
  ['S3_PREFIX', '', 'key prefix inside the bucket, e.g. tessera/'],
  ['S3_ACCESS_KEY_ID', '', 'S3 credentials (empty: the AWS SDK default chain)'],
  ['S3_SECRET_ACCESS_KEY', '', 'S3 credentials'],
  ['S3_FORCE_PATH_STYLE', 'false', 'true for MinIO and most non-AWS servers'],
  ['S3_REQUEST_TIMEOUT_MS', '30000', 'an S3 request running longer fails (503)'],
  ['PUBLIC_URL', '', 'external base URL (e.g. https://pacs.example.org/tessera); every emitted URL starts with it'],
  ['TRUST_PROXY', 'false', 'true: build URLs from Forwarded / X-Forwarded-* headers when PUBLIC_URL is not set'],
  [
    'ALLOWED_HOSTS',
    '',
    'when PUBLIC_URL is not set: comma list of Host values (host[:port]) that may shape emitted URLs, e.g. pacs.example.org,localhost:8080; any other Host is ignored and URLs use the address the connection came in on',
  ],
  ['STOW_MAX_BODY_BYTES', String(64 * 2 ** 30), 'largest STOW-RS request body (413 above)'],
  [
    'STOW_MAX_PART_BYTES',
    String(8 * 2 ** 30),
    'largest single instance in a STOW-RS request, and largest bulk data part of a metadata + bulk data request (413 above)',
  ],
  [
    'STOW_MAX_HEADER_BYTES',
    String(64 * 2 ** 20),
    'largest DICOM header (everything before Pixel Data) read into memory; also the largest metadata of a metadata + bulk data request',
  ],
  ['STOW_DUPLICATE_POLICY', 'reject', 'reject | overwrite: a SOP Instance UID stored again with different bytes'],
  ['STOW_DESCRIBE_THREADS', '0', 'worker threads that hash and parse uploaded instances off the event loop (0: on the event loop)'],
  [
    'HTTP_IDLE_TIMEOUT_MS',
    '120000',
    'a connection on which nothing is read or written for this long is closed, e.g. a client that stops reading a response (0: never); keep it above DATABASE_STATEMENT_TIMEOUT_MS and S3_REQUEST_TIMEOUT_MS',
  ],
  [
    'HTTP_BODY_TIMEOUT_MS',
    '60000',
    'a STOW-RS body that delivers fewer than HTTP_BODY_MIN_BYTES in this time while the server waits for it is abandoned (408), e.g. a stalled or trickling upload (0: never)',
  ],
  ['HTTP_BODY_MIN_BYTES', '65536', 'see HTTP_BODY_TIMEOUT_MS (the default asks about 1 KiB/s)'],
  ['QIDO_MAX_LIMIT', '1000', 'most results one QIDO-RS search returns; a larger limit is clamped, the rest announced in a Warning header'],
  ['INLINE_BINARY_MAX_BYTES', '1024', 'binary values up to this size are inline in metadata, larger ones are BulkDataURIs'],
  ['CORS_ALLOWED_ORIGINS', '*', 'origins allowed to call the server from a browser: * or a comma list (https://viewer.example.org,…); empty disables CORS'],
  ['VIEWER_DIR', '', 'directory of a prebuilt OHIF v3 dist to host at / and /viewer (default: the pinned @ohif/app installed by pnpm install)'],
  [
    'AUTH_MODE',
    'none',
    'none | apikey | oidc | apikey,oidc: how callers prove who they are (docs/security.md); none lets anyone do anything and is refused on a non-loopback HOST unless AUTH_ALLOW_UNAUTHENTICATED=true',
  ],
  [
    'AUTH_ALLOW_UNAUTHENTICATED',
    'false',
    'true: allow AUTH_MODE=none on a non-loopback HOST (a warning is logged); only behind something else that authenticates',
  ],
  [
    'AUTH_KEY_CACHE_SECONDS',
    '5',
    'a verified API key is believed this long without asking the database again: the most a revoked key keeps working on a server process',
  ],
  ['AUTH_FAILURES_PER_MINUTE', '20', 'refused credentials per client address and minute before it is answered 429 (per server process)'],
  [
    'OIDC_ISSUER',
    '',
    "OpenID Connect issuer URL (exactly as the tokens' iss); its keys come from <issuer>/.well-known/openid-configuration (docs/security.md)",
  ],
  ['OIDC_AUDIENCE', '', "comma list of accepted token audiences (aud), e.g. the API's client id or identifier; required with OIDC_ISSUER"],
  [
    'OIDC_SCOPES_CLAIM',
    'scope',
    'token claim that carries scopes or roles: a space-separated string (scope) or an array (roles, groups); a dotted path reaches a nested claim (realm_access.roles)',
  ],
  [
    'OIDC_SCOPE_MAP',
    '',
    'comma list of claim-value:scope pairs, e.g. radiologist:read,uploader:read,uploader:write (empty: the claim holds read/write/delete/admin themselves)',
  ],
  ['OIDC_CLOCK_TOLERANCE_S', '30', "allowed clock skew in seconds for a token's exp and nbf"],
  ['OIDC_VIEWER_CLIENT_ID', '', 'public client (authorization code + PKCE) the hosted viewer signs in with; its redirect URI is <public URL>/callback'],
  [
    'OIDC_VIEWER_SCOPE',
    'openid profile',
    'scopes the hosted viewer requests (add what makes the provider issue an access token for OIDC_AUDIENCE with the scopes claim)',
  ],
  [
    'AUDIT_RETENTION_DAYS',
    '2190',
    'audit events older than this many days are deleted (at start, then daily); 2190 ≈ 6 years; 0 keeps them forever (docs/security.md)',
  ],
  ['AUDIT_ENABLED', 'true', "false records no audit events: only to measure the recorder's cost; an archive of patient data keeps it on"],
  ['SHARE_MAX_DAYS', '30', 'longest lifetime of a study share link (POST /api/shares, tessera share), in days (1 to 365)'],
  ['METRICS_ENABLED', 'true', 'false: no Prometheus metrics at /metrics (admin scope) and nothing observed; only to measure their cost (docs/deployment.md)'],
  ['LOG_LEVEL', 'info', 'fatal | error | warn | info | debug | trace | silent'],
  ['CONFIG_FILE', '', 'optional JSON file of the same variables; the environment wins'],
] as const;

export type SettingName = (typeof SETTINGS)[number][0];

export function loadConfig(env: Source = process.env): Config {
  const fileValues = env.CONFIG_FILE ? readConfigFile(env.CONFIG_FILE) : {};
  const raw = (name: SettingName): string => {
    const value = env[name] ?? fileValues[name];
    if (value !== undefined && value !== '') return value;
    return SETTINGS.find(([n]) => n === name)![1];
  };
  const int = (name: SettingName, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const text = raw(name);
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got '${text}'`);
    return n;
  };
  const bool = (name: SettingName): boolean => {
    const text = raw(name).toLowerCase();
    if (['true', '1', 'yes'].includes(text)) return true;
    if (['false', '0', 'no'].includes(text)) return false;
    throw new ConfigError(`${name} must be true or false, got '${raw(name)}'`);
  };
  const url = (name: SettingName, protocols: string[]): string | undefined => {
    const text = raw(name);
    if (text === '') return undefined;
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      throw new ConfigError(`${name} is not a URL: '${text}'`);
    }
    if (!protocols.includes(parsed.protocol)) throw new ConfigError(`${name} must be a ${protocols.join(' or ')} URL, got '${parsed.protocol}'`);
    return text.replace(/\/+$/, '');
  };
  const oneOf = <T extends string>(name: SettingName, values: readonly T[]): T => {
    const text = raw(name) as T;
    if (!values.includes(text)) throw new ConfigError(`${name} must be one of ${values.join(', ')}, got '${text}'`);
    return text;
  };

  const dataDir = resolve(raw('DATA_DIR'));
  const databaseUrl = url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const bucket = raw('S3_BUCKET');
  const s3Endpoint = url('S3_ENDPOINT', ['http:', 'https:']);
  const s3Prefix = raw('S3_PREFIX');
  if (s3Prefix && !/^([A-Za-z0-9._-]+\/)*$/.test(s3Prefix)) throw new ConfigError(`S3_PREFIX must be path segments ending in '/', got '${s3Prefix}'`);
  if (!bucket && (s3Endpoint || env.S3_ACCESS_KEY_ID)) throw new ConfigError('S3_BUCKET is required when other S3_ settings are given');

  const workers = int('WORKERS', 1, 64);
  if (workers > 1 && !databaseUrl) throw new ConfigError('WORKERS above 1 needs DATABASE_URL: the embedded PGlite index belongs to one process');

  const auth = authConfig(
    raw('AUTH_MODE'),
    raw('HOST'),
    bool('AUTH_ALLOW_UNAUTHENTICATED'),
    Boolean(env.OIDC_ISSUER ?? fileValues.OIDC_ISSUER),
    int('AUTH_KEY_CACHE_SECONDS', 0, 300),
    int('AUTH_FAILURES_PER_MINUTE', 1, 1_000_000),
  );

  return {
    auth,
    host: raw('HOST'),
    port: int('PORT', 0, 65535),
    workers,
    dataDir,
    publicUrl: url('PUBLIC_URL', ['http:', 'https:']),
    trustProxy: bool('TRUST_PROXY'),
    allowedHosts: hosts(raw('ALLOWED_HOSTS')),
    logLevel: oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
    index: databaseUrl
      ? {
          kind: 'postgres',
          url: databaseUrl,
          poolSize: int('DATABASE_POOL_SIZE', 1, 1000),
          statementTimeoutMs: int('DATABASE_STATEMENT_TIMEOUT_MS', 100),
          preparedStatements: bool('DATABASE_PREPARED_STATEMENTS'),
        }
      : { kind: 'pglite', dataDir: resolve(dataDir, 'index') },
    blobs: bucket
      ? {
          kind: 's3',
          bucket,
          endpoint: s3Endpoint,
          region: raw('S3_REGION'),
          prefix: s3Prefix || undefined,
          accessKeyId: raw('S3_ACCESS_KEY_ID') || undefined,
          secretAccessKey: raw('S3_SECRET_ACCESS_KEY') || undefined,
          forcePathStyle: bool('S3_FORCE_PATH_STYLE'),
          requestTimeoutMs: int('S3_REQUEST_TIMEOUT_MS', 100),
        }
      : { kind: 'filesystem', root: resolve(dataDir, 'blobs') },
    stow: {
      maxBodyBytes: int('STOW_MAX_BODY_BYTES', 1),
      maxPartBytes: int('STOW_MAX_PART_BYTES', 1),
      maxHeaderBytes: int('STOW_MAX_HEADER_BYTES', 1024),
      duplicatePolicy: oneOf('STOW_DUPLICATE_POLICY', ['reject', 'overwrite'] as const),
      describeThreads: int('STOW_DESCRIBE_THREADS', 0, 64),
    },
    qido: {
      maxLimit: int('QIDO_MAX_LIMIT', 1, 1_000_000),
    },
    http: {
      idleTimeoutMs: int('HTTP_IDLE_TIMEOUT_MS', 0, 2 ** 31 - 1),
      bodyTimeoutMs: int('HTTP_BODY_TIMEOUT_MS', 0, 2 ** 31 - 1),
      bodyMinBytes: int('HTTP_BODY_MIN_BYTES', 1),
    },
    inlineBinaryMaxBytes: int('INLINE_BINARY_MAX_BYTES', 0, 2 ** 20),
    viewerDir: raw('VIEWER_DIR') ? resolve(raw('VIEWER_DIR')) : undefined,
    audit: { enabled: bool('AUDIT_ENABLED'), retentionDays: int('AUDIT_RETENTION_DAYS', 0, 100_000) },
    shares: { maxLifetimeMs: int('SHARE_MAX_DAYS', 1, 365) * 86_400_000 },
    metrics: { enabled: bool('METRICS_ENABLED') },
    corsAllowedOrigins: origins(env.CORS_ALLOWED_ORIGINS ?? fileValues.CORS_ALLOWED_ORIGINS ?? '*'),
    oidc: oidcConfig(raw, int, url),
  };
}

function oidcConfig(
  raw: (name: SettingName) => string,
  int: (name: SettingName, min: number, max?: number) => number,
  url: (name: SettingName, protocols: string[]) => string | undefined,
): OidcConfig | undefined {
  // The issuer is compared with `iss` exactly: no trailing slash is removed (url() would).
  const issuer = raw('OIDC_ISSUER');
  if (issuer === '') {
    if (raw('OIDC_AUDIENCE') || raw('OIDC_VIEWER_CLIENT_ID')) throw new ConfigError('OIDC_AUDIENCE and OIDC_VIEWER_CLIENT_ID need OIDC_ISSUER');
    return undefined;
  }
  url('OIDC_ISSUER', ['https:', 'http:']);
  const audience = raw('OIDC_AUDIENCE')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (audience.length === 0) throw new ConfigError('OIDC_AUDIENCE is required with OIDC_ISSUER: a token for another application must not be accepted');
  const mapText = raw('OIDC_SCOPE_MAP');
  const map = mapText ? parseScopeMap(mapText) : undefined;
  if (map && !map.ok) throw new ConfigError(`OIDC_SCOPE_MAP: ${map.message}`);
  return {
    issuer,
    audience,
    scopesClaim: raw('OIDC_SCOPES_CLAIM'),
    scopeMap: map?.ok ? map.map : undefined,
    clockToleranceSeconds: int('OIDC_CLOCK_TOLERANCE_S', 0, 600),
    viewerClientId: raw('OIDC_VIEWER_CLIENT_ID') || undefined,
    viewerScope: raw('OIDC_VIEWER_SCOPE'),
  };
}

const AUTH_MODES = ['none', 'apikey', 'oidc', 'apikey,oidc'];

/**
 * AUTH_MODE. With `none` anyone who reaches the port may read, write and delete every patient's
 * images, so it is allowed on a loopback HOST only, unless AUTH_ALLOW_UNAUTHENTICATED=true says
 * something else guards the port (the server then logs a warning at start).
 */
function authConfig(
  mode: string,
  host: string,
  allowUnauthenticated: boolean,
  oidcConfigured: boolean,
  keyCacheSeconds: number,
  failuresPerMinute: number,
): AuthConfig {
  const normalised = mode
    .split(',')
    .map((m) => m.trim().toLowerCase())
    .sort()
    .join(',');
  if (!AUTH_MODES.includes(normalised)) throw new ConfigError(`AUTH_MODE must be one of ${AUTH_MODES.join(' | ')}, got '${mode}'`);
  const methods = normalised === 'none' ? [] : (normalised.split(',') as AuthMethod[]);
  if (methods.length === 0 && !isLoopback(host) && !allowUnauthenticated) {
    throw new ConfigError(
      `AUTH_MODE=none on HOST=${host} would let anyone who reaches the port read, store and delete every image; set AUTH_MODE=apikey (or oidc), or listen on 127.0.0.1, or set AUTH_ALLOW_UNAUTHENTICATED=true if something in front of the server authenticates (docs/security.md)`,
    );
  }
  if (methods.includes('oidc') && !oidcConfigured) throw new ConfigError('AUTH_MODE includes oidc but OIDC_ISSUER is not set');
  return { methods, keyCacheMs: keyCacheSeconds * 1000, failuresPerMinute };
}

/** Whether `host` (HOST) is a loopback interface: 127.0.0.0/8, ::1 or localhost. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

function hosts(text: string): string[] {
  const list = text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const host of list) {
    if (!isHost(host)) throw new ConfigError(`ALLOWED_HOSTS: '${host}' is not a host[:port] like pacs.example.org or localhost:8080`);
  }
  return list;
}

function origins(text: string): string[] | '*' {
  if (text.trim() === '*') return '*';
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const origin of list) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) throw new ConfigError(`CORS_ALLOWED_ORIGINS: '${origin}' is not an origin like https://viewer.example.org`);
  }
  return list;
}

function readConfigFile(path: string): Source {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`CONFIG_FILE ${path} cannot be read as JSON: ${(error as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`CONFIG_FILE ${path} must hold a JSON object`);
  const known = new Set<string>(SETTINGS.map(([name]) => name));
  const out: Source = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!known.has(key)) throw new ConfigError(`CONFIG_FILE ${path}: unknown setting ${key}`);
    out[key] = String(value);
  }
  return out;
}
