import { createHash } from 'node:crypto';
import type { BlobStore } from '@tessera/blob-store';
import { BlobNotFoundError } from '@tessera/blob-store';
import type { Index } from '@tessera/index';

/**
 * `tessera verify`: walks the index in pages and checks every instance's blob against what was
 * acknowledged at ingest (size and SHA-256, stored on the instance row).
 *
 * - `exists`: the blob is there (one HEAD / stat per instance);
 * - `size`: and its size equals the stored size (same cost);
 * - `checksum`: and its bytes hash to the stored SHA-256 (streams every byte; no blob is buffered).
 *
 * Memory is bounded: one page of rows (keyset pagination on the instance primary key) plus
 * `concurrency` streams in flight. `rate` caps blobs checked per second (a token bucket), so a
 * verify of a production archive can run beside the server without starving it.
 */
export type VerifyLevel = 'exists' | 'size' | 'checksum';
export const VERIFY_LEVELS: readonly VerifyLevel[] = ['exists', 'size', 'checksum'];

export type ProblemKind = 'missing' | 'truncated' | 'corrupt';

export interface VerifyProblem {
  kind: ProblemKind;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  blobKey: string;
  /** What the index says (size in bytes; SHA-256 for `corrupt`). */
  expected: { size: number; sha256?: string };
  /** What the store holds (absent for `missing`). */
  actual?: { size: number; sha256?: string };
}

export interface VerifySummary {
  level: VerifyLevel;
  checked: number;
  missing: number;
  truncated: number;
  corrupt: number;
  /** Bytes read from the store (checksum level only). */
  bytesRead: number;
  elapsedMs: number;
}

export interface VerifyOptions {
  level: VerifyLevel;
  /** Blobs checked per second at most; undefined: as fast as the store answers. */
  rate?: number;
  /** Blobs checked at a time (default 4). */
  concurrency?: number;
  /** Only this study's instances. */
  studyInstanceUid?: string;
  /** Rows fetched per index query (default 500). */
  pageSize?: number;
  onProblem?: (problem: VerifyProblem) => void;
  onProgress?: (checked: number) => void;
}

export async function verifyArchive(index: Pick<Index, 'instances'>, blobs: BlobStore, options: VerifyOptions): Promise<VerifySummary> {
  const started = Date.now();
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const pageSize = Math.max(1, options.pageSize ?? 500);
  const bucket = options.rate === undefined ? undefined : new TokenBucket(options.rate);
  const summary: VerifySummary = { level: options.level, checked: 0, missing: 0, truncated: 0, corrupt: 0, bytesRead: 0, elapsedMs: 0 };

  let afterPk = 0;
  for (;;) {
    const page = await index.instances.pageInstances({ afterPk, limit: pageSize, studyInstanceUid: options.studyInstanceUid });
    if (page.length === 0) break;
    afterPk = page[page.length - 1]!.pk;
    let next = 0;
    const worker = async () => {
      while (next < page.length) {
        const row = page[next++]!;
        if (bucket) await bucket.take();
        const problem = await checkInstance(blobs, row, options.level, summary);
        summary.checked++;
        if (problem) {
          summary[problem.kind]++;
          options.onProblem?.(problem);
        }
        options.onProgress?.(summary.checked);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, page.length) }, worker));
    if (page.length < pageSize) break;
  }
  summary.elapsedMs = Date.now() - started;
  return summary;
}

interface Row {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  size: number;
  sha256: string;
  blobKey: string;
}

async function checkInstance(blobs: BlobStore, row: Row, level: VerifyLevel, summary: VerifySummary): Promise<VerifyProblem | undefined> {
  const base = { studyInstanceUid: row.studyInstanceUid, seriesInstanceUid: row.seriesInstanceUid, sopInstanceUid: row.sopInstanceUid, blobKey: row.blobKey };
  if (level !== 'checksum') {
    const info = await blobs.head(row.blobKey);
    if (!info) return { kind: 'missing', ...base, expected: { size: row.size } };
    if (level === 'size' && info.size !== row.size) return { kind: 'truncated', ...base, expected: { size: row.size }, actual: { size: info.size } };
    return undefined;
  }
  let stream;
  try {
    stream = await blobs.get(row.blobKey);
  } catch (error) {
    if (error instanceof BlobNotFoundError) return { kind: 'missing', ...base, expected: { size: row.size } };
    throw error;
  }
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
    }
  } catch (error) {
    // Deleted between the open and the end of the read (S3 answers the GET, then the object goes).
    if (error instanceof BlobNotFoundError) return { kind: 'missing', ...base, expected: { size: row.size } };
    throw error;
  }
  summary.bytesRead += size;
  const sha256 = hash.digest('hex');
  // A size mismatch is reported as truncated (or grown), whatever the hash: it says more about the cause.
  if (size !== row.size) return { kind: 'truncated', ...base, expected: { size: row.size }, actual: { size, sha256 } };
  if (sha256 !== row.sha256) return { kind: 'corrupt', ...base, expected: { size: row.size, sha256: row.sha256 }, actual: { size, sha256 } };
  return undefined;
}

/**
 * A token bucket of one second's capacity, refilled continuously at `rate` tokens per second:
 * `take()` resolves at once while tokens are left, and otherwise waits for the next one.
 */
export class TokenBucket {
  #tokens: number;
  #last = Date.now();
  #queue: Promise<void> = Promise.resolve();
  readonly #capacity: number;

  constructor(readonly rate: number) {
    if (!(rate > 0)) throw new RangeError(`a rate must be above 0, got ${rate}`);
    this.#capacity = Math.max(1, rate);
    this.#tokens = this.#capacity;
  }

  take(): Promise<void> {
    // Callers queue so that tokens go out in order and none is counted twice.
    const turn = this.#queue.then(async () => {
      this.#refill();
      while (this.#tokens < 1) {
        await new Promise((resolve) => setTimeout(resolve, Math.ceil(((1 - this.#tokens) / this.rate) * 1000)));
        this.#refill();
      }
      this.#tokens -= 1;
    });
    this.#queue = turn;
    return turn;
  }

  #refill(): void {
    const now = Date.now();
    this.#tokens = Math.min(this.#capacity, this.#tokens + ((now - this.#last) / 1000) * this.rate);
    this.#last = now;
  }
}
