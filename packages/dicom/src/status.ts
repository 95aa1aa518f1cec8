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
