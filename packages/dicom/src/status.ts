/**
 * Store Instances failure and warning reasons (PS3.18 §I.2, PS3.4 Annex B; digest STOW-5).
 * Written in JSON as decimal US values.
 */
export const FailureReason = {
  /** A700: out of resources (storage full, object larger than a configured limit). */
  OutOfResources: 0xa700,
  /** A900: the data set does not match its SOP class (missing or invalid required attributes). */
  DataSetDoesNotMatchSOPClass: 0xa900,
  /** A901 (implementation-specific, as Microsoft's DICOM server): StudyInstanceUID differs from the request path. */
  StudyInstanceUIDMismatch: 0xa901,
  /** C000: cannot understand (not parseable as PS3.10). */
  CannotUnderstand: 0xc000,
  /** C122: transfer syntax not supported. */
  TransferSyntaxNotSupported: 0xc122,
  /** 0110: processing failure. */
  ProcessingFailure: 0x0110,
  /** 0122: SOP class not supported. */
  SOPClassNotSupported: 0x0122,
  /**
   * A7F0 (implementation-specific, in the A7xx "refused" range): an instance with this SOP Instance
   * UID is already stored with different content, or under another study or series; nothing was
   * overwritten (digest STOW-9). Enable overwrite to replace instead.
   */
  DuplicateSOPInstance: 0xa7f0,
} as const;

export const WarningReason = {
  /** B000: coercion of data elements. */
  CoercionOfDataElements: 0xb000,
  /** B006: elements discarded. */
  ElementsDiscarded: 0xb006,
  /** B007: data set does not match SOP class, stored anyway (e.g. fewer frames than announced). */
  DataSetDoesNotMatchSOPClass: 0xb007,
} as const;

/**
 * A short, fixed, human-readable name of a FailureReason or WarningReason (PS3.4 Annex B, PS3.18
 * §I.2), for logs and documents: it never holds data of the instance (no UIDs, no names).
 */
export function statusName(code: number): string {
  switch (code) {
    case FailureReason.OutOfResources:
      return 'out of resources';
    case FailureReason.DataSetDoesNotMatchSOPClass:
      return 'data set does not match its SOP class';
    case FailureReason.StudyInstanceUIDMismatch:
      return 'StudyInstanceUID differs from the study of the request';
    case FailureReason.CannotUnderstand:
      return 'cannot understand (not a readable DICOM Part 10 instance)';
    case FailureReason.TransferSyntaxNotSupported:
      return 'transfer syntax not supported';
    case FailureReason.ProcessingFailure:
      return 'processing failure';
    case FailureReason.SOPClassNotSupported:
      return 'SOP class not supported';
    case FailureReason.DuplicateSOPInstance:
      return 'SOP Instance UID already stored with different content';
    case WarningReason.CoercionOfDataElements:
      return 'data elements coerced';
    case WarningReason.ElementsDiscarded:
      return 'data elements discarded';
    case WarningReason.DataSetDoesNotMatchSOPClass:
      return 'data set does not match its SOP class (stored anyway)';
    default:
      if (code >= 0xa700 && code <= 0xa7ff) return 'refused: out of resources';
      if (code >= 0xa900 && code <= 0xa9ff) return 'data set does not match its SOP class';
      if (code >= 0xc000 && code <= 0xcfff) return 'cannot understand';
      return 'failure';
  }
}

/** A status code as the standard writes it: four upper-case hex digits (A700, C000). */
export const statusHex = (code: number): string => code.toString(16).toUpperCase().padStart(4, '0');
