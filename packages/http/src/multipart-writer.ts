import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';

/** One part of a multipart/related response. */
export interface ResponsePart {
  /** Full part Content-Type, e.g. `application/dicom; transfer-syntax=1.2.840.10008.1.2.1`. */
  contentType: string;
  contentLocation?: string;
  /** Added as the part's Content-Length when known. */
  contentLength?: number;
  /** The part body; opened only when the writer reaches this part. */
  body: () => Promise<AsyncIterable<Buffer | Uint8Array> | Buffer> | AsyncIterable<Buffer | Uint8Array> | Buffer;
  /**
   * For a body that is one Buffer lent by a BufferPool: gives it back once the stream's consumer
   * has written it out (a piped HTTP response whose socket writes have completed). Not called if the
   * stream is destroyed first or is read otherwise than piped: the buffer is then simply collected.
   */
  release?: () => void;
}

export interface MultipartResponse {
  /** `multipart/related; type="<root>"; boundary=<b>` (digest NEG-9, D24: `type` quoted). */
  contentType: string;
  boundary: string;
  stream: Readable;
}

const CRLF = '\r\n';

/**
 * A fresh unpredictable boundary per response (122 random bits), so no stored object can be made to
 * contain the boundary of a later response. randomUUID draws from a cached batch of entropy; a
 * randomBytes call per response was 3 % of the CPU of a WADO-RS instance request.
 */
const nextBoundary = (): string => `tessera-${randomUUID()}`;

/**
 * Writes a multipart/related body (RFC 2387, digest NEG-9) part after part. The stream is pulled
 * by its consumer: a part's body is opened only after the previous part has been written out, and
 * chunks are produced only as fast as they are read (backpressure through the Readable), so memory
 * does not grow with the number or size of parts. Closed by `--boundary--`.
 */
export function writeMultipart(rootType: string, parts: AsyncIterable<ResponsePart> | Iterable<ResponsePart>): MultipartResponse {
  const boundary = nextBoundary();
  return {
    contentType: `multipart/related; type="${rootType}"; boundary=${boundary}`,
    boundary,
    stream: new MultipartStream(boundary, parts),
  };
}

/** The delimiter and header fields of a part, up to its body. */
function partHead(boundary: string, part: Omit<ResponsePart, 'body'>): Buffer {
  let head = `--${boundary}${CRLF}Content-Type: ${part.contentType}${CRLF}`;
  if (part.contentLocation !== undefined) head += `Content-Location: ${part.contentLocation}${CRLF}`;
  if (part.contentLength !== undefined) head += `Content-Length: ${part.contentLength}${CRLF}`;
  return Buffer.from(`${head}${CRLF}`, 'latin1');
}

/** What surrounds the body of the one part of a multipart/related response. */
export interface SinglePartEnvelope {
  /** `multipart/related; type="<root>"; boundary=<b>`. */
  contentType: string;
  /** The delimiter and the part's header fields. */
  before: Buffer;
  /** The CRLF that ends the part and the closing delimiter. */
  after: Buffer;
}

/**
 * The same bytes as writeMultipart produces for one part, but around a body the caller holds whole:
 * the response is then one buffer with a Content-Length, sent with one write, instead of a stream of
 * head, body and trailer in chunked encoding.
 */
export function singlePartEnvelope(rootType: string, part: Omit<ResponsePart, 'body'> & { contentLength: number }): SinglePartEnvelope {
  const boundary = nextBoundary();
  return {
    contentType: `multipart/related; type="${rootType}"; boundary=${boundary}`,
    before: partHead(boundary, part),
    after: Buffer.from(`${CRLF}--${boundary}--${CRLF}`, 'latin1'),
  };
}

type PartBody = AsyncIterator<Buffer | Uint8Array>;

/** A lent part body pushed into the stream, given back once the stream has been written out up to `end`. */
interface Lent {
  end: number;
  release: () => void;
}

/** What a multipart stream is piped into: an HTTP response, whose writableLength counts what its socket has not yet written. */
interface Sink extends NodeJS.WritableStream {
  readonly writableLength: number;
}

/**
 * The multipart body as a Readable that pulls parts and their chunks itself, so that one chunk costs
 * one push (an async generator read through Readable.from cost several promise hops per chunk, 10 % of
 * a WADO-RS instance request). Destroying the stream closes the open part body and the parts iterator.
 *
 * Part bodies lent by a BufferPool are given back once written out. When the stream is piped, what
 * it has handed to the sink is what it pushed less what still waits in its own buffer, and what
 * the sink has written out is that less its writableLength (the bytes of writes not yet completed).
 */
class MultipartStream extends Readable {
  readonly #boundary: string;
  readonly #parts: AsyncIterator<ResponsePart> | Iterator<ResponsePart>;
  #body: PartBody | undefined;
  #pumping = false;
  #sink: Sink | undefined;
  /** Bytes pushed so far. */
  #pushed = 0;
  /** Lent bodies pushed and not yet known to be written out, in order. */
  readonly #lent: Lent[] = [];

  constructor(boundary: string, parts: AsyncIterable<ResponsePart> | Iterable<ResponsePart>) {
    super({ highWaterMark: 64 * 1024 });
    this.#boundary = boundary;
    this.#parts = Symbol.asyncIterator in parts ? parts[Symbol.asyncIterator]() : parts[Symbol.iterator]();
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T {
    if (this.#sink === undefined && typeof (destination as unknown as Partial<Sink>).writableLength === 'number') {
      const sink = destination as unknown as Sink;
      this.#sink = sink;
      // Finished: every byte is written out. Closed otherwise (the client went away): the lent
      // bodies may still be referenced by a cancelled write, so they are dropped, not given back.
      sink.once('finish', () => this.#releaseWritten(Number.POSITIVE_INFINITY));
      sink.once('close', () => {
        this.#lent.length = 0;
      });
    }
    return super.pipe(destination, options);
  }

  override _read(): void {
    // Handed to the sink: what was pushed less what still waits here. Of that, the sink's last
    // writableLength bytes may still be in writes not yet completed (they complete in order, and
    // count HTTP's framing too, so this never overstates what is written out).
    if (this.#lent.length > 0 && this.#sink !== undefined) this.#releaseWritten(this.#pushed - this.readableLength - this.#sink.writableLength);
    if (!this.#pumping) this.#pump().catch((error: unknown) => this.destroy(error as Error));
  }

  /** Gives back the lent bodies that end at or before `written` bytes. */
  #releaseWritten(written: number): void {
    while (this.#lent.length > 0 && this.#lent[0]!.end <= written) this.#lent.shift()!.release();
  }

  #push(chunk: Buffer): boolean {
    this.#pushed += chunk.length;
    return this.push(chunk);
  }

  /** Pushes until the consumer has enough (push returns false; _read resumes) or the body ends. */
  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (!this.destroyed) {
        if (this.#body) {
          const next = await this.#body.next();
          if (this.destroyed) return;
          if (next.done) {
            this.#body = undefined;
            if (!this.#push(CRLF_BYTES)) return;
          } else if (!this.#push(Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength))) {
            return;
          }
          continue;
        }
        const next = await this.#parts.next();
        if (this.destroyed) {
          // Destroyed while this part was being produced: close its body, which may be open already
          // (a part read ahead), since no one will read it.
          if (!next.done) {
            await closeBody(await next.value.body());
            next.value.release?.();
          }
          return;
        }
        if (next.done) {
          this.#push(Buffer.from(`--${this.#boundary}--${CRLF}`));
          this.push(null);
          return;
        }
        const part = next.value;
        this.#push(partHead(this.#boundary, part));
        const body = await part.body();
        if (this.destroyed) {
          await closeBody(body);
          part.release?.();
          return;
        }
        if (Buffer.isBuffer(body)) {
          this.#push(body);
          if (part.release) this.#lent.push({ end: this.#pushed, release: part.release });
          if (!this.#push(CRLF_BYTES)) return;
        } else {
          this.#body = body[Symbol.asyncIterator]();
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const body = this.#body;
    this.#body = undefined;
    // allSettled never rejects: the stream is destroyed once both sources have closed, however they closed.
    void Promise.allSettled([body?.return?.(), this.#parts.return?.()]).then(() => callback(error));
  }
}

const CRLF_BYTES = Buffer.from(CRLF);

/** Closes a part body that will not be read. A stream is destroyed: the return() of an iterator never started does nothing. */
async function closeBody(body: AsyncIterable<Buffer | Uint8Array> | Buffer): Promise<void> {
  if (Buffer.isBuffer(body)) return;
  if (body instanceof Readable) body.destroy();
  else await body[Symbol.asyncIterator]().return?.();
}
