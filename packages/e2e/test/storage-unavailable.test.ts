import t from 'tap';
import { createBlobStore } from '@tessera/blob-store';
import { IndexUnavailableError, openIndex } from '@tessera/index';
import { buildApp, loadConfig } from '@tessera/server';
import { ctInstance, encodeInstance } from '@tessera/testkit';
import { findInstance, indexCounts } from '@tessera/index/testing';

/** A storage back end that cannot be reached gives 503 problems, never hangs or 500s. */

t.test('an unreachable Postgres surfaces as IndexUnavailableError', async (t) => {
  const index = await openIndex({ kind: 'postgres', url: 'postgres://tessera@127.0.0.1:1/none', statementTimeoutMs: 1000 }, { migrate: false });
  t.teardown(() => index.close());
  await t.rejects(findInstance(index, '1.2.3'), IndexUnavailableError, 'a query on a closed port');
  await t.rejects(index.check(), IndexUnavailableError, 'the readiness check');
});

t.test('an unreachable S3 endpoint makes STOW answer 503 and /readyz 503', async (t) => {
  const config = loadConfig({
    DATA_DIR: t.testdirName,
    LOG_LEVEL: 'silent',
    S3_BUCKET: 'b',
    S3_ENDPOINT: 'http://127.0.0.1:1',
    S3_FORCE_PATH_STYLE: 'true',
    S3_ACCESS_KEY_ID: 'x',
    S3_SECRET_ACCESS_KEY: 'y',
    S3_REQUEST_TIMEOUT_MS: '2000',
  });
  const index = await openIndex({ kind: 'pglite' });
  const blobs = createBlobStore(config.blobs);
  const app = await buildApp({ config, index, blobs, logger: false });
  t.teardown(async () => {
    await app.close();
    await index.close();
    await blobs.close();
  });
  const res = await app.inject({
    method: 'POST',
    url: '/dicomweb/studies',
    headers: { 'content-type': 'application/dicom' },
    payload: encodeInstance(ctInstance()),
  });
  t.equal(res.statusCode, 503);
  t.equal(JSON.parse(res.body).code, 'BLOB_STORE_UNAVAILABLE');
  // Found by `pnpm reliability` (dependency faults): the 503 said "retry later" without a Retry-After.
  t.equal(res.headers['retry-after'], '5', 'the 503 says when to retry (RFC 9110 §10.2.3)');
  t.equal((await indexCounts(index)).instances, 0, 'no row without its blob');
  const ready = await app.inject({ method: 'GET', url: '/readyz' });
  t.equal(ready.statusCode, 503);
  t.match(JSON.parse(ready.body), { blobStore: 'unavailable', index: 'ok' }, 'readiness names the blob store as the component down');
});
