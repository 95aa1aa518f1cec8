import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** An upload part written to local disk: bounded memory whatever its size. */
export interface SpooledPart {
  path: string;
  size: number;
  sha256: string;
}

export class PartTooLargeError extends Error {
  override readonly name = 'PartTooLargeError';
  constructor(readonly limit: number) {
    super(`a part is larger than the limit of ${limit} bytes`);
  }
}

/**
 * Streams one part to a file in `dir`, computing its SHA-256 and size on the way. Fails with
 * PartTooLargeError as soon as more than `maxBytes` arrive; the partial file is removed.
 */
export async function spoolPart(part: Readable, dir: string, maxBytes: number): Promise<SpooledPart> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${randomUUID()}.part`);
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > maxBytes) return callback(new PartTooLargeError(maxBytes));
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(part, meter, createWriteStream(path));
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
  return { path, size, sha256: hash.digest('hex') };
}
