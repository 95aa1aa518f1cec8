import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { freePort } from '@tessera/testkit';

/** The Tessera server under test, in its own process, so its CPU time and memory are its own. */

export interface ServerUnderTest {
  url: string;
  pid?: number;
  /** Epoch milliseconds when the process was spawned. */
  spawnedAt?: number;
  stop(): Promise<void>;
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** The process and its descendants (the workers of WORKERS > 1), from /proc. */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  const tree: number[] = [];
  for (const queue = [pid]; queue.length;) {
    const next = queue.pop()!;
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

/** User + system CPU seconds the process and its workers have used so far (Linux /proc), or undefined elsewhere. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    let ticks = 0;
    for (const p of processTree(pid)) {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    }
    return ticks / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/** CPU of a database's PostgreSQL backends, read from /proc while a run lasts. */
export interface DatabaseCpuWatch {
  /** User + system CPU seconds its backends have used since the watch started (undefined off Linux). */
  seconds(): number | undefined;
  stop(): void;
}

/**
 * Watches the CPU of the PostgreSQL backends serving `database` (a server on this machine). A
 * backend's process title is `postgres: [cluster: ]<user> <database> <client> <state>`. The
 * backends are read every `intervalMs` and each one's last reading is kept, so a backend that
 * exits (the server's pool closes connections idle for 10 s) keeps its CPU in the total, but for at
 * most its last interval. PostgreSQL's shared processes (WAL writer, checkpointer, background
 * writer) serve every database of the server and are left out; a backend flushes the WAL of its
 * own commits itself, so that cost is counted.
 */
export function watchDatabaseCpu(database: string, intervalMs = 500): DatabaseCpuWatch {
  const last = new Map<number, number>();
  let readable = true;
  const read = () => {
    let entries: string[];
    try {
      entries = readdirSync('/proc');
    } catch {
      readable = false;
      return;
    }
    for (const entry of entries) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
        if (!title.startsWith('postgres: ') || !title.split(' ').includes(database)) continue;
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        last.set(Number(entry), Number(fields[11]) + Number(fields[12]));
      } catch {
        // exited meanwhile
      }
    }
  };
  read();
  const base = [...last.values()].reduce((a, b) => a + b, 0);
  const timer = setInterval(read, intervalMs).unref();
  return {
    seconds() {
      read();
      if (!readable) return undefined;
      return ([...last.values()].reduce((a, b) => a + b, 0) - base) / ticksPerSecond();
    },
    stop: () => clearInterval(timer),
  };
}

/** Resident memory now and its peak (since start or the last `resetPeakRss`), in MB, summed over the process and its workers. */
export function memory(pid: number | undefined): { rssMb?: number; peakRssMb?: number } {
  if (pid === undefined) return {};
  try {
    let rss = 0;
    let peak = 0;
    for (const p of processTree(pid)) {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
      rss += kb('VmRSS');
      peak += kb('VmHWM');
    }
    return { rssMb: rss / 1024, peakRssMb: peak / 1024 };
  } catch {
    return {};
  }
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0: write 5 to clear_refs), so each phase has its own peak. */
export function resetPeakRss(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    for (const p of processTree(pid)) writeFileSync(`/proc/${p}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Settings of the environment that tune the server's runtime, passed on when set (e.g. UV_THREADPOOL_SIZE). */
function passThrough(): Record<string, string> {
  const names = ['UV_THREADPOOL_SIZE', 'NODE_OPTIONS', 'WORKERS', 'METRICS_ENABLED', 'AUDIT_ENABLED', 'STOW_DESCRIBE_THREADS'];
  return Object.fromEntries(names.flatMap((name) => (process.env[name] !== undefined ? [[name, process.env[name]]] : [])));
}

/** `pnpm build`: compiles the server to each package's dist/, as `pnpm start` does before it runs. */
export function buildServer(root: string, log: (line: string) => void): void {
  const started = performance.now();
  execFileSync(process.execPath, ['packages/cli/scripts/build.mjs'], { cwd: root, stdio: 'ignore' });
  log(`server compiled (pnpm build) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * Starts `tessera serve` as `pnpm start` runs it (compiled: call `buildServer` first) with `env`, waits
 * for /readyz, and returns its URL.
 * `nodeArgs` go to the server's node (e.g. --cpu-prof). `readyWithinMs`: how long it may take to answer
 * /readyz (a new embedded index migrated, or one of 10,000 instances opened, on a machine under heavy load
 * can take two minutes: a limit, not a measurement).
 */
export async function startServerProcess(
  root: string,
  env: Record<string, string>,
  nodeArgs: string[],
  log: (line: string) => void,
  readyWithinMs = 300_000,
): Promise<ServerUnderTest> {
  const port = await freePort();
  const spawnedAt = Date.now();
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, 'packages/cli/dist/main.js', 'serve'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ...passThrough(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString('utf8'));
    if (output.length > 50) output.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}) before it was ready:\n${output.join('')}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (performance.now() - started > readyWithinMs) {
      child.kill('SIGKILL');
      throw new Error(`the server was not ready within ${readyWithinMs / 1000} s:\n${output.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  log(`server: pid ${child.pid} at ${url}, ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return {
    url,
    pid: child.pid,
    spawnedAt,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
