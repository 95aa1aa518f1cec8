import { readdir, readlink } from 'node:fs/promises';

/** Polls `condition` every 50 ms until it holds or `timeoutMs` has passed; the last answer is returned. */
export async function waitUntil(condition: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

/** What this process's open file descriptors point at (`/proc/self/fd`; '' for one closed meanwhile). */
export async function openFilePaths(): Promise<string[]> {
  const fds = await readdir('/proc/self/fd');
  return Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
}
