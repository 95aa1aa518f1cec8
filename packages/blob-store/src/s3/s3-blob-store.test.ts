import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { startS3Server } from '@tessera/s3-test-server';
import t from 'tap';
import { runBlobStoreContract } from '../testing/blob-store-contract.js';
import { BlobStoreUnavailableError } from '../errors.js';
import { ensureBucket } from '../testing/ensure-bucket.js';
import { S3BlobStore } from './s3-blob-store.js';

// Integration suite: needs no external service (s3rver runs in-process) but is slow, so it is opt-in.
if (process.env.TESSERA_TEST_S3 !== '1') {
  t.plan(0, 'S3 suite disabled: set TESSERA_TEST_S3=1');
} else {
  const server = await startS3Server();
  t.teardown(server.stop);

  // A key prefix, so that the contract's "list strips the prefix" checks mean something.
  runBlobStoreContract(t, 's3 (s3rver)', async () => {
    const store = new S3BlobStore({ ...server, prefix: 'contract' });
    return { store, cleanup: () => store.close() };
  });

  t.test('s3 specifics', async (t) => {
    t.test('keys live under the store prefix in the bucket', async (t) => {
      const prefixed = new S3BlobStore({ ...server, prefix: 'tenant-a/' });
      const whole = new S3BlobStore(server);
      t.teardown(() => Promise.all([prefixed.close(), whole.close()]));
      await prefixed.put('x/y', Buffer.from('z'), 1);
      t.equal((await whole.head('tenant-a/x/y'))?.size, 1);
      const listed: string[] = [];
      for await (const { key } of prefixed.list('')) listed.push(key);
      t.same(listed, ['x/y']);
    });

    t.test('list follows continuation tokens past one page (1000 keys)', async (t) => {
      const store = new S3BlobStore({ ...server, prefix: 'pages' });
      t.teardown(() => store.close());
      const count = 1005;
      const keys = Array.from({ length: count }, (_, index) => `k/${String(index).padStart(4, '0')}`);
      for (let start = 0; start < count; start += 250) {
        await Promise.all(keys.slice(start, start + 250).map((key) => store.put(key, Buffer.from('x'), 1)));
      }
      const listed: string[] = [];
      for await (const { key } of store.list('k/')) listed.push(key);
      t.same(listed.sort(), keys);
    });

    t.test('check() passes; ensureBucket creates a missing bucket', async (t) => {
      const options = { ...server, bucket: 'created-by-ensure-bucket' };
      const store = new S3BlobStore(options);
      t.teardown(() => store.close());
      await t.rejects(store.check(), BlobStoreUnavailableError, 'missing bucket');
      await ensureBucket(options);
      await ensureBucket(options); // idempotent
      await store.check();
    });

    t.test('a closed port fails check() with BlobStoreUnavailableError within seconds', async (t) => {
      const port = await closedPort();
      const store = new S3BlobStore({ ...server, endpoint: `http://127.0.0.1:${port}`, requestTimeoutMs: 1000 });
      t.teardown(() => store.close());
      const started = Date.now();
      await t.rejects(store.check(), BlobStoreUnavailableError);
      await t.rejects(store.get('any/key'), BlobStoreUnavailableError, 'reads fail the same way');
      t.ok(Date.now() - started < 5000, `failed in ${Date.now() - started} ms`);
    });

    t.test('a server that accepts but never answers times out instead of hanging', async (t) => {
      const { port, close } = await silentServer();
      t.teardown(close);
      const store = new S3BlobStore({ ...server, endpoint: `http://127.0.0.1:${port}`, requestTimeoutMs: 500 });
      t.teardown(() => store.close());
      const started = Date.now();
      await t.rejects(store.check(), BlobStoreUnavailableError);
      t.ok(Date.now() - started < 5000, `failed in ${Date.now() - started} ms`);
    });

    // Found by `pnpm reliability` (dependency faults): a GetObject body that stalled after its headers
    // failed with the SDK's raw TimeoutError, which WADO-RS answered with a 500 instead of a 503.
    t.test('a body that stalls after the response headers fails with BlobStoreUnavailableError', async (t) => {
      const sockets = new Set<Socket>();
      const stalling = createHttpServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1000', 'last-modified': new Date().toUTCString() });
        response.write(Buffer.alloc(10, 1)); // then nothing more
      });
      stalling.on('connection', (socket: Socket) => sockets.add(socket));
      const { port, close } = await listen(stalling);
      t.teardown(() => {
        for (const socket of sockets) socket.destroy();
        return close();
      });
      const store = new S3BlobStore({ ...server, endpoint: `http://127.0.0.1:${port}`, requestTimeoutMs: 500 });
      t.teardown(() => store.close());
      const body = await store.get('any/key');
      const read = (async () => {
        for await (const chunk of body) void chunk;
      })();
      await t.rejects(read, BlobStoreUnavailableError, 'reading the body fails as the request would');
    });
  });
}

/** A loopback port nothing listens on: bound once to get a free number, then released. */
async function closedPort(): Promise<number> {
  const { port, close } = await listen(createServer());
  await close();
  return port;
}

/** Accepts TCP connections and never sends a byte, like a stalled S3 endpoint. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const listening = await listen(server);
  return {
    port: listening.port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return listening.close();
    },
  };
}

function listen(server: Server): Promise<{ port: number; close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
      resolve({
        port: address.port,
        close: () => new Promise<void>((done, fail) => server.close((error) => (error ? fail(error) : done()))),
      });
    });
  });
}
