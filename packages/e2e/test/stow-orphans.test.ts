import { mkdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { renderingsPrefix } from '@tessera/blob-store';
import { collectOrphans } from '@tessera/stow-rs';
import { backendNames, ctInstance, encodeInstance, startTestServer } from '@tessera/testkit';
import { indexCounts } from '@tessera/index/testing';

/** `tessera gc`: what a crash between the blob write and the index commit leaves is collected. */
for (const backend of backendNames()) {
  t.test(`${backend}: unreferenced blobs and stale spool files are removed, nothing else`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const stored = await server.app.inject({
      method: 'POST',
      url: '/dicomweb/studies',
      headers: { 'content-type': 'application/dicom' },
      payload: encodeInstance(ctInstance()),
    });
    t.equal(stored.statusCode, 200);
    const orphan = 'instances/1.2.3/1.2.3.4/1.2.3.4.5/0000.dcm';
    await server.blobs.put(orphan, Buffer.from('left by a crash'), 15);
    // Cached renderings: one of the stored instance, and one written late for an instance deleted meanwhile.
    let storedKey = '';
    for await (const info of server.blobs.list('instances/')) if (await server.index.instances.isBlobReferenced(info.key)) storedKey = info.key;
    t.ok(storedKey, 'the stored instance has a referenced blob');
    const keptRendering = `${renderingsPrefix(storedKey)}thumbnail-1-jpeg`;
    const lateRendering = `${renderingsPrefix('instances/1.2.3/1.2.3.4/1.2.3.4.6.0a1b.c2d3.dcm')}thumbnail-1-jpeg`;
    await server.blobs.put(keptRendering, Buffer.from('jpeg'), 4);
    await server.blobs.put(lateRendering, Buffer.from('jpeg'), 4);
    const spoolDir = join(server.dataDir, 'spool-test');
    await mkdir(spoolDir, { recursive: true });
    const stale = join(spoolDir, 'stale.part');
    await writeFile(stale, 'partial');
    await utimes(stale, new Date(Date.now() - 7_200_000), new Date(Date.now() - 7_200_000));
    await writeFile(join(spoolDir, 'fresh.part'), 'in progress');

    const dry = await collectOrphans(server.index, server.blobs, { spoolDir, graceMs: 0, dryRun: true });
    t.same(dry.removed, [orphan], 'the dry run names only the orphan');
    t.same(dry.renderingsRemoved, [lateRendering], 'and only the rendering of an instance no row references');
    t.ok(await server.blobs.head(orphan), 'a dry run removes nothing');
    t.ok(await server.blobs.head(lateRendering), 'not even a rendering');

    const young = await collectOrphans(server.index, server.blobs, { spoolDir, graceMs: 3_600_000 });
    t.same(young.removed, [], 'blobs younger than the grace period are left alone (a store may be in progress)');
    t.same(young.renderingsRemoved, [], 'renderings younger than the grace period too');
    t.equal(young.spoolFilesRemoved, 1, 'the spool file older than the grace period is removed');
    t.ok(await stat(join(spoolDir, 'fresh.part')).catch(() => undefined), 'a fresh spool file is kept');

    const now = await collectOrphans(server.index, server.blobs, { spoolDir, graceMs: 0 });
    t.same(now.removed, [orphan], 'with no grace period the orphan blob is removed');
    t.notOk(await server.blobs.head(orphan), 'it is gone');
    t.same(now.renderingsRemoved, [lateRendering], 'the late rendering is removed');
    t.notOk(await server.blobs.head(lateRendering), 'it is gone');
    t.ok(await server.blobs.head(keptRendering), 'the stored instance keeps its rendering');
    t.equal(now.examined, 2, 'the referenced blob was examined too');
    let remaining = 0;
    for await (const info of server.blobs.list('instances/')) remaining += (await server.index.instances.isBlobReferenced(info.key)) ? 1 : 0;
    t.equal(remaining, 1, 'the referenced blob remains');
    t.equal((await indexCounts(server.index)).instances, 1);
  });
}
