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

const A = (tag: string, keyword: string, vr: string, level: AttributeLevel, table: SearchableAttribute['table'], column: string, kind: ColumnKind): SearchableAttribute =>
  ({ tag, keyword, vr, level, table, column, kind });

/**
 * The attributes QIDO-RS can match on (digest QIDO-4 plus the PROJECT additions): those kept as
 * columns of the index. Any other attribute is an optional key that is not supported for matching.
 */
export const SEARCHABLE_ATTRIBUTES: ReadonlyMap<string, SearchableAttribute> = new Map([
  A('00100010', 'PatientName', 'PN', 'patient', 'study', 'patient_name_search', 'personName'),
  A('00100020', 'PatientID', 'LO', 'patient', 'study', 'patient_id', 'text'),
  A('00100021', 'IssuerOfPatientID', 'LO', 'patient', 'study', 'issuer_of_patient_id', 'text'),
  A('00100030', 'PatientBirthDate', 'DA', 'patient', 'study', 'patient_birth_date', 'date'),
  A('00100040', 'PatientSex', 'CS', 'patient', 'study', 'patient_sex', 'text'),
  A('00080020', 'StudyDate', 'DA', 'study', 'study', 'study_date', 'date'),
  A('00080030', 'StudyTime', 'TM', 'study', 'study', 'study_time', 'time'),
  A('00080050', 'AccessionNumber', 'SH', 'study', 'study', 'accession_number', 'text'),
  A('00080061', 'ModalitiesInStudy', 'CS', 'study', 'study', 'modalities_in_study', 'textArray'),
  A('00080062', 'SOPClassesInStudy', 'UI', 'study', 'study', 'sop_classes_in_study', 'uidArray'),
  A('00080090', 'ReferringPhysicianName', 'PN', 'study', 'study', 'referring_physician_name_search', 'personName'),
  A('00081030', 'StudyDescription', 'LO', 'study', 'study', 'study_description', 'text'),
  A('0020000D', 'StudyInstanceUID', 'UI', 'study', 'study', 'study_instance_uid', 'uid'),
  A('00200010', 'StudyID', 'SH', 'study', 'study', 'study_id', 'text'),
  A('00201206', 'NumberOfStudyRelatedSeries', 'IS', 'study', 'study', 'number_of_series', 'integer'),
  A('00201208', 'NumberOfStudyRelatedInstances', 'IS', 'study', 'study', 'number_of_instances', 'integer'),
  A('00080060', 'Modality', 'CS', 'series', 'series', 'modality', 'text'),
  A('00080021', 'SeriesDate', 'DA', 'series', 'series', 'series_date', 'date'),
  A('00080031', 'SeriesTime', 'TM', 'series', 'series', 'series_time', 'time'),
  A('0008103E', 'SeriesDescription', 'LO', 'series', 'series', 'series_description', 'text'),
  A('0020000E', 'SeriesInstanceUID', 'UI', 'series', 'series', 'series_instance_uid', 'uid'),
  A('00200011', 'SeriesNumber', 'IS', 'series', 'series', 'series_number', 'integer'),
  A('00201209', 'NumberOfSeriesRelatedInstances', 'IS', 'series', 'series', 'number_of_instances', 'integer'),
  A('00400244', 'PerformedProcedureStepStartDate', 'DA', 'series', 'series', 'performed_procedure_step_start_date', 'date'),
  A('00400245', 'PerformedProcedureStepStartTime', 'TM', 'series', 'series', 'performed_procedure_step_start_time', 'time'),
  A('00080016', 'SOPClassUID', 'UI', 'instance', 'instance', 'sop_class_uid', 'uid'),
  A('00080018', 'SOPInstanceUID', 'UI', 'instance', 'instance', 'sop_instance_uid', 'uid'),
  A('00200013', 'InstanceNumber', 'IS', 'instance', 'instance', 'instance_number', 'integer'),
  A('00280008', 'NumberOfFrames', 'IS', 'instance', 'instance', 'number_of_frames', 'integer'),
  A('00280010', 'Rows', 'US', 'instance', 'instance', 'rows', 'integer'),
  A('00280011', 'Columns', 'US', 'instance', 'instance', 'columns', 'integer'),
  A('00280100', 'BitsAllocated', 'US', 'instance', 'instance', 'bits_allocated', 'integer'),
].map((a) => [a.tag, a]));

/** The fuzzy-matching column next to each person-name search column (migration 2026-11-25T18-00). */
export const FOLD_COLUMN: Readonly<Record<string, string>> = {
  patient_name_search: 'patient_name_fold',
  referring_physician_name_search: 'referring_physician_name_fold',
};
