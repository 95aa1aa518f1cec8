import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '@tessera/test-data';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Settings of the test runner's environment that would point a child CLI at other storage or credentials. */
const SCRUBBED = ['DATABASE_URL', 'S3_BUCKET', 'CONFIG_FILE', 'WORKERS', 'TESSERA_TOKEN'];

/**
 * Runs the tessera CLI as a user runs it: its own process, from the sources, with `env` over a copy
 * of ours from which the storage, config and credential settings are removed unless `env` sets
 * them. `until`, when given, stops it (SIGTERM) as soon as its output matches (for `serve`, which
 * does not exit); a command still running after `timeoutMs` (one that should only print help but
 * starts the server, say) is killed and its run returned with code null.
 */
export function runCli(args: string[], env: Record<string, string> = {}, options: { until?: RegExp; timeoutMs?: number } = {}): Promise<CliRun> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const name of SCRUBBED) delete childEnv[name];
  Object.assign(childEnv, env);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--conditions=@tessera/source', '--import', 'tsx', join(REPOSITORY_ROOT, 'packages/cli/src/main.ts'), ...args], {
      cwd: REPOSITORY_ROOT,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const check = () => {
      if (options.until?.test(stdout + stderr)) child.kill('SIGTERM');
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      check();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      check();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}
