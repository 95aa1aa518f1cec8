import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BlobStoreConfig } from '@tessera/blob-store';
import type { IndexConfig } from '@tessera/index';
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
  audit: {
    enabled: boolean;
    /** 0: events are kept forever. */
    retentionDays: number;
  };
}

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
  ['ALLOWED_HOSTS', '', 'when PUBLIC_URL is not set: comma list of Host values (host[:port]) that may shape emitted URLs, e.g. pacs.example.org,localhost:8080; any other Host is ignored and URLs use the address the connection came in on'],
  ['STOW_MAX_BODY_BYTES', String(64 * 2 ** 30), 'largest STOW-RS request body (413 above)'],
  ['STOW_MAX_PART_BYTES', String(8 * 2 ** 30), 'largest single instance in a STOW-RS request, and largest bulk data part of a metadata + bulk data request (413 above)'],
  ['STOW_MAX_HEADER_BYTES', String(64 * 2 ** 20), 'largest DICOM header (everything before Pixel Data) read into memory; also the largest metadata of a metadata + bulk data request'],
  ['STOW_DUPLICATE_POLICY', 'reject', 'reject | overwrite: a SOP Instance UID stored again with different bytes'],
  ['HTTP_IDLE_TIMEOUT_MS', '120000', 'a connection on which nothing is read or written for this long is closed, e.g. a client that stops reading a response (0: never); keep it above DATABASE_STATEMENT_TIMEOUT_MS and S3_REQUEST_TIMEOUT_MS'],
  ['HTTP_BODY_TIMEOUT_MS', '60000', 'a STOW-RS body that delivers fewer than HTTP_BODY_MIN_BYTES in this time while the server waits for it is abandoned (408), e.g. a stalled or trickling upload (0: never)'],
  ['HTTP_BODY_MIN_BYTES', '65536', 'see HTTP_BODY_TIMEOUT_MS (the default asks about 1 KiB/s)'],
  ['QIDO_MAX_LIMIT', '1000', 'most results one QIDO-RS search returns; a larger limit is clamped, the rest announced in a Warning header'],
  ['INLINE_BINARY_MAX_BYTES', '1024', 'binary values up to this size are inline in metadata, larger ones are BulkDataURIs'],
  ['CORS_ALLOWED_ORIGINS', '*', 'origins allowed to call the server from a browser: * or a comma list (https://viewer.example.org,…); empty disables CORS'],
  ['VIEWER_DIR', '', 'directory of a prebuilt OHIF v3 dist to host at / and /viewer (default: the pinned @ohif/app installed by pnpm install)'],
  ['AUDIT_RETENTION_DAYS', '2190', 'audit events older than this many days are deleted (at start, then daily); 2190 ≈ 6 years; 0 keeps them forever (docs/security.md)'],
  ['AUDIT_ENABLED', 'true', 'false records no audit events: only to measure the recorder\'s cost; an archive of patient data keeps it on'],
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

  return {
    host: raw('HOST'),
    port: int('PORT', 0, 65535),
    workers,
    dataDir,
    publicUrl: url('PUBLIC_URL', ['http:', 'https:']),
    trustProxy: bool('TRUST_PROXY'),
    allowedHosts: hosts(raw('ALLOWED_HOSTS')),
    logLevel: oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
    index: databaseUrl
      ? { kind: 'postgres', url: databaseUrl, poolSize: int('DATABASE_POOL_SIZE', 1, 1000), statementTimeoutMs: int('DATABASE_STATEMENT_TIMEOUT_MS', 100), preparedStatements: bool('DATABASE_PREPARED_STATEMENTS') }
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
    corsAllowedOrigins: origins(env.CORS_ALLOWED_ORIGINS ?? fileValues.CORS_ALLOWED_ORIGINS ?? '*'),
  };
}

function hosts(text: string): string[] {
  const list = text.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  for (const host of list) {
    if (!isHost(host)) throw new ConfigError(`ALLOWED_HOSTS: '${host}' is not a host[:port] like pacs.example.org or localhost:8080`);
  }
  return list;
}

function origins(text: string): string[] | '*' {
  if (text.trim() === '*') return '*';
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
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
