import { PassThrough, type Readable } from 'node:stream';

/** The client stopped sending the request body (too few bytes while the server waited for them). */
export class BodyTimeoutError extends Error {
  override readonly name = 'BodyTimeoutError';
  constructor(
    readonly timeoutMs: number,
    readonly minBytes: number,
  ) {
    super(`the request body delivered fewer than ${minBytes} bytes in ${timeoutMs} ms`);
  }
}

/** The client closed the connection (or it broke) before the end of the request body. */
export class BodyAbortedError extends Error {
  override readonly name = 'BodyAbortedError';
  constructor(options?: { cause?: unknown }) {
    super('the client closed the connection before the end of the request body', options);
  }
}

export interface BodyTimeout {
  /** Length of the window in which the client must deliver `minBytes`; 0 disables the check. */
  timeoutMs: number;
  minBytes: number;
}

/**
 * The request body, failing with BodyTimeoutError when the client delivers fewer than `minBytes`
 * in any `timeoutMs` during which the server was waiting for it: a stalled or trickling upload
 * (one byte every few seconds) cannot hold its connection and spool file for ever. Time the server
 * itself spends not reading (storing a chunk, waiting for the index) is not counted: while bytes
 * wait unread in either stream, the window starts again. A client that disconnects fails the
 * stream too, so its reader settles.
 */
export function guardBody(body: Readable, { timeoutMs, minBytes }: BodyTimeout): Readable {
  const guarded = new PassThrough();
  let received = 0;
  let windowStart = Date.now();
  let receivedAtStart = 0;
  const tick = () => {
    const now = Date.now();
    if (body.readableLength > 0 || guarded.readableLength > 0) {
      // Unread bytes: the server is the slow one.
      windowStart = now;
      receivedAtStart = received;
    } else if (now - windowStart >= timeoutMs) {
      if (received - receivedAtStart < minBytes) {
        stop();
        body.unpipe(guarded);
        body.pause();
        guarded.destroy(new BodyTimeoutError(timeoutMs, minBytes));
        return;
      }
      windowStart = now;
      receivedAtStart = received;
    }
  };
  const timer = timeoutMs > 0 ? setInterval(tick, Math.max(10, Math.min(1000, timeoutMs / 4))) : undefined;
  timer?.unref();
  const stop = () => clearInterval(timer);
  body.once('end', stop);
  body.once('error', (error) => {
    stop();
    guarded.destroy(new BodyAbortedError({ cause: error }));
  });
  body.once('close', () => {
    stop();
    if (!body.readableEnded && !guarded.destroyed) guarded.destroy(new BodyAbortedError());
  });
  guarded.once('close', stop);
  // A body already read to its end (an empty one) never emits 'end' again.
  if (body.readableEnded) {
    stop();
    guarded.end();
    return guarded;
  }
  body.pipe(guarded);
  body.on('data', (chunk: Buffer) => (received += chunk.length));
  return guarded;
}
