import { execFile } from 'node:child_process';
import { access, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** How a failed initialisation is reported by the child: the error's own fields, so that callers can classify it (disk full). */
interface ChildError {
  message: string;
  name?: string;
  code?: string;
  errno?: number;
}

/**
 * The child's program (an ES module given to `node -e`): creates the data directory with PGlite, which
 * runs initdb and starts it once, and closes it (a shutdown checkpoint), then exits.
 */
const CHILD = `
const { url, dataDir, initDbStartParams } = JSON.parse(process.env.TESSERA_PGLITE_INIT);
try {
  const { PGlite } = await import(url);
  const pglite = await PGlite.create(dataDir, { initDbStartParams });
  await pglite.close();
} catch (error) {
  const { message, name, code, errno } = error ?? {};
  process.stdout.write(JSON.stringify({ message: String(message ?? error), name: name ?? error?.constructor?.name, code, errno }));
  process.exitCode = 1;
}
`;

/**
 * Creates a new embedded data directory in a short-lived child process, so that the server process
 * opens an existing one. Why: PGlite runs initdb in a second WebAssembly PostgreSQL inside the calling
 * process (initdb probes settings up to 128 MB of shared buffers and 100 connections); its memory is
 * only freed when a garbage collection happens to reclaim it, and glibc keeps much of it mapped after
 * that: a server that had just created its data directory sat at 500+ MB resident, against 200 MB for
 * the same server opened on an existing directory (docs/benchmarks.md, "Fourth round"). A child's
 * memory goes back to the system when it exits. A worker thread was tried and does not do that.
 *
 * The new directory is then synced to disk, file by file and directory by directory: initdb and the
 * child run with PGlite's fsync off (durable-nodefs.ts turns it on only in the server), and PostgreSQL
 * later syncs only what it writes itself, so a power loss after the first acknowledged STOW-RS could
 * otherwise find catalog files that never reached the disk.
 *
 * Does nothing when the directory holds a database already (PG_VERSION). A failure throws an Error
 * with the child's message and its `name`, `code` and `errno` (PGlite's file-system errors carry an
 * errno, e.g. 51 for a full disk), so the caller classifies it as it would an error of its own.
 */
export async function initDataDirOnce(dataDir: string, initDbStartParams: string[]): Promise<void> {
  if (await exists(join(dataDir, 'PG_VERSION'))) return;
  const url = import.meta.resolve('@electric-sql/pglite');
  const env = { ...process.env, TESSERA_PGLITE_INIT: JSON.stringify({ url, dataDir, initDbStartParams }) };
  const output = await new Promise<{ failed: boolean; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', CHILD], { env, maxBuffer: 1 << 20 }, (error, stdout, stderr) =>
      resolve({ failed: error !== null, stdout, stderr }),
    );
  });
  if (!output.failed) return syncTree(dataDir);
  let reported: ChildError;
  try {
    reported = JSON.parse(output.stdout) as ChildError;
  } catch {
    reported = { message: `the PGlite initialisation process failed: ${output.stderr.trim() || 'no output'}` };
  }
  throw Object.assign(new Error(`creating the embedded index in ${dataDir}: ${reported.message}`), {
    name: reported.name ?? 'Error',
    ...(reported.code !== undefined ? { code: reported.code } : {}),
    ...(reported.errno !== undefined ? { errno: reported.errno } : {}),
  });
}

/** fsync of every file and directory under `dir`, children before their directory (as initdb --sync-only). */
async function syncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await syncTree(path);
    else if (entry.isFile()) await syncPath(path);
  }
  await syncPath(dir);
}

async function syncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );
