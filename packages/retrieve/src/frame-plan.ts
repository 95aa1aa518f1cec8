import { type BulkDataRef, frameCount } from '@tessera/dicom';
import type { RetrievableInstance } from '@tessera/index';
import { RetrieveError } from './retrieve-error.js';
import { isPixelDataPath } from './stored-bytes.js';

/**
 * Checks a list of 1-based frame numbers against the frames the index located at ingest (digest
 * WADORS-5, D18): an instance without (locatable) pixel data is `no-frames`, a number beyond the
 * count `frame-not-found`. Returns the instance's frame count.
 */
export function planFrames(row: RetrievableInstance, numbers: readonly number[]): number {
  const count = frameCount(row.frames ?? undefined);
  if (count === 0) throw new RetrieveError('no-frames', `instance ${row.sopInstanceUid} has no pixel data frames (PS3.18 §10.4.1.1.6)`, row.sopInstanceUid);
  const beyond = numbers.find((n) => n > count);
  if (beyond !== undefined)
    throw new RetrieveError('frame-not-found', `frame ${beyond} does not exist: instance ${row.sopInstanceUid} has ${count}`, row.sopInstanceUid);
  return count;
}

/**
 * What a bulk data path of an instance names (digest WADORS-7): one stored value, or encapsulated
 * Pixel Data, which is not one value but its frames (`count` of them). Anything else is
 * `bulk-data-not-found`.
 */
export type BulkDataPlan = { kind: 'value'; ref: BulkDataRef } | { kind: 'frames'; count: number };

export function planBulkData(row: RetrievableInstance, path: string): BulkDataPlan {
  const ref = row.bulkData.find((b) => b.path === path);
  if (ref) return { kind: 'value', ref };
  if (isPixelDataPath(path) && row.frames?.kind === 'encapsulated') return { kind: 'frames', count: frameCount(row.frames) };
  throw new RetrieveError('bulk-data-not-found', `instance ${row.sopInstanceUid} has no bulk data at ${path}`, row.sopInstanceUid);
}
