import { Tag, tagKey } from '../tag.js';
import { isValidUid } from '../uid.js';
import { FailureReason } from '../status.js';
import type { DicomJsonDataset } from '../json/dicom-json.js';
import { type BulkDataRef, toDicomJson } from '../json/to-dicom-json.js';
import { UNDEFINED_LENGTH } from './dataset.js';
import { DicomParseError } from './errors.js';
import { type FrameIndex, frameCount, indexFrames } from './frames.js';
import { type ByteSource, type ReadLimits, readPart10Header } from './read-part10.js';
import { elementString } from './values.js';

/** Everything the index keeps about one instance, computed once at ingest. */
export interface InstanceDescription {
  sopClassUid: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  transferSyntaxUid: string;
  hasFileMeta: boolean;
  /** DICOM JSON of the dataset (File Meta excluded), bulk values as relative `bulkdata/<path>` URIs. */
  metadata: DicomJsonDataset;
  bulkData: BulkDataRef[];
  frames?: FrameIndex;
  numberOfFrames?: number;
  /** Problems that do not prevent storage (reported as STOW warnings). */
  warnings: string[];
}

export interface DescribeOptions extends ReadLimits {
  inlineBinaryMaxBytes: number;
}

/** Relative BulkDataURI stored in metadata; WADO-RS prefixes the instance URL when serving. */
export const bulkDataPath = (path: string): string => `bulkdata/${path}`;

/**
 * Reads and validates a PS3.10 object (digest STOW-8): it must parse, carry valid SOP Class,
 * SOP Instance, Study and Series UIDs, and its File Meta must agree with its dataset.
 * Throws DicomParseError carrying the FailureReason to report.
 */
export async function describeInstance(source: ByteSource, options: DescribeOptions): Promise<InstanceDescription> {
  const header = await readPart10Header(source, options);
  const { dataset, buffer } = header;
  const uid = (tag: number, name: string): string => {
    const element = dataset.get(tag);
    const value = element ? elementString(buffer, element) : '';
    if (value === '') throw new DicomParseError(`${name} (${tagKey(tag)}) is missing or empty`, FailureReason.DataSetDoesNotMatchSOPClass);
    if (!isValidUid(value))
      throw new DicomParseError(
        `${name} (${tagKey(tag)}) is not a valid UID: ${JSON.stringify(value.slice(0, 80))}`,
        FailureReason.DataSetDoesNotMatchSOPClass,
      );
    return value;
  };
  const metaValue = (tag: number) => {
    // File Meta offsets refer to the file, which differs from `buffer` when the dataset is deflated.
    const element = header.meta.get(tag);
    return element ? elementString(header.metaBuffer, element) : undefined;
  };
  const sopClassUid = uid(Tag.SOPClassUID, 'SOPClassUID');
  const sopInstanceUid = uid(Tag.SOPInstanceUID, 'SOPInstanceUID');
  let studyInstanceUid: string;
  let seriesInstanceUid: string;
  try {
    studyInstanceUid = uid(Tag.StudyInstanceUID, 'StudyInstanceUID');
    seriesInstanceUid = uid(Tag.SeriesInstanceUID, 'SeriesInstanceUID');
  } catch (error) {
    // The SOP UIDs are known: the failure can be reported against the instance (FailedSOPSequence).
    Object.assign(error as DicomParseError, { sopClassUid, sopInstanceUid });
    throw error;
  }

  const warnings: string[] = [];
  // Real files (pydicom's RT Dose samples among them) carry File Meta UIDs that disagree with the
  // dataset. The dataset is authoritative (PS3.10 §7.1): index by it and report a warning.
  for (const [tag, name, value] of [
    [Tag.MediaStorageSOPClassUID, 'MediaStorageSOPClassUID', sopClassUid],
    [Tag.MediaStorageSOPInstanceUID, 'MediaStorageSOPInstanceUID', sopInstanceUid],
  ] as const) {
    const meta = metaValue(tag);
    if (meta !== undefined && meta !== value) warnings.push(`${name} ${meta} differs from the dataset's ${value}; indexed by the dataset`);
  }

  const { dataset: metadata, bulkData } = toDicomJson(buffer, dataset, {
    inlineBinaryMaxBytes: options.inlineBinaryMaxBytes,
    bulkDataUri: bulkDataPath,
  });
  if (header.pixelData) {
    const { tag, vr, offset, length } = header.pixelData;
    const key = tagKey(tag);
    metadata[key] = { vr: vr === 'UN' ? 'OB' : vr, BulkDataURI: bulkDataPath(key) };
    // Encapsulated pixel data is served frame by frame from the frame index instead.
    if (length !== UNDEFINED_LENGTH) bulkData.push({ path: key, vr, spans: [{ offset, length }], littleEndian: header.transferSyntax.littleEndian });
  }
  const { index: frames, warning } = await indexFrames(source, header);
  if (warning) warnings.push(warning);
  const numberOfFrames = frames ? frameCount(frames) : undefined;
  return {
    sopClassUid,
    sopInstanceUid,
    studyInstanceUid,
    seriesInstanceUid,
    transferSyntaxUid: header.transferSyntax.uid,
    hasFileMeta: header.hasFileMeta,
    metadata: sortKeys(metadata),
    bulkData,
    frames,
    numberOfFrames,
    warnings,
  };
}

const sortKeys = (dataset: DicomJsonDataset): DicomJsonDataset => Object.fromEntries(Object.entries(dataset).sort(([a], [b]) => (a < b ? -1 : 1)));
