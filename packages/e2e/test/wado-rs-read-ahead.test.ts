import { type IncomingMessage, request } from 'node:http';
import type { Readable } from 'node:stream';
import t, { type Test } from 'tap';
import {
  type InstanceSpec,
  type TestServer,
  backendNames,
  ctInstance,
  encodeInstance,
  newUid,
  openFilePaths,
  startTestServer,
  stowStreamed,
  waitUntil,
} from '@tessera/testkit';

/**
 * Study and series retrieval reads the next parts ahead while one is sent (wado-rs
 * retrieve-instances.ts, READ_AHEAD: 4 parts), on every back end: the read-ahead is bounded, a client
 * that goes away leaves no file or S3 response open, and a part that cannot be read cuts the stream
 * where it comes, as without read-ahead.
 */

const READ_AHEAD_PARTS = 4;

/** Records every blob stream the server opens, and whether it has been closed since. */
function watchBlobReads(server: TestServer, t: Test) {
  const opened: { key: string; stream: Readable }[] = [];
  let open = 0;
  let mostOpen = 0;
  const originalGet = server.blobs.get.bind(server.blobs);
  server.blobs.get = async (key, range) => {
    const stream = await originalGet(key, range);
    opened.push({ key, stream });
    mostOpen = Math.max(mostOpen, ++open);
    stream.once('close', () => open--);
    return stream;
  };
  t.teardown(() => {
    server.blobs.get = originalGet;
  });
  return {
    keys: () => new Set(opened.map((o) => o.key)),
    stillOpen: () => opened.filter((o) => !o.stream.closed).map((o) => o.key),
    /** The most blob streams open at once since the last clear(). */
    mostOpen: () => mostOpen,
    clear: () => {
      opened.splice(0);
      mostOpen = open;
    },
  };
}

/** `count` instances of one new series, stored one STOW each; their UIDs and the series' retrieve URL. */
async function storeSeries(server: TestServer, count: number, size: { rows: number; columns: number; frames: number }) {
  const study = newUid();
  const series = newUid();
  const specs: InstanceSpec[] = Array.from({ length: count }, (_, i) =>
    ctInstance({ StudyInstanceUID: study, SeriesInstanceUID: series, InstanceNumber: i + 1 }, size),
  );
  for (const spec of specs) await stowStreamed(server, spec);
  return { study, series, specs, seriesUrl: `${server.url}/dicomweb/studies/${study}/series/${series}` };
}

/** A GET over a fresh connection (no agent), answered with its response. */
function get(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { accept: 'multipart/related; type="application/dicom"' } }, resolve);
    req.on('error', reject);
    req.end();
  });
}

/** Reads at least `bytes` of a response, leaving the rest unread (the response stays open). */
async function readAtLeast(chunks: AsyncIterator<unknown>, bytes: number): Promise<number> {
  let received = 0;
  while (received < bytes) {
    const next = await chunks.next();
    if (next.done) break;
    received += (next.value as Buffer).length;
  }
  return received;
}

/** Everything the client receives until the response ends or is cut, and whether it was cut. */
function readAll(res: IncomingMessage): Promise<{ body: Buffer; cut: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let cut = false;
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('aborted', () => (cut = true));
    res.on('error', () => (cut = true));
    res.on('close', () => resolve({ body: Buffer.concat(chunks), cut: cut || !res.complete }));
  });
}

for (const backend of backendNames()) {
  t.test(`${backend}: series retrieve with 8 MiB parts`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    // 8 MiB each: far more than the socket buffers take, so the writer waits on the client.
    const { specs, seriesUrl } = await storeSeries(server, 8, { rows: 1024, columns: 1024, frames: 4 });
    const reads = watchBlobReads(server, t);
    // One instance first, so that the clients (S3, database) have opened what they keep open anyway.
    const warm = await get(`${seriesUrl}/instances/${specs[0]!.attributes.SOPInstanceUID}`);
    await readAll(warm);
    await waitUntil(() => reads.stillOpen().length === 0, 5000);
    reads.clear();

    t.test('a client that disconnects mid-stream leaves no blob stream, file or connection open', async (t) => {
      const before = await openFilePaths();
      const res = await get(seriesUrl);
      t.equal(res.statusCode, 200);
      await readAtLeast(res[Symbol.asyncIterator](), 256 * 1024);
      t.ok(await waitUntil(() => reads.keys().size > 1, 5000), 'the next parts are open while the first is sent');
      res.destroy();
      t.ok(await waitUntil(() => reads.stillOpen().length === 0, 5000), `every blob stream is closed (open: ${reads.stillOpen().join(', ')})`);
      const blobRoot = `${server.dataDir}/`;
      t.ok(await waitUntil(async () => !(await openFilePaths()).some((target) => target.startsWith(blobRoot)), 5000), 'no file of the store is open');
      // S3 responses hold sockets: an S3 stream left open would keep its connection, and more
      // connections were opened for the read-ahead than the one instance before needed.
      t.ok(
        await waitUntil(async () => (await openFilePaths()).length <= before.length, 5000),
        `the process holds no more descriptors than before (${before.length})`,
      );
      reads.clear();
    });

    t.test(`at most ${READ_AHEAD_PARTS} parts are read ahead of the one being sent`, async (t) => {
      const res = await get(seriesUrl);
      t.equal(res.statusCode, 200);
      const iterator = res[Symbol.asyncIterator]();
      let received = await readAtLeast(iterator, 256 * 1024);
      t.ok(await waitUntil(() => reads.keys().size > 1, 5000), 'the next parts are opened while the first is sent');
      // Time for any read-ahead beyond the bound to show.
      await new Promise((resolve) => setTimeout(resolve, 300));
      t.ok(reads.mostOpen() <= 1 + READ_AHEAD_PARTS, `after ${received} bytes, at most ${reads.mostOpen()} blob streams were open at once`);
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        received += (next.value as Buffer).length;
      }
      t.equal(reads.keys().size, specs.length, 'all read by the end');
      t.ok(reads.mostOpen() <= 1 + READ_AHEAD_PARTS, `at most ${reads.mostOpen()} blob streams were open at once over the whole response`);
      t.ok(received > specs.length * 8 * 1024 * 1024, `whole body streamed (${received} bytes)`);
      t.ok(await waitUntil(() => reads.stillOpen().length === 0, 5000), 'every blob stream is closed at the end');
      reads.clear();
    });
  });

  t.test(`${backend}: a part that cannot be read`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const { study, series, specs, seriesUrl } = await storeSeries(server, 4, { rows: 16, columns: 16, frames: 1 });
    const rows = await server.index.retrieve.instances({ studyInstanceUid: study, seriesInstanceUid: series });
    t.equal(rows.length, 4);

    t.test('a later part: 200, the parts before it whole, then the stream is cut (no closing boundary)', async (t) => {
      await server.blobs.delete(rows[2]!.blobKey);
      const res = await get(seriesUrl);
      t.equal(res.statusCode, 200, 'the status went out with the first part');
      const boundary = /boundary=([^;\s]+)/.exec(String(res.headers['content-type']))![1]!;
      const { body, cut } = await readAll(res);
      t.ok(cut, 'the response is cut');
      const text = body.toString('latin1');
      t.equal(text.split(`--${boundary}\r\n`).length - 1, 2, 'two parts were sent');
      t.notOk(text.includes(`--${boundary}--`), 'no closing boundary');
      for (const [i, spec] of specs.slice(0, 2).entries()) {
        t.ok(body.includes(encodeInstance(spec)), `part ${i + 1} is whole`);
      }
    });

    t.test('the first part: a problem response, not a cut stream', async (t) => {
      await server.blobs.delete(rows[0]!.blobKey);
      const res = await get(seriesUrl);
      const { body } = await readAll(res);
      t.equal(res.statusCode, 503);
      t.match(res.headers['content-type'], /^application\/problem\+json/);
      t.equal(JSON.parse(body.toString()).code, 'INSTANCE_DATA_MISSING');
    });
  });
}
