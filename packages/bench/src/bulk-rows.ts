import { execFileSync } from 'node:child_process';

/**
 * Grows a Postgres index to `total` instances for the large QIDO phase by inserting rows directly
 * (copies of one stored study/series/instance with new UIDs, names, dates, in the columns and in the
 * stored attributes alike), in one SQL script run by psql. Studies of 4 series × 25 instances; about
 * 0.6 patients per study; names from the same lists as the generated data, so wildcard searches
 * match a realistic fraction.
 */
export function insertSyntheticRows(databaseUrl: string, current: number, total: number, log: (line: string) => void): number {
  const add = total - current;
  if (add <= 0) return 0;
  const studies = Math.ceil(add / 100);
  const started = performance.now();
  const family = [
    'Smith',
    'Johnson',
    'Williams',
    'Brown',
    'Jones',
    'Garcia',
    'Miller',
    'Davis',
    'Wilson',
    'Anderson',
    'Thomas',
    'Taylor',
    'Moore',
    'Jackson',
    'Martin',
    'Lee',
    'Thompson',
    'White',
    'Harris',
    'Clark',
    'Lewis',
    'Robinson',
    'Müller',
    'Schmidt',
    'Weber',
    'Dubois',
    'Nguyen',
    'Kowalski',
    'Rossi',
    'Tanaka',
    'Cohen',
    'Levy',
    'Peterson',
    'Hansen',
    'Larsen',
    'Olsen',
    'Jensen',
  ];
  const given = ['James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth', 'Chloé', 'José', 'Zoë', 'Omar'];
  /** SQL for the member line of a one-valued string attribute whose value is the SQL expression `value`. */
  const member = (key: string, vr: string, value: string) => `'"${key}":{"vr":"${vr}","Value":[' || to_json(${value})::text || ']}'`;
  const arr = (list: string[]) => `array[${list.map((s) => `'${s.replace(/'/g, "''")}'`).join(',')}]`;
  const script = `
\\set ON_ERROR_STOP on
begin;
create temp table syn_study as
  select g as n, '2.25.77' || lpad(g::text, 12, '0') as uid,
    (${arr(family)})[1 + (g * 7) % ${family.length}] || '^' || (${arr(given)})[1 + (g * 13) % ${given.length}] as name,
    'SYN-' || lpad(((g * 3) / 5)::text, 8, '0') as pid,
    to_char(date '2010-01-01' + (g * 37) % 5800, 'YYYYMMDD') as study_date,
    lpad(((g * 7) % 24)::text, 2, '0') || lpad(((g * 11) % 60)::text, 2, '0') || '00' as study_time
  from generate_series(1, ${studies}) g;
insert into patient (patient_id, issuer_of_patient_id, patient_name)
  select distinct on (pid) pid, '', name from syn_study on conflict do nothing;
-- Stored attributes are DICOM JSON members, one per line in tag order: replace some, keep the order.
create function pg_temp.with_members(lines text, replaced text[]) returns text language sql as $$
  select string_agg(line, E'\n' order by line collate "C") from (
    select line from unnest(string_to_array(lines, E'\n')) line where left(line, 10) <> all (select left(r, 10) from unnest(replaced) r)
    union all select unnest(replaced)) members
$$;
create temp table t_study as select * from study order by pk limit 1;
create temp table t_series as select * from series order by pk limit 1;
create temp table t_instance as select * from instance order by pk limit 1;
insert into study (patient_pk, study_instance_uid, study_date, study_time, accession_number, referring_physician_name,
    referring_physician_name_search, study_id, study_description, timezone_offset_from_utc, patient_name, patient_name_search,
    patient_id, issuer_of_patient_id, patient_birth_date, patient_sex, modalities_in_study, sop_classes_in_study,
    number_of_series, number_of_instances, attributes)
  select p.pk, s.uid, s.study_date, s.study_time, 'SYNACC' || s.n, t.referring_physician_name, t.referring_physician_name_search,
    t.study_id, t.study_description, t.timezone_offset_from_utc, s.name, lower(s.name), s.pid, t.issuer_of_patient_id,
    t.patient_birth_date, t.patient_sex, t.modalities_in_study, t.sop_classes_in_study, 4, 100,
    pg_temp.with_members(t.attributes, array[${member('0020000D', 'UI', 's.uid')}, ${member('00080020', 'DA', 's.study_date')},
      ${member('00080030', 'TM', 's.study_time')}, ${member('00080050', 'SH', "'SYNACC' || s.n")}, ${member('00100020', 'LO', 's.pid')},
      '"00100010":{"vr":"PN","Value":[{"Alphabetic":' || to_json(s.name)::text || '}]}'])
  from syn_study s join patient p on p.patient_id = s.pid and p.issuer_of_patient_id = '' cross join t_study t;
insert into series (study_pk, series_instance_uid, modality, series_number, series_description, series_date, series_time,
    performed_procedure_step_start_date, performed_procedure_step_start_time, timezone_offset_from_utc, number_of_instances, attributes)
  select st.pk, st.study_instance_uid || '.' || k, t.modality, k, t.series_description, st.study_date, st.study_time,
    t.performed_procedure_step_start_date, t.performed_procedure_step_start_time, t.timezone_offset_from_utc, 25,
    pg_temp.with_members(t.attributes, array[${member('0020000E', 'UI', "st.study_instance_uid || '.' || k")},
      ${member('00080021', 'DA', 'st.study_date')}, ${member('00080031', 'TM', 'st.study_time')}, '"00200011":{"vr":"IS","Value":[' || k || ']}'])
  from study st cross join generate_series(1, 4) k cross join t_series t
  where st.study_instance_uid like '2.25.77%';
insert into instance (series_pk, study_pk, sop_instance_uid, sop_class_uid, instance_number, rows, columns, bits_allocated,
    number_of_frames, transfer_syntax_uid, has_file_meta, size, sha256, blob_key, frames, bulk_data, metadata)
  select se.pk, se.study_pk, se.series_instance_uid || '.' || i, t.sop_class_uid, i, t.rows, t.columns, t.bits_allocated,
    t.number_of_frames, t.transfer_syntax_uid, t.has_file_meta, t.size, t.sha256, t.blob_key, t.frames, t.bulk_data, t.metadata
  from series se cross join generate_series(1, 25) i cross join t_instance t
  where se.series_instance_uid like '2.25.77%';
commit;
analyze;
`;
  execFileSync('psql', ['-q', databaseUrl], { input: script, stdio: ['pipe', 'ignore', 'pipe'], maxBuffer: 1 << 24 });
  log(`qido rows: inserted ${studies} studies, ${studies * 4} series, ${studies * 100} instances in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return studies * 100;
}

export function hasPsql(): boolean {
  try {
    execFileSync('psql', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
