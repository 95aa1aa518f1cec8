import type { BlobStore } from '@tessera/blob-store';
import { BufferPool, type Lease } from '@tessera/http';
import { DicomParseError, type Part10Plan, type Span, transferSyntaxInfo } from '@tessera/dicom';
import type { RetrievableInstance } from '@tessera/index';

/**
 * Largest answer read whole into one buffer and sent with one write and a Content-Length; anything
 * larger is streamed in chunks of at most the same size, so memory per request is bounded either
 * way. A CT slice (≈ 0.5 MB) fits: no stream, no async iteration, one positional read
 * (docs/benchmarks.md, fourth round).
 */
export const WHOLE_READ_MAX_BYTES = 1 << 20;

/**
 * The buffers of whole reads, reused: a slab holds the largest whole answer with its multipart
 * envelope (the part's header fields, under 1 KiB; the rare longer one gets a buffer of its own).
 * Sixteen free slabs cover four clients reading ahead four parts each; an idle server drops them
 * after 30 s.
 */
export const wholeReadBuffers = new BufferPool({ slabBytes: WHOLE_READ_MAX_BYTES + (4 << 10), maxFree: 16, idleMs: 30_000 });

/**
 * Stored bytes that make up a whole answer as they are (no re-encoding, inflating or byte swapping),
 * small enough to be read into one buffer.
 */
export interface WholeBytes {
  /** Byte length of the answer's body. */
  length: number;
  /**
   * Reads the bytes into one buffer lent by `wholeReadBuffers`, after `before` and followed by
   * `after` (a multipart part's head and the closing boundary), so that the whole response is one
   * buffer. Release the lease once the buffer is written out (or not at all: it is then collected).
   * An object shorter than the index says fails here, before anything is sent.
   */
  read(before?: Buffer, after?: Buffer): Promise<Lease>;
}

const NOTHING = Buffer.alloc(0);

/**
 * The PS3.10 file of a stored instance as one read, when `plan` serves the stored bytes as they are
 * (`as-is`: stored with a File Meta in the asked syntax) and the object is at most
 * WHOLE_READ_MAX_BYTES; undefined otherwise (stream it: `encodeStoredPart10`).
 */
export function wholePart10(blobs: BlobStore, row: Pick<RetrievableInstance, 'size' | 'blobKey'>, plan: Part10Plan): WholeBytes | undefined {
  if (plan.kind !== 'as-is' || row.size > WHOLE_READ_MAX_BYTES) return undefined;
  return wholeSpans(blobs, row.blobKey, [{ offset: 0, length: row.size }]);
}

/**
 * Frame `n` (1-based, checked by the caller) as one read, when its stored bytes are its answer: an
 * encapsulated frame (its fragments in order) or a native little-endian one, at most
 * WHOLE_READ_MAX_BYTES; undefined for deflated and big endian objects and larger frames (stream
 * them: `frameBytes`).
 */
export function wholeFrame(blobs: BlobStore, row: RetrievableInstance, n: number): WholeBytes | undefined {
  const f = row.frames;
  if (!f || f.kind === 'deflated') return undefined;
  if (f.kind === 'encapsulated') return wholeSpans(blobs, row.blobKey, f.frames[n - 1]!);
  if (transferSyntaxInfo(row.transferSyntaxUid)?.littleEndian !== true) return undefined;
  return wholeSpans(blobs, row.blobKey, [{ offset: f.offset + (n - 1) * f.length, length: f.length }]);
}

function wholeSpans(blobs: BlobStore, key: string, spans: Span[]): WholeBytes | undefined {
  const length = spans.reduce((sum, span) => sum + span.length, 0);
  if (length > WHOLE_READ_MAX_BYTES) return undefined;
  return {
    length,
    async read(before = NOTHING, after = NOTHING) {
      const lease = wholeReadBuffers.lease(before.length + length + after.length);
      const buffer = lease.bytes;
      try {
        before.copy(buffer, 0);
        let at = before.length;
        for (const span of spans) {
          if (span.length === 0) continue;
          const read = await blobs.readInto(key, { start: span.offset, end: span.offset + span.length - 1 }, buffer, at);
          // The same failure as a streamed range of a short object (ranged-byte-source.ts).
          if (read !== span.length) throw new DicomParseError(`data ends at byte ${span.offset + read}, before byte ${span.offset + span.length}`);
          at += read;
        }
        after.copy(buffer, at);
      } catch (error) {
        // Nothing was sent: the buffer is free again. (A read cancelled by S3 is over once readInto settles.)
        lease.release();
        throw error;
      }
      return lease;
    },
  };
}
