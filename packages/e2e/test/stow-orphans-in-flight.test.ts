import { request } from 'node:http';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { indexCounts } from '@tessera/index/testing';
import { collectOrphans } from '@tessera/stow-rs';
import { backendNames, ctInstance, encodeInstance, startTestServer } from '@tessera/testkit';

/** `tessera gc` with the default grace period never collects what an upload still in flight wrote. */
for (const backend of backendNames()) {
  t.test(`${backend}: an upload held mid-body survives gc with the default grace period`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const body = encodeInstance(ctInstance());
    const half = Math.floor(body.length / 2);
    let held: () => void = () => undefined;
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        `${server.url}/dicomweb/studies`,
        { method: 'POST', headers: { 'content-type': 'application/dicom', 'content-length': String(body.length) } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.write(body.subarray(0, half));
      held = () => req.end(body.subarray(half));
    });
    const spoolDir = join(server.dataDir, 'spool');
    // Wait until the server has begun spooling the held body.
    for (let i = 0; i < 200 && (await readdir(spoolDir).catch(() => [])).length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    const spooled = await readdir(spoolDir).catch(() => [] as string[]);
    t.ok(spooled.length > 0, 'the held upload is being spooled');

    const report = await collectOrphans(server.index, server.blobs, { spoolDir, graceMs: 60 * 60_000 });
    t.same(report.removed, [], 'no blob of the in-flight upload is collected');
    t.equal(report.spoolFilesRemoved, 0, 'its spool file is left alone');
    t.same(await readdir(spoolDir), spooled, 'the spool file is still there');

    held();
    const done = await response;
    t.equal(done.status, 200, 'the upload completes after gc ran');
    t.equal((await indexCounts(server.index)).instances, 1, 'and its instance is stored');
    let referenced = 0;
    for await (const info of server.blobs.list('instances/')) referenced += (await server.index.instances.isBlobReferenced(info.key)) ? 1 : 0;
    t.equal(referenced, 1, 'its blob is stored and referenced');
  });
}
