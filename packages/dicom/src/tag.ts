/**
 * DICOM tags as 32-bit numbers (`0x00100010`) and their JSON key form (`"00100010"`).
 * Named constants for every tag the service code touches: never bare hex elsewhere.
 */
export type TagNumber = number;

export function tagKey(tag: TagNumber): string {
  return tag.toString(16).toUpperCase().padStart(8, '0');
}

export function parseTagKey(key: string): TagNumber | undefined {
  return /^[0-9A-Fa-f]{8}$/.test(key) ? Number.parseInt(key, 16) : undefined;
}

export const groupOf = (tag: TagNumber): number => tag >>> 16;
export const elementOf = (tag: TagNumber): number => tag & 0xffff;
export const isPrivateTag = (tag: TagNumber): boolean => (groupOf(tag) & 1) === 1;

/** Tags by keyword (PS3.6). Only the ones the server reads or writes. */
export const Tag = {
  FileMetaInformationGroupLength: 0x00020000,
  MediaStorageSOPClassUID: 0x00020002,
  MediaStorageSOPInstanceUID: 0x00020003,
  TransferSyntaxUID: 0x00020010,
  SpecificCharacterSet: 0x00080005,
  ImageType: 0x00080008,
  InstanceCreationDate: 0x00080012,
  SOPClassUID: 0x00080016,
  SOPInstanceUID: 0x00080018,
  StudyDate: 0x00080020,
  SeriesDate: 0x00080021,
  StudyTime: 0x00080030,
  SeriesTime: 0x00080031,
  AccessionNumber: 0x00080050,
  InstanceAvailability: 0x00080056,
  Modality: 0x00080060,
  ModalitiesInStudy: 0x00080061,
  SOPClassesInStudy: 0x00080062,
  ReferringPhysicianName: 0x00080090,
  TimezoneOffsetFromUTC: 0x00080201,
  StudyDescription: 0x00081030,
  SeriesDescription: 0x0008103e,
  RetrieveURL: 0x00081190,
  FailedSOPSequence: 0x00081198,
  ReferencedSOPSequence: 0x00081199,
  OtherFailuresSequence: 0x0008119a,
  ReferencedSOPClassUID: 0x00081150,
  ReferencedSOPInstanceUID: 0x00081155,
  FailureReason: 0x00081197,
  WarningReason: 0x00081196,
  /** Text Value (0040,A160, UT): the human-readable reason next to a FailureReason or WarningReason in a STOW-RS response. */
  TextValue: 0x0040a160,
  AvailableTransferSyntaxUID: 0x00083002,
  PatientName: 0x00100010,
  PatientID: 0x00100020,
  IssuerOfPatientID: 0x00100021,
  PatientBirthDate: 0x00100030,
  PatientSex: 0x00100040,
  StudyInstanceUID: 0x0020000d,
  SeriesInstanceUID: 0x0020000e,
  StudyID: 0x00200010,
  SeriesNumber: 0x00200011,
  InstanceNumber: 0x00200013,
  NumberOfPatientRelatedStudies: 0x00201200,
  NumberOfStudyRelatedSeries: 0x00201206,
  NumberOfStudyRelatedInstances: 0x00201208,
  NumberOfSeriesRelatedInstances: 0x00201209,
  SamplesPerPixel: 0x00280002,
  PhotometricInterpretation: 0x00280004,
  PlanarConfiguration: 0x00280006,
  NumberOfFrames: 0x00280008,
  Rows: 0x00280010,
  Columns: 0x00280011,
  BitsAllocated: 0x00280100,
  BitsStored: 0x00280101,
  HighBit: 0x00280102,
  PixelRepresentation: 0x00280103,
  LossyImageCompression: 0x00282110,
  LossyImageCompressionMethod: 0x00282114,
  PerformedProcedureStepStartDate: 0x00400244,
  PerformedProcedureStepStartTime: 0x00400245,
  RequestAttributesSequence: 0x00400275,
  ScheduledProcedureStepID: 0x00400009,
  RequestedProcedureID: 0x00401001,
  IconImageSequence: 0x00880200,
  ExtendedOffsetTable: 0x7fe00001,
  ExtendedOffsetTableLengths: 0x7fe00002,
  EncapsulatedPixelDataValueTotalLength: 0x7fe00003,
  FloatPixelData: 0x7fe00008,
  DoubleFloatPixelData: 0x7fe00009,
  PixelData: 0x7fe00010,
  Item: 0xfffee000,
  ItemDelimitationItem: 0xfffee00d,
  SequenceDelimitationItem: 0xfffee0dd,
} as const;

export type TagKeyword = keyof typeof Tag;

/** The three pixel data elements (PS3.5 §8); each is the instance's bulk pixel payload. */
export const isPixelDataTag = (tag: TagNumber): boolean =>
  tag === Tag.PixelData || tag === Tag.FloatPixelData || tag === Tag.DoubleFloatPixelData;
