import { Tag, type TagKeyword, tagKey } from '@tessera/dicom';
import type { AttributeLevel } from './search-query.js';

/** How an indexed attribute is stored, which decides how each Filter kind is written in SQL. */
export type ColumnKind = 'text' | 'personName' | 'date' | 'time' | 'uid' | 'integer' | 'textArray' | 'uidArray';

export interface SearchableAttribute {
  tag: string;
  keyword: string;
  vr: string;
  level: AttributeLevel;
  table: 'study' | 'series' | 'instance';
  column: string;
  kind: ColumnKind;
}

/** An entry named by keyword; its `tag` is the keyword's tag in JSON key form. */
const A = (
  keyword: TagKeyword,
  vr: string,
  level: AttributeLevel,
  table: SearchableAttribute['table'],
  column: string,
  kind: ColumnKind,
): SearchableAttribute => ({ tag: tagKey(Tag[keyword]), keyword, vr, level, table, column, kind });

/**
 * The attributes QIDO-RS can match on (digest QIDO-4 plus the PROJECT additions): those kept as
 * columns of the index. Any other attribute is an optional key that is not supported for matching.
 */
export const SEARCHABLE_ATTRIBUTES: ReadonlyMap<string, SearchableAttribute> = new Map(
  [
    A('PatientName', 'PN', 'patient', 'study', 'patient_name_search', 'personName'),
    A('PatientID', 'LO', 'patient', 'study', 'patient_id', 'text'),
    A('IssuerOfPatientID', 'LO', 'patient', 'study', 'issuer_of_patient_id', 'text'),
    A('PatientBirthDate', 'DA', 'patient', 'study', 'patient_birth_date', 'date'),
    A('PatientSex', 'CS', 'patient', 'study', 'patient_sex', 'text'),
    A('StudyDate', 'DA', 'study', 'study', 'study_date', 'date'),
    A('StudyTime', 'TM', 'study', 'study', 'study_time', 'time'),
    A('AccessionNumber', 'SH', 'study', 'study', 'accession_number', 'text'),
    A('ModalitiesInStudy', 'CS', 'study', 'study', 'modalities_in_study', 'textArray'),
    A('SOPClassesInStudy', 'UI', 'study', 'study', 'sop_classes_in_study', 'uidArray'),
    A('ReferringPhysicianName', 'PN', 'study', 'study', 'referring_physician_name_search', 'personName'),
    A('StudyDescription', 'LO', 'study', 'study', 'study_description', 'text'),
    A('StudyInstanceUID', 'UI', 'study', 'study', 'study_instance_uid', 'uid'),
    A('StudyID', 'SH', 'study', 'study', 'study_id', 'text'),
    A('NumberOfStudyRelatedSeries', 'IS', 'study', 'study', 'number_of_series', 'integer'),
    A('NumberOfStudyRelatedInstances', 'IS', 'study', 'study', 'number_of_instances', 'integer'),
    A('Modality', 'CS', 'series', 'series', 'modality', 'text'),
    A('SeriesDate', 'DA', 'series', 'series', 'series_date', 'date'),
    A('SeriesTime', 'TM', 'series', 'series', 'series_time', 'time'),
    A('SeriesDescription', 'LO', 'series', 'series', 'series_description', 'text'),
    A('SeriesInstanceUID', 'UI', 'series', 'series', 'series_instance_uid', 'uid'),
    A('SeriesNumber', 'IS', 'series', 'series', 'series_number', 'integer'),
    A('NumberOfSeriesRelatedInstances', 'IS', 'series', 'series', 'number_of_instances', 'integer'),
    A('PerformedProcedureStepStartDate', 'DA', 'series', 'series', 'performed_procedure_step_start_date', 'date'),
    A('PerformedProcedureStepStartTime', 'TM', 'series', 'series', 'performed_procedure_step_start_time', 'time'),
    A('SOPClassUID', 'UI', 'instance', 'instance', 'sop_class_uid', 'uid'),
    A('SOPInstanceUID', 'UI', 'instance', 'instance', 'sop_instance_uid', 'uid'),
    A('InstanceNumber', 'IS', 'instance', 'instance', 'instance_number', 'integer'),
    A('NumberOfFrames', 'IS', 'instance', 'instance', 'number_of_frames', 'integer'),
    A('Rows', 'US', 'instance', 'instance', 'rows', 'integer'),
    A('Columns', 'US', 'instance', 'instance', 'columns', 'integer'),
    A('BitsAllocated', 'US', 'instance', 'instance', 'bits_allocated', 'integer'),
  ].map((a) => [a.tag, a]),
);

/** The fuzzy-matching column next to each person-name search column (migration 2026-11-25T18-00). */
export const FOLD_COLUMN: Readonly<Record<string, string>> = {
  patient_name_search: 'patient_name_fold',
  referring_physician_name_search: 'referring_physician_name_fold',
};
