import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { BlobInfo, BlobStore, ByteRange } from '../blob-store.js';
import { assertFits, assertValidRange } from '../byte-range.js';
import { BlobNotFoundError, BlobStoreUnavailableError } from '../errors.js';
import { exactSize, readExactly } from '../exact-size.js';
import { assertValidKey, assertValidPrefix } from '../keys.js';
import { Slots } from './slots.js';

export interface S3BlobStoreOptions {
  /** Endpoint URL of an S3-compatible server (MinIO, s3rver, …); omit for AWS. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Prepended to every key, so that several deployments can share a bucket. A `/` is appended if missing. */
  prefix?: string;
  /** Both or neither; without them the SDK's default credential chain applies. */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** `bucket` in the path instead of the host name: required by MinIO and s3rver. */
  forcePathStyle?: boolean;
  /**
   * Longest wait for a response, and longest silence on a connection. Past it the request fails
   * (after the SDK's retries) with BlobStoreUnavailableError instead of hanging. Default 30 s.
   */
  requestTimeoutMs?: number;
  /** Part size of multipart uploads; at least 5 MiB. Default 8 MiB. */
  partSizeBytes?: number;
}

const MiB = 1024 * 1024;
/**
 * Bodies below this are read into memory and sent with one PutObject: a buffer lets the SDK retry,
 * which a half-consumed stream does not. Larger ones go through multipart upload, part by part.
 */
const SINGLE_PUT_LIMIT = 16 * MiB;
const DEFAULT_PART_SIZE = 8 * MiB;
/** Parts in flight per upload; memory per large upload is about this times the part size. */
const UPLOAD_QUEUE_SIZE = 4;
/**
 * Multipart uploads in progress at once per store. Each holds up to UPLOAD_QUEUE_SIZE parts being
 * sent and one being filled, so uploads of large objects hold at most 2 × 5 × 8 MiB = 80 MiB however
 * many callers write at once (STOW writes four blobs of a chunk concurrently: 160 MiB before).
 * Objects below SINGLE_PUT_LIMIT are one PutObject each and are not counted here.
 */
const MAX_MULTIPART_UPLOADS = 2;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export type Sdk = typeof import('@aws-sdk/client-s3') & { Upload: typeof import('@aws-sdk/lib-storage').Upload };
let sdkLoading: Promise<Sdk> | undefined;

/**
 * The AWS SDK, loaded on first use: a server that keeps its blobs on the file system does not carry
 * it (≈ 20 MB resident, measured in docs/benchmarks.md).
 */
export function loadSdk(): Promise<Sdk> {
  sdkLoading ??= Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]).then(([s3, storage]) => ({ ...s3, Upload: storage.Upload }));
  return sdkLoading;
}

/** Stores objects in one S3 bucket, under an optional key prefix. */
export class S3BlobStore implements BlobStore {
  readonly description: string;
  /** The SDK and a client, once the SDK is loaded. */
  readonly #s3: Promise<{ sdk: Sdk; client: S3Client }>;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #partSize: number;
  readonly #multipartUploads = new Slots(MAX_MULTIPART_UPLOADS);

  constructor(options: S3BlobStoreOptions) {
    this.#s3 = loadSdk().then((sdk) => ({ sdk, client: createS3Client(sdk, options) }));
    // A failed load is reported by the first call that needs the SDK, not as an unhandled rejection.
    this.#s3.catch(() => {});
    this.#bucket = options.bucket;
    this.#prefix = normalizePrefix(options.prefix);
    this.#partSize = options.partSizeBytes ?? DEFAULT_PART_SIZE;
    this.description = `s3:${options.endpoint ?? options.region}/${this.#bucket}/${this.#prefix}`;
  }

  async put(key: string, body: Readable | Buffer, size: number): Promise<void> {
    const objectKey = this.#objectKey(key);
    const source = Buffer.isBuffer(body) ? [body] : body;
    try {
      if (size < SINGLE_PUT_LIMIT) {
        const data = await readExactly(key, size, source);
        const { sdk, client } = await this.#s3;
        await client.send(new sdk.PutObjectCommand({ Bucket: this.#bucket, Key: objectKey, Body: data, ContentLength: size }));
      } else {
        await this.#multipartUploads.run(() => this.#uploadInParts(objectKey, exactSize(key, size, source)));
      }
    } catch (error) {
      throw toStoreError(error);
    }
  }

  readonly movesFiles = false;

  async syncKeys(): Promise<void> {
    // A completed PutObject / CompleteMultipartUpload is durable: nothing to do.
  }

  async putFile(key: string, path: string, size: number): Promise<void> {
    await this.put(key, createReadStream(path), size);
    await rm(path, { force: true });
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const objectKey = this.#objectKey(key);
    if (range) assertValidRange(range);
    try {
      const { sdk, client } = await this.#s3;
      const { Body, ContentRange } = await client.send(
        new sdk.GetObjectCommand({
          Bucket: this.#bucket,
          Key: objectKey,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      // In Node the SDK's body is an http.IncomingMessage; anything else means a foreign runtime.
      if (!(Body instanceof Readable)) throw new TypeError('S3 GetObject returned a non-stream body');
      const body = translateBodyErrors(Body, key);
      return range ? trimToRange(body, range, ContentRange) : body;
    } catch (error) {
      throw toStoreError(error, key);
    }
  }

  async readInto(key: string, range: ByteRange, target: Uint8Array, offset = 0): Promise<number> {
    assertFits(range, target, offset);
    const length = range.end - range.start + 1;
    let done = 0;
    // Through get(): the same ranged GET, trimmed to the range and with its errors translated.
    for await (const chunk of await this.get(key, range)) {
      const bytes = chunk as Buffer;
      bytes.copy(target, offset + done, 0, Math.min(bytes.length, length - done));
      done += Math.min(bytes.length, length - done);
    }
    return done;
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    const objectKey = this.#objectKey(key);
    try {
      const { sdk, client } = await this.#s3;
      const response = await client.send(new sdk.HeadObjectCommand({ Bucket: this.#bucket, Key: objectKey }));
      return { key, size: response.ContentLength ?? 0, lastModified: response.LastModified };
    } catch (error) {
      const translated = toStoreError(error, key);
      if (translated instanceof BlobNotFoundError) return undefined;
      throw translated;
    }
  }

  async delete(key: string): Promise<void> {
    const objectKey = this.#objectKey(key);
    try {
      // S3 answers 204 whether or not the object existed.
      const { sdk, client } = await this.#s3;
      await client.send(new sdk.DeleteObjectCommand({ Bucket: this.#bucket, Key: objectKey }));
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    assertValidPrefix(prefix);
    let continuationToken: string | undefined;
    const { sdk, client } = await this.#s3.catch((error: unknown) => {
      throw toStoreError(error);
    });
    do {
      const page = await client
        .send(
          new sdk.ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: this.#prefix + prefix,
            ContinuationToken: continuationToken,
          }),
        )
        .catch((error: unknown) => {
          throw toStoreError(error);
        });
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        yield {
          key: object.Key.slice(this.#prefix.length),
          size: object.Size ?? 0,
          lastModified: object.LastModified,
        };
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
  }

  async check(): Promise<void> {
    try {
      const { sdk, client } = await this.#s3;
      await client.send(new sdk.HeadBucketCommand({ Bucket: this.#bucket }));
    } catch (error) {
      throw new BlobStoreUnavailableError(`S3 bucket ${this.#bucket} is not usable: ${describe(error)}`, {
        cause: error,
      });
    }
  }

  async close(): Promise<void> {
    const loaded = await this.#s3.catch(() => undefined);
    loaded?.client.destroy();
  }

  /**
   * Multipart upload keeps memory bounded (UPLOAD_QUEUE_SIZE parts) whatever the body size, and
   * needs no Content-Length up front. A failed upload is aborted so that its parts stop costing storage;
   * if even the abort fails, the bucket's AbortIncompleteMultipartUpload lifecycle rule is the backstop.
   */
  async #uploadInParts(objectKey: string, content: AsyncIterable<Buffer>): Promise<void> {
    // When the abort fails, lib-storage throws the abort's error instead of the one that caused it.
    // Remember the body's own failure (too short, the caller's stream broke) so that it is reported.
    let bodyError: unknown;
    const body = Readable.from(
      (async function* () {
        try {
          yield* content;
        } catch (error) {
          bodyError = error;
          throw error;
        }
      })(),
      { objectMode: false },
    );
    const { sdk, client } = await this.#s3;
    const upload = new sdk.Upload({
      client,
      params: { Bucket: this.#bucket, Key: objectKey, Body: body },
      partSize: this.#partSize,
      queueSize: UPLOAD_QUEUE_SIZE,
    });
    try {
      await upload.done();
    } catch (error) {
      throw bodyError ?? error;
    } finally {
      // If S3 failed first, stop reading the caller's stream rather than leave it paused forever.
      body.destroy();
    }
  }

  #objectKey(key: string): string {
    assertValidKey(key);
    return this.#prefix + key;
  }
}

/**
 * Returns exactly the requested bytes. S3 honours Range, but HTTP allows a server to ignore it and send
 * the whole object (200, no Content-Range), and s3rver 4 answers `bytes=0-0` with the whole object.
 * Passing such a body on would hand WADO-RS a wrong frame; cutting it out of the body stays correct.
 */
/**
 * The body stream with its errors translated as those of `send` are: a body that stalls or breaks
 * after the response headers (a socket timeout, a reset) fails with BlobStoreUnavailableError (503),
 * not a raw SDK error (500). Destroying the returned stream destroys the body (frees the connection).
 */
function translateBodyErrors(body: Readable, key: string): Readable {
  const out = new PassThrough();
  body.on('error', (error) => out.destroy(toStoreError(error, key) as Error));
  out.on('close', () => {
    if (!body.destroyed) body.destroy();
  });
  body.pipe(out);
  return out;
}

function trimToRange(body: Readable, range: ByteRange, contentRange: string | undefined): Readable {
  const served = /^bytes (\d+)-(\d+)\//.exec(contentRange ?? '');
  const servedStart = served ? Number(served[1]) : 0;
  const servedEnd = served ? Number(served[2]) : Number.POSITIVE_INFINITY;
  if (servedStart === range.start && servedEnd <= range.end) return body;
  if (servedStart > range.start) {
    body.destroy();
    throw new Error(`S3 served bytes from ${servedStart} for a range starting at ${range.start}`);
  }
  const length = range.end - range.start + 1;
  return Readable.from(slice(body, range.start - servedStart, length), { objectMode: false });
}

/** Skips `skip` bytes of `source`, then yields at most `length` bytes and stops reading. */
async function* slice(source: AsyncIterable<Buffer>, skip: number, length: number): AsyncGenerator<Buffer> {
  let toSkip = skip;
  let remaining = length;
  for await (const chunk of source) {
    const part = chunk.subarray(toSkip, toSkip + remaining);
    toSkip = Math.max(0, toSkip - chunk.length);
    remaining -= part.length;
    if (part.length > 0) yield part;
    if (remaining === 0) return;
  }
}

export function createS3Client(sdk: Sdk, options: S3BlobStoreOptions): S3Client {
  const timeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const { accessKeyId, secretAccessKey } = options;
  return new sdk.S3Client({
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    // The defaults send aws-chunked bodies with a CRC trailer, which S3-compatible servers reject or
    // store verbatim. Checksums only where S3 demands them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: timeout,
      requestTimeout: timeout,
      // Without this a breached requestTimeout only logs a warning and the request hangs on.
      throwOnRequestTimeout: true,
      // Covers a response body that stalls after the headers arrived.
      socketTimeout: timeout,
    },
  });
}

function normalizePrefix(prefix: string | undefined): string {
  if (prefix === undefined || prefix === '') return '';
  const normalized = prefix.endsWith('/') ? prefix : `${prefix}/`;
  assertValidPrefix(normalized);
  return normalized;
}

/** Errors raised below HTTP: the request never got an answer. */
const TRANSPORT_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** S3 errors that mean "try again later" although their status is not 5xx. */
const UNAVAILABLE_ERROR_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'SlowDown', 'NoSuchBucket']);

/**
 * Translates an SDK failure into our errors. `key` is given by reads, where a 404 means "no such object".
 * Anything unrecognised (our own errors, the caller's stream failing, a bug) passes through unchanged.
 */
export function toStoreError(error: unknown, key?: string): unknown {
  if (!(error instanceof Error)) return error;
  const status = statusOf(error);
  if (UNAVAILABLE_ERROR_NAMES.has(error.name) || isTransportError(error)) return unavailable(error);
  if (key !== undefined && (error.name === 'NoSuchKey' || error.name === 'NotFound' || status === 404)) {
    return new BlobNotFoundError(key);
  }
  // 401/403: the store is unusable as configured. For our client that is an outage like any other.
  if (status !== undefined && (status >= 500 || status === 401 || status === 403)) return unavailable(error);
  return error;
}

function unavailable(error: Error): BlobStoreUnavailableError {
  return new BlobStoreUnavailableError(`S3 request failed: ${describe(error)}`, { cause: error });
}

function isTransportError(error: Error): boolean {
  const { code, errors } = error as NodeJS.ErrnoException & { errors?: unknown[] };
  if (code !== undefined && TRANSPORT_ERROR_CODES.has(code)) return true;
  // Node's happy-eyeballs connect reports an AggregateError of per-address failures.
  return Array.isArray(errors) && errors.some((inner) => inner instanceof Error && isTransportError(inner));
}

/** The HTTP status of an S3 service error (the SDK's errors carry `$metadata`). */
export function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return [error.name, code, error.message].filter(Boolean).join(': ');
}
