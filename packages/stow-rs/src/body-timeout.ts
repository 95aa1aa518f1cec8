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
 * wait unread in either stream, or the body is paused, the window starts again. A client that
 * disconnects fails the stream too, so its reader settles.
 */
export function guardBody(body: Readable, timeout: BodyTimeout): Readable {
  const guarded = new PassThrough();
  // A body already read to its end (an empty one) never emits 'end' again.
  if (body.readableEnded) {
    guarded.end();
    return guarded;
  }
  const stop = watchBody(
    body,
    timeout,
    () => guarded.readableLength > 0,
    (error) => {
      if (error instanceof BodyTimeoutError) {
        body.unpipe(guarded);
        body.pause();
      }
      guarded.destroy(error);
    },
  );
  guarded.once('close', stop);
  body.pipe(guarded);
  return guarded;
}

/**
 * The same watch without a stream of its own, for a reader that reads `body` itself and takes a
 * signal (`readMultipart`): one stream hop fewer per socket chunk. The signal is aborted with
 * BodyTimeoutError or BodyAbortedError; `stop` ends the watch (call it when the body is done with).
 */
export function watchBodySignal(body: Readable, timeout: BodyTimeout): { signal: AbortSignal; stop(): void } {
  const controller = new AbortController();
  if (body.readableEnded) return { signal: controller.signal, stop: () => {} };
  // Paused, so that counting (a 'data' listener) does not start the flow before the reader reads:
  // the reader resumes it, and until then the window does not run.
  body.pause();
  const stop = watchBody(
    body,
    timeout,
    () => false,
    (error) => controller.abort(error),
  );
  return { signal: controller.signal, stop };
}

/**
 * Counts what arrives on `body` and calls `fail` once: with BodyTimeoutError when a window passes
 * with too few bytes while the server waited (nothing unread in `body`, it is not paused, and
 * `unreadElsewhere()` is false), with BodyAbortedError when the body fails or closes before its end.
 */
function watchBody(body: Readable, { timeoutMs, minBytes }: BodyTimeout, unreadElsewhere: () => boolean, fail: (error: Error) => void): () => void {
  let received = 0;
  let windowStart = Date.now();
  let receivedAtStart = 0;
  let stopped = false;
  const tick = () => {
    const now = Date.now();
    if (body.readableLength > 0 || body.isPaused() || unreadElsewhere()) {
      // Unread bytes, or a reader that stopped reading: the server is the slow one.
      windowStart = now;
      receivedAtStart = received;
    } else if (now - windowStart >= timeoutMs) {
      if (received - receivedAtStart < minBytes) {
        stop();
        fail(new BodyTimeoutError(timeoutMs, minBytes));
        return;
      }
      windowStart = now;
      receivedAtStart = received;
    }
  };
  const timer = timeoutMs > 0 ? setInterval(tick, Math.max(10, Math.min(1000, timeoutMs / 4))) : undefined;
  timer?.unref();
  const count = (chunk: Buffer) => (received += chunk.length);
  const onError = (error: unknown) => {
    if (stopped) return;
    stop();
    fail(new BodyAbortedError({ cause: error }));
  };
  const onClose = () => {
    if (stopped) return;
    stop();
    if (!body.readableEnded) fail(new BodyAbortedError());
  };
  function stop() {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    body.off('data', count);
    body.off('end', stop);
  }
  body.once('end', stop);
  body.once('error', onError);
  body.once('close', onClose);
  // Counting without reading: 'data' listeners see the chunks whoever reads them.
  body.on('data', count);
  return stop;
}
