import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** A running S3 test server; its fields are valid S3BlobStore options as they stand. */
export interface S3TestServer {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: true;
  /** The server's environment for a Tessera server storing under `prefix` here (S3_BUCKET, S3_ENDPOINT, …; README). */
  env(prefix: string): Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Starts @20minutes/s3rver on a free loopback port, with its own empty directory and one bucket.
 *
 * It runs in a child process because s3rver 4.0.4 encrypts ListObjectsV2 continuation tokens with DES,
 * which Node 20's OpenSSL 3 only provides with `--openssl-legacy-provider`: in-process, any listing of
 * more than 1000 keys fails with a 500. Signature checks are relaxed because s3rver 4 miscomputes them
 * for ListObjects; these tests are not about auth.
 */
export async function startS3Server(): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), 'tessera-s3rver-'));
  const bucket = 'tessera-test';
  const child = spawn(
    process.execPath,
    [
      '--openssl-legacy-provider',
      fileURLToPath(new URL('./s3-server-process.mjs', import.meta.url)),
      createRequire(import.meta.url).resolve('@20minutes/s3rver'),
      directory,
      bucket,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = once(child, 'exit');
  try {
    const port = await readPort(child.stdout);
    const endpoint = `http://127.0.0.1:${port}`;
    const region = 'us-east-1';
    const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
    return {
      endpoint,
      region,
      bucket,
      ...credentials,
      forcePathStyle: true,
      env: (prefix) => ({
        S3_BUCKET: bucket,
        S3_ENDPOINT: endpoint,
        S3_REGION: region,
        S3_ACCESS_KEY_ID: credentials.accessKeyId,
        S3_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        S3_FORCE_PATH_STYLE: 'true',
        S3_PREFIX: prefix,
      }),
      async stop() {
        child.stdin.end();
        await exited;
        await rm(directory, { recursive: true, force: true });
      },
    };
  } catch (error) {
    child.kill();
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
}

/** The child's first line of output is `{"port": n}`; anything else, or none, means it failed to start. */
async function readPort(stdout: NodeJS.ReadableStream): Promise<number> {
  for await (const line of createInterface({ input: stdout })) {
    const { port } = JSON.parse(line) as { port?: unknown };
    if (typeof port !== 'number') throw new Error(`s3rver child printed ${line}`);
    return port;
  }
  throw new Error('s3rver child exited before listening');
}
