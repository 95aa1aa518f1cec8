import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createBlobStore } from '@tessera/blob-store';
import { type Index, openIndex } from '@tessera/index';
import { createScratchDatabase, findInstance, findStudy } from '@tessera/index/testing';
import { buildApp, loadConfig } from '@tessera/server';
import { type FaultProxy, ctInstance, encodeInstance, multipartBuffer, newUid, startFaultProxy } from '@tessera/testkit';

/**
 * PostgreSQL faults, injected by a TCP proxy between the server and the (shared, never touched)
 * database: connection resets, a network that stops answering, a COMMIT or a BEGIN delivered late.
 * Issue #21, items 1, 2, 3 and 7. PostgreSQL only: the embedded PGlite has no connection to lose.
 */
const adminUrl = process.env.TESSERA_TEST_POSTGRES_URL;
if (!adminUrl) {
  t.comment('TESSERA_TEST_POSTGRES_URL is not set: the PostgreSQL fault tests need a PostgreSQL server');
} else {
  interface Rig {
    app: Awaited<ReturnType<typeof buildApp>>;
    index: Index;
    proxy: FaultProxy;
    url: string;
    connectionErrors: Error[];
  }

  /** A listening server whose index reaches a scratch database only through a fault proxy. */
  const rig = async (t: { teardown(fn: () => Promise<void>): void }, env: Record<string, string>): Promise<Rig> => {
    const database = await createScratchDatabase(adminUrl);
    const proxy = await startFaultProxy({ host: new URL(database.url).hostname, port: Number(new URL(database.url).port || 5432) });
    const dataDir = await mkdtemp(join(tmpdir(), 'tessera-faults-'));
    const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', DATABASE_URL: proxy.via(database.url), ...env });
    const connectionErrors: Error[] = [];
    const index = await openIndex(config.index, { onConnectionError: (error) => connectionErrors.push(error) });
    const blobs = createBlobStore(config.blobs);
    const app = await buildApp({ config, index, blobs, logger: process.env.TESSERA_TEST_LOG ? { level: process.env.TESSERA_TEST_LOG } : false });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    t.teardown(async () => {
      proxy.pass();
      await app.close();
      await index.close();
      await blobs.close();
      await proxy.close();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    });
    return { app, index, proxy, url, connectionErrors };
  };

  const stow = async (url: string, files: Buffer[]) => {
    const { contentType, payload } = await multipartBuffer(files);
    const res = await fetch(`${url}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': contentType }, body: payload });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const sopUids = (body: Record<string, unknown>): string[] =>
    ((body['00081199'] as { Value?: Record<string, { Value: string[] }>[] } | undefined)?.Value ?? []).map((item) => item['00081155']!.Value[0]!);

  t.test('connection resets while uploads hold pooled connections: no crash, 503 not 500, nothing acknowledged is lost', async (t) => {
    const { url, proxy, app } = await rig(t, { DATABASE_POOL_SIZE: '4', DATABASE_STATEMENT_TIMEOUT_MS: '5000' });
    const studyUid = newUid();
    const acknowledged: { series: string; sop: string; bytes: Buffer }[] = [];
    const statuses: number[] = [];
    // Rounds of 4 concurrent uploads of 40 instances each (2 index transactions each), with every
    // connection to PostgreSQL reset every few milliseconds until they have all answered.
    for (const everyMs of [30, 300, 1500]) {
      let done = false;
      const requests = Promise.all(
        Array.from({ length: 4 }, async () => {
          const seriesUid = newUid();
          const files = Array.from({ length: 40 }, () =>
            encodeInstance(ctInstance({ StudyInstanceUID: studyUid, SeriesInstanceUID: seriesUid, SOPInstanceUID: newUid() })),
          );
          const res = await stow(url, files);
          statuses.push(res.status);
          if (res.status === 200)
            for (const sop of sopUids(res.body)) acknowledged.push({ series: seriesUid, sop, bytes: files.find((f) => f.includes(Buffer.from(sop)))! });
        }),
      ).finally(() => {
        done = true;
      });
      while (!done) {
        await new Promise((resolve) => setTimeout(resolve, everyMs));
        proxy.reset();
      }
      await requests;
    }
    t.ok(
      statuses.every((s) => s === 200 || s === 503),
      `every upload answered 200 or 503 (${[...new Set(statuses)].join(', ')})`,
    );
    t.ok(statuses.includes(503), 'the resets did hit uploads in flight');
    t.ok(acknowledged.length > 0, `some uploads were stored between resets (${acknowledged.length} instances)`);
    t.ok(app.server.listening, 'the server is still up');
    // After the faults, the server serves again on new connections.
    const after = await stow(url, [encodeInstance(ctInstance({ StudyInstanceUID: studyUid }))]);
    t.equal(after.status, 200, 'an upload after the resets is stored');
    let retrievable = 0;
    for (const { series, sop, bytes } of acknowledged) {
      const res = await fetch(`${url}/wadouri?requestType=WADO&studyUID=${studyUid}&seriesUID=${series}&objectUID=${sop}&contentType=application/dicom`);
      if (res.status === 200 && Buffer.from(await res.arrayBuffer()).equals(bytes)) retrievable++;
    }
    t.equal(retrievable, acknowledged.length, 'every acknowledged instance is retrievable, byte for byte');
  });

  t.test('a COMMIT delivered after the client gave up: 503 "outcome unknown", and the committed rows keep their blobs', async (t) => {
    const { url, proxy, index } = await rig(t, { DATABASE_STATEMENT_TIMEOUT_MS: '1000', DATABASE_POOL_SIZE: '4' });
    const studyUid = newUid();
    const spec = ctInstance({ StudyInstanceUID: studyUid });
    const held = proxy.holdNext('commit\0', 3_500);
    const stored = await stow(url, [encodeInstance(spec)]);
    t.equal(stored.status, 503, 'the upload is not reported as failed or stored');
    t.equal(stored.body.code, 'INDEX_OUTCOME_UNKNOWN');
    t.match(String(stored.body.detail), /unknown/);
    await held;
    // The late COMMIT went through: the instance is indexed, and its bytes were kept.
    const sop = String(spec.attributes.SOPInstanceUID);
    let found: Awaited<ReturnType<typeof findInstance>> | undefined;
    for (let i = 0; i < 20 && !found; i++) {
      found = await findInstance(index, sop);
      if (!found) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    t.ok(found, 'the row committed');
    const retrieved = await fetch(`${url}/dicomweb/studies/${studyUid}/series/${found!.seriesInstanceUid}/instances/${sop}`, {
      headers: { accept: 'multipart/related; type="application/dicom"' },
    });
    t.equal(retrieved.status, 200);
    t.ok(Buffer.from(await retrieved.arrayBuffer()).includes(encodeInstance(spec)), 'WADO-RS retrieves it: its blob was not deleted');
    const wadoUri = await fetch(
      `${url}/wadouri?requestType=WADO&studyUID=${studyUid}&seriesUID=${found!.seriesInstanceUid}&objectUID=${sop}&contentType=application/dicom`,
    );
    t.equal(wadoUri.status, 200, 'WADO-URI retrieves it');
    t.same(Buffer.from(await wadoUri.arrayBuffer()), encodeInstance(spec), 'byte for byte');
    // The refresh of the request may have run before the late COMMIT; the study stayed marked.
    t.equal(await index.instances.refreshPendingStudies(), 1, 'the study was left marked for the sweep');
    t.equal((await findStudy(index, studyUid))?.numberOfInstances, 1, 'and its count is right after it');
  });

  t.test('a BEGIN that times out answers 503, not 500', async (t) => {
    const { url, proxy, index } = await rig(t, { DATABASE_STATEMENT_TIMEOUT_MS: '1000', DATABASE_POOL_SIZE: '4' });
    const spec = ctInstance();
    const held = proxy.holdNext('begin\0', 3_000);
    const res = await stow(url, [encodeInstance(spec)]);
    t.equal(res.status, 503);
    t.equal(res.body.code, 'INDEX_UNAVAILABLE');
    await held;
    t.notOk(await findInstance(index, String(spec.attributes.SOPInstanceUID)), 'nothing was stored');
  });

  t.test('after a blackhole, connections whose queries timed out are not reused: the next requests succeed', async (t) => {
    const { url, proxy } = await rig(t, { DATABASE_STATEMENT_TIMEOUT_MS: '500', DATABASE_POOL_SIZE: '2' });
    const search = () => fetch(`${url}/dicomweb/studies?PatientID=x`).then((res) => res.status);
    // Two idle pooled connections, then a network that stops answering.
    t.same(await Promise.all([search(), search()]), [204, 204], 'the pool is warm');
    proxy.blackhole();
    t.same(await Promise.all([search(), search()]), [503, 503], 'queries on the stalled connections time out with 503');
    proxy.pass();
    const after: number[] = [];
    for (let i = 0; i < 4; i++) after.push(await search());
    t.same(after, [204, 204, 204, 204], 'every request after the network heals succeeds');
  });
}
