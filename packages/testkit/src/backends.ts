import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type BlobStore, createBlobStore } from '@tessera/blob-store';
import { ensureBucket } from '@tessera/blob-store/testing';
import { type Index, openIndex } from '@tessera/index';
import { createScratchDatabase } from '@tessera/index/testing';
import { type Config, buildApp, loadConfig } from '@tessera/server';
import { startS3Server } from '@tessera/s3-test-server';
import { type InstanceSpec, instanceLength, instanceStream } from './dicom-builder.js';

/**
 * The storage back ends every behaviour test runs against (the same cases on each):
 * - `embedded`: PGlite in memory + filesystem blobs, always;
 * - `postgres+s3`: a scratch database on TESSERA_TEST_POSTGRES_URL + a real S3-protocol server
 *   (s3rver), when both TESSERA_TEST_POSTGRES_URL and TESSERA_TEST_S3=1 are set (.ci/run sets them).
 */
export type BackendName = 'embedded' | 'postgres+s3';

export function backendNames(env = process.env): BackendName[] {
  const names: BackendName[] = ['embedded'];
  if (env.TESSERA_TEST_POSTGRES_URL && env.TESSERA_TEST_S3 === '1') names.push('postgres+s3');
  return names;
}

export interface TestStorage {
  name: BackendName;
  index: Index;
  blobs: BlobStore;
  dataDir: string;
  /** Config fragments matching this storage (for buildApp). */
  config: Config;
  close(): Promise<void>;
}

/** Opens fresh, empty storage of one back end. `env` adds server settings (e.g. STOW_DUPLICATE_POLICY). */
export async function openTestStorage(name: BackendName, env: Record<string, string> = {}): Promise<TestStorage> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tessera-test-'));
  const cleanups: (() => Promise<void>)[] = [() => rm(dataDir, { recursive: true, force: true })];
  const baseConfig = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env });
  try {
    if (name === 'embedded') {
      const index = await openIndex({ kind: 'pglite' });
      const blobs = createBlobStore({ kind: 'filesystem', root: join(dataDir, 'blobs') });
      return storage(name, index, blobs, dataDir, { ...baseConfig, index: { kind: 'pglite' } }, cleanups);
    }
    const adminUrl = process.env.TESSERA_TEST_POSTGRES_URL!;
    const database = await createScratchDatabase(adminUrl);
    cleanups.unshift(database.drop);
    const s3 = await startS3Server();
    cleanups.unshift(s3.stop);
    const blobConfig = { kind: 's3' as const, ...s3, prefix: 'archive/' };
    await ensureBucket(blobConfig);
    const index = await openIndex({ kind: 'postgres', url: database.url, poolSize: 4 });
    const blobs = createBlobStore(blobConfig);
    return storage(name, index, blobs, dataDir, { ...baseConfig, index: { kind: 'postgres', url: database.url }, blobs: blobConfig }, cleanups);
  } catch (error) {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
    throw error;
  }
}

function storage(name: BackendName, index: Index, blobs: BlobStore, dataDir: string, config: Config, cleanups: (() => Promise<void>)[]): TestStorage {
  return {
    name,
    index,
    blobs,
    dataDir,
    config,
    async close() {
      await index.close();
      await blobs.close();
      for (const cleanup of cleanups) await cleanup();
    },
  };
}

export interface TestServer extends TestStorage {
  app: FastifyInstance;
  /** Base URL of the listening server (for real-HTTP tests), e.g. `http://127.0.0.1:41234`. */
  url: string;
}

/** Fresh storage plus the app built on it, listening on a free loopback port. */
export async function startTestServer(name: BackendName, env: Record<string, string> = {}): Promise<TestServer> {
  const store = await openTestStorage(name, env);
  // TESSERA_TEST_LOG=error (or debug …) shows the server's log while debugging a test.
  const level = process.env.TESSERA_TEST_LOG;
  const app = await buildApp({ config: store.config, index: store.index, blobs: store.blobs, logger: level ? { level } : false });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    ...store,
    app,
    url,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

/**
 * Stores one instance over real HTTP, streamed (a single-part `application/dicom` STOW-RS of any
 * size, in bounded memory); throws unless the server answers 200.
 */
export async function stowStreamed(server: Pick<TestServer, 'url'>, spec: InstanceSpec): Promise<void> {
  const res = await fetch(`${server.url}/dicomweb/studies`, {
    method: 'POST',
    headers: { 'content-type': 'application/dicom', 'content-length': String(instanceLength(spec)) },
    body: instanceStream(spec),
    duplex: 'half',
  });
  if (res.status !== 200) throw new Error(`STOW answered ${res.status}`);
}
