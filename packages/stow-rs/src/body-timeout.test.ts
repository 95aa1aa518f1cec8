import { PassThrough } from 'node:stream';
import t from 'tap';
import { BodyAbortedError, BodyTimeoutError, guardBody, watchBodySignal } from './body-timeout.js';

/** guardBody (issue #21 items 5 and 6): slow clients fail, a slow server does not. */

const drain = async (stream: AsyncIterable<Buffer>) => {
  let bytes = 0;
  for await (const chunk of stream) bytes += chunk.length;
  return bytes;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('a body trickling fewer than minBytes per window fails with BodyTimeoutError', async (t) => {
  const body = new PassThrough();
  const trickle = setInterval(() => body.write('x'), 20);
  t.teardown(() => clearInterval(trickle));
  const started = Date.now();
  await t.rejects(drain(guardBody(body, { timeoutMs: 200, minBytes: 100 })), BodyTimeoutError);
  t.ok(Date.now() - started < 1_000, `within the window and one tick (${Date.now() - started} ms)`);
});

t.test('a body that keeps the pace passes', async (t) => {
  const body = new PassThrough();
  const guarded = guardBody(body, { timeoutMs: 100, minBytes: 10 });
  const reading = drain(guarded);
  for (let i = 0; i < 10; i++) {
    body.write(Buffer.alloc(100));
    await sleep(30);
  }
  body.end();
  t.equal(await reading, 1000);
});

t.test('time the reader spends not reading is not counted', async (t) => {
  const body = new PassThrough();
  // Everything is sent at once, far more than the stream buffers; the reader then pauses 3 windows.
  for (let i = 0; i < 16; i++) body.write(Buffer.alloc(1 << 16));
  body.end();
  const guarded = guardBody(body, { timeoutMs: 100, minBytes: 1 << 20 });
  const iterator = guarded[Symbol.asyncIterator]();
  let bytes = ((await iterator.next()).value as Buffer).length;
  await sleep(400);
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) bytes += (next.value as Buffer).length;
  t.equal(bytes, 1 << 20, 'read to its end, no timeout');
});

t.test('a body that is destroyed (the client left) fails with BodyAbortedError', async (t) => {
  const body = new PassThrough();
  const reading = drain(guardBody(body, { timeoutMs: 0, minBytes: 1 }));
  body.write('partial');
  await sleep(10);
  body.destroy(new Error('aborted'));
  await t.rejects(reading, BodyAbortedError);
});

t.test('an empty body already read to its end ends at once', async (t) => {
  const body = new PassThrough();
  body.end();
  await drain(body);
  t.equal(await drain(guardBody(body, { timeoutMs: 50, minBytes: 1 })), 0);
});

t.test('watchBodySignal: a trickling body aborts the signal with BodyTimeoutError', async (t) => {
  const body = new PassThrough();
  const trickle = setInterval(() => body.write('x'), 20);
  t.teardown(() => clearInterval(trickle));
  const { signal, stop } = watchBodySignal(body, { timeoutMs: 200, minBytes: 100 });
  t.teardown(stop);
  // The reader reads the body itself.
  body.resume();
  const reason = await new Promise((resolve) => signal.addEventListener('abort', () => resolve(signal.reason)));
  t.type(reason, BodyTimeoutError);
});

t.test('watchBodySignal: time the body is paused (the reader not reading) is not counted', async (t) => {
  const body = new PassThrough();
  const { signal, stop } = watchBodySignal(body, { timeoutMs: 100, minBytes: 1 << 20 });
  t.teardown(stop);
  await sleep(400);
  t.notOk(signal.aborted, 'not read yet: the window does not run');
  body.on('data', () => {});
  body.resume();
  body.end(Buffer.alloc(1 << 20));
  await sleep(50);
  t.notOk(signal.aborted, 'read to its end');
});

t.test('watchBodySignal: a destroyed body aborts the signal with BodyAbortedError', async (t) => {
  const body = new PassThrough();
  const { signal } = watchBodySignal(body, { timeoutMs: 0, minBytes: 1 });
  body.resume();
  body.destroy(new Error('aborted'));
  await sleep(10);
  t.type(signal.reason, BodyAbortedError);
});
