import { BlobSizeMismatchError } from './errors.js';

/**
 * Passes `source` through unchanged, but fails with BlobSizeMismatchError as soon as it yields more
 * than `size` bytes, or when it ends short. A backend puts this between the caller's body and its
 * storage so that a truncated upload fails instead of being stored as a shorter object.
 * Stopping early (throw or `return()`) also destroys a stream source.
 */
export async function* exactSize(key: string, size: number, source: AsyncIterable<Buffer> | Iterable<Buffer>): AsyncGenerator<Buffer, void, undefined> {
  let received = 0;
  for await (const chunk of source) {
    received += chunk.length;
    if (received > size) throw new BlobSizeMismatchError(key, size, received);
    yield chunk;
  }
  if (received !== size) throw new BlobSizeMismatchError(key, size, received);
}

/** Reads all of `source` into one buffer, which must be exactly `size` bytes. Only for small bodies. */
export async function readExactly(key: string, size: number, source: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of exactSize(key, size, source)) chunks.push(chunk);
  return Buffer.concat(chunks, size);
}
