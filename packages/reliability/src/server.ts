import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBucket } from '@tessera/blob-store/testing';
import { createScratchDatabase } from '@tessera/index/testing';
import { freePort } from '@tessera/testkit';
import { type S3TestServer, startS3Server } from '@tessera/s3-test-server';

/** The repository root (packages/reliability/src → ../../..). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export type BackendName = 'embedded' | 'postgres-s3';
export const BACKENDS: readonly BackendName[] = ['embedded', 'postgres-s3'];

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Fresh, empty storage of one back end for a server process: the environment that points the server at it. */
export interface Storage {
  name: BackendName;
  dataDir: string;
  env: Record<string, string>;
  /** The scratch database URL (postgres-s3). */
  databaseUrl?: string;
  s3?: S3TestServer;
  close(): Promise<void>;
}

export interface StorageOptions {
  postgresAdminUrl: string;
  /** Put the blob store (filesystem) or the data dir here instead of a fresh temp dir. */
  dataDir?: string;
}

export async function openStorage(name: BackendName, options: StorageOptions): Promise<Storage> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'tessera-reliability-')));
  const cleanups: (() => Promise<void>)[] = options.dataDir ? [] : [() => rm(dataDir, { recursive: true, force: true })];
  const env: Record<string, string> = { DATA_DIR: dataDir };
  if (name === 'embedded') {
    return { name, dataDir, env, close: async () => void (await Promise.all(cleanups.map((c) => c()))) };
  }
  const db = await createScratchDatabase(options.postgresAdminUrl, 'reliability');
  cleanups.unshift(() => db.drop());
  const s3 = await startS3Server();
  cleanups.unshift(() => s3.stop());
  await ensureBucket({ ...s3, prefix: 'reliability/' });
  Object.assign(env, { DATABASE_URL: db.url, ...s3.env('reliability/') });
  return {
    name,
    dataDir,
    env,
    databaseUrl: db.url,
    s3,
    async close() {
      for (const cleanup of cleanups) await cleanup().catch(() => {});
    },
  };
}

export { freePort };

let built = false;
/** `pnpm build` once per run: the server runs compiled, as `pnpm start` runs it. */
export function buildServer(log: (line: string) => void): void {
  if (built) return;
  const started = performance.now();
  execFileSync(process.execPath, ['packages/cli/scripts/build.mjs'], { cwd: ROOT, stdio: 'ignore' });
  built = true;
  log(`server compiled (pnpm build) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

function baseEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
}

/**
 * `tessera serve` in a child process on a fixed port, so it can be killed and restarted at the same
 * URL while clients keep trying.
 */
export class ServerProcess {
  readonly url: string;
  child?: ChildProcess;
  /** The last lines of output (for failure messages). */
  readonly output: string[] = [];
  starts = 0;

  constructor(
    readonly port: number,
    readonly env: Record<string, string>,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  static async create(env: Record<string, string>): Promise<ServerProcess> {
    return new ServerProcess(await freePort(), env);
  }

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  /** Starts the server and waits for /readyz; resolves to the milliseconds it took. */
  async start(timeoutMs = 180_000): Promise<number> {
    const started = performance.now();
    const child = spawn(process.execPath, ['packages/cli/dist/main.js', 'serve'], {
      cwd: ROOT,
      env: { ...baseEnv(), PORT: String(this.port), ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.starts++;
    const logFile = process.env.RELIABILITY_SERVER_LOG;
    const keep = (chunk: Buffer) => {
      // RELIABILITY_SERVER_LOG=<file> keeps the servers' whole output, for debugging.
      if (logFile) appendFileSync(logFile, chunk);
      this.output.push(chunk.toString('utf8'));
      if (this.output.length > 40) this.output.shift();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}) before it was ready:\n${this.output.join('')}`);
      try {
        const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.ok) return performance.now() - started;
      } catch {
        // not listening yet
      }
      if (performance.now() - started > timeoutMs) {
        child.kill('SIGKILL');
        throw new Error(`the server was not ready within ${timeoutMs} ms:\n${this.output.join('')}`);
      }
      await sleep(25);
    }
  }

  /** kill -9, and wait for the process to be gone. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  /** True while the process runs (it has not crashed). */
  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Runs `tessera <args>` (compiled) with the storage's environment; resolves to its output. */
export function runCli(env: Record<string, string>, args: string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(process.execPath, ['packages/cli/dist/main.js', ...args], { cwd: ROOT, env: { ...baseEnv(), ...env } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`tessera ${args.join(' ')}: ${error.message}\n${stdout}${stderr}`));
      else resolvePromise(stdout);
    });
  });
}

/** `tessera gc [--delete] --grace-minutes 0`: the orphans found (or deleted) and the blobs examined. */
export async function gc(env: Record<string, string>, remove: boolean): Promise<{ orphans: number; examined: number; spool: number }> {
  const out = await runCli(env, ['gc', ...(remove ? ['--delete'] : []), '--grace-minutes', '0']);
  const m = /(\d+) orphan blob\(s\) of (\d+) examined and (\d+) stale spool/.exec(out);
  if (!m) throw new Error(`unexpected gc output: ${out}`);
  return { orphans: Number(m[1]), examined: Number(m[2]), spool: Number(m[3]) };
}

/** Open file descriptors of a process (/proc/<pid>/fd), or undefined. */
export async function openFds(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    return (await readdir(`/proc/${pid}/fd`)).length;
  } catch {
    return undefined;
  }
}

/** Resident memory of a process in MB (/proc/<pid>/status VmRSS), or undefined. */
export async function rssMb(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const { readFile } = await import('node:fs/promises');
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) / 1024;
  } catch {
    return undefined;
  }
}
