import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type BlobStore, RENDERINGS_PREFIX, renderedInstanceKey } from '@tessera/blob-store';
import type { Index } from '@tessera/index';

export interface OrphanReport {
  examined: number;
  removed: string[];
  /** Cached renderings (thumbnails) whose instance blob no index row references any more. */
  renderingsRemoved: string[];
  spoolFilesRemoved: number;
}

/**
 * Removes what an interrupted store left behind: instance blobs that no index row references
 * (a crash between the blob write and the row commit) and stale spool files. Only objects older
 * than `graceMs` are touched, so a store in progress is never disturbed. Ages are the objects' own
 * write times (file mtime, S3 LastModified), which an in-flight upload keeps fresh (the spool file
 * grows as the body arrives; an S3 multipart object is not listed until complete). A grace period of
 * 0 gives no such protection: the grace must exceed the longest upload, which HTTP_BODY_TIMEOUT_MS
 * bounds for a stalled one.
 *
 * Cached renderings (`thumbnails/{instance key}/…`) go with their instance: a deletion removes them
 * after its commit, but one rendered from the old row while the deletion ran is written after that
 * removal. They are collected here once their instance key is referenced by no row, under the
 * same grace (their own write time).
 */
export async function collectOrphans(index: Index, blobs: BlobStore, options: { spoolDir: string; graceMs: number; dryRun?: boolean }): Promise<OrphanReport> {
  const cutoff = Date.now() - options.graceMs;
  const report: OrphanReport = { examined: 0, removed: [], renderingsRemoved: [], spoolFilesRemoved: 0 };
  for await (const info of blobs.list('instances/')) {
    report.examined++;
    // The age comes from the blob's own write time; a blob that cannot be dated may belong to an
    // upload still in flight on some server process, so it is never collected.
    if (!info.lastModified || info.lastModified.getTime() > cutoff) continue;
    if (await index.instances.isBlobReferenced(info.key)) continue;
    report.removed.push(info.key);
    if (!options.dryRun) await blobs.delete(info.key);
  }
  // Listed in key order: the renderings of one instance are consecutive, so one lookup serves them all.
  let last: { instanceKey: string; referenced: boolean } | undefined;
  for await (const info of blobs.list(RENDERINGS_PREFIX)) {
    const instanceKey = renderedInstanceKey(info.key);
    if (!instanceKey || !info.lastModified || info.lastModified.getTime() > cutoff) continue;
    if (last?.instanceKey !== instanceKey) last = { instanceKey, referenced: await index.instances.isBlobReferenced(instanceKey) };
    if (last.referenced) continue;
    report.renderingsRemoved.push(info.key);
    if (!options.dryRun) await blobs.delete(info.key);
  }
  const spooled = await readdir(options.spoolDir).catch(() => [] as string[]);
  for (const name of spooled) {
    const path = join(options.spoolDir, name);
    const { mtimeMs } = await stat(path).catch(() => ({ mtimeMs: Infinity }));
    if (mtimeMs > cutoff) continue;
    report.spoolFilesRemoved++;
    if (!options.dryRun) await rm(path, { force: true });
  }
  return report;
}
