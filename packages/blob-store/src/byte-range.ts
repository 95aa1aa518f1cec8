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
