import { type IncomingMessage, createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import t, { type Test } from 'tap';
import { type ResponsePart, singlePartEnvelope, writeMultipart } from './multipart-writer.js';

t.test('NEG-9: parts with headers, closed by --boundary--', async (t) => {
  const opened: number[] = [];
  const { contentType, boundary, stream } = writeMultipart('application/dicom', [
    {
      contentType: 'application/dicom; transfer-syntax=1.2.840.10008.1.2.1',
      contentLocation: 'http://h/a',
      contentLength: 3,
      body: () => {
        opened.push(1);
        return Buffer.from('abc');
      },
    },
    {
      contentType: 'application/dicom; transfer-syntax=1.2.840.10008.1.2.1',
      body: () => {
        opened.push(2);
        return Readable.from([Buffer.from('de'), Buffer.from('f')]);
      },
    },
  ]);
  t.equal(contentType, `multipart/related; type="application/dicom"; boundary=${boundary}`);
  t.ok(boundary.length <= 70);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  t.equal(
    Buffer.concat(chunks).toString(),
    [
      `--${boundary}`,
      'Content-Type: application/dicom; transfer-syntax=1.2.840.10008.1.2.1',
      'Content-Location: http://h/a',
      'Content-Length: 3',
      '',
      'abc',
      `--${boundary}`,
      'Content-Type: application/dicom; transfer-syntax=1.2.840.10008.1.2.1',
      '',
      'def',
      `--${boundary}--`,
      '',
    ].join('\r\n'),
  );
  t.same(opened, [1, 2]);
});

t.test('a part body is opened only when the writer reaches it (backpressure)', async (t) => {
  const opened: number[] = [];
  const big = () =>
    Readable.from(
      (function* () {
        for (let i = 0; i < 64; i++) yield Buffer.alloc(64 * 1024);
      })(),
    );
  const { stream } = writeMultipart(
    'application/octet-stream',
    [1, 2, 3].map((n) => ({
      contentType: 'application/octet-stream',
      body: () => {
        opened.push(n);
        return big();
      },
    })),
  );
  const iterator = stream[Symbol.asyncIterator]();
  await iterator.next();
  await iterator.next();
  t.same(opened, [1], 'only the first part is open after the first chunks');
  stream.destroy();
});

t.test('destroying the response closes the open part body and opens no further part', async (t) => {
  const opened: number[] = [];
  const bodies: Readable[] = [];
  const big = () =>
    Readable.from(
      (function* () {
        for (let i = 0; i < 64; i++) yield Buffer.alloc(64 * 1024);
      })(),
    );
  const { stream } = writeMultipart(
    'application/octet-stream',
    [1, 2].map((n) => ({
      contentType: 'application/octet-stream',
      body: () => {
        opened.push(n);
        const body = big();
        bodies.push(body);
        return body;
      },
    })),
  );
  const iterator = stream[Symbol.asyncIterator]();
  await iterator.next();
  await iterator.next();
  stream.destroy();
  await new Promise((resolve) => stream.once('close', resolve));
  t.same(opened, [1], 'the second part was never opened');
  t.ok(bodies[0]!.destroyed, 'the first part body is destroyed');
});

t.test('a failing part body fails the response stream with its error', async (t) => {
  const failing = () =>
    Readable.from(
      (async function* () {
        yield Buffer.from('partial');
        throw new Error('blob vanished');
      })(),
    );
  const { stream } = writeMultipart('application/dicom', [{ contentType: 'application/dicom', body: failing }]);
  await t.rejects(
    (async () => {
      for await (const _ of stream);
    })(),
    /blob vanished/,
  );
});

t.test('an empty part list is just the closing delimiter', async (t) => {
  const { boundary, stream } = writeMultipart('application/dicom', []);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  t.equal(Buffer.concat(chunks).toString(), `--${boundary}--\r\n`);
});

t.test('a part produced after the response was destroyed has its body closed (a part read ahead is open already)', async (t) => {
  const late = Readable.from([Buffer.from('never sent')]);
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  let produced = 0;
  const parts: AsyncIterator<ResponsePart> & AsyncIterable<ResponsePart> = {
    [Symbol.asyncIterator]: () => parts,
    next: async () => {
      produced++;
      await gate;
      return { done: false, value: { contentType: 'application/dicom', body: () => late } };
    },
    return: async () => {
      await gate;
      return { done: true, value: undefined };
    },
  };
  const { stream } = writeMultipart('application/dicom', parts);
  stream.resume();
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(produced, 1, 'the writer asked for the first part');
  stream.destroy();
  release();
  await new Promise((resolve) => stream.once('close', resolve));
  await new Promise((resolve) => setImmediate(resolve));
  t.ok(late.destroyed, 'its body is destroyed');
});

t.test('singlePartEnvelope: the bytes writeMultipart sends for one part, around a body held whole', async (t) => {
  const part = { contentType: 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1', contentLocation: 'http://h/f/1', contentLength: 5 };
  const envelope = singlePartEnvelope('application/octet-stream', part);
  const boundary = /boundary=(.+)$/.exec(envelope.contentType)![1]!;
  t.equal(envelope.contentType, `multipart/related; type="application/octet-stream"; boundary=${boundary}`);
  const streamed = writeMultipart('application/octet-stream', [{ ...part, body: () => Buffer.from('frame') }]);
  const chunks: Buffer[] = [];
  for await (const chunk of streamed.stream) chunks.push(chunk as Buffer);
  const expected = Buffer.concat(chunks).toString('latin1').replaceAll(streamed.boundary, boundary);
  t.equal(Buffer.concat([envelope.before, Buffer.from('frame'), envelope.after]).toString('latin1'), expected);
  t.not(singlePartEnvelope('application/octet-stream', part).contentType, envelope.contentType, 'a fresh boundary per response');
});

/** Serves `count` lent parts of `size` bytes, piped into a real HTTP response, and records when each is given back. */
async function servePooledParts(t: Test, count: number, size: number) {
  const released: number[] = [];
  const unwritten: number[] = [];
  let pushed = 0;
  let finished = false;
  const server = createServer((_request, response) => {
    const { contentType, stream } = writeMultipart(
      'application/octet-stream',
      Array.from({ length: count }, (_, i) => ({
        contentType: 'application/octet-stream',
        body: () => {
          // Parts lent and not yet given back when this one is produced.
          unwritten.push(pushed - released.length);
          pushed++;
          return Buffer.alloc(size, i);
        },
        release: () => released.push(i),
      })),
    );
    response.once('finish', () => (finished = true));
    response.writeHead(200, { 'content-type': contentType });
    stream.pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  const port = (server.address() as AddressInfo).port;
  const request = () => new Promise<IncomingMessage>((resolve, reject) => get({ host: '127.0.0.1', port, path: '/' }, resolve).on('error', reject));
  return { released, unwritten, request, finished: () => finished };
}

t.test('piped into an HTTP response, each lent part body is given back once written out, while the response goes on', async (t) => {
  const { released, unwritten, request, finished } = await servePooledParts(t, 40, 256 * 1024);
  const response = await request();
  let received = 0;
  for await (const chunk of response) {
    received += (chunk as Buffer).length;
    // A slow reader: the socket fills up, so writes complete only as the client reads.
    if (received % (1 << 20) < (chunk as Buffer).length) await new Promise((resolve) => setImmediate(resolve));
  }
  await new Promise((resolve) => setImmediate(resolve));
  t.ok(finished(), 'the response finished');
  t.same(
    released,
    Array.from({ length: 40 }, (_, i) => i),
    'every part given back, once, in order',
  );
  t.ok(Math.max(...unwritten) <= 8, `at most a few parts lent at any time (${Math.max(...unwritten)} of 40), not the whole response`);
});

t.test('a part body is not given back while the client has not read it (the response never finished)', async (t) => {
  const { released, request } = await servePooledParts(t, 40, 256 * 1024);
  const response = await request();
  // Read one chunk, then stop reading and go away: the server's socket writes never complete.
  await new Promise((resolve) => response.once('data', resolve));
  response.pause();
  await new Promise((resolve) => setTimeout(resolve, 100));
  const whilePaused = released.length;
  t.ok(whilePaused < 40, `not all given back while the client does not read (${whilePaused})`);
  response.destroy();
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(released.length, whilePaused, 'a cancelled response gives nothing back: its writes may still hold the buffers');
});

t.test('a stream read otherwise than piped never gives a lent body back (it cannot know when it is written)', async (t) => {
  const released: number[] = [];
  const { stream } = writeMultipart('application/octet-stream', [
    { contentType: 'application/octet-stream', body: () => Buffer.from('abc'), release: () => released.push(1) },
  ]);
  for await (const chunk of stream) t.ok(chunk);
  t.same(released, []);
});
