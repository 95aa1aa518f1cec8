import { type BlobStore, renderingsPrefix } from '@tessera/blob-store';
import type { Deletion, DeletionTarget, Index } from '@tessera/index';

export interface DeleteDependencies {
  index: Pick<Index, 'lifecycle'>;
  blobs: BlobStore;
  log?: { warn(obj: object, msg: string): void };
}

/** What a deletion did: the index rows removed, and which of their blobs could not be removed now. */
export interface DeleteOutcome extends Deletion {
  /** Instance blobs whose removal failed: unreferenced now, so `tessera gc` removes them later. */
  blobsLeft: string[];
}

/**
 * Deletes a study, a series or an instance: the index rows first, in one transaction
 * (`index.lifecycle.delete`), then, after the commit, the instances' blobs and what was derived from
 * them (cached thumbnails, `thumbnails/{instance key}/…`). Undefined when nothing matched (404).
 *
 * A blob whose removal fails stays in the store, referenced by no row: an orphan, which `tessera gc`
 * collects (its write time is long past the grace period). The opposite order could leave a row whose
 * blob is gone; this one never can. Blob keys are unique per write (stow-rs `instanceBlobKey`), so a
 * removal here can never hit the blob of a later store of the same instance.
 */
export async function deleteResource(deps: DeleteDependencies, target: DeletionTarget): Promise<DeleteOutcome | undefined> {
  const deletion = await deps.index.lifecycle.delete(target);
  if (!deletion) return undefined;
  const blobsLeft: string[] = [];
  await forEachLimited(deletion.blobKeys, BLOB_DELETE_CONCURRENCY, async (key) => {
    try {
      await deps.blobs.delete(key);
    } catch (error) {
      blobsLeft.push(key);
      deps.log?.warn({ err: error, key }, 'could not remove the blob of a deleted instance; `tessera gc` will');
      return;
    }
    await removeDerived(deps, key);
  });
  return { ...deletion, blobsLeft };
}

/** Blob removals in flight at once (S3 deletes overlap; file unlinks are cheap). */
const BLOB_DELETE_CONCURRENCY = 8;

async function removeDerived(deps: DeleteDependencies, blobKey: string): Promise<void> {
  try {
    for await (const info of deps.blobs.list(renderingsPrefix(blobKey))) await deps.blobs.delete(info.key);
  } catch (error) {
    deps.log?.warn({ err: error, key: blobKey }, 'could not remove the cached renderings of a deleted instance');
  }
}

async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
