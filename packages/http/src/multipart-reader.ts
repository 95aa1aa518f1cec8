import type { IncomingHttpHeaders } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
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
  // The part being read when the body fails (a client gone, a timeout) or turns out malformed:
  // multipasta tells neither to it, so its reader would wait for ever (and hold its spool file).
  let current: PassThrough | undefined;
  const failCurrent = (error: unknown) => {
    if (current && !current.destroyed) current.destroy(toProblem(error, limits.maxTotalBytes) as Error);
  };
  body.on('error', (error) => {
    failCurrent(error);
    parser.destroy(error);
  });
  body.on('close', () => {
    if (!body.readableEnded) failCurrent(new Error('the request body was closed before its end'));
  });
  // A body already read to its end (an empty one) never emits 'end' again: end the parser here.
  if (body.readableEnded) parser.end();
  else body.pipe(parser);
  try {
    for await (const part of parser) {
      if (part._tag !== 'File') continue;
      // Each part is handed out through our own stream, so that its errors are problems (not
      // multipasta's plain objects) and a failing body ends it.
      const file = part as unknown as Readable;
      const stream = new PassThrough() as PassThrough & MultipartPart;
      Object.defineProperty(stream, 'contentType', { value: part.info.contentType });
      Object.defineProperty(stream, 'headers', { value: part.info.headers });
      file.on('error', (error) => stream.destroy(toProblem(error, limits.maxTotalBytes) as Error));
      // The error may come before the reader starts; it then gets it from the destroyed stream.
      stream.on('error', () => {});
      file.pipe(stream);
      // A reader that gives up on a part (its disk is full) leaves the rest to be discarded here,
      // so that the next part can be read.
      stream.once('close', () => file.resume());
      current = stream;
      yield stream;
    }
  } catch (error) {
    throw toProblem(error, limits.maxTotalBytes);
  } finally {
    failCurrent(new Error('the multipart body was abandoned'));
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
