import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateApiKey } from '@tessera/access';
import type { Index } from '@tessera/index';
import { REPOSITORY_ROOT, testDataPath } from '@tessera/testkit';

/** A real CT image (Explicit VR Little Endian, one frame) from the test data: what the matrix stores and reads. */
export const CT_FILE = 'dicomdir/77654033/CT2/17106';

export function ctBytes(): Buffer {
  return readFileSync(testDataPath(CT_FILE));
}

/** Creates a key straight in the index (as `tessera keys create` does) and returns the whole key. */
export async function createKey(index: Index, name: string, scopes: string[], options: { expiresAt?: Date; revoked?: boolean } = {}): Promise<string> {
  const key = generateApiKey();
  await index.apiKeys.create({ id: key.id, name, scopes, secretHash: key.secretHash, ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}) });
  if (options.revoked) await index.apiKeys.revoke(key.id);
  return key.key;
}

export const bearer = (key: string | undefined): Record<string, string> => (key ? { authorization: `Bearer ${key}` } : {});

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the tessera CLI from the sources in its own process with `env` (plus a scrubbed copy of ours);
 * `until`, when given, kills it as soon as its output matches (for `serve`, which does not exit).
 */
export function runCli(args: string[], env: Record<string, string>, until?: RegExp): Promise<CliRun> {
  const main = join(REPOSITORY_ROOT, 'packages/cli/src/main.ts');
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const name of ['S3_BUCKET', 'CONFIG_FILE', 'WORKERS']) if (!(name in env)) delete childEnv[name];
  if (!('DATABASE_URL' in env)) delete childEnv.DATABASE_URL;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--conditions=@tessera/source', '--import', 'tsx', main, ...args], {
      cwd: REPOSITORY_ROOT,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const check = () => {
      if (until && until.test(stdout + stderr)) child.kill('SIGTERM');
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      check();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      check();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}
