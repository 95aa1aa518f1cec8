/**
 * Why a retrieval fails as a whole. Each service maps a reason to its own HTTP answer (status,
 * problem code); this package knows nothing of HTTP.
 * - `not-found`: the scope (or the instance's metadata) is not stored.
 * - `no-frames`: frames asked of an instance without (located) pixel data.
 * - `frame-not-found`: a frame number beyond the instance's frame count.
 * - `no-pixel-data`: a rendering asked of an instance or a scope without pixel data.
 * - `bulk-data-not-found`: no bulk data value at the asked path.
 * - `not-decodable`: compressed pixel data asked decoded (or rendered) in a syntax with no decoder here.
 * - `pixel-data-unreadable`: the stored pixel data does not decode.
 * - `invalid-render-parameter`: a rendering parameter the image makes impossible (e.g. a region outside it).
 */
export type RetrieveErrorReason =
  | 'not-found'
  | 'no-frames'
  | 'frame-not-found'
  | 'no-pixel-data'
  | 'bulk-data-not-found'
  | 'not-decodable'
  | 'pixel-data-unreadable'
  | 'invalid-render-parameter';

/** A retrieval that fails as a whole; `message` is the detail a client is shown. */
export class RetrieveError extends Error {
  override readonly name = 'RetrieveError';
  constructor(
    readonly reason: RetrieveErrorReason,
    message: string,
    /** The instance concerned, when there is one (lets a service word its own detail). */
    readonly sopInstanceUid?: string,
  ) {
    super(message);
  }
}
