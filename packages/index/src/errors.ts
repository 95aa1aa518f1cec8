/** The index cannot be reached or did not answer in time (the server answers 503). */
export class IndexUnavailableError extends Error {
  override readonly name = 'IndexUnavailableError';
  readonly code = 'INDEX_UNAVAILABLE';

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

  constructor(readonly dataDir: string, options?: { cause?: unknown }) {
    super(`the disk holding the index directory ${dataDir} is full (no space left on device): free space there or set DATA_DIR elsewhere`, options);
  }
}
