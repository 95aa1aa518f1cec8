import type { Readable } from 'node:stream';
import { PassThrough } from 'node:stream';
import { DicomParseError } from './errors.js';
import type { ByteSource } from './read-part10.js';

/** A ByteSource whose reads and streams are ranged reads of a stored object (blob store). */
export function rangedByteSource(size: number, open: (start: number, end: number) => Promise<Readable>): ByteSource {
  return {
    size,
    async read(offset, length) {
      const end = Math.min(size, offset + length);
      if (end <= offset) return Buffer.alloc(0);
      const chunks: Buffer[] = [];
      for await (const chunk of await open(offset, end - 1)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
    stream(offset) {
      const out = new PassThrough();
      if (offset >= size) {
        out.end();
        return out;
      }
      open(offset, size - 1).then(
        (input) => {
          input.on('error', (error) => out.destroy(error));
          out.on('close', () => input.destroy());
          input.pipe(out);
        },
        (error: Error) => out.destroy(error),
      );
      return out;
    },
    async *range(offset, length) {
      if (length <= 0) return;
      if (offset + length > size) throw new DicomParseError(`data ends at byte ${size}, before byte ${offset + length}`);
      let received = 0;
      for await (const chunk of await open(offset, offset + length - 1)) {
        received += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      if (received !== length) throw new DicomParseError(`data ends at byte ${offset + received}, before byte ${offset + length}`);
    },
  };
}
