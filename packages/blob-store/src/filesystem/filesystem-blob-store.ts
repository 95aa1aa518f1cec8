import { randomUUID } from 'node:crypto';
import { close as closeFd, createReadStream, createWriteStream, open as openFd, read as readFd } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import type { BlobInfo, BlobStore, ByteRange, PutFileOptions } from '../blob-store.js';
import { assertFits, assertValidRange } from '../byte-range.js';
import { BlobKeyError, BlobNotFoundError, BlobSizeMismatchError, BlobStoreFullError, BlobStoreUnavailableError } from '../errors.js';
import { exactSize } from '../exact-size.js';
import { FileRangeStream } from './file-range-stream.js';
import { assertValidKey, assertValidPrefix } from '../keys.js';

export interface FilesystemBlobStoreOptions {
  /** Directory holding the objects, one file per key. Created if missing. */
  root: string;
}

/**
 * Where partial writes live until they are complete. Inside the root so that the final `rename` stays
 * on one file system and is atomic; reserved, so no key may start with it.
 */
const TEMP_DIR = '.tmp';

/**
 * Stores each object as a file at `<root>/<key>`. Every write goes to a temporary file, is fsynced and
 * then renamed into place, so readers and crashes never see a partial object.
 */
export class FilesystemBlobStore implements BlobStore {
  readonly description: string;
  readonly #root: string;
  readonly #tempDir: string;
  #tempDirCreated: Promise<void> | undefined;

  constructor(options: FilesystemBlobStoreOptions) {
    this.#root = resolve(options.root);
    this.#tempDir = join(this.#root, TEMP_DIR);
    this.description = `filesystem:${this.#root}`;
    // Start now so that a new root exists as soon as the server does; a failure here is reported
    // (and retried) by the first write or check().
    this.#ensureTempDir().catch(() => {});
  }

  async put(key: string, body: Readable | Buffer, size: number): Promise<void> {
    const path = this.#pathOf(key);
    const temp = await this.#newTempPath();
    // `flush` fsyncs before close, and pipeline waits for close: the bytes are on disk before rename.
    const file = createWriteStream(temp, { flush: true });
    try {
      await pipeline(exactSize(key, size, Buffer.isBuffer(body) ? [body] : body), file);
      await this.#moveIntoPlace(temp, path);
    } catch (error) {
      // A source that fails at once can reject the pipeline while the file is still being opened:
      // wait for the file to close, or the removal below runs first and the file appears after it.
      await finished(file).catch(() => {});
      await rm(temp, { force: true });
      throw toStoreError(error);
    }
  }

  readonly movesFiles = true;

  async putFile(key: string, path: string, size: number, options: PutFileOptions = {}): Promise<void> {
    const target = this.#pathOf(key);
    try {
      // A file the caller synced, it also wrote and counted: its size is not read back (a `stat` per
      // instance in STOW's profile). Otherwise the size is checked on the handle that syncs it.
      if (!options.synced)
        await fsync(path, (actualSize) => {
          if (actualSize !== size) throw new BlobSizeMismatchError(key, size, actualSize);
        });
      await this.#moveIntoPlace(path, target);
    } catch (error) {
      if (!hasCode(error, 'EXDEV')) throw toStoreError(error);
      // Another file system: rename cannot work, so copy with the same guarantees as put().
      await this.put(key, createReadStream(path), size);
      await rm(path, { force: true });
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const path = this.#pathOf(key);
    if (range) assertValidRange(range);
    // Open before returning the stream so that absence is reported by this promise, not mid-stream.
    const handle = await open(path, 'r').catch((error: unknown) => {
      throw isAbsent(error) ? new BlobNotFoundError(key) : toStoreError(error);
    });
    const readError = (error: unknown) => (hasCode(error, 'EISDIR') ? new BlobNotFoundError(key) : toStoreError(error)) as Error;
    if (range) return new FileRangeStream(handle, range.start, range.end - range.start + 1, readError);
    // The whole object: its size decides where the stream ends; a key naming a directory is absent.
    const stats = await handle.stat().catch(() => undefined);
    if (!stats?.isFile()) {
      await handle.close();
      throw new BlobNotFoundError(key);
    }
    return new FileRangeStream(handle, 0, stats.size, readError);
  }

  async readInto(key: string, range: ByteRange, target: Uint8Array, offset = 0): Promise<number> {
    const path = this.#pathOf(key);
    assertFits(range, target, offset);
    const fd = await openPath(path, 'r').catch((error: unknown) => {
      throw isAbsent(error) ? new BlobNotFoundError(key) : toStoreError(error);
    });
    const length = range.end - range.start + 1;
    let done = 0;
    try {
      // One read for anything up to the kernel's per-call limit; a short read means the file ends.
      while (done < length) {
        const { bytesRead } = await readAt(fd, target, offset + done, length - done, range.start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
    } catch (error) {
      throw hasCode(error, 'EISDIR') ? new BlobNotFoundError(key) : toStoreError(error);
    } finally {
      // Closed, not awaited: the bytes are read, a failing close could not change them, and the
      // answer need not wait for one more round trip through the thread pool (open, read and close
      // are one each; the streamed path answered after two, before its close).
      closeFd(fd, () => {});
    }
    return done;
  }

  async head(key: string): Promise<BlobInfo | undefined> {
    const path = this.#pathOf(key);
    try {
      const stats = await stat(path);
      return stats.isFile() ? { key, size: stats.size, lastModified: stats.mtime } : undefined;
    } catch (error) {
      if (isAbsent(error)) return undefined;
      throw toStoreError(error);
    }
  }

  async delete(key: string): Promise<void> {
    const path = this.#pathOf(key);
    try {
      await unlink(path);
    } catch (error) {
      // EISDIR: the key only names a directory of other keys, so there is no object to remove.
      if (isAbsent(error) || hasCode(error, 'EISDIR')) return;
      throw toStoreError(error);
    }
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    assertValidPrefix(prefix);
    // Only the directory holding the prefix's last segment can contain matches.
    const directoryKey = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    yield* this.#walk(directoryKey, prefix);
  }

  async check(): Promise<void> {
    const probe = join(this.#tempDir, `check-${randomUUID()}`);
    try {
      await this.#ensureTempDir();
      await writeFile(probe, '');
      await rm(probe);
    } catch (error) {
      throw new BlobStoreUnavailableError(`blob store root ${this.#root} is not writable`, { cause: error });
    }
  }

  async close(): Promise<void> {}

  /** Yields the files under `directoryKey` (`''` or ending in `/`) whose keys start with `prefix`. */
  async *#walk(directoryKey: string, prefix: string): AsyncGenerator<BlobInfo> {
    let entries;
    try {
      entries = await readdir(join(this.#root, directoryKey), { withFileTypes: true });
    } catch (error) {
      if (isAbsent(error)) return;
      throw toStoreError(error);
    }
    for (const entry of entries) {
      const key = directoryKey + entry.name;
      if (key === TEMP_DIR) continue;
      if (entry.isDirectory()) {
        if (`${key}/`.startsWith(prefix)) yield* this.#walk(`${key}/`, prefix);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const stats = await stat(join(this.#root, key)).catch((error: unknown) => {
          if (isAbsent(error)) return undefined; // deleted since readdir
          throw toStoreError(error);
        });
        if (stats) yield { key, size: stats.size, lastModified: stats.mtime };
      }
    }
  }

  #pathOf(key: string): string {
    assertValidKey(key);
    if (key === TEMP_DIR || key.startsWith(`${TEMP_DIR}/`)) {
      throw new BlobKeyError(key, `"${TEMP_DIR}" is reserved by the filesystem store`);
    }
    return join(this.#root, key);
  }

  async #newTempPath(): Promise<string> {
    await this.#ensureTempDir();
    return join(this.#tempDir, randomUUID());
  }

  /** Creates the root and temp directory once; forgets a failure so that the next call retries. */
  #ensureTempDir(): Promise<void> {
    this.#tempDirCreated ??= mkdir(this.#tempDir, { recursive: true }).then(
      () => undefined,
      (error: unknown) => {
        this.#tempDirCreated = undefined;
        throw toStoreError(error);
      },
    );
    return this.#tempDirCreated;
  }

  async syncKeys(keys: readonly string[]): Promise<void> {
    const directories = new Set(keys.map((key) => dirname(this.#pathOf(key))));
    for (const directory of directories) await fsync(directory);
  }

  /**
   * Renames into place; the directory is created only when the rename finds it missing. A directory
   * created here is a name in its parent, as the file is a name in its directory: the parents of
   * the new directories are fsynced (the file's own directory is `syncKeys`' work), or a power loss
   * could take a new study's or series' directory, and the acknowledged blobs in it, away.
   */
  async #moveIntoPlace(from: string, to: string): Promise<void> {
    try {
      await rename(from, to);
    } catch (error) {
      if (!hasCode(error, 'ENOENT')) throw error;
      const directory = dirname(to);
      const topCreated = await mkdir(directory, { recursive: true });
      await rename(from, to);
      if (topCreated !== undefined) for (let d = directory; d !== dirname(topCreated) && d !== dirname(d); d = dirname(d)) await fsync(dirname(d));
    }
  }
}

/**
 * Makes a file's content durable before it is renamed into place, so a crash cannot leave it empty;
 * on a directory, makes the names it holds durable.
 */
async function fsync(path: string, checkSize?: (size: number) => void): Promise<void> {
  const handle = await open(path, 'r');
  try {
    if (checkSize) checkSize((await handle.stat()).size);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** ENOTDIR: a parent segment of the key is a file, so nothing can be stored below it. */
function isAbsent(error: unknown): boolean {
  return hasCode(error, 'ENOENT') || hasCode(error, 'ENOTDIR');
}

function hasCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/** File-system conditions that say "the disk cannot be used", not "this request is wrong". */
const UNAVAILABLE_CODES = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'EIO', 'EMFILE', 'ENFILE']);

function toStoreError(error: unknown): unknown {
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new BlobStoreFullError(`blob store file system is full: ${(error as Error).message}`, { cause: error });
  }
  if (code !== undefined && UNAVAILABLE_CODES.has(code)) {
    return new BlobStoreUnavailableError(`blob store file system error: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return error;
}

/*
 * The whole read of a retrieval (open, one positional read, close) through fs's callback functions,
 * not fs/promises: a FileHandle is an object with a finaliser and every call on it a promise of its
 * own, which cost the server about 5 % of its CPU per 0.5 MB retrieval (perf, docs/benchmarks.md).
 */
const openPath = promisify(openFd);
const readAt = promisify(readFd);
