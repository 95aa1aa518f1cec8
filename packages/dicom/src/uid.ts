/** UID syntax (PS3.5 §9.1, digest DATA-1): dotted numeric components, no leading zeros, ≤ 64 chars. */
const UID_PATTERN = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;

export function isValidUid(value: string): boolean {
  return value.length > 0 && value.length <= 64 && UID_PATTERN.test(value);
}

/** Transfer syntaxes by name (PS3.6 Annex A). */
export const TransferSyntax = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
  JPEGBaseline8Bit: '1.2.840.10008.1.2.4.50',
  JPEGExtended12Bit: '1.2.840.10008.1.2.4.51',
  JPEGLossless: '1.2.840.10008.1.2.4.57',
  JPEGLosslessSV1: '1.2.840.10008.1.2.4.70',
  JPEGLSLossless: '1.2.840.10008.1.2.4.80',
  JPEGLSNearLossless: '1.2.840.10008.1.2.4.81',
  JPEG2000Lossless: '1.2.840.10008.1.2.4.90',
  JPEG2000: '1.2.840.10008.1.2.4.91',
  RLELossless: '1.2.840.10008.1.2.5',
} as const;

export interface TransferSyntaxInfo {
  uid: string;
  explicitVr: boolean;
  littleEndian: boolean;
  /** Pixel Data is encapsulated (compressed fragments) rather than native. */
  encapsulated: boolean;
  /** The dataset after the File Meta is raw-deflated (PS3.5 §A.5). */
  deflated: boolean;
  /** Media type of a frame in this syntax (digest DATA-3), e.g. `image/jpeg`. */
  bulkMediaType: string;
}

const native = (uid: string, explicitVr: boolean, littleEndian: boolean, deflated = false): TransferSyntaxInfo => ({
  uid,
  explicitVr,
  littleEndian,
  encapsulated: false,
  deflated,
  bulkMediaType: 'application/octet-stream',
});
const encapsulated = (uid: string, bulkMediaType: string): TransferSyntaxInfo => ({
  uid,
  explicitVr: true,
  littleEndian: true,
  encapsulated: true,
  deflated: false,
  bulkMediaType,
});

const KNOWN: TransferSyntaxInfo[] = [
  native('1.2.840.10008.1.2', false, true),
  native('1.2.840.10008.1.2.1', true, true),
  native('1.2.840.10008.1.2.1.99', true, true, true),
  native('1.2.840.10008.1.2.2', true, false),
  // JPEG family (DATA-3): baseline, extended, spectral/progressive (retired but real), lossless.
  ...['50', '51', '52', '53', '54', '55', '56', '57', '58', '59', '60', '61', '62', '63', '64', '65', '66', '70'].map((n) =>
    encapsulated(`1.2.840.10008.1.2.4.${n}`, 'image/jpeg'),
  ),
  encapsulated('1.2.840.10008.1.2.4.80', 'image/jls'),
  encapsulated('1.2.840.10008.1.2.4.81', 'image/jls'),
  encapsulated('1.2.840.10008.1.2.4.90', 'image/jp2'),
  encapsulated('1.2.840.10008.1.2.4.91', 'image/jp2'),
  encapsulated('1.2.840.10008.1.2.4.92', 'image/jpx'),
  encapsulated('1.2.840.10008.1.2.4.93', 'image/jpx'),
  encapsulated('1.2.840.10008.1.2.4.201', 'image/jphc'),
  encapsulated('1.2.840.10008.1.2.4.202', 'image/jphc'),
  encapsulated('1.2.840.10008.1.2.4.203', 'image/jphc'),
  encapsulated('1.2.840.10008.1.2.5', 'image/dicom-rle'),
  // Deflated Image Frame Compression (2023): each frame deflated.
  encapsulated('1.2.840.10008.1.2.8.1', 'application/octet-stream'),
  encapsulated('1.2.840.10008.1.2.4.94', 'application/octet-stream'), // JPIP referenced: no local pixels
  encapsulated('1.2.840.10008.1.2.4.95', 'application/octet-stream'),
  // MPEG-2, H.264, HEVC video (one "frame" stream for the whole video).
  ...['100', '100.1', '101', '101.1', '102', '102.1', '103', '103.1', '104', '104.1', '105', '105.1', '106', '106.1'].map((n) =>
    encapsulated(`1.2.840.10008.1.2.4.${n}`, 'video/mp4'),
  ),
  encapsulated('1.2.840.10008.1.2.4.107', 'video/H265'),
  encapsulated('1.2.840.10008.1.2.4.108', 'video/H265'),
];

const BY_UID = new Map(KNOWN.map((ts) => [ts.uid, ts]));
for (const uid of ['1.2.840.10008.1.2.4.100', '1.2.840.10008.1.2.4.100.1', '1.2.840.10008.1.2.4.101', '1.2.840.10008.1.2.4.101.1']) {
  BY_UID.set(uid, { ...BY_UID.get(uid)!, bulkMediaType: 'video/mpeg' });
}

/** Facts about a transfer syntax this server can store, or undefined for an unknown one. */
export function transferSyntaxInfo(uid: string): TransferSyntaxInfo | undefined {
  return BY_UID.get(uid);
}
