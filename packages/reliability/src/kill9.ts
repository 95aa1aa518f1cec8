import { type Instance, generatedInstance, listInstances, realInstances, retrieveInstance, stow } from './dicomweb.js';
import type { RunOptions, ScenarioResult } from './report.js';
import { type BackendName, ServerProcess, gc, openStorage, sleep } from './server.js';

/**
 * Scenario 1, kill -9 under load: 8 clients upload real and generated instances while the server is
 * killed (SIGKILL) at random moments and restarted. Afterwards: every acknowledged instance is
 * retrievable byte for byte, every index row has its blob, and after `tessera gc --delete
 * --grace-minutes 0` (server stopped) no orphan blob remains.
 */
export async function killNine(backend: BackendName, options: RunOptions): Promise<ScenarioResult> {
  const started = performance.now();
  const cycles = options.cycles ?? (options.short ? 3 : 20);
  const failures: string[] = [];
  const storage = await openStorage(backend, { postgresAdminUrl: options.postgresAdminUrl });
  const server = await ServerProcess.create(storage.env);
  const real = realInstances();
  const acknowledged = new Map<string, Instance>();
  let requests = 0;
  let answered = 0;
  let connectionErrors = 0;
  const statuses = new Map<number, number>();
  const recoverMs: number[] = [];
  try {
    await server.start();
    let stopping = false;
    const client = async (n: number) => {
      while (!stopping) {
        // 1-4 instances a request: real files (re-sent identical bytes are acknowledged again) and generated ones.
        const parts: Instance[] = [];
        const count = 1 + Math.floor(Math.random() * 4);
        const study = generatedInstance().study;
        for (let k = 0; k < count; k++)
          parts.push(n % 2 === 0 && Math.random() < 0.5 ? real[Math.floor(Math.random() * real.length)]! : generatedInstance(study));
        requests++;
        try {
          const res = await stow(
            server.url,
            parts.map((p) => p.bytes),
            30_000,
          );
          answered++;
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status >= 500 && res.status !== 503) failures.push(`STOW answered ${res.status}: ${res.body.toString().slice(0, 200)}`);
          if (res.status === 200 || res.status === 202) {
            for (const sop of res.stored) {
              const instance = parts.find((p) => p.sop === sop);
              if (instance) acknowledged.set(sop, instance);
              else failures.push(`STOW acknowledged ${sop}, which was not sent`);
            }
          }
        } catch {
          connectionErrors++;
          await sleep(50);
        }
      }
    };
    const clients = Array.from({ length: 8 }, (_, n) => client(n));
    for (let cycle = 0; cycle < cycles; cycle++) {
      await sleep(300 + Math.random() * 2200);
      await server.kill9();
      const killedAt = performance.now();
      await server.start();
      recoverMs.push(performance.now() - killedAt);
    }
    await sleep(500);
    stopping = true;
    await Promise.all(clients);

    // Every acknowledged instance is retrievable, byte for byte when it is served as stored.
    let identical = 0;
    let reencoded = 0;
    let lost = 0;
    for (const instance of acknowledged.values()) {
      const got = await retrieveInstance(server.url, instance);
      if (got.status !== 200 || !got.bytes) {
        lost++;
        if (lost <= 5) failures.push(`acknowledged ${instance.origin} instance ${instance.sop} not retrievable (${got.status})`);
      } else if (!instance.asStored) reencoded++;
      else if (got.bytes.equals(instance.bytes)) identical++;
      else {
        lost++;
        failures.push(`acknowledged instance ${instance.sop} retrieved with different bytes (${got.bytes.length} vs ${instance.bytes.length})`);
      }
    }
    // Every index row has its blob.
    const rows = await listInstances(server.url);
    let rowsWithoutBlob = 0;
    for (const row of rows) {
      const got = await retrieveInstance(server.url, row);
      if (got.status !== 200) {
        rowsWithoutBlob++;
        if (rowsWithoutBlob <= 5) failures.push(`index row ${row.sop} has no retrievable blob (${got.status})`);
      }
    }
    await server.stop();
    const collected = await gc(storage.env, true);
    const after = await gc(storage.env, false);
    if (after.orphans !== 0) failures.push(`${after.orphans} orphan blob(s) remain after gc --delete`);
    if (after.examined !== rows.length) failures.push(`${after.examined} blobs but ${rows.length} index rows after gc`);
    if (acknowledged.size === 0) failures.push('nothing was acknowledged: the load did not run');
    return {
      scenario: '1 kill -9 under load',
      backend,
      failures,
      seconds: (performance.now() - started) / 1000,
      figures: {
        cycles,
        requests,
        answered,
        'connection errors': connectionErrors,
        statuses: [...statuses].map(([s, n]) => `${s}×${n}`).join(' '),
        acknowledged: acknowledged.size,
        'byte-identical': identical,
        're-encoded (retrievable)': reencoded,
        lost,
        'index rows': rows.length,
        'rows without blob': rowsWithoutBlob,
        'orphans collected by gc': collected.orphans,
        'spool files collected': collected.spool,
        'orphans after gc': after.orphans,
        'restart to ready ms (median)': median(recoverMs),
        'restart to ready ms (max)': Math.max(...recoverMs),
      },
    };
  } finally {
    await server.stop().catch(() => {});
    await storage.close();
  }
}

export function median(values: number[]): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}
