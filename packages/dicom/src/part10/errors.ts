import { FailureReason } from '../status.js';

/**
 * Why a Part 10 byte stream cannot be read. `reason` is the STOW-RS FailureReason the
 * store transaction reports for it (digest STOW-5/STOW-8).
 */
export class DicomParseError extends Error {
  override readonly name = 'DicomParseError';
  /** The SOP Class and Instance UIDs, when they could be read before the failure. */
  sopClassUid?: string;
  sopInstanceUid?: string;

  constructor(
    message: string,
    readonly reason: number = FailureReason.CannotUnderstand,
  ) {
    super(message);
  }
}

/** Thrown internally when the bytes read so far end before the element being parsed. */
export class NeedMoreData extends Error {
  override readonly name = 'NeedMoreData';
  constructor(readonly needed: number) {
    super(`need ${needed} bytes`);
  }
}
