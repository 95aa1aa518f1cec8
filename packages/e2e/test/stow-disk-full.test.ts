import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { IndexStorageFullError, openIndex } from '@tessera/index';
import { backendNames, ctInstance, encodeInstance, multipartBuffer, startTestServer } from '@tessera/testkit';
import { findInstance, indexCounts } from '@tessera/index/testing';

/**
 * A full disk (issue #21 item 4), on a real full file system: a 1 MiB tmpfs mounted over the
 * spool or blob directory (root can mount; CI runs as root). An instance that finds no space fails
 * with FailureReason A700 (STOW-5, STOW-8: storage exhausted → 42752); a request of which nothing
 * could be stored for want of space is 503 STORAGE_FULL; never a 500 with a raw ENOSPC.
 */

const OUT_OF_RESOURCES = 42752; // 0xA700

/** Mounts a 1 MiB tmpfs on `dir`; undefined when this machine does not allow it. */
function mountTiny(dir: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `cannot mount a tmpfs (needs root): ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  }
}
const unmount = (dir: string) => execFileSync('umount', ['-l', dir]);

/** 2 MiB of pixel data: more than the 1 MiB file system holds. */
const large = () => ctInstance({}, { rows: 1024, columns: 1024, frames: 1 });
const uidsIn = (body: Record<string, { Value?: Record<string, { Value?: unknown[] }>[] }>, tag: string) =>
  (body[tag]?.Value ?? []).map((item) => item['00081155']?.Value?.[0]);
const reasonsIn = (body: Record<string, { Value?: Record<string, { Value?: unknown[] }>[] }>, tag: string) =>
  (body[tag]?.Value ?? []).map((item) => item['00081197']?.Value?.[0]);

for (const backend of backendNames()) {
  t.test(`${backend}: a full spool disk`, async (t) => {
    const server = await startTestServer(backend);
    const spoolDir = join(server.dataDir, 'spool');
    await mkdir(spoolDir, { recursive: true });
    const skip = mountTiny(spoolDir);
    if (skip) {
      await server.close();
      return t.plan(0, skip);
    }
    t.teardown(async () => {
      unmount(spoolDir);
      await server.close();
    });
    const inject = (contentType: string, payload: Buffer) =>
      server.app.inject({ method: 'POST', url: '/dicomweb/studies', headers: { 'content-type': contentType }, payload });

    const small1 = ctInstance();
    const small2 = ctInstance();
    const { contentType, payload } = await multipartBuffer([encodeInstance(small1), encodeInstance(large()), encodeInstance(small2)]);
    const mixed = await inject(contentType, payload);
    t.equal(mixed.statusCode, 202, 'the instances that fit are stored, the other fails');
    const body = JSON.parse(mixed.body);
    t.same(
      uidsIn(body, '00081199'),
      [small1.attributes.SOPInstanceUID, small2.attributes.SOPInstanceUID],
      'both small instances stored, also the one after the failure',
    );
    t.same(reasonsIn(body, '0008119A'), [OUT_OF_RESOURCES], 'the part that did not fit the spool: A700 in OtherFailuresSequence (its UIDs were never read)');
    t.equal((await indexCounts(server.index)).instances, 2);

    const alone = await inject('application/dicom', encodeInstance(large()));
    t.equal(alone.statusCode, 503, 'nothing could be spooled: 503');
    t.equal(alone.headers['content-type'], 'application/problem+json; charset=utf-8');
    t.equal(JSON.parse(alone.body).code, 'STORAGE_FULL');
    t.equal(alone.headers['retry-after'], '5', 'the 503 says when to retry (found by pnpm reliability)');

    const onlyLarge = await multipartBuffer([encodeInstance(large()), encodeInstance(large())]);
    const none = await inject(onlyLarge.contentType, onlyLarge.payload);
    t.equal(none.statusCode, 503, 'no part of a multipart body could be spooled: 503');
    t.equal(JSON.parse(none.body).code, 'STORAGE_FULL');

    t.same(
      (await readdir(spoolDir)).filter((name) => name.endsWith('.part')),
      [],
      'no partial spool file is left',
    );
    t.equal((await indexCounts(server.index)).instances, 2, 'nothing half-stored');
  });
}

t.test('embedded: a full blob store disk', async (t) => {
  const server = await startTestServer('embedded');
  const blobsDir = join(server.dataDir, 'blobs');
  await mkdir(blobsDir, { recursive: true });
  const skip = mountTiny(blobsDir);
  if (skip) {
    await server.close();
    return t.plan(0, skip);
  }
  t.teardown(async () => {
    unmount(blobsDir);
    await server.close();
  });
  // The store made its temporary directory before the mount hid it.
  await mkdir(join(blobsDir, '.tmp'), { recursive: true });
  const inject = (contentType: string, payload: Buffer) =>
    server.app.inject({ method: 'POST', url: '/dicomweb/studies', headers: { 'content-type': contentType }, payload });

  const small = ctInstance();
  const big = large();
  const { contentType, payload } = await multipartBuffer([encodeInstance(small), encodeInstance(big)]);
  const mixed = await inject(contentType, payload);
  t.equal(mixed.statusCode, 202);
  const body = JSON.parse(mixed.body);
  t.same(uidsIn(body, '00081199'), [small.attributes.SOPInstanceUID], 'the instance that fits is stored');
  t.same(uidsIn(body, '00081198'), [big.attributes.SOPInstanceUID], 'the other is in FailedSOPSequence');
  t.same(reasonsIn(body, '00081198'), [OUT_OF_RESOURCES], 'with FailureReason A700');
  t.notOk(await findInstance(server.index, String(big.attributes.SOPInstanceUID)), 'no row without its blob');

  const alone = await inject('application/dicom', encodeInstance(large()));
  t.equal(alone.statusCode, 503, 'nothing stored, only for want of space: 503');
  t.equal(JSON.parse(alone.body).code, 'STORAGE_FULL');
  t.same(
    (await readdir(join(server.dataDir, 'spool'))).filter((name) => name.endsWith('.part')),
    [],
    'no spool file is left',
  );
  t.same(await readdir(join(blobsDir, '.tmp')), [], 'no partial blob is left');
});

t.test('starting the embedded index on a full disk says what is full', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-full-'));
  const skip = mountTiny(dir);
  if (skip) {
    await rm(dir, { recursive: true, force: true });
    return t.plan(0, skip);
  }
  t.teardown(async () => {
    unmount(dir);
    await rm(dir, { recursive: true, force: true });
  });
  // Fill it to the last byte.
  await writeFile(join(dir, 'filler'), Buffer.alloc(2 << 20)).catch(() => {});
  const dataDir = join(dir, 'index');
  const error = await openIndex({ kind: 'pglite', dataDir }).then(
    async (index) => {
      await index.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  t.ok(error instanceof IndexStorageFullError, `an IndexStorageFullError, not ${String(error)}`);
  t.match((error as Error | undefined)?.message, dataDir, 'the message names the directory');
  t.match((error as Error | undefined)?.message, /full \(no space left on device\)/, 'and says the disk is full');
});
