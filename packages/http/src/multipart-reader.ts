import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import * as Multipasta from 'multipasta/node';
import { parseMediaType } from './media-type.js';
import { HttpProblem } from './problem.js';

/** RFC 2046 §5.1.1 boundary: 1-70 characters from bchars, not ending in a space. */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

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
  // Our own parser reads the boundary (multipasta's rejects an unquoted `type=application/dicom`
  // next to it), and multipasta gets a normalised header holding only that boundary.
  const boundary = parseMediaType(headers['content-type'])?.parameters.boundary;
  if (!boundary || !BOUNDARY.test(boundary)) {
    throw new HttpProblem(400, 'MULTIPART_BOUNDARY', 'the multipart boundary is missing or invalid (RFC 2046: 1-70 characters)');
  }
  const parser = Multipasta.make({
    headers: { 'content-type': `multipart/related; boundary="${boundary}"` },
    isFile: () => true,
    maxTotalSize: limits.maxTotalBytes,
    maxPartSize: Number.MAX_SAFE_INTEGER,
    maxParts: 100_000,
  });
  body.on('error', (error) => parser.destroy(error));
  // A body already read to its end (an empty one) never emits 'end' again: end the parser here.
  if (body.readableEnded) parser.end();
  else body.pipe(parser);
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
