import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { type BlobStore, createBlobStore } from '@tessera/blob-store';
import { ensureBucket } from '@tessera/blob-store/testing';
import { type Index, openIndex } from '@tessera/index';
import { createScratchDatabase } from '@tessera/index/testing';
import { buildApp, loadConfig } from '@tessera/server';
import { REPOSITORY_ROOT, type S3TestServer, backendNames, ctInstance, encodeInstance, newUid, startS3Server } from '@tessera/testkit';
import { bearer, createKey } from './access/access-fixture.js';
import { runCli } from '@tessera/testkit';

// Issue #15, "Backup and restore": the documented procedure (scripts/backup-*.sh, restore-*.sh),
// run for real on both deployments while clients keep uploading; then everything is wiped, restored
// into fresh storage, and checked: `tessera verify --level checksum` finds nothing, every instance
// acknowledged before the backup started is back (QIDO counts of that study equal those at backup
// time), nothing unacknowledged appears, and sampled WADO retrieves are byte-identical.
// Takes about 1–2 minutes per deployment on a shared 2-core machine.

interface Running {
  app: FastifyInstance;
  index: Index;
  blobs: BlobStore;
  url: string;
  close(): Promise<void>;
}

async function startServer(env: Record<string, string>): Promise<Running> {
  const config = loadConfig({ LOG_LEVEL: 'silent', ...env });
  const index = await openIndex(config.index);
  const blobs = createBlobStore(config.blobs);
  const app = await buildApp({ config, index, blobs, logger: false });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    index,
    blobs,
    url,
    async close() {
      await app.close();
      await index.close();
      await blobs.close();
    },
  };
}

function runScript(name: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(REPOSITORY_ROOT, 'scripts', name), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

interface Uploaded {
  study: string;
  series: string;
  sop: string;
}

async function stow(url: string, key: string | undefined, study: string, series: string, number: number): Promise<Uploaded | undefined> {
  const sop = newUid();
  const body = encodeInstance(
    ctInstance({ StudyInstanceUID: study, SeriesInstanceUID: series, SOPInstanceUID: sop, InstanceNumber: number }, { rows: 32, columns: 32, frames: 1 }),
  );
  const response = await fetch(`${url}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': 'application/dicom', ...bearer(key) }, body });
  await response.arrayBuffer();
  return response.status === 200 ? { study, series, sop } : undefined;
}

async function wado(url: string, key: string | undefined, u: Uploaded): Promise<Buffer> {
  const query = new URLSearchParams({ requestType: 'WADO', studyUID: u.study, seriesUID: u.series, objectUID: u.sop, contentType: 'application/dicom' });
  const response = await fetch(`${url}/wado?${query}`, { headers: bearer(key) });
  if (response.status !== 200) throw new Error(`WADO-URI answered ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

async function qidoCount(url: string, key: string | undefined, path: string): Promise<number> {
  const response = await fetch(`${url}${path}`, { headers: { accept: 'application/dicom+json', ...bearer(key) } });
  if (response.status === 204) return 0;
  const text = await response.text();
  if (response.status !== 200) throw new Error(`QIDO ${path} answered ${response.status}: ${text}`);
  return (JSON.parse(text) as unknown[]).length;
}

interface Deployment {
  /** Server settings of fresh, empty storage. */
  fresh(): Promise<{ env: Record<string, string>; wipe(): Promise<void> }>;
  backup(env: Record<string, string>, url: string, adminKey: string | undefined, out: string): Promise<{ code: number | null; output: string }>;
  restore(env: Record<string, string>, backupDir: string): Promise<{ code: number | null; output: string }>;
  auth: boolean;
}

const embedded: Deployment = {
  auth: true,
  async fresh() {
    const dataDir = await mkdtemp(join(tmpdir(), 'tessera-backup-embedded-'));
    return { env: { DATA_DIR: dataDir, AUTH_MODE: 'apikey' }, wipe: () => rm(dataDir, { recursive: true, force: true }) };
  },
  backup: (env, url, adminKey, out) =>
    runScript('backup-embedded.sh', [out], { TESSERA_URL: url, DATA_DIR: env.DATA_DIR!, ...(adminKey ? { TESSERA_ADMIN_KEY: adminKey } : {}) }),
  restore: (env, backupDir) => runScript('restore-embedded.sh', [backupDir], { DATA_DIR: env.DATA_DIR! }),
};

const production: Deployment = {
  auth: false,
  async fresh() {
    const dataDir = await mkdtemp(join(tmpdir(), 'tessera-backup-production-'));
    const database = await createScratchDatabase(process.env.TESSERA_TEST_POSTGRES_URL!, 'backup');
    let s3: S3TestServer;
    try {
      s3 = await startS3Server();
    } catch (error) {
      await database.drop();
      throw error;
    }
    await ensureBucket(s3);
    return {
      env: { DATA_DIR: dataDir, DATABASE_URL: database.url, ...s3.env('archive/') },
      async wipe() {
        await database.drop();
        await s3.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  },
  backup: (env, _url, _key, out) => runScript('backup-production.sh', [out], env),
  restore: (env, backupDir) => runScript('restore-production.sh', [backupDir], env),
};

const deployments: [string, Deployment][] = [['embedded', embedded]];
if (backendNames().includes('postgres+s3')) deployments.push(['postgres+s3', production]);

for (const [name, deployment] of deployments) {
  t.test(`${name}: back up while uploads continue, wipe, restore, verify`, async (t) => {
    const backupDir = await mkdtemp(join(tmpdir(), 'tessera-backup-'));
    t.teardown(() => rm(backupDir, { recursive: true, force: true }));
    const original = await deployment.fresh();
    let wiped = false;
    t.teardown(() => (wiped ? undefined : original.wipe()));
    let server = await startServer(original.env);
    t.teardown(() => server.close().catch(() => undefined));
    const writer = deployment.auth ? await createKey(server.index, 'uploader', ['read', 'write']) : undefined;
    const admin = deployment.auth ? await createKey(server.index, 'backup', ['admin']) : undefined;

    // Acknowledged before the backup starts: one study of 8 instances.
    const before: Uploaded[] = [];
    const study = newUid();
    const series = newUid();
    for (let i = 1; i <= 8; i++) before.push((await stow(server.url, writer, study, series, i))!);
    t.equal(before.filter(Boolean).length, 8, '8 instances acknowledged before the backup');
    const countAtBackup = await qidoCount(server.url, writer, `/dicomweb/studies/${study}/instances`);
    t.equal(countAtBackup, 8);

    // Three clients keep uploading (each to its own study) before, during and after the backup.
    const acknowledged: Uploaded[] = [];
    const duringBackup = { started: 0, ended: 0 };
    let stop = false;
    const clients = [1, 2, 3].map(async () => {
      const s = newUid();
      const se = newUid();
      for (let n = 1; !stop; n++) {
        const done = await stow(server.url, writer, s, se, n);
        if (done) acknowledged.push(done);
      }
    });
    while (acknowledged.length < 3) await new Promise((resolve) => setTimeout(resolve, 20));
    duringBackup.started = acknowledged.length;
    const backup = await deployment.backup(original.env, server.url, admin, backupDir);
    duringBackup.ended = acknowledged.length;
    while (acknowledged.length < duringBackup.ended + 3) await new Promise((resolve) => setTimeout(resolve, 20));
    stop = true;
    await Promise.all(clients);
    t.equal(backup.code, 0, `the backup script succeeds: ${backup.output.trim()}`);
    t.ok(duringBackup.ended > duringBackup.started, `uploads were acknowledged while the backup ran (${duringBackup.ended - duringBackup.started})`);

    // The originals of a sample, as the server returns them, then everything is wiped.
    const sample = [...before.slice(0, 4), ...acknowledged.slice(0, 6)];
    const originals = new Map<string, Buffer>();
    for (const u of sample) originals.set(u.sop, await wado(server.url, writer, u));
    const everything = new Set([...before, ...acknowledged].map((u) => u.sop));
    await server.close();
    await original.wipe();
    wiped = true;

    // Restore into fresh, empty storage.
    const restored = await deployment.fresh();
    t.teardown(() => restored.wipe());
    const restore = await deployment.restore(restored.env, backupDir);
    t.equal(restore.code, 0, `the restore script succeeds: ${restore.output.trim()}`);

    // tessera verify, the real CLI, on the restored storage (before a server holds the embedded index).
    const verify = await runCli(['verify', '--level', 'checksum', '--json'], { LOG_LEVEL: 'silent', ...restored.env });
    t.equal(verify.code, 0, `verify finds nothing wrong (${verify.stderr.trim()})`);
    const summary = JSON.parse(verify.stdout.trim().split('\n').at(-1)!) as { type: string; checked: number; problems: number };
    t.match(summary, { type: 'summary', problems: 0 });

    server = await startServer(restored.env);
    const count = await qidoCount(server.url, writer, '/dicomweb/instances?limit=1000');
    t.equal(count, summary.checked, 'QIDO counts every restored row, and verify checked each');
    t.ok(count >= 8 + duringBackup.started, `every instance acknowledged before the backup started is back (${count} restored)`);
    t.ok(count <= everything.size, 'no instance that was never acknowledged');
    t.equal(
      await qidoCount(server.url, writer, `/dicomweb/studies/${study}/instances`),
      countAtBackup,
      'the study stored before the backup: same count as at backup time',
    );
    const restoredStudies = await fetch(`${server.url}/dicomweb/studies?StudyInstanceUID=${study}`, {
      headers: { accept: 'application/dicom+json', ...bearer(writer) },
    });
    const [studyAttributes] = (await restoredStudies.json()) as Record<string, { Value?: unknown[] }>[];
    t.same(studyAttributes?.['00201208']?.Value, [8], 'its computed Number of Study Related Instances too');
    for (const u of [...before, ...acknowledged.slice(0, duringBackup.started)])
      t.equal(await qidoCount(server.url, writer, `/dicomweb/instances?SOPInstanceUID=${u.sop}`), 1, `${u.sop} restored`);

    let compared = 0;
    for (const u of sample) {
      const found = await qidoCount(server.url, writer, `/dicomweb/instances?SOPInstanceUID=${u.sop}`);
      if (found === 0) continue; // acknowledged after the backup: not expected back
      t.ok((await wado(server.url, writer, u)).equals(originals.get(u.sop)!), `${u.sop}: WADO retrieve byte-identical`);
      compared++;
    }
    t.ok(compared >= 4, `${compared} sampled retrieves compared`);
    await server.close();
  });
}
