import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
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
