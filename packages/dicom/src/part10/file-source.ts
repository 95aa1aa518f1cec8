import { createReadStream } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ByteSource } from './read-part10.js';

/** A ByteSource over a local file (a spooled upload or a filesystem blob). */
export async function fileByteSource(path: string): Promise<ByteSource & { close(): Promise<void> }> {
  const { size } = await stat(path);
  const handle = await open(path, 'r');
  return {
    size,
    async read(offset, length) {
      const buffer = Buffer.allocUnsafe(Math.max(0, Math.min(length, size - offset)));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
      return buffer.subarray(0, bytesRead);
    },
    stream: (offset) => createReadStream(path, { start: offset }),
    close: () => handle.close(),
  };
}

/** A ByteSource over bytes already in memory (small objects, tests). */
export function bufferByteSource(buffer: Buffer): ByteSource {
  return {
    size: buffer.length,
    read: async (offset, length) => buffer.subarray(offset, offset + length),
    stream: (offset) => Readable.from([buffer.subarray(offset)]),
  };
}

/**
 * A ByteSource over a local file whose first bytes are also in memory, as the chunks they arrived
 * in (a spooled upload keeps the start of each part): a read inside one chunk is a view of it, a
 * read across chunks copies just that range, and the file is opened only on the first read beyond
 * them. A part no longer than its head is never reopened. Views rather than one contiguous copy:
 * on the benchmark machine, filling a fresh 512 KiB buffer costs more than hashing it.
 */
export function headedFileByteSource(path: string, size: number, head: readonly Buffer[]): ByteSource & { close(): Promise<void> } {
  const starts: number[] = [];
  let headLength = 0;
  for (const chunk of head) {
    starts.push(headLength);
    headLength += chunk.length;
  }
  let handle: Promise<FileHandle> | undefined;
  const fromHead = (offset: number, end: number): Buffer => {
    // The last chunk starting at or before `offset` (binary search over the chunk starts).
    let lo = 0;
    let hi = head.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    const first = head[lo]!;
    const firstStart = starts[lo]!;
    if (end <= firstStart + first.length) return first.subarray(offset - firstStart, end - firstStart);
    const out = Buffer.allocUnsafe(end - offset);
    let written = 0;
    for (let i = lo; written < out.length; i++) {
      const chunk = head[i]!;
      const from = Math.max(0, offset - starts[i]!);
      written += chunk.copy(out, written, from, Math.min(chunk.length, from + out.length - written));
    }
    return out;
  };
  return {
    size,
    async read(offset, length) {
      const end = Math.min(size, offset + length);
      if (end <= offset) return Buffer.alloc(0);
      if (end <= headLength) return fromHead(offset, end);
      handle ??= open(path, 'r');
      const buffer = Buffer.allocUnsafe(end - offset);
      const { bytesRead } = await (await handle).read(buffer, 0, buffer.length, offset);
      return buffer.subarray(0, bytesRead);
    },
    stream: (offset) => createReadStream(path, { start: offset }),
    close: async () => {
      if (handle) await (await handle).close();
    },
  };
}
