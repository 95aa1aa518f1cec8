import type { ByteRange } from './blob-store.js';

/**
 * Throws RangeError unless `range` is a well-formed inclusive range. Checked up front because S3
 * ignores a malformed Range header and sends the whole object, which a caller would take for the range.
 */
export function assertValidRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`invalid byte range ${start}-${end}`);
  }
}

/** Throws RangeError unless `range` is well formed and its bytes fit in `target` from `offset`. */
export function assertFits(range: ByteRange, target: Uint8Array, offset: number): void {
  assertValidRange(range);
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + (range.end - range.start + 1) > target.byteLength) {
    throw new RangeError(`bytes ${range.start}-${range.end} do not fit in ${target.byteLength} bytes from ${offset}`);
  }
}
