import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { type BlobStore, BlobStoreFullError } from '@tessera/blob-store';
import { DicomParseError, FailureReason, type InstanceDescription, WarningReason, describeInstance, headedFileByteSource } from '@tessera/dicom';
import { type Index, IndexOutcomeUnknownError } from '@tessera/index';
import type { DescribePool } from './describe-pool.js';
import { SpoolFullError, type SpooledPart, spoolPart } from './spool.js';

export interface StoreSettings {
  /** Local directory for parts while they are read and checked. */
  spoolDir: string;
  maxPartBytes: number;
  maxHeaderBytes: number;
  inlineBinaryMaxBytes: number;
  /** What to do with a SOP Instance UID already stored with other content (digest STOW-9). */
  duplicatePolicy: 'reject' | 'overwrite';
}

export interface StoreDependencies {
  index: Index;
  blobs: BlobStore;
  settings: StoreSettings;
  /** Hashes and describes parts in worker threads; without it, on the event loop as they arrive. */
  describer?: DescribePool;
  log?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

/** One instance's result: stored (maybe with a warning) or failed, as the response module lists it. */
export type InstanceResult =
  | {
      kind: 'stored';
      sopClassUid: string;
      sopInstanceUid: string;
      studyInstanceUid: string;
      seriesInstanceUid: string;
      warning?: { reason: number; detail: string };
      duplicate?: boolean;
      /** The instance's size in bytes (Part 10), for metrics. */
      size?: number;
    }
  | {
      kind: 'failed';
      sopClassUid?: string;
      sopInstanceUid?: string;
      reason: number;
      detail: string;
      /** Failed for want of space (spool or blob store full, FailureReason A700): worth retrying later. */
      storageFull?: boolean;
    };

/**
 * What the transaction stores: a PS3.10 stream, or an instance refused before it could become one
 * (a metadata + bulk data dataset that cannot be built, `metadata-bulk.ts`), reported in its place.
 */
export type StorePart = Readable | Extract<InstanceResult, { kind: 'failed' }>;

export interface StoreOutcome {
  results: InstanceResult[];
}

/**
 * The blob key of one write of an instance: its UIDs (validated, so path-safe), the SHA-256 of its
 * bytes, and a random write id. One directory (prefix) per series, not per instance: the filesystem
 * store then creates and fsyncs one directory per series rather than one per instance. Keys of
 * earlier versions (`…/{sop}/{sha256}.dcm`, `…/{sop}.{sha256}.dcm`) stay valid: each row records its
 * own key.
 *
 * Why a write id: a key is then written by exactly one request, so removing a key that request
 * no longer needs (its conflicting copy, a byte-identical copy another request stored first, the
 * blob an overwrite replaced) can never remove a blob another request is about to reference. With
 * keys made of the content alone, two servers replacing one instance back and forth with the same
 * two versions (STOW_DUPLICATE_POLICY=overwrite) left a row whose blob the other request had just
 * removed (found by the scale-out harness, packages/e2e/test/scale-out/overwrite.test.ts); and a blob a
 * deletion removes after its commit can never be one a later store of the same bytes wrote and indexed.
 */
export const instanceBlobKey = (d: InstanceDescription, sha256: string, writeId: string = randomBytes(6).toString('hex')): string =>
  `instances/${d.studyInstanceUid}/${d.seriesInstanceUid}/${d.sopInstanceUid}.${sha256}.${writeId}.dcm`;

/** Parts described and waiting on local disk to be stored together (bounded by count, not memory). */
const CHUNK_INSTANCES = 32;
/** Blob writes of one chunk in flight at once (S3 uploads overlap; file renames are cheap). */
const BLOB_WRITE_CONCURRENCY = 4;

/** A part that passed the checks and waits, spooled, for its chunk to be stored. */
interface Candidate {
  /** Its place among the request's results. */
  slot: number;
  spooled: SpooledPart;
  description: InstanceDescription;
  /** The SHA-256 of its bytes (STOW-9's identical-content check). */
  sha256: string;
  stored: Extract<InstanceResult, { kind: 'stored' }>;
  failed(reason: number, detail: string, storageFull?: boolean): InstanceResult;
  /** Where its blob goes if it is written (its UIDs and SHA-256, known once it is checked). */
  blobKey: string;
  /** Set once putFile owns the spooled file. */
  handedOver?: boolean;
}

/**
 * The Store Instances transaction (PS3.18 §10.5) without HTTP: each part is spooled to disk and
 * read up to its pixel data and validated; valid parts are then stored in chunks of up to
 * CHUNK_INSTANCES: blobs written, then all their index rows in one transaction. Per-instance
 * failures are result values; only a failure of the request as a whole throws (and the parts of
 * the chunk in progress, acknowledged by nothing, are not indexed).
 *
 * Order of writes (two-phase): blobs first, index rows second, acknowledgement last. A crash between
 * the first two leaves unreferenced blobs (removed by `tessera gc`), never a row without its blob.
 */
export async function storeInstances(parts: AsyncIterable<StorePart>, deps: StoreDependencies, options: { studyInstanceUid?: string }): Promise<StoreOutcome> {
  const results: InstanceResult[] = [];
  const touchedStudies = new Set<string>();
  let chunk: Candidate[] = [];
  const flush = async () => {
    const batch = chunk;
    chunk = [];
    try {
      await storeChunk(batch, deps, results);
    } finally {
      // putFile took over the files it stored; the others (skipped, refused, failed) are ours to remove.
      await Promise.all(batch.filter((c) => !c.handedOver).map((c) => rm(c.spooled.path, { force: true })));
    }
    for (const c of batch) {
      const result = results[c.slot]!;
      if (result.kind === 'stored') touchedStudies.add(result.studyInstanceUid);
    }
  };
  try {
    for await (const part of parts) {
      if ((part as { kind?: string }).kind === 'failed') {
        results.push(part as Extract<StorePart, { kind: 'failed' }>);
        continue;
      }
      const slot = results.length;
      let spooled: SpooledPart;
      try {
        spooled = await spoolPart(part as Readable, deps.settings.spoolDir, {
          maxBytes: deps.settings.maxPartBytes,
          sync: deps.blobs.movesFiles,
          hash: !deps.describer,
        });
      } catch (error) {
        if (!(error instanceof SpoolFullError)) throw error;
        (part as Readable).destroy();
        // Its UIDs were never read: an OtherFailuresSequence item. The rest of the part is
        // discarded by the reader; the next part may fit (space freed meanwhile) or fail the same way.
        deps.log?.error({ err: error }, 'upload spool full');
        results.push({ kind: 'failed', reason: FailureReason.OutOfResources, detail: error.message, storageFull: true });
        continue;
      }
      const checked = await check(spooled, slot, deps, options.studyInstanceUid).catch(async (error: unknown) => {
        await rm(spooled.path, { force: true });
        throw error;
      });
      if (checked.kind === 'failed') {
        results.push(checked);
        await rm(spooled.path, { force: true });
        continue;
      }
      results.push(checked.candidate.stored);
      // The same SOP Instance UID twice in one request: the second is decided after the first is stored.
      if (chunk.some((c) => c.description.sopInstanceUid === checked.candidate.description.sopInstanceUid)) await flush();
      chunk.push(checked.candidate);
      if (chunk.length >= CHUNK_INSTANCES) await flush();
    }
    if (chunk.length) await flush();
  } catch (error) {
    await Promise.all(chunk.map((c) => rm(c.spooled.path, { force: true })));
    throw error;
  } finally {
    // Computed attributes are refreshed once per request, also when it ends early (QIDO-8). If this
    // fails (or the process dies first), the studies stay marked and the server's sweep refreshes
    // them; the request's own outcome or error stands.
    if (touchedStudies.size) {
      await deps.index.instances.refreshStudies(touchedStudies).catch((error: unknown) => {
        deps.log?.warn({ err: error }, 'could not recompute study counts now; the periodic sweep will');
      });
    }
  }
  return { results };
}

/** Reads a spooled part's header and checks it (STOW-7/8): a candidate to store, or a failure. */
async function check(
  spooled: SpooledPart,
  slot: number,
  deps: StoreDependencies,
  pathStudyUid: string | undefined,
): Promise<{ kind: 'candidate'; candidate: Candidate } | Extract<InstanceResult, { kind: 'failed' }>> {
  const { settings } = deps;
  const limits = { maxHeaderBytes: settings.maxHeaderBytes, inlineBinaryMaxBytes: settings.inlineBinaryMaxBytes };
  let description: InstanceDescription;
  let sha256: string;
  try {
    if (deps.describer) {
      ({ description, sha256 } = await deps.describer.describe(spooled.path, spooled.size, limits));
    } else {
      const source = headedFileByteSource(spooled.path, spooled.size, spooled.head);
      try {
        description = await describeInstance(source, limits);
      } finally {
        await source.close();
      }
      sha256 = spooled.sha256!;
    }
  } catch (error) {
    if (error instanceof DicomParseError) {
      return { kind: 'failed', reason: error.reason, detail: error.message, sopClassUid: error.sopClassUid, sopInstanceUid: error.sopInstanceUid };
    }
    throw error;
  }
  const ids = { sopClassUid: description.sopClassUid, sopInstanceUid: description.sopInstanceUid };
  if (pathStudyUid !== undefined && description.studyInstanceUid !== pathStudyUid) {
    return {
      kind: 'failed',
      ...ids,
      reason: FailureReason.StudyInstanceUIDMismatch,
      detail: `StudyInstanceUID ${description.studyInstanceUid} is not the study ${pathStudyUid} of the request`,
    };
  }
  return {
    kind: 'candidate',
    candidate: {
      slot,
      spooled,
      description,
      sha256,
      blobKey: instanceBlobKey(description, sha256),
      stored: {
        kind: 'stored',
        ...ids,
        studyInstanceUid: description.studyInstanceUid,
        seriesInstanceUid: description.seriesInstanceUid,
        size: spooled.size,
        warning: description.warnings.length ? { reason: WarningReason.DataSetDoesNotMatchSOPClass, detail: description.warnings.join('; ') } : undefined,
      },
      failed: (reason, detail, storageFull) => ({ kind: 'failed', ...ids, reason, detail, ...(storageFull ? { storageFull } : {}) }),
    },
  };
}

/**
 * Stores a chunk of checked parts, writing each one's result into `results[slot]`: one query for
 * the SOP Instance UIDs already stored (a byte-identical re-send skips even its blob write), the
 * new blobs, then one index transaction for the chunk.
 */
async function storeChunk(chunk: Candidate[], deps: StoreDependencies, results: InstanceResult[]): Promise<void> {
  const { settings, index, blobs } = deps;
  const existing = new Map((await index.instances.findInstances(chunk.map((c) => c.description.sopInstanceUid))).map((e) => [e.sopInstanceUid, e]));
  const toWrite: Candidate[] = [];
  for (const c of chunk) {
    const d = c.description;
    const found = existing.get(d.sopInstanceUid);
    if (found && found.sha256 === c.sha256 && found.studyInstanceUid === d.studyInstanceUid && found.seriesInstanceUid === d.seriesInstanceUid) {
      results[c.slot] = { ...c.stored, duplicate: true };
    } else if (found && settings.duplicatePolicy === 'reject') {
      results[c.slot] = c.failed(FailureReason.DuplicateSOPInstance, `SOP Instance ${d.sopInstanceUid} is already stored with different content`);
    } else {
      toWrite.push(c);
    }
  }

  const written: Candidate[] = [];
  await forEachLimited(toWrite, BLOB_WRITE_CONCURRENCY, async (c) => {
    try {
      await c.spooled.durable;
      await blobs.putFile(c.blobKey, c.spooled.path, c.spooled.size, { synced: blobs.movesFiles });
      c.handedOver = true;
      written.push(c);
    } catch (error) {
      if (!(error instanceof BlobStoreFullError) && !(error instanceof SpoolFullError)) throw error;
      deps.log?.error({ err: error, blobKey: c.blobKey }, 'storage full');
      results[c.slot] = c.failed(FailureReason.OutOfResources, 'the archive storage is full', true);
    }
  });
  // Anything else (an unreachable S3, a timeout) fails the request as a whole: 503, retry later.
  // Blobs written before the failure are unreferenced: `tessera gc` removes them.
  if (written.length === 0) return;
  written.sort((a, b) => a.slot - b.slot);
  await blobs.syncKeys(written.map((c) => c.blobKey));

  let outcomes;
  try {
    outcomes = await index.instances.storeInstances(
      written.map((c) => ({ description: c.description, size: c.spooled.size, sha256: c.sha256, blobKey: c.blobKey })),
      { overwrite: settings.duplicatePolicy === 'overwrite' },
    );
  } catch (error) {
    // Rolled back: the blobs are referenced by nothing. But when the database stopped answering
    // during the COMMIT, the rows may have committed: their blobs stay (`tessera gc` removes them
    // later if no row refers to them), and the request answers 503 "outcome unknown".
    if (!(error instanceof IndexOutcomeUnknownError)) await Promise.all(written.map((c) => deleteQuietly(blobs, c.blobKey, deps)));
    throw error;
  }
  for (const [i, c] of written.entries()) {
    const outcome = outcomes[i]!;
    switch (outcome.kind) {
      case 'stored':
        results[c.slot] = c.stored;
        break;
      case 'identical':
        // Stored by another request meanwhile, under its own key: ours is referenced by nothing.
        await deleteQuietly(blobs, c.blobKey, deps);
        results[c.slot] = { ...c.stored, duplicate: true };
        break;
      case 'replaced':
        if (outcome.previousBlobKey !== c.blobKey) await deleteQuietly(blobs, outcome.previousBlobKey, deps);
        results[c.slot] = c.stored;
        break;
      case 'conflict':
        // Our key was written by this request alone (instanceBlobKey): safe to remove.
        await deleteQuietly(blobs, c.blobKey, deps);
        results[c.slot] = c.failed(FailureReason.DuplicateSOPInstance, outcome.detail);
        break;
    }
  }
}

/** Runs `task` over `items`, at most `limit` at once; the first failure rejects after the running ones settle. */
async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      const item = items[next++]!;
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

async function deleteQuietly(blobs: BlobStore, key: string, deps: StoreDependencies): Promise<void> {
  try {
    await blobs.delete(key);
  } catch (error) {
    deps.log?.warn({ err: error, key }, 'could not remove an unreferenced blob; `tessera gc` will');
  }
}
