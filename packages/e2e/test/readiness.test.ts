import { createServer } from 'node:net';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import t, { type Test } from 'tap';
import { createBlobStore } from '@tessera/blob-store';
import { openIndex } from '@tessera/index';
import { buildApp, loadConfig } from '@tessera/server';
import { backendNames, openTestStorage, startS3Server, startTestServer } from '@tessera/testkit';

/**
 * `/readyz` is public: it answers a status per component (ok / unavailable) and nothing else; the
 * paths, hosts, ports, database names and driver errors are in the server log (issue #21, item 12).
 */

/** A loopback port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

/** A pino destination that keeps the log lines. */
function logSink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: { level: 'warn', stream }, text: () => lines.join('') };
}

function assertNothingLeaks(t: Test, json: string, secrets: (string | number)[]) {
  // The problem `type` is a link to docs/errors.md: everything else is checked.
  const { type: _link, ...rest } = JSON.parse(json) as Record<string, unknown>;
  const body = JSON.stringify(rest);
  for (const secret of secrets) t.notOk(body.includes(String(secret)), `the body does not contain ${secret}`);
  t.notMatch(body, /\/(tmp|var|home|root|data)\b/, 'no file path');
  t.notMatch(body, /\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/, 'no IP address');
  t.notMatch(body, /\bE[A-Z]{4,}\b/, 'no errno code');
  t.notMatch(body, /error|does not answer|not writable|refused|timed? ?out|postgres|pglite|s3|bucket/i, 'no driver error or back-end name');
}

for (const backend of backendNames()) {
  t.test(`${backend}: ready`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const res = await server.app.inject({ method: 'GET', url: '/readyz' });
    t.equal(res.statusCode, 200);
    t.same(JSON.parse(res.body), { status: 'ready', index: 'ok', blobStore: 'ok' }, 'a status per component, nothing else');
    const index = server.config.index;
    assertNothingLeaks(t, res.body, [server.dataDir, ...(index.kind === 'postgres' ? [new URL(index.url).host, new URL(index.url).pathname.slice(1)] : [])]);
  });
}

t.test('embedded: blob store unavailable (its root is a file)', async (t) => {
  const storage = await openTestStorage('embedded');
  const sink = logSink();
  const app = await buildApp({ config: storage.config, index: storage.index, blobs: storage.blobs, logger: sink.logger });
  t.teardown(async () => {
    await app.close();
    await storage.close();
  });
  const root = join(storage.dataDir, 'blobs');
  await rm(root, { recursive: true, force: true });
  await writeFile(root, 'not a directory');
  const res = await app.inject({ method: 'GET', url: '/readyz' });
  t.equal(res.statusCode, 503);
  t.match(res.headers['content-type'], /^application\/problem\+json/);
  const body = JSON.parse(res.body);
  t.equal(body.code, 'NOT_READY');
  t.equal(body.index, 'ok');
  t.equal(body.blobStore, 'unavailable');
  assertNothingLeaks(t, res.body, [storage.dataDir]);
  t.ok(sink.text().includes(root), 'the log names the blob root');
});

t.test(
  'postgres+s3: database on a closed port, S3 server stopped',
  { skip: !backendNames().includes('postgres+s3') && 'needs TESSERA_TEST_POSTGRES_URL and TESSERA_TEST_S3=1' },
  async (t) => {
    const port = await closedPort();
    const databaseUrl = `postgres://tessera:s3cr3t-pw@127.0.0.1:${port}/tessera_ready_db`;
    const s3 = await startS3Server();
    await s3.stop();
    const s3Port = new URL(s3.endpoint).port;
    const config = loadConfig({
      DATA_DIR: t.testdirName,
      LOG_LEVEL: 'silent',
      DATABASE_URL: databaseUrl,
      DATABASE_STATEMENT_TIMEOUT_MS: '1000',
      S3_BUCKET: s3.bucket,
      S3_ENDPOINT: s3.endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: 'secret-key-of-s3',
      S3_REQUEST_TIMEOUT_MS: '2000',
    });
    const index = await openIndex(config.index, { migrate: false });
    const blobs = createBlobStore(config.blobs);
    const sink = logSink();
    const app = await buildApp({ config, index, blobs, logger: sink.logger });
    t.teardown(async () => {
      await app.close();
      await index.close();
      await blobs.close();
    });
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    t.equal(res.statusCode, 503);
    const body = JSON.parse(res.body);
    t.equal(body.index, 'unavailable');
    t.equal(body.blobStore, 'unavailable');
    assertNothingLeaks(t, res.body, [port, s3Port, 'tessera_ready_db', 's3cr3t-pw', 'tessera-test', 'secret-key-of-s3']);
    const log = sink.text();
    t.match(log, /readiness check failed/, 'the failures are logged');
    t.match(log, new RegExp(`127\\.0\\.0\\.1:${port}`), 'the log names the database host and port');
    t.notOk(log.includes('s3cr3t-pw'), 'the log does not contain the database password');
    t.notOk(log.includes('secret-key-of-s3'), 'the log does not contain the S3 secret key');
  },
);
