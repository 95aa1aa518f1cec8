import { Readable } from 'node:stream';
import t from 'tap';
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
