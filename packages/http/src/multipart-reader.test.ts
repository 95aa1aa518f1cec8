import { randomUUID } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import t from 'tap';
import { readMultipart } from './multipart-reader.js';

/** Reads every part of `body` into memory (with its Content-Type), or the error's status and code. */
async function readAll(
  body: Buffer,
  contentType: string,
  chunkSize = 7,
): Promise<{ parts: { type: string; bytes: Buffer }[] } | { status: number; code: string }> {
  // Small, unaligned chunks: a boundary is split across chunks as a chunked upload splits it.
  const stream = Readable.from(
    (function* () {
      for (let i = 0; i < body.length; i += chunkSize) yield body.subarray(i, i + chunkSize);
    })(),
  );
  try {
    const parts: { type: string; bytes: Buffer }[] = [];
    for await (const part of readMultipart(stream, { 'content-type': contentType, 'transfer-encoding': 'chunked' }, { maxTotalBytes: 1 << 20 })) {
      const chunks: Buffer[] = [];
      for await (const chunk of part) chunks.push(chunk as Buffer);
      parts.push({ type: part.contentType, bytes: Buffer.concat(chunks) });
    }
    return { parts };
  } catch (error) {
    const { status, code } = error as { status: number; code: string };
    return { status, code };
  }
}

/** A body as Orthanc's DICOMweb plugin writes it: each part with its own Content-Length. */
function orthancBody(boundary: string, payloads: Buffer[]): Buffer {
  const pieces: Buffer[] = [];
  for (const payload of payloads) {
    pieces.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\nContent-Length: ${payload.length}\r\n\r\n`), payload, Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(pieces);
}

const payloads = [Buffer.from('DICM first part\r\n--not-a-boundary'), Buffer.alloc(300, 0xab)];

t.test('NEG-9: the 73-character boundary Orthanc sends (<uuid>-<uuid>) is read', async (t) => {
  const boundary = `${randomUUID()}-${randomUUID()}`;
  t.equal(boundary.length, 73);
  for (const contentType of [
    `multipart/related; type="application/dicom"; boundary=${boundary}`, // Orthanc's exact header
    `multipart/related; type="application/dicom"; boundary="${boundary}"`,
  ]) {
    const result = await readAll(orthancBody(boundary, payloads), contentType);
    t.same('parts' in result && result.parts.map((p) => p.type), ['application/dicom', 'application/dicom'], contentType);
    t.ok('parts' in result && result.parts.every((p, i) => p.bytes.equals(payloads[i]!)), 'every part byte for byte');
  }
});

t.test('NEG-9: boundaries up to 200 characters are read, longer ones refused', async (t) => {
  for (const length of [1, 70, 71, 200]) {
    const boundary = 'b'.repeat(length - 1) + '9';
    const result = await readAll(orthancBody(boundary, payloads), `multipart/related; type="application/dicom"; boundary="${boundary}"`);
    t.equal('parts' in result && result.parts.length, 2, `${length} characters`);
  }
  const tooLong = 'b'.repeat(201);
  t.same(
    await readAll(orthancBody(tooLong, payloads), `multipart/related; boundary=${tooLong}`),
    { status: 400, code: 'MULTIPART_BOUNDARY' },
    '201 characters',
  );
});

t.test('NEG-9: missing and unparseable boundaries are 400 MULTIPART_BOUNDARY', async (t) => {
  const body = orthancBody('abc', payloads);
  for (const contentType of [
    'multipart/related; type="application/dicom"',
    'multipart/related; type="application/dicom"; boundary=',
    'multipart/related; type="application/dicom"; boundary=""',
    'multipart/related; type="application/dicom"; boundary="abc "', // ends in a space
    'multipart/related; type="application/dicom"; boundary="a\\"bc"', // a character outside RFC 2046's set
    'multipart/related; type="application/dicom"; boundary="ab\rc"',
  ]) {
    t.same(await readAll(body, contentType), { status: 400, code: 'MULTIPART_BOUNDARY' }, JSON.stringify(contentType));
  }
});

t.test('NEG-9: a valid body is read however the network splits it', async (t) => {
  // Found by cutting Orthanc-shaped bodies into small chunks: multipasta 0.2.8 took a chunk ending
  // one byte into the closing `--` (`…\r\n--b-` then `-\r\n`) for the headers of a new part
  // (400 MULTIPART_HEADERS).
  const boundary = `${randomUUID()}-${randomUUID()}`;
  const body = orthancBody(boundary, payloads);
  const contentType = `multipart/related; type="application/dicom"; boundary=${boundary}`;
  const failures: number[] = [];
  for (let at = 1; at < body.length; at++) {
    const parts: Buffer[] = [];
    const stream = Readable.from([body.subarray(0, at), body.subarray(at)]);
    try {
      for await (const part of readMultipart(stream, { 'content-type': contentType }, { maxTotalBytes: 1 << 20 })) {
        const chunks: Buffer[] = [];
        for await (const chunk of part) chunks.push(chunk as Buffer);
        parts.push(Buffer.concat(chunks));
      }
    } catch {
      failures.push(at);
      continue;
    }
    if (parts.length !== 2 || !parts.every((p, i) => p.equals(payloads[i]!))) failures.push(at);
  }
  t.same(failures, [], `every split point of a ${body.length}-byte body`);
  for (const chunkSize of [1, 2, 3, 7, 64]) {
    const result = await readAll(body, contentType, chunkSize);
    t.equal('parts' in result && result.parts.length, 2, `chunks of ${chunkSize} bytes`);
  }
});

t.test('large parts are read whole while the body is read no further ahead than the part being read needs', async (t) => {
  const boundary = randomUUID();
  const large = [Buffer.alloc(3 << 20, 0x11), Buffer.alloc(2 << 20, 0x22), Buffer.from('small')];
  const body = orthancBody(boundary, large);
  let pulled = 0;
  const stream = Readable.from(
    (function* () {
      for (let i = 0; i < body.length; i += 1 << 16) {
        const chunk = body.subarray(i, i + (1 << 16));
        pulled += chunk.length;
        yield chunk;
      }
    })(),
  );
  const parts: Buffer[] = [];
  let pulledBeforeFirstRead: number | undefined;
  for await (const part of readMultipart(stream, { 'content-type': `multipart/related; boundary=${boundary}` }, { maxTotalBytes: 1 << 30 })) {
    // A reader that is slow to start: the body must wait for it rather than fill memory.
    await new Promise((resolve) => setTimeout(resolve, 50));
    pulledBeforeFirstRead ??= pulled;
    const chunks: Buffer[] = [];
    for await (const chunk of part) {
      chunks.push(chunk as Buffer);
      // Read in the event loop's later turns, as a spool file's writes do.
      await new Promise(setImmediate);
    }
    parts.push(Buffer.concat(chunks));
  }
  t.equal(parts.length, 3);
  t.ok(
    parts.every((p, i) => p.equals(large[i]!)),
    'every part byte for byte',
  );
  t.ok(pulledBeforeFirstRead! < 1 << 20, `the body was read ${pulledBeforeFirstRead} bytes ahead of a reader that had not started`);
});

t.test("an aborted signal fails the part being read and the reader with the signal's reason", async (t) => {
  const boundary = randomUUID();
  const body = new PassThrough();
  body.write(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\nfirst bytes`);
  const controller = new AbortController();
  const reason = new Error('the body timed out');
  const parts = readMultipart(body, { 'content-type': `multipart/related; boundary=${boundary}` }, { maxTotalBytes: 1 << 20, signal: controller.signal });
  const { value: part } = await parts.next();
  const reading = (async () => {
    for await (const chunk of part as AsyncIterable<Buffer>) void chunk;
  })();
  controller.abort(reason);
  await t.rejects(reading, reason, 'the part');
  await t.rejects(parts.next(), reason, 'the reader');
});
