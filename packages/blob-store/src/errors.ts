/*
 * The only errors a BlobStore throws on purpose. Backends translate S3 and file-system failures into
 * these at their boundary, so code above the store never inspects vendor exceptions. `code` is stable
 * and safe to expose in problem+json bodies; messages are for logs.
 */

/** The key names no object. Reads of absent keys are ordinary events (a 404), not failures. */
export class BlobNotFoundError extends Error {
  override readonly name = 'BlobNotFoundError';
  readonly code = 'BLOB_NOT_FOUND';

  constructor(readonly key: string) {
    super(`no blob stored under key "${key}"`);
  }
}

/** The key (or list prefix) could escape the store or would not map onto every backend. */
export class BlobKeyError extends Error {
  override readonly name = 'BlobKeyError';
  readonly code = 'BLOB_KEY_INVALID';

  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`invalid blob key ${JSON.stringify(key)}: ${reason}`);
  }
}

/**
 * A body did not have the size the caller announced. Usually a truncated upload: the store refuses it
 * rather than keep a silently shortened object.
 */
export class BlobSizeMismatchError extends Error {
  override readonly name = 'BlobSizeMismatchError';
  readonly code = 'BLOB_SIZE_MISMATCH';

  constructor(
    readonly key: string,
    readonly expectedSize: number,
    /** Bytes received before the store gave up; more than expected means "at least this many". */
    readonly receivedSize: number,
  ) {
    const received = receivedSize > expectedSize ? `more than ${expectedSize}` : String(receivedSize);
    super(`blob "${key}" was announced as ${expectedSize} bytes but the body had ${received}`);
  }
}

/**
 * The backend cannot be used right now: unreachable, timing out, out of space, refusing our
 * credentials. Nothing is wrong with the request itself, so the server answers 503 and callers may retry.
 */
export class BlobStoreUnavailableError extends Error {
  override readonly name = 'BlobStoreUnavailableError';
  readonly code = 'BLOB_STORE_UNAVAILABLE';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The store has no space left (a full disk or quota behind the filesystem store). Nothing is wrong
 * with the request; STOW-RS reports it per instance (FailureReason A700), anything else answers 503.
 */
export class BlobStoreFullError extends Error {
  override readonly name = 'BlobStoreFullError';
  readonly code = 'BLOB_STORE_FULL';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
