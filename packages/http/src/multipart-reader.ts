import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import * as Multipasta from 'multipasta';
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
 * while it arrives, and the body is paused while the part being parsed has a full buffer. Limits are enforced
 * as the bytes flow; malformed bodies become 400 and oversized ones 413 problems.
 */
export async function* readMultipart(
  body: Readable,
  headers: IncomingHttpHeaders,
  limits: { maxTotalBytes: number; signal?: AbortSignal },
): AsyncGenerator<MultipartPart> {
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
  // The parts parsed and not yet handed out, the one receiving bytes, and how the body ended.
  const waiting: PartStream[] = [];
  let current: PartStream | undefined;
  let done = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  /**
   * Reads on while the part being read has room and few parts wait: bounded memory either way. A
   * part's `_read` (`asked`) is itself the sign of room: it runs before the bytes read leave the buffer.
   */
  const flowIfRoom = (asked = false) => {
    if (failure !== undefined || done || waiting.length > MAX_WAITING_PARTS) return;
    if (!asked && current && !current.destroyed && current.readableLength >= current.readableHighWaterMark) return;
    body.resume();
  };
  // A failing or malformed body fails the part being read too: its reader would otherwise wait for
  // ever (and hold its spool file); the generator throws the same problem.
  const fail = (error: unknown) => {
    failure ??= toProblem(error, limits.maxTotalBytes) as Error;
    if (current && !current.destroyed) current.destroy(failure);
    notify();
  };
  // multipasta's parser itself, fed from the body's 'data' events, rather than its Node streams:
  // each part is our own Readable, so a socket chunk takes one stream hop instead of four (the
  // dash-carrying Transform, the parser's Duplex, its part stream and a PassThrough re-throwing its
  // errors as problems), each a few callbacks per 64 KB.
  const parser = Multipasta.make({
    headers: { 'content-type': `multipart/related; boundary="${boundary}"` },
    isFile: () => true,
    maxTotalSize: limits.maxTotalBytes,
    maxPartSize: Number.MAX_SAFE_INTEGER,
    maxParts: 100_000,
    onField: () => {},
    onFile: (info) => {
      const part = new PartStream(info.contentType, info.headers, flowIfRoom);
      current = part;
      waiting.push(part);
      if (waiting.length > MAX_WAITING_PARTS) body.pause();
      notify();
      return (chunk) => {
        if (failure !== undefined) return;
        if (chunk === null) {
          if (current === part) current = undefined;
          if (!part.destroyed) part.push(null);
          return;
        }
        // A part its reader gave up on (its disk is full) is discarded, so that the next can be read.
        if (part.destroyed) return;
        if (!part.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))) body.pause();
      };
    },
    onError: fail,
    onDone: () => {
      done = true;
      notify();
    },
  });
  const carry = new DashCarry();
  const onData = (chunk: Buffer) => {
    const bytes = carry.take(chunk);
    if (bytes) parser.write(bytes);
  };
  const onEnd = () => {
    const rest = carry.rest();
    if (rest) parser.write(rest);
    parser.end();
  };
  const onClose = () => {
    if (!body.readableEnded) fail(new Error('the request body was closed before its end'));
  };
  // An abort (the caller's body timeout) fails the body as its error would, with the signal's reason.
  const onAbort = () => fail(limits.signal!.reason);
  if (limits.signal?.aborted) onAbort();
  limits.signal?.addEventListener('abort', onAbort);
  body.on('error', fail);
  body.on('close', onClose);
  // A body already read to its end (an empty one) never emits 'end' again: end the parser here.
  if (body.readableEnded) parser.end();
  else {
    body.on('end', onEnd);
    body.on('data', onData);
    body.resume();
  }
  try {
    for (;;) {
      if (failure !== undefined) throw failure;
      const part = waiting.shift();
      if (part) {
        flowIfRoom();
        yield part;
      } else if (done) return;
      else await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    const abandoned = new Error('the multipart body was abandoned');
    for (const part of [...waiting, current]) if (part && !part.destroyed) part.destroy(abandoned);
    body.off('data', onData);
    body.off('end', onEnd);
    body.off('close', onClose);
    body.off('error', fail);
    limits.signal?.removeEventListener('abort', onAbort);
    // An error after this has nobody to tell; without a listener it would crash the process.
    body.on('error', () => {});
    body.pause();
  }
}

/** Parts parsed ahead of their reader before the body is paused (each holds at most one buffer's worth). */
const MAX_WAITING_PARTS = 4;

/** One part: fed by the parser, asking for more (`_read`) by resuming the body. */
class PartStream extends Readable implements MultipartPart {
  constructor(
    readonly contentType: string,
    readonly headers: Record<string, string | string[]>,
    private readonly wantMore: (asked?: boolean) => void,
  ) {
    super();
    // The error may come before the reader starts; it then gets it from the destroyed stream.
    this.on('error', () => {});
    // A reader that gives up on a part leaves the rest to be discarded: read on.
    this.once('close', () => wantMore());
  }

  override _read(): void {
    this.wantMore(true);
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
class DashCarry {
  #carried: Buffer | undefined;

  /** The bytes of `chunk` (after those carried from the last one) to parse now. */
  take(chunk: Buffer): Buffer | undefined {
    const bytes = this.#carried ? Buffer.concat([this.#carried, chunk]) : chunk;
    let keep = bytes.length;
    while (keep > 0 && bytes.length - keep < 2 && bytes[keep - 1] === DASH) keep--;
    this.#carried = keep < bytes.length ? bytes.subarray(keep) : undefined;
    if (keep > 0) return keep < bytes.length ? bytes.subarray(0, keep) : bytes;
    return undefined;
  }

  /** The bytes still carried at the end of the body. */
  rest(): Buffer | undefined {
    return this.#carried;
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
