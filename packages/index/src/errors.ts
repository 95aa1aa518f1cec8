/** The index cannot be reached or did not answer in time (the server answers 503). */
export class IndexUnavailableError extends Error {
  override readonly name = 'IndexUnavailableError';
  readonly code = 'INDEX_UNAVAILABLE';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The database stopped answering while a COMMIT was under way: the transaction may or may not have
 * committed. Nothing that a committed row could reference may be removed (the orphan sweep, which
 * checks the index, decides later), and the client is told the outcome is unknown (503): re-sending
 * the same instances is safe, since identical instances are a success that changes nothing.
 */
export class IndexOutcomeUnknownError extends Error {
  override readonly name = 'IndexOutcomeUnknownError';
  readonly code = 'INDEX_OUTCOME_UNKNOWN';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The embedded index cannot start because the disk holding it is full. PGlite reports this as an
 * Emscripten `ErrnoError` with errno 51 (its ENOSPC) and no message; this says what is full.
 */
export class IndexStorageFullError extends Error {
  override readonly name = 'IndexStorageFullError';
  readonly code = 'INDEX_STORAGE_FULL';

  constructor(
    readonly dataDir: string,
    options?: { cause?: unknown },
  ) {
    super(`the disk holding the index directory ${dataDir} is full (no space left on device): free space there or set DATA_DIR elsewhere`, options);
  }
}
