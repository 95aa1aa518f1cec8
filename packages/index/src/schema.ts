import type { ColumnType, Generated } from 'kysely';

/** Row types of the index, as kysely sees them (snake_case, as in SQL). */
export interface Database {
  patient: PatientTable;
  study: StudyTable;
  series: SeriesTable;
  instance: InstanceTable;
  study_refresh_pending: StudyRefreshPendingTable;
  api_key: ApiKeyTable;
  audit_event: AuditEventTable;
  study_share: StudyShareTable;
  change_feed: ChangeFeedTable;
  change_feed_counter: ChangeFeedCounterTable;
}

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string, string>;

export interface PatientTable {
  pk: Generated<number>;
  patient_id: string;
  issuer_of_patient_id: string;
  patient_name: string | null;
  created_at: Timestamp;
}

export interface StudyTable {
  pk: Generated<number>;
  patient_pk: number;
  study_instance_uid: string;
  study_date: string | null;
  study_time: string | null;
  accession_number: string | null;
  referring_physician_name: string | null;
  referring_physician_name_search: string | null;
  study_id: string | null;
  study_description: string | null;
  timezone_offset_from_utc: string | null;
  patient_name: string | null;
  patient_name_search: string | null;
  /** Generated: accent-free name parts for fuzzy matching (migration 2026-11-25T18-00). */
  patient_name_fold: ColumnType<string | null, never, never>;
  referring_physician_name_fold: ColumnType<string | null, never, never>;
  patient_id: string | null;
  issuer_of_patient_id: string | null;
  patient_birth_date: string | null;
  patient_sex: string | null;
  modalities_in_study: ColumnType<string[], string[] | undefined, string[]>;
  sop_classes_in_study: ColumnType<string[], string[] | undefined, string[]>;
  number_of_series: ColumnType<number, number | undefined, number>;
  number_of_instances: ColumnType<number, number | undefined, number>;
  /** Patient and study module attributes, values only, one DICOM JSON member per line (DicomJsonMembers). */
  attributes: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface SeriesTable {
  pk: Generated<number>;
  study_pk: number;
  series_instance_uid: string;
  modality: string | null;
  series_number: number | null;
  series_description: string | null;
  series_date: string | null;
  series_time: string | null;
  performed_procedure_step_start_date: string | null;
  performed_procedure_step_start_time: string | null;
  timezone_offset_from_utc: string | null;
  number_of_instances: ColumnType<number, number | undefined, number>;
  /** Series module attributes, values only, one DICOM JSON member per line (DicomJsonMembers). */
  attributes: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface InstanceTable {
  pk: Generated<number>;
  series_pk: number;
  study_pk: number;
  sop_instance_uid: string;
  sop_class_uid: string;
  instance_number: number | null;
  rows: number | null;
  columns: number | null;
  bits_allocated: number | null;
  number_of_frames: number | null;
  transfer_syntax_uid: string;
  has_file_meta: boolean;
  size: ColumnType<number, number, number>;
  sha256: string;
  blob_key: string;
  frames: Json<unknown> | null;
  bulk_data: Json<unknown>;
  metadata: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** A study whose computed attributes await a refresh (migration 2026-12-06T00-00). */
export interface StudyRefreshPendingTable {
  study_pk: number;
  created_at: Timestamp;
}

/** An API key (migration 2026-12-07T00-00): the secret only as its SHA-256. */
export interface ApiKeyTable {
  id: string;
  name: string;
  /** Space-separated scopes. */
  scopes: string;
  secret_hash: string;
  created_at: Timestamp;
  expires_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
  last_used_at: NullableTimestamp;
}

/** One audit trail event (migration 2026-12-07T01-00): inserted and deleted by age, never updated. */
export interface AuditEventTable {
  id: Generated<number>;
  occurred_at: Timestamp;
  event_type: string;
  action: string;
  outcome: number;
  http_status: number | null;
  actor_kind: string;
  actor_id: string;
  actor_name: string | null;
  client_address: string | null;
  request_id: string | null;
  route: string | null;
  study_uids: ColumnType<string[], string[], never>;
  detail: Json<unknown>;
}

/** A study share link (migration 2026-12-08T01-00): the token's secret only as its SHA-256. */
export interface StudyShareTable {
  id: string;
  study_instance_uid: string;
  secret_hash: string;
  note: string | null;
  created_by: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: NullableTimestamp;
}

/** One change of an instance row (migration 2026-12-08T03-00): numbered at commit, null until then. */
export interface ChangeFeedTable {
  id: Generated<number>;
  sequence: number | null;
  action: string;
  study_instance_uid: string;
  series_instance_uid: string;
  sop_instance_uid: string;
  changed_at: Timestamp;
}

/** The last sequence number given (one row). */
export interface ChangeFeedCounterTable {
  last_sequence: number;
}
