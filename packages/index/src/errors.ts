/** The index cannot be reached or did not answer in time (the server answers 503). */
export class IndexUnavailableError extends Error {
  override readonly name = 'IndexUnavailableError';
  readonly code = 'INDEX_UNAVAILABLE';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
