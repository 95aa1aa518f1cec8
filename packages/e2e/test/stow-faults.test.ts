import { readdir } from 'node:fs/promises';
import { type ClientRequest, request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import t from 'tap';
import { buildApp } from '@tessera/server';
import {
  type BackendName,
  type TestStorage,
  backendNames,
  ctInstance,
  encodeInstance,
  multipartBuffer,
  openFilePaths,
  openTestStorage,
  waitUntil,
} from '@tessera/testkit';
import { indexCounts } from '@tessera/index/testing';

/**
 * STOW-RS under hostile or broken clients (issue #21, items 5, 6 and 8): bodies cut short, clients
 * that vanish mid-upload, on every storage back end. Nothing may be half-stored, no spool file or
 * file handle may outlive its request, and every handler must settle.
 */

// DEP0137 (a FileHandle closed by the garbage collector) only shows once the handle is collected.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const warnings: Error[] = [];
process.on('warning', (warning) => warnings.push(warning));

interface FaultServer extends TestStorage {
  app: Awaited<ReturnType<typeof buildApp>>;
  url: string;
  spoolDir: string;
  /** The server's log lines with this message. */
  logged(msg: string): number;
}

async function startFaultServer(backend: BackendName, env: Record<string, string> = {}): Promise<FaultServer> {
  const store = await openTestStorage(backend, env);
  const lines: Record<string, unknown>[] = [];
  const stream = {
    write: (line: string) => {
      lines.push(JSON.parse(line));
      if (process.env.TESSERA_TEST_LOG) process.stderr.write(line);
    },
  };
  const app = await buildApp({ config: store.config, index: store.index, blobs: store.blobs, logger: { level: 'info', stream } });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    ...store,
    app,
    url,
    spoolDir: join(store.dataDir, 'spool'),
    logged: (msg) => lines.filter((l) => l.msg === msg).length,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

const spoolFiles = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).filter((name) => name.endsWith('.part'));

/** Paths of this process's open file descriptors that lie under `dir`. */
async function openFilesUnder(dir: string): Promise<string[]> {
  return (await openFilePaths()).filter((target) => target.startsWith(`${dir}/`));
}

/** POSTs `payload` as the whole body (its Content-Length announced) over a real connection. */
function post(url: string, contentType: string, payload: Buffer): Promise<{ status: number; json: { code?: string } & Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL('/dicomweb/studies', url),
      { method: 'POST', headers: { 'content-type': contentType, 'content-length': payload.length } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    // A server that never answers fails the test instead of hanging it.
    req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
    req.end(payload);
  });
}

/** Starts an upload announcing all of `payload` but sending only its first `sent` bytes; the caller aborts it. */
function startUpload(url: string, contentType: string, payload: Buffer, sent: number): ClientRequest {
  const req = request(new URL('/dicomweb/studies', url), { method: 'POST', headers: { 'content-type': contentType, 'content-length': payload.length } });
  req.on('error', () => {}); // the abort is ours
  req.write(payload.subarray(0, sent));
  return req;
}

for (const backend of backendNames()) {
  t.test(`${backend}: STOW-RS faults`, async (t) => {
    const server = await startFaultServer(backend);
    t.teardown(() => server.close());
    // 2 MiB of pixel data: larger than one socket read and than the spool's in-memory head.
    const large = () => encodeInstance(ctInstance({}, { rows: 1024, columns: 1024, frames: 1 }));

    t.test('a body that ends mid-part is 400 MULTIPART_TRUNCATED (issue #21 item 8, STOW-6)', async (t) => {
      for (const [label, instance] of [
        ['small part', encodeInstance(ctInstance())],
        ['2 MiB part', large()],
      ] as const) {
        const { contentType, payload } = await multipartBuffer([instance]);
        const closing = payload.lastIndexOf(Buffer.from('\r\n--tessera-'));
        // Cut: inside the pixel data; just before the closing delimiter; after its CRLF (a partial boundary).
        for (const cutAt of [closing - 100, closing, closing + 2]) {
          const body = payload.subarray(0, cutAt);
          const injected = await server.app.inject({ method: 'POST', url: '/dicomweb/studies', headers: { 'content-type': contentType }, payload: body });
          t.equal(injected.statusCode, 400, `${label}, cut ${payload.length - cutAt} bytes before the end (inject): 400`);
          t.equal(JSON.parse(injected.body).code, 'MULTIPART_TRUNCATED', injected.body);
          const real = await post(server.url, contentType, body);
          t.equal(real.status, 400, `${label}, cut ${payload.length - cutAt} bytes before the end (HTTP): 400`);
          t.equal(real.json.code, 'MULTIPART_TRUNCATED');
        }
      }
      t.equal((await indexCounts(server.index)).instances, 0, 'nothing of a truncated part is indexed');
      t.same(await spoolFiles(server.spoolDir), [], 'no spool file is left');
    });

    t.test('a cut in a later part leaves nothing half-stored', async (t) => {
      const first = ctInstance();
      const { contentType, payload } = await multipartBuffer([encodeInstance(first), large()]);
      const res = await post(server.url, contentType, payload.subarray(0, payload.length - 500));
      t.equal(res.status, 400);
      t.equal(res.json.code, 'MULTIPART_TRUNCATED');
      // The first part waits in the chunk in progress, which a failed request does not index.
      t.equal((await indexCounts(server.index)).instances, 0, 'no instance of the chunk in progress is indexed');
      t.same(await spoolFiles(server.spoolDir), [], 'no spool file is left');
    });

    t.test('aborted uploads leave no spool file, no open handle, and settle (issue #21 item 5)', async (t) => {
      const UPLOADS = 20;
      const ABANDONED = 'STOW-RS upload abandoned: the client closed the connection';
      const before = server.logged(ABANDONED);
      const instance = large();
      const multipart = await multipartBuffer([encodeInstance(ctInstance()), instance]);
      const uploads: ClientRequest[] = [];
      for (let i = 0; i < UPLOADS; i++) {
        // Half multipart (cut inside the second part), half a single application/dicom body.
        uploads.push(
          i % 2
            ? startUpload(server.url, multipart.contentType, multipart.payload, multipart.payload.length - 1_000_000)
            : startUpload(server.url, 'application/dicom', instance, 1_500_000),
        );
      }
      t.ok(await waitUntil(async () => (await spoolFiles(server.spoolDir)).length >= UPLOADS, 60_000), `all ${UPLOADS} uploads are being spooled`);
      for (const upload of uploads) upload.destroy();

      t.ok(
        await waitUntil(() => server.logged(ABANDONED) - before >= UPLOADS, 30_000),
        `every handler settled and logged why (${server.logged(ABANDONED) - before} of ${UPLOADS})`,
      );
      t.ok(await waitUntil(async () => (await spoolFiles(server.spoolDir)).length === 0, 10_000), 'the spool directory is empty');
      t.same(await spoolFiles(server.spoolDir), []);
      t.same(await openFilesUnder(server.spoolDir), [], 'no file descriptor is open on a spool file');
      gc();
      await new Promise((resolve) => setTimeout(resolve, 200));
      gc();
      await new Promise((resolve) => setTimeout(resolve, 200));
      t.same(
        warnings.filter((w) => (w as { code?: string }).code === 'DEP0137').map((w) => w.message),
        [],
        'no file handle was left to the garbage collector (DEP0137)',
      );
      t.equal((await indexCounts(server.index)).instances, 0, 'nothing of an aborted upload is indexed');
    });
  });

  t.test(`${backend}: slow clients are bounded by HTTP_BODY_TIMEOUT_MS and HTTP_IDLE_TIMEOUT_MS (issue #21 item 6)`, async (t) => {
    const server = await startFaultServer(backend, { HTTP_BODY_TIMEOUT_MS: '1000', HTTP_IDLE_TIMEOUT_MS: '2000' });
    t.teardown(() => server.close());

    t.test('an upload at a normal pace is stored', async (t) => {
      const res = await post(server.url, 'application/dicom', encodeInstance(ctInstance({}, { rows: 1024, columns: 1024, frames: 1 })));
      t.equal(res.status, 200);
    });

    t.test('time the server spends storing is not counted against the client', async (t) => {
      // 40 parts of 2 MiB: the first chunk of 32 is stored while the rest of the body waits
      // unread, longer than the 1 s body timeout on S3 here (without the unread-bytes rule it got 408).
      const specs = Array.from({ length: 40 }, (_, i) => ctInstance({ InstanceNumber: i + 1 }, { rows: 1024, columns: 1024, frames: 1 }));
      const { contentType, payload } = await multipartBuffer(specs.map(encodeInstance));
      const started = Date.now();
      const res = await post(server.url, contentType, payload);
      t.comment(`${(payload.length / 2 ** 20).toFixed(0)} MiB stored in ${Date.now() - started} ms`);
      t.equal(res.status, 200, 'all stored, no 408');
      t.equal((res.json['00081199'] as { Value: unknown[] } | undefined)?.Value.length, 40);
    });

    for (const [label, contentType, head, trickle] of [
      [
        'a multipart upload trickling one byte every 200 ms',
        'multipart/related; type="application/dicom"; boundary=b',
        '--b\r\nContent-Type: application/dicom\r\n\r\n',
        true,
      ],
      ['an application/dicom upload that stops sending', 'application/dicom', 'DICM', false],
    ] as const) {
      t.test(`${label} gets 408 BODY_TIMEOUT and the connection is closed`, async (t) => {
        const { port } = new URL(server.url);
        const socket = connect(Number(port), '127.0.0.1');
        let answer = '';
        socket.setEncoding('latin1');
        socket.on('data', (chunk: string) => (answer += chunk));
        const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
        socket.on('error', () => {});
        socket.write(`POST /dicomweb/studies HTTP/1.1\r\nHost: x\r\nContent-Type: ${contentType}\r\nContent-Length: 100000\r\n\r\n${head}${'x'.repeat(200)}`);
        const started = Date.now();
        const trickler = trickle ? setInterval(() => socket.write('x'), 200) : undefined;
        t.teardown(() => {
          clearInterval(trickler);
          socket.destroy();
        });
        const closedInTime = await Promise.race([closed.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 15_000))]);
        clearInterval(trickler);
        t.ok(closedInTime, `the server closed the connection (after ${Date.now() - started} ms)`);
        t.match(answer, /^HTTP\/1\.1 408 /, 'the answer is 408 Request Timeout');
        t.match(answer, /"code":"BODY_TIMEOUT"/, 'with the problem code BODY_TIMEOUT');
        t.ok(await waitUntil(async () => (await spoolFiles(server.spoolDir)).length === 0, 5_000), 'its spool file is removed');
        t.same(await openFilesUnder(server.dataDir), [], 'no file descriptor is left open');
      });
    }

    t.test('a client that stops reading a large retrieval is disconnected', async (t) => {
      // 48 MiB: far more than the loopback socket buffers hold, so the server's writes stall.
      const spec = ctInstance({}, { rows: 2048, columns: 2048, frames: 6 });
      const stored = await server.app.inject({
        method: 'POST',
        url: '/dicomweb/studies',
        headers: { 'content-type': 'application/dicom' },
        payload: encodeInstance(spec),
      });
      t.equal(stored.statusCode, 200, stored.body);
      const a = spec.attributes;
      const { port } = new URL(server.url);
      const socket = connect(Number(port), '127.0.0.1');
      socket.on('error', () => {});
      t.teardown(() => socket.destroy());
      let received = 0;
      socket.once('data', (chunk: Buffer) => {
        received += chunk.length;
        socket.pause(); // and never read again
      });
      socket.write(
        `GET /wadouri?requestType=WADO&studyUID=${a.StudyInstanceUID}&seriesUID=${a.SeriesInstanceUID}&objectUID=${a.SOPInstanceUID}&contentType=application/dicom HTTP/1.1\r\nHost: x\r\n\r\n`,
      );
      const connections = () =>
        new Promise<number>((resolve, reject) => server.app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
      t.ok(await waitUntil(() => received > 0, 10_000), 'the response started');
      t.ok(await waitUntil(async () => (await connections()) === 0, 15_000), 'the server closed the stalled connection');
      t.ok(await waitUntil(async () => (await openFilesUnder(server.dataDir)).length === 0, 5_000), 'and released the blob it was reading');
    });
  });
}
