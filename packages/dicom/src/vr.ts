/** Value representations (PS3.5 §6.2) and how each is encoded and rendered in JSON (PS3.18 F.2.3). */
export const VRS = [
  'AE',
  'AS',
  'AT',
  'CS',
  'DA',
  'DS',
  'DT',
  'FD',
  'FL',
  'IS',
  'LO',
  'LT',
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'PN',
  'SH',
  'SL',
  'SQ',
  'SS',
  'ST',
  'SV',
  'TM',
  'UC',
  'UI',
  'UL',
  'UN',
  'UR',
  'US',
  'UT',
  'UV',
] as const;
export type Vr = (typeof VRS)[number];

const VR_SET = new Set<string>(VRS);
export const isVr = (value: string): value is Vr => VR_SET.has(value);

/** VRs whose explicit-VR header has 2 reserved bytes and a 32-bit length (PS3.5 §7.1.2). */
const LONG_HEADER = new Set<Vr>(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);
export const hasLongHeader = (vr: Vr): boolean => LONG_HEADER.has(vr);

/** Text VRs whose bytes depend on (0008,0005) Specific Character Set. */
const CHARSET_TEXT = new Set<Vr>(['SH', 'LO', 'ST', 'LT', 'UC', 'UT', 'PN']);
export const usesSpecificCharacterSet = (vr: Vr): boolean => CHARSET_TEXT.has(vr);

/** String VRs (rendered as JSON strings, `\`-separated multiple values except the single-valued texts). */
const STRING = new Set<Vr>(['AE', 'AS', 'CS', 'DA', 'DT', 'LO', 'LT', 'SH', 'ST', 'TM', 'UC', 'UI', 'UR', 'UT']);
export const isStringVr = (vr: Vr): boolean => STRING.has(vr);
/** Text VRs that hold exactly one value, where `\` is an ordinary character. */
const SINGLE_VALUED_TEXT = new Set<Vr>(['LT', 'ST', 'UT', 'UR']);
export const isSingleValuedText = (vr: Vr): boolean => SINGLE_VALUED_TEXT.has(vr);

/** Binary VRs rendered as InlineBinary or BulkDataURI. */
const BINARY = new Set<Vr>(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
export const isBinaryVr = (vr: Vr): boolean => BINARY.has(vr);

/** Fixed-width binary numbers: VR → bytes per value. */
export const NUMBER_WIDTH: Partial<Record<Vr, number>> = { FL: 4, FD: 8, SL: 4, SS: 2, UL: 4, US: 2, SV: 8, UV: 8, AT: 4 };
