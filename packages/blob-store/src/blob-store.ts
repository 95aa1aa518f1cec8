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
export interface PutFileOptions {
  /**
   * The file's content is already on stable storage (fsynced by the caller, who wrote it and counted
   * its bytes): the store trusts `size` rather than reading it back.
   */
  synced?: boolean;
}

export interface BlobStore {
  /** A short description for logs and readiness output, e.g. `filesystem:/data/blobs`. */
  readonly description: string;
  /**
   * Stores `body` (exactly `size` bytes) under `key`, replacing any object there. A body of any other
   * length is refused with BlobSizeMismatchError and nothing is stored.
   */
  put(key: string, body: Readable | Buffer, size: number): Promise<void>;
  /**
   * Stores the content of a local file of exactly `size` bytes (refused with BlobSizeMismatchError
   * otherwise, unless `synced`). The store takes ownership of the file:
   * once this resolves it no longer exists at `path` (it was moved or uploaded and removed). If this
   * rejects, the file is left for the caller to remove.
   */
  putFile(key: string, path: string, size: number, options?: PutFileOptions): Promise<void>;
  /**
   * True when putFile moves the file itself into the store (filesystem): a caller that writes the
   * file should then fsync it on its own open handle and pass `synced`, which saves the store a
   * reopen. False when putFile copies or uploads the content, so the caller's fsync would be wasted.
   */
  readonly movesFiles: boolean;
  /**
   * Makes the names of objects just written by putFile durable (the filesystem store fsyncs their
   * directories once for all of them; S3 has nothing to do). A caller that records keys elsewhere
   * (the index) calls this first, so that a crash cannot leave a record of a vanished object.
   */
  syncKeys(keys: readonly string[]): Promise<void>;
  /**
   * Streams the object, or one byte range of it. Throws BlobNotFoundError if absent. The caller must
   * consume or destroy the stream, or it holds a file handle or connection open.
   */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /**
   * Reads one byte range of the object into `target` from `offset`, and resolves to the number of
   * bytes read: fewer than asked only when the object ends first. For small reads answered whole
   * (one Buffer with its Content-Length): no stream, and on the filesystem one positional read into
   * the caller's buffer. Throws BlobNotFoundError if absent, RangeError if `target` is too short.
   */
  readInto(key: string, range: ByteRange, target: Uint8Array, offset?: number): Promise<number>;
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
