export { tagKey, parseTagKey, isPrivateTag, Tag, type TagNumber, type TagKeyword } from './tag.js';
export { isValidUid, transferSyntaxInfo, TransferSyntax, type TransferSyntaxInfo } from './uid.js';
export { type Vr, hasLongHeader } from './vr.js';
export { statusName, FailureReason, WarningReason, statusHex } from './status.js';
export { lookupTag, lookupKeyword } from './dictionary.js';
export type { DicomJsonAttribute, DicomJsonDataset } from './json/dicom-json.js';
export {
  attributeOf,
  firstValue,
  firstString,
  firstNumber,
  firstInteger,
  numbersOf,
  firstPersonName,
  personNameString,
  pickAttributes,
} from './json/dicom-json-values.js';
export { toDicomJson, type BulkDataRef } from './json/to-dicom-json.js';
export { stringifyDicomJson, stringifyDicomJsonAttribute } from './json/stringify-dicom-json.js';
export { DicomJsonMembers } from './json/dicom-json-members.js';
export { withoutBulkData, valuesOnly } from './json/without-bulk-data.js';
export type { Span } from './part10/dataset.js';
export { DicomParseError } from './part10/errors.js';
export { elementString, elementInteger } from './part10/values.js';
export { readPart10Header, type ByteSource, type Part10Header } from './part10/read-part10.js';
export { indexFrames, frameCount, type FrameIndex } from './part10/frames.js';
export { describeInstance, type InstanceDescription } from './part10/describe-instance.js';
export { bufferByteSource, headedFileByteSource } from './part10/file-source.js';
export { planPart10, type Part10Plan } from './part10/part10-plan.js';
export { encodePart10, type EncodedPart10, type TranscodeOptions } from './part10/encode-part10.js';
export { encodeFileMeta, datasetOffset } from './part10/file-meta.js';
export { explicitElement, padToEven } from './part10/explicit-vr-encoder.js';
export { inflate, sliceStream, swapStream, swapWidth } from './part10/byte-streams.js';
export { rangedByteSource } from './part10/ranged-byte-source.js';
export {
  lossyCompressionOf,
  encodeNativePixelPart10,
  encapsulatedPixelDataEnd,
  type NativePixelModule,
  type NativePixelData,
} from './part10/native-pixel-part10.js';
export { fromDicomJson, type BulkValue } from './json/from-dicom-json.js';
export { jpegTransferSyntax } from './jpeg-process.js';
export { toNativeDicomXml, escapeText, escapeAttribute, DICOM_XML } from './xml/native-dicom-xml.js';
