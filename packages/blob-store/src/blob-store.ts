import type { Readable } from 'node:stream';

/** An inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  /** Inclusive end offset. */
  end: number;
}

export interface BlobInfo {
  key: string;
  size: number;
  lastModified?: Date;
}

/**
 * Where instance bytes (and derived objects such as thumbnails) live.
 *
 * Keys are `/`-separated relative paths made only of `[A-Za-z0-9._-]` segments
 * (never `..`, never a leading `/`); backends reject anything else with BlobKeyError.
 * Writes are atomic: a reader sees either nothing or the whole object, never a part.
 */
export interface BlobStore {
  /** A short description for logs and readiness output, e.g. `filesystem:/data/blobs`. */
  readonly description: string;
  /**
   * Stores `body` (exactly `size` bytes) under `key`, replacing any object there. A body of any other
   * length is refused with BlobSizeMismatchError and nothing is stored.
   */
  put(key: string, body: Readable | Buffer, size: number): Promise<void>;
  /**
   * Stores the content of a local file of exactly `size` bytes. The store takes ownership of the file:
   * once this resolves it no longer exists at `path` (it was moved or uploaded and removed). If this
   * rejects, the file is left for the caller to remove.
   */
  putFile(key: string, path: string, size: number): Promise<void>;
  /**
   * Streams the object, or one byte range of it. Throws BlobNotFoundError if absent. The caller must
   * consume or destroy the stream, or it holds a file handle or connection open.
   */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** Object size, or undefined if absent. */
  head(key: string): Promise<BlobInfo | undefined>;
  /** Removes the object; removing an absent key is not an error. */
  delete(key: string): Promise<void>;
  /** Every object whose key starts with `prefix`, in no particular order. */
  list(prefix: string): AsyncIterable<BlobInfo>;
  /** Throws BlobStoreUnavailableError if the store cannot be used (for `/readyz`). */
  check(): Promise<void>;
  close(): Promise<void>;
}
