import {
  type DicomJsonDataset,
  Tag,
  type TagNumber,
  firstInteger as firstIntegerValue,
  firstString as firstStringValue,
  personNameString as personNameValue,
  pickAttributes,
  tagKey,
} from '@tessera/dicom';

/**
 * Attributes kept at each level of the index (patient/study module, series module), so that
 * QIDO-RS can return them without opening instance metadata. Tags in JSON key form.
 */
export const STUDY_LEVEL_TAGS: ReadonlySet<string> = new Set(
  [
    Tag.SpecificCharacterSet, // always ISO_IR 192 in stored JSON
    Tag.StudyDate,
    Tag.StudyTime,
    Tag.AccessionNumber,
    Tag.IssuerOfAccessionNumberSequence,
    Tag.ReferringPhysicianName,
    Tag.TimezoneOffsetFromUTC,
    Tag.StudyDescription,
    Tag.ProcedureCodeSequence,
    Tag.NameOfPhysiciansReadingStudy,
    Tag.AdmittingDiagnosesDescription,
    Tag.ReferencedStudySequence,
    Tag.PatientName,
    Tag.PatientID,
    Tag.IssuerOfPatientID,
    Tag.IssuerOfPatientIDQualifiersSequence,
    Tag.PatientBirthDate,
    Tag.PatientBirthTime,
    Tag.PatientSex,
    Tag.OtherPatientIDs,
    Tag.OtherPatientNames,
    Tag.OtherPatientIDsSequence,
    Tag.PatientAge,
    Tag.PatientSize,
    Tag.PatientWeight,
    Tag.EthnicGroup,
    Tag.PatientComments,
    Tag.StudyInstanceUID,
    Tag.StudyID,
    Tag.RequestingPhysician,
    Tag.RequestingService,
    Tag.RequestedProcedureDescription,
    Tag.ReasonForPerformedProcedureCodeSequence,
  ].map(tagKey),
);

export const SERIES_LEVEL_TAGS: ReadonlySet<string> = new Set(
  [
    Tag.SeriesDate,
    Tag.SeriesTime,
    Tag.Modality,
    Tag.Manufacturer,
    Tag.InstitutionName,
    Tag.StationName,
    Tag.SeriesDescription,
    Tag.InstitutionalDepartmentName,
    Tag.PerformingPhysicianName,
    Tag.OperatorsName,
    Tag.ManufacturerModelName,
    Tag.ReferencedPerformedProcedureStepSequence,
    Tag.BodyPartExamined,
    Tag.ProtocolName,
    Tag.SeriesInstanceUID,
    Tag.SeriesNumber,
    Tag.Laterality,
    Tag.PerformedProcedureStepStartDate,
    Tag.PerformedProcedureStepStartTime,
    Tag.PerformedProcedureStepDescription,
    Tag.RequestAttributesSequence,
  ].map(tagKey),
);

/** The attributes of `dataset` kept at one level (`STUDY_LEVEL_TAGS`, `SERIES_LEVEL_TAGS`). */
export const pick = (dataset: DicomJsonDataset, tags: ReadonlySet<string>): DicomJsonDataset => pickAttributes(dataset, tags);

/** First value of a string attribute, as a column value (null when absent). */
export const firstString = (dataset: DicomJsonDataset, tag: TagNumber): string | null => firstStringValue(dataset, tag) ?? null;

/** First value of a numeric attribute (IS, US …) as a column value; null when absent or not a number. */
export const firstInteger = (dataset: DicomJsonDataset, tag: TagNumber): number | null => firstIntegerValue(dataset, tag) ?? null;

/** A PN attribute's first value in DICOM form `Alphabetic=Ideographic=Phonetic`, as a column value. */
export const personNameString = (dataset: DicomJsonDataset, tag: TagNumber): string | null => personNameValue(dataset, tag) ?? null;

/** The form person names are matched in: lower case, trailing empty components dropped (MATCH-3). */
export function personNameSearchForm(name: string | null): string | null {
  if (name === null) return null;
  return name
    .split('=')
    .map((group) => group.replace(/\^+$/, ''))
    .join('=')
    .toLowerCase();
}

export { Tag };
