import type { IncomingHttpHeaders } from 'node:http';
import { PassThrough, type Readable, Transform, type TransformCallback } from 'node:stream';
import * as Multipasta from 'multipasta/node';
import { parseMediaType } from './media-type.js';
import { HttpProblem } from './problem.js';

/**
 * A boundary we read: characters from RFC 2046 §5.1.1's bchars, not ending in a space, 1 to
 * MAX_BOUNDARY_LENGTH long. RFC 2046's limit of 70 binds writers (ours emit 45); readers are lenient
 * because real clients exceed it: Orthanc's DICOMweb plugin sends `<uuid>-<uuid>`, 73 characters.
 * The bound keeps the delimiter search small; a character outside the set is still refused.
 */
export const MAX_BOUNDARY_LENGTH = 200;
const BOUNDARY = new RegExp(`^[0-9A-Za-z'()+_,\\-./:=? ]{0,${MAX_BOUNDARY_LENGTH - 1}}[0-9A-Za-z'()+_,\\-./:=?]$`);

export interface MultipartPart extends Readable {
  readonly contentType: string;
  readonly headers: Record<string, string | string[]>;
}

/**
 * Streams the parts of a multipart/related body one at a time, with backpressure: a part is read
 * while it arrives and the next is not parsed before it has been consumed. Limits are enforced
 * as the bytes flow; malformed bodies become 400 and oversized ones 413 problems.
 */
export async function* readMultipart(body: Readable, headers: IncomingHttpHeaders, limits: { maxTotalBytes: number }): AsyncGenerator<MultipartPart> {
  // Our own parser reads the boundary (multipasta's rejects an unquoted `type=application/dicom`
  // next to it), and multipasta gets a normalised header holding only that boundary.
  const boundary = parseMediaType(headers['content-type'])?.parameters.boundary;
  if (!boundary || !BOUNDARY.test(boundary)) {
    throw new HttpProblem(
      400,
      'MULTIPART_BOUNDARY',
      `the multipart boundary is missing or invalid (1-${MAX_BOUNDARY_LENGTH} characters of the set of RFC 2046 §5.1.1, not ending in a space)`,
    );
  }
  const parser = Multipasta.make({
    headers: { 'content-type': `multipart/related; boundary="${boundary}"` },
    isFile: () => true,
    maxTotalSize: limits.maxTotalBytes,
    maxPartSize: Number.MAX_SAFE_INTEGER,
    maxParts: 100_000,
  });
  const carry = new DashCarry();
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
  else body.pipe(carry).pipe(parser);
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
    body.unpipe(carry);
    carry.unpipe(parser);
    carry.destroy();
    parser.destroy();
  }
}

/**
 * multipasta 0.2.8 reads a chunk that ends one byte into a closing delimiter's `--` (`…\r\n--b-`,
 * then `-\r\n`) as the headers of a new part and fails a valid body with BadHeaders: whether a
 * request passed depended on where the network split it (found by cutting Orthanc-shaped bodies
 * into small chunks).
 * So the last dashes of a chunk (one or two; two of a longer run) wait for the next chunk, and a
 * chunk handed on ends either in another byte or in a run of dashes whose last two follow in the
 * next chunk; at the end of the body they are passed alone. (A close delimiter followed by an
 * epilogue starting with `-` could still be cut after `--b--`+`-`; no client sends one.) A chunk is
 * copied only when bytes are carried into it.
 */
class DashCarry extends Transform {
  #carried: Buffer | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const bytes = this.#carried ? Buffer.concat([this.#carried, chunk]) : chunk;
    let keep = bytes.length;
    while (keep > 0 && bytes.length - keep < 2 && bytes[keep - 1] === DASH) keep--;
    this.#carried = keep < bytes.length ? bytes.subarray(keep) : undefined;
    if (keep > 0) this.push(keep < bytes.length ? bytes.subarray(0, keep) : bytes);
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.#carried) this.push(this.#carried);
    done();
  }
}

const DASH = 0x2d;

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
