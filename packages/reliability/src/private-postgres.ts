import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, sleep } from './server.js';

const run = promisify(execFile);

/**
 * A throwaway PostgreSQL cluster of its own (initdb under /tmp, another port), so that it can be
 * killed and stopped: the shared server on 5432 is never touched. Needs root (to run as the
 * `postgres` user, which PostgreSQL requires) and /usr/lib/postgresql/<v>/bin.
 */
export interface PrivatePostgres {
  url: string;
  port: number;
  /** kill -9 of the postmaster and every backend (a crashed server). */
  kill9(): void;
  /** SIGSTOP / SIGCONT of the postmaster and every backend (a frozen server). */
  freeze(): void;
  thaw(): void;
  /** Starts it again after kill9 (crash recovery), waiting until it accepts connections. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export function postgresBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], 'bin') : undefined;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBin();
  if (!bin) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql');
  const dir = mkdtempSync(join(tmpdir(), 'tessera-private-pg-'));
  const data = join(dir, 'data');
  const { uid, gid } = await idOf('postgres');
  chownSync(dir, uid, gid);
  const port = await freePort();
  const asPostgres = (cmd: string, args: string[]) => run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { cwd: dir });
  await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const start = async () => {
    await asPostgres('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`,
      'start',
    ]);
  };
  await start();
  const pids = (): number[] => {
    const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const all = [postmaster];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster) all.push(Number(entry));
      } catch {
        // gone
      }
    }
    return all;
  };
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of pids()) {
      try {
        process.kill(pid, sig);
      } catch {
        // gone
      }
    }
  };
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    kill9: () => signal('SIGKILL'),
    freeze: () => signal('SIGSTOP'),
    thaw: () => signal('SIGCONT'),
    async start() {
      // The killed postmaster's pid file stays; pg_ctl start sees the process gone and recovers.
      for (let i = 0; i < 50 && pids().some((p) => existsSync(`/proc/${p}`)); i++) await sleep(100);
      await start();
    },
    async close() {
      signal('SIGCONT');
      await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => signal('SIGKILL'));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function idOf(user: string): Promise<{ uid: number; gid: number }> {
  const uid = Number((await run('id', ['-u', user])).stdout.trim());
  const gid = Number((await run('id', ['-g', user])).stdout.trim());
  return { uid, gid };
}
