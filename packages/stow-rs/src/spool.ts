import { createHash, randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** An upload part written to local disk: bounded memory whatever its size. */
export interface SpooledPart {
  path: string;
  size: number;
  /** Undefined when spooled with `hash: false` (a describe pool hashes it). */
  sha256?: string;
  /** The chunks holding the part's first HEAD_BYTES (or all of it), still in memory: headers are read from here (none with `hash: false`). */
  head: Buffer[];
  /**
   * Settles once the content is on stable storage (with `sync`; at once without). The sync runs
   * while the next part arrives, so the syncs of a request overlap rather than queue behind each
   * other: on the benchmark machine one fdatasync takes longer than receiving a CT slice.
   */
  durable: Promise<void>;
}

/** Bytes of each part kept in memory after spooling: the whole of a typical CT or MR slice. */
export const HEAD_BYTES = 1 << 20;

export class PartTooLargeError extends Error {
  override readonly name = 'PartTooLargeError';
  constructor(readonly limit: number) {
    super(`a part is larger than the limit of ${limit} bytes`);
  }
}

/** The spool directory's file system has no space left (or the quota is reached). */
export class SpoolFullError extends Error {
  override readonly name = 'SpoolFullError';
  constructor(
    readonly dir: string,
    options?: { cause?: unknown },
  ) {
    super(`the upload spool ${dir} is full (no space left on device)`, options);
  }
}

const isDiskFull = (error: unknown) => ['ENOSPC', 'EDQUOT'].includes((error as { code?: string } | undefined)?.code ?? '');
const spoolFull =
  (dir: string) =>
  (error: unknown): never => {
    throw isDiskFull(error) ? new SpoolFullError(dir, { cause: error }) : error;
  };

/** Bytes gathered before one `writev`: fewer, larger writes than one per socket chunk. */
const WRITE_BATCH_BYTES = 1 << 20;

/**
 * Streams one part to a file in `dir`, computing its SHA-256 and size on the way. Fails with
 * PartTooLargeError as soon as more than `maxBytes` arrive, with SpoolFullError when the disk is
 * full; the partial file is removed.
 *
 * A plain loop over the part and a file handle rather than a stream pipeline: the benchmark's
 * profile showed the Transform + WriteStream pair costing twice the CPU of the writes themselves.
 * Memory stays bounded: at most WRITE_BATCH_BYTES wait for one write, and the loop does not pull
 * the next chunk before that write is done. With `sync` (for a blob store that moves the file into
 * place), the content is made durable by fdatasync on the still-open handle: see `durable`.
 */
export async function spoolPart(part: AsyncIterable<Buffer>, dir: string, options: { maxBytes: number; sync: boolean; hash?: boolean }): Promise<SpooledPart> {
  const { maxBytes } = options;
  const path = join(dir, `${randomUUID()}.part`);
  // Without `hash`, whoever reads the part back (a describe pool) hashes it and reads its header from the file.
  const hash = options.hash === false ? undefined : createHash('sha256');
  const headLimit = hash ? HEAD_BYTES : 0;
  let size = 0;
  // The spool directory exists after the first part: create it only when opening fails.
  const head: Buffer[] = [];
  let headBytes = 0;
  const file = await open(path, 'w')
    .catch(async (error: unknown) => {
      if ((error as { code?: string }).code !== 'ENOENT') throw error;
      await mkdir(dir, { recursive: true });
      return open(path, 'w');
    })
    .catch(spoolFull(dir));
  try {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    for await (const data of part as AsyncIterable<Uint8Array>) {
      // A view, never a copy (parsers may hand out plain Uint8Arrays).
      const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      size += chunk.length;
      if (size > maxBytes) throw new PartTooLargeError(maxBytes);
      hash?.update(chunk);
      if (headBytes < headLimit) {
        head.push(chunk);
        headBytes += chunk.length;
      }
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= WRITE_BATCH_BYTES) {
        await writeAll(file, pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
      }
    }
    if (pendingBytes) await writeAll(file, pending, pendingBytes);
  } catch (error) {
    await file.close().catch(() => {});
    await rm(path, { force: true });
    spoolFull(dir)(error);
  }
  const durable = (options.sync ? file.datasync().finally(() => file.close()) : file.close()).catch(spoolFull(dir));
  // Awaited by whoever stores the part; a part dropped before that must not raise an unhandled rejection.
  durable.catch(() => {});
  return { path, size, sha256: hash?.digest('hex'), head, durable };
}

async function writeAll(file: FileHandle, buffers: Buffer[], length: number): Promise<void> {
  const { bytesWritten } = await file.writev(buffers);
  // A short write (rare on a regular file) is finished with the remaining bytes.
  if (bytesWritten < length) await file.write(Buffer.concat(buffers).subarray(bytesWritten));
}
