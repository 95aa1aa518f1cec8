import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

export interface MultipartBody {
  contentType: string;
  body: Readable;
}

/**
 * A multipart/related body of application/dicom parts, streamed part after part (digest NEG-9).
 * `quoted` chooses between `boundary="…"` and `boundary=…`.
 */
export function multipartRelated(parts: (Buffer | (() => Readable))[], options: { quoted?: boolean; partType?: string; type?: string } = {}): MultipartBody {
  const boundary = `tessera-${randomBytes(8).toString('hex')}`;
  const q = (v: string) => (options.quoted === false ? v : `"${v}"`);
  const partType = options.partType ?? 'application/dicom';
  async function* generate() {
    for (const part of parts) {
      yield Buffer.from(`--${boundary}\r\nContent-Type: ${partType}\r\n\r\n`);
      if (Buffer.isBuffer(part)) yield part;
      else for await (const chunk of part()) yield chunk as Buffer;
      yield Buffer.from('\r\n');
    }
    yield Buffer.from(`--${boundary}--\r\n`);
  }
  return {
    contentType: `multipart/related; type=${q(options.type ?? 'application/dicom')}; boundary=${q(boundary)}`,
    body: Readable.from(generate()),
  };
}

/** The whole body in memory (for inject() tests). */
export async function multipartBuffer(
  parts: Buffer[],
  options: Parameters<typeof multipartRelated>[1] = {},
): Promise<{ contentType: string; payload: Buffer }> {
  const { contentType, body } = multipartRelated(parts, options);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return { contentType, payload: Buffer.concat(chunks) };
}
