import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import * as Multipasta from 'multipasta/node';
import { HttpProblem } from './problem.js';

export interface MultipartPart extends Readable {
  readonly contentType: string;
  readonly headers: Record<string, string | string[]>;
}

/**
 * Streams the parts of a multipart/related body one at a time, with backpressure: a part is read
 * while it arrives and the next is not parsed before it has been consumed. Limits are enforced
 * as the bytes flow; malformed bodies become 400 and oversized ones 413 problems.
 */
export async function* readMultipart(
  body: Readable,
  headers: IncomingHttpHeaders,
  limits: { maxTotalBytes: number },
): AsyncGenerator<MultipartPart> {
  // multipasta reads only the boundary; give it a multipart/form-data-like view of our header.
  const parser = Multipasta.make({
    headers,
    isFile: () => true,
    maxTotalSize: limits.maxTotalBytes,
    maxPartSize: Number.MAX_SAFE_INTEGER,
    maxParts: 100_000,
  });
  body.on('error', (error) => parser.destroy(error));
  body.pipe(parser);
  try {
    for await (const part of parser) {
      if (part._tag !== 'File') continue;
      const stream = part as unknown as MultipartPart;
      Object.defineProperty(stream, 'contentType', { value: part.info.contentType });
      Object.defineProperty(stream, 'headers', { value: part.info.headers });
      yield stream;
    }
  } catch (error) {
    throw toProblem(error, limits.maxTotalBytes);
  } finally {
    body.unpipe(parser);
    parser.destroy();
  }
}

function toProblem(error: unknown, maxTotalBytes: number): unknown {
  const tag = (error as { _tag?: string } | undefined)?._tag;
  switch (tag) {
    case 'ReachedLimit':
      return new HttpProblem(413, 'BODY_TOO_LARGE', `the request body is larger than the limit of ${maxTotalBytes} bytes`);
    case 'InvalidBoundary':
      return new HttpProblem(400, 'MULTIPART_BOUNDARY', 'the multipart boundary is missing or invalid');
    case 'EndNotReached':
      return new HttpProblem(400, 'MULTIPART_TRUNCATED', 'the multipart body ends before its closing boundary');
    case 'BadHeaders':
    case 'InvalidDisposition':
      return new HttpProblem(400, 'MULTIPART_HEADERS', 'a multipart part has malformed headers');
    default:
      return error;
  }
}
