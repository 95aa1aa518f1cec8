import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createScratchDatabase } from '@tessera/index/testing';
import { type InstanceSpec, type S3TestServer, encodeInstance, freePort, multipartBuffer, startS3Server } from '@tessera/testkit';

/**
 * The scale-out harness (issue #17): several real `tessera serve` processes, compiled as `pnpm start`
 * runs them, each on its own loopback port and with its own DATA_DIR (its upload spool), all on one
 * PostgreSQL scratch database and one S3-protocol server (s3rver): what a deployment behind a load
 * balancer looks like. Servers can be stopped, killed (-9) and started again; `tessera` CLI commands
 * (gc, keys) run against the same storage, as an operator would run them on one of the machines.
 *
 * A scenario is a tap test that starts a cluster, talks to `cluster.servers[i].url`, and states the
 * exact end state. Adding one (e.g. DELETE on A while B stores, once deletion exists) is a new test
 * using `store`, `deleteStudy` and `studyState` below.
 */

export const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
const execFileAsync = promisify(execFile);

export const postgresUrl = process.env.TESSERA_TEST_POSTGRES_URL;
/** The harness needs PostgreSQL and the S3 test server (.ci/run sets both). */
export const skipReason = postgresUrl && process.env.TESSERA_TEST_S3 === '1' ? false : 'TESSERA_TEST_POSTGRES_URL and TESSERA_TEST_S3=1 are needed';

let built = false;
/** `pnpm build` once per test file (atomic per file, so parallel test files may each build). */
export function buildServer(): void {
  if (built) return;
  execFileSync(process.execPath, ['packages/cli/scripts/build.mjs'], { cwd: root, stdio: 'ignore' });
  built = true;
}

export { freePort };

export interface ServerProcess {
  readonly name: string;
  readonly url: string;
  readonly env: Record<string, string>;
  readonly pid: number | undefined;
  /** Output so far (stdout and stderr), for failure messages. */
  output(): string;
  /** SIGTERM, then waits for the exit (SIGKILL after 15 s). */
  stop(): Promise<void>;
  /** kill -9, as a crash or an OOM kill would. */
  kill(): Promise<void>;
  /** Starts the process again on the same port and DATA_DIR. */
  restart(): Promise<void>;
}

export interface Cluster {
  readonly servers: ServerProcess[];
  readonly databaseUrl: string;
  readonly s3: S3TestServer;
  /** The storage settings every server shares (DATABASE_URL, S3_*). */
  readonly storageEnv: Record<string, string>;
  /** Runs `tessera <args>` on the shared storage with server `on`'s settings (its DATA_DIR, its spool). */
  cli(on: ServerProcess, args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  servers: number;
  /** Settings for every server (e.g. STOW_DUPLICATE_POLICY, AUTH_MODE). */
  env?: Record<string, string>;
  /** Start the servers one after another (default) or all at once. */
  startTogether?: boolean;
}

/** One scratch database, one s3rver, `servers` server processes named A, B, C… */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  buildServer();
  const database = await createScratchDatabase(postgresUrl!);
  const s3 = await startS3Server();
  const dirs: string[] = [];
  const servers: ServerProcess[] = [];
  const storageEnv = { DATABASE_URL: database.url, DATABASE_POOL_SIZE: '6', ...s3.env('archive/') };
  const close = async () => {
    await Promise.all(servers.map((s) => s.kill()));
    await s3.stop();
    await database.drop();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  };
  try {
    const made: ServerProcess[] = [];
    for (let i = 0; i < options.servers; i++) {
      const dataDir = await mkdtemp(join(tmpdir(), `tessera-scale-${String.fromCharCode(65 + i)}-`));
      dirs.push(dataDir);
      const env = { ...storageEnv, DATA_DIR: dataDir, PORT: String(await freePort()), ...(options.env ?? {}) };
      made.push(serverProcess(String.fromCharCode(65 + i), env));
    }
    servers.push(...made);
    if (options.startTogether) await Promise.all(made.map((s) => s.restart()));
    else for (const s of made) await s.restart();
  } catch (error) {
    await close();
    throw error;
  }
  return {
    servers,
    databaseUrl: database.url,
    s3,
    storageEnv,
    async cli(on, args) {
      try {
        const { stdout, stderr } = await execFileAsync(process.execPath, ['packages/cli/dist/main.js', ...args], {
          cwd: root,
          env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...on.env },
        });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const e = error as { code?: number; stdout?: string; stderr?: string };
        return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
      }
    },
    close,
  };
}

function serverProcess(name: string, env: Record<string, string>): ServerProcess {
  const url = `http://127.0.0.1:${env.PORT}`;
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  let output = '';
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  return {
    name,
    url,
    env,
    get pid() {
      return child?.pid;
    },
    output: () => output,
    async stop() {
      if (!running()) return;
      child!.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (!running()) return;
      child!.kill('SIGKILL');
      await exited;
    },
    async restart() {
      if (running()) throw new Error(`server ${name} is running`);
      child = spawn(process.execPath, ['packages/cli/dist/main.js', 'serve'], {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const keep = (chunk: Buffer) => {
        output = (output + chunk.toString('utf8')).slice(-20_000);
      };
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      exited = once(child, 'exit');
      const started = Date.now();
      for (;;) {
        if (!running()) throw new Error(`server ${name} exited before it was ready:\n${output}`);
        const ready = await fetch(`${url}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        if (ready) return;
        if (Date.now() - started > 180_000) {
          child.kill('SIGKILL');
          throw new Error(`server ${name} was not ready within 180 s:\n${output}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

export const sha256 = (bytes: Buffer | Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export interface StoreAnswer {
  status: number;
  /** The Store Instances Response (DICOM JSON), when there is one. */
  body?: Record<string, { Value?: Record<string, { Value?: unknown[] }>[] }>;
}

/** STOW-RS of `instances` (one multipart request) to `server`. */
export async function store(
  server: Pick<ServerProcess, 'url'>,
  instances: (InstanceSpec | Buffer)[],
  headers: Record<string, string> = {},
): Promise<StoreAnswer> {
  const { contentType, payload } = await multipartBuffer(instances.map((i) => (Buffer.isBuffer(i) ? i : encodeInstance(i))));
  const response = await fetch(`${server.url}/dicomweb/studies`, {
    method: 'POST',
    headers: { 'content-type': contentType, accept: 'application/dicom+json', ...headers },
    body: payload,
  });
  const text = await response.text();
  let body: StoreAnswer['body'];
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, body };
}

/** The Failure Reasons (0008,1197) of a Store Instances Response, by SOP Instance UID. */
export function failureReasons(answer: StoreAnswer): Map<string, number> {
  const failed = answer.body?.['00081198']?.Value ?? [];
  return new Map(failed.map((item) => [String(item['00081155']?.Value?.[0]), Number(item['00081197']?.Value?.[0])]));
}

/** What a server says about a study: QIDO's computed counts and the SOP Instance UIDs it lists. */
export interface StudyState {
  /** NumberOfStudyRelatedSeries / Instances from the study-level search; undefined when not found. */
  series?: number;
  instances?: number;
  /** SOP Instance UIDs from the instance-level search, sorted. */
  sopInstanceUids: string[];
}

export async function studyState(server: Pick<ServerProcess, 'url'>, study: string, headers: Record<string, string> = {}): Promise<StudyState> {
  const studies = await fetch(`${server.url}/dicomweb/studies?StudyInstanceUID=${study}`, { headers: { accept: 'application/dicom+json', ...headers } });
  if (studies.status !== 200 && studies.status !== 204) throw new Error(`QIDO answered ${studies.status}`);
  const found = studies.status === 200 ? ((await studies.json()) as Record<string, { Value?: unknown[] }>[]) : [];
  const instances = await fetch(`${server.url}/dicomweb/studies/${study}/instances?limit=100000`, {
    headers: { accept: 'application/dicom+json', ...headers },
  });
  const list = instances.status === 200 ? ((await instances.json()) as Record<string, { Value?: unknown[] }>[]) : [];
  return {
    series: found[0] ? Number(found[0]['00201206']?.Value?.[0]) : undefined,
    instances: found[0] ? Number(found[0]['00201208']?.Value?.[0]) : undefined,
    sopInstanceUids: list.map((i) => String(i['00080018']?.Value?.[0])).sort(),
  };
}

/** The bytes of one instance through WADO-RS (application/dicom, one part), or the status when not 200. */
export async function retrieveInstance(
  server: Pick<ServerProcess, 'url'>,
  uids: { study: string; series: string; sop: string },
  headers: Record<string, string> = {},
): Promise<Buffer | number> {
  const response = await fetch(`${server.url}/dicomweb/studies/${uids.study}/series/${uids.series}/instances/${uids.sop}`, {
    headers: { accept: 'multipart/related; type="application/dicom"', ...headers },
  });
  if (response.status !== 200) return response.status;
  const body = Buffer.from(await response.arrayBuffer());
  const boundary = /boundary="?([^";]+)"?/.exec(response.headers.get('content-type') ?? '')?.[1];
  if (!boundary) throw new Error('no boundary');
  const start = body.indexOf('\r\n\r\n') + 4;
  const end = body.indexOf(`\r\n--${boundary}--`, start);
  return body.subarray(start, end);
}

/**
 * DELETE of a study on `server` (the `delete` scope), for the scenario "delete on A while B stores"
 * once deletion exists (issue #17, scenario 4): returns the status.
 */
export async function deleteStudy(server: Pick<ServerProcess, 'url'>, study: string, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(`${server.url}/dicomweb/studies/${study}`, { method: 'DELETE', headers });
  await response.arrayBuffer();
  return response.status;
}
