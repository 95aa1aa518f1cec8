import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { BlobStore } from '@tessera/blob-store';
import {
  DicomParseError, type DicomJsonDataset, FailureReason, type InstanceDescription, Tag, WarningReason,
  describeInstance, fileByteSource, tagKey,
} from '@tessera/dicom';
import type { Index } from '@tessera/index';
import { type SpooledPart, spoolPart } from './spool.js';

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
  log?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

/** One instance's result: stored (maybe with a warning) or failed, as the response module lists it. */
export type InstanceResult =
  | { kind: 'stored'; sopClassUid: string; sopInstanceUid: string; studyInstanceUid: string; seriesInstanceUid: string; warning?: { reason: number; detail: string } }
  | { kind: 'failed'; sopClassUid?: string; sopInstanceUid?: string; reason: number; detail: string };

export interface StoreOutcome {
  results: InstanceResult[];
}

/** The blob key of an instance: its UIDs (validated, so path-safe) and the SHA-256 of its bytes. */
export const instanceBlobKey = (d: InstanceDescription, sha256: string): string =>
  `instances/${d.studyInstanceUid}/${d.seriesInstanceUid}/${d.sopInstanceUid}/${sha256}.dcm`;

/**
 * The Store Instances transaction (PS3.18 §10.5) without HTTP: each part is spooled to disk,
 * read up to its pixel data, validated, written to the blob store, then indexed. Per-instance
 * failures are result values; only a failure of the request as a whole throws.
 *
 * Order of writes (two-phase): blob first, index row second, acknowledgement last. A crash between
 * the first two leaves an unreferenced blob (removed by `tessera gc`), never a row without its blob.
 */
export async function storeInstances(
  parts: AsyncIterable<Readable>,
  deps: StoreDependencies,
  options: { studyInstanceUid?: string },
): Promise<StoreOutcome> {
  const results: InstanceResult[] = [];
  const touchedStudies = new Set<string>();
  try {
    for await (const part of parts) {
      const spooled = await spoolPart(part, deps.settings.spoolDir, deps.settings.maxPartBytes);
      try {
        const result = await storeOne(spooled, deps, options.studyInstanceUid);
        if (result.kind === 'stored') touchedStudies.add(result.studyInstanceUid);
        results.push(result);
      } finally {
        await rm(spooled.path, { force: true });
      }
    }
  } finally {
    // Computed attributes are refreshed once per request, also when it ends early (QIDO-8).
    if (touchedStudies.size) await deps.index.instances.refreshStudies(touchedStudies);
  }
  return { results };
}

async function storeOne(spooled: SpooledPart, deps: StoreDependencies, pathStudyUid: string | undefined): Promise<InstanceResult> {
  const { settings, index, blobs } = deps;
  let description: InstanceDescription;
  const source = await fileByteSource(spooled.path);
  try {
    description = await describeInstance(source, { maxHeaderBytes: settings.maxHeaderBytes, inlineBinaryMaxBytes: settings.inlineBinaryMaxBytes });
  } catch (error) {
    if (error instanceof DicomParseError) {
      return { kind: 'failed', reason: error.reason, detail: error.message, sopClassUid: error.sopClassUid, sopInstanceUid: error.sopInstanceUid };
    }
    throw error;
  } finally {
    await source.close();
  }
  const ids = { sopClassUid: description.sopClassUid, sopInstanceUid: description.sopInstanceUid };

  if (pathStudyUid !== undefined && description.studyInstanceUid !== pathStudyUid) {
    return { kind: 'failed', ...ids, reason: FailureReason.StudyInstanceUIDMismatch, detail: `StudyInstanceUID ${description.studyInstanceUid} is not the study ${pathStudyUid} of the request` };
  }

  // A byte-identical re-send changes nothing: skip even the blob write.
  const existing = await index.instances.findInstance(description.sopInstanceUid);
  const stored = {
    kind: 'stored' as const, ...ids,
    studyInstanceUid: description.studyInstanceUid, seriesInstanceUid: description.seriesInstanceUid,
    warning: description.warnings.length ? { reason: WarningReason.DataSetDoesNotMatchSOPClass, detail: description.warnings.join('; ') } : undefined,
  };
  if (existing && existing.sha256 === spooled.sha256 && existing.studyInstanceUid === description.studyInstanceUid && existing.seriesInstanceUid === description.seriesInstanceUid) {
    return stored;
  }
  if (existing && settings.duplicatePolicy === 'reject') {
    return { kind: 'failed', ...ids, reason: FailureReason.DuplicateSOPInstance, detail: `SOP Instance ${description.sopInstanceUid} is already stored with different content` };
  }

  const blobKey = instanceBlobKey(description, spooled.sha256);
  try {
    await blobs.putFile(blobKey, spooled.path, spooled.size);
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    if (cause === 'ENOSPC' || cause === 'EDQUOT') {
      deps.log?.error({ err: error, blobKey }, 'storage full');
      return { kind: 'failed', ...ids, reason: FailureReason.OutOfResources, detail: 'the archive storage is full' };
    }
    // Anything else (an unreachable S3, a timeout) fails the request as a whole: 503, retry later.
    throw error;
  }

  let outcome;
  try {
    outcome = await index.instances.storeInstance(
      { description, size: spooled.size, sha256: spooled.sha256, blobKey },
      { overwrite: settings.duplicatePolicy === 'overwrite' },
    );
  } catch (error) {
    await deleteQuietly(blobs, blobKey, deps);
    throw error;
  }
  switch (outcome.kind) {
    case 'stored':
    case 'identical':
      return stored;
    case 'replaced':
      if (outcome.previousBlobKey !== blobKey) await deleteQuietly(blobs, outcome.previousBlobKey, deps);
      return stored;
    case 'conflict':
      // Our key holds our own bytes (it names our SHA-256), never the stored instance's: safe to remove.
      await deleteQuietly(blobs, blobKey, deps);
      return { kind: 'failed', ...ids, reason: FailureReason.DuplicateSOPInstance, detail: outcome.detail };
  }
}

async function deleteQuietly(blobs: BlobStore, key: string, deps: StoreDependencies): Promise<void> {
  try {
    await blobs.delete(key);
  } catch (error) {
    deps.log?.warn({ err: error, key }, 'could not remove an unreferenced blob; `tessera gc` will');
  }
}

/**
 * The Store Instances Response Module (PS3.18 Annex I, digest STOW-4/10) and its HTTP status
 * (STOW-6): 200 all stored, 202 some stored or any warning, 409 none stored.
 */
export function toStoreResponse(outcome: StoreOutcome, urls: { study(uid: string): string; instance(study: string, series: string, sop: string): string }): { status: number; body: DicomJsonDataset } {
  const stored = outcome.results.filter((r) => r.kind === 'stored');
  const failed = outcome.results.filter((r) => r.kind === 'failed');
  const body: DicomJsonDataset = {};
  const studies = new Set(stored.map((r) => r.studyInstanceUid));
  const [onlyStudy] = studies;
  body[tagKey(Tag.RetrieveURL)] = studies.size === 1 && onlyStudy ? { vr: 'UR', Value: [urls.study(onlyStudy)] } : { vr: 'UR' };

  const withUids = failed.filter((r) => r.sopInstanceUid !== undefined);
  const other = failed.filter((r) => r.sopInstanceUid === undefined);
  if (withUids.length) {
    body[tagKey(Tag.FailedSOPSequence)] = {
      vr: 'SQ',
      Value: withUids.map((r) => ({
        [tagKey(Tag.ReferencedSOPClassUID)]: r.sopClassUid ? { vr: 'UI', Value: [r.sopClassUid] } : { vr: 'UI' },
        [tagKey(Tag.ReferencedSOPInstanceUID)]: { vr: 'UI', Value: [r.sopInstanceUid!] },
        [tagKey(Tag.FailureReason)]: { vr: 'US', Value: [r.reason] },
      })),
    };
  }
  if (other.length) {
    body[tagKey(Tag.OtherFailuresSequence)] = {
      vr: 'SQ',
      Value: other.map((r) => ({ [tagKey(Tag.FailureReason)]: { vr: 'US', Value: [r.reason] } })),
    };
  }
  if (stored.length) {
    body[tagKey(Tag.ReferencedSOPSequence)] = {
      vr: 'SQ',
      Value: stored.map((r) => ({
        [tagKey(Tag.ReferencedSOPClassUID)]: { vr: 'UI', Value: [r.sopClassUid] },
        [tagKey(Tag.ReferencedSOPInstanceUID)]: { vr: 'UI', Value: [r.sopInstanceUid] },
        [tagKey(Tag.RetrieveURL)]: { vr: 'UR', Value: [urls.instance(r.studyInstanceUid, r.seriesInstanceUid, r.sopInstanceUid)] },
        ...(r.warning ? { [tagKey(Tag.WarningReason)]: { vr: 'US', Value: [r.warning.reason] } } : {}),
      })),
    };
  }
  const sorted = Object.fromEntries(Object.entries(body).sort(([a], [b]) => (a < b ? -1 : 1)));
  // Nothing stored and nothing even readable as DICOM: the request as a whole was bad (STOW-6/8).
  const status = stored.length === 0
    ? (other.length === failed.length ? 400 : 409)
    : failed.length || stored.some((r) => r.warning) ? 202 : 200;
  return { status, body: sorted };
}
