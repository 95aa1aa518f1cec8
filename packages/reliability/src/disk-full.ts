import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ctInstance, encodeInstance } from '@tessera/testkit';
import { type Instance, generatedInstance, listInstances, retrieveInstance, stow } from './dicomweb.js';
import type { RunOptions, ScenarioResult } from './report.js';
import { type BackendName, ServerProcess, gc, openStorage } from './server.js';

const OUT_OF_RESOURCES = 'A700';

/**
 * Scenario 3, disk full: the filesystem blob store (DATA_DIR/blobs) is a small tmpfs (8 MB). Uploads
 * of about 0.5 MB instances fill it: STOW answers the out-of-resources failure (A700, or 503
 * STORAGE_FULL when nothing of a request fits) for what did not fit, nothing is half-stored (as many
 * blobs as rows, every acknowledged instance byte for byte), and uploads succeed again once space
 * is freed (the tmpfs grown to 64 MB), without a restart. Embedded back end (the filesystem blob
 * store) only; needs root for mount.
 */
export async function diskFull(backend: BackendName, options: RunOptions): Promise<ScenarioResult> {
  const started = performance.now();
  if (backend !== 'embedded') {
    return {
      scenario: '3 disk full',
      backend,
      failures: [],
      seconds: 0,
      figures: { skipped: 'S3 has no disk to fill; the filesystem blob store is checked on the embedded back end' },
    };
  }
  if (process.getuid?.() !== 0) {
    return { scenario: '3 disk full', backend, failures: [], seconds: 0, figures: { skipped: 'not root: cannot mount a tmpfs' } };
  }
  const failures: string[] = [];
  const storage = await openStorage(backend, { postgresAdminUrl: options.postgresAdminUrl });
  const blobsDir = join(storage.dataDir, 'blobs');
  mkdirSync(blobsDir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', blobsDir]);
  const server = await ServerProcess.create(storage.env);
  const acknowledged = new Map<string, Instance>();
  const statuses = new Map<number, number>();
  let requests = 0;
  let outOfResources = 0;
  let otherFailures = 0;
  try {
    await server.start();
    const upload = async () => {
      const study = generatedInstance().study;
      const batch = Array.from({ length: 3 }, () => big(study));
      const res = await stow(
        server.url,
        batch.map((i) => i.bytes),
      );
      requests++;
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500 && !(res.status === 503 && res.code === 'STORAGE_FULL'))
        failures.push(`STOW answered ${res.status}: ${res.body.toString().slice(0, 200)}`);
      for (const sop of res.stored)
        acknowledged.set(
          sop,
          batch.find((i) => i.sop === sop)!,
        );
      const reasons = [...res.body.toString().matchAll(/"00081197":\{"vr":"US","Value":\[(\d+)\]/g)].map((m) => Number(m[1]).toString(16).toUpperCase());
      outOfResources += reasons.filter((r) => r === OUT_OF_RESOURCES).length + (res.code === 'STORAGE_FULL' ? batch.length : 0);
      otherFailures += reasons.filter((r) => r !== OUT_OF_RESOURCES).length;
      return res;
    };
    // Fill it: until three requests in a row store nothing.
    let nothing = 0;
    for (let i = 0; i < 60 && nothing < 3; i++) nothing = (await upload()).stored.length === 0 ? nothing + 1 : 0;
    const beforeFree = acknowledged.size;
    if (nothing < 3) failures.push('the store never filled up');
    if (outOfResources === 0) failures.push('no out-of-resources failure was reported');
    // Free space: the tmpfs grows (as an operator would free or add space); no restart.
    execFileSync('mount', ['-o', 'remount,size=64m', blobsDir]);
    const again = await upload();
    if (again.status !== 200) failures.push(`after space was freed, STOW answered ${again.status}: ${again.body.toString().slice(0, 200)}`);
    // Nothing half-stored, nothing lost.
    let lost = 0;
    for (const i of acknowledged.values()) {
      const got = await retrieveInstance(server.url, i);
      if (got.status !== 200 || !got.bytes?.equals(i.bytes)) {
        lost++;
        if (lost <= 5) failures.push(`acknowledged ${i.sop} not retrievable byte for byte (${got.status})`);
      }
    }
    const rows = await listInstances(server.url);
    if (!server.running) failures.push('the server process died');
    await server.stop();
    const blobs = await gc(storage.env, false);
    if (rows.length !== acknowledged.size) failures.push(`${rows.length} index rows for ${acknowledged.size} acknowledged instances`);
    if (blobs.examined !== rows.length || blobs.orphans !== 0) failures.push(`${blobs.examined} blobs (${blobs.orphans} orphans) for ${rows.length} rows`);
    return {
      scenario: '3 disk full',
      backend,
      failures,
      seconds: (performance.now() - started) / 1000,
      figures: {
        'tmpfs MB': 8,
        requests,
        statuses: [...statuses].map(([s, n]) => `${s}×${n}`).join(' '),
        'acknowledged before freeing': beforeFree,
        'refused out of resources (A700 / 503 STORAGE_FULL)': outOfResources,
        'other failures': otherFailures,
        'stored after freeing': acknowledged.size - beforeFree,
        lost,
        'index rows': rows.length,
        blobs: blobs.examined,
        'orphan blobs': blobs.orphans,
      },
    };
  } finally {
    await server.stop().catch(() => {});
    try {
      execFileSync('umount', [blobsDir]);
    } catch {
      // not mounted
    }
    await storage.close();
  }
}

/** A generated instance of about 0.5 MB (512 × 512 × 16 bits). */
function big(study: string): Instance {
  const spec = ctInstance({ StudyInstanceUID: study }, { rows: 512, columns: 512, frames: 1 });
  return {
    study,
    series: String(spec.attributes.SeriesInstanceUID),
    sop: String(spec.attributes.SOPInstanceUID),
    bytes: encodeInstance(spec),
    asStored: true,
    origin: 'generated',
  };
}
