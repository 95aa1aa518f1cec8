import { type Kysely, sql } from 'kysely';

/**
 * Study and series `attributes` change from jsonb to text holding one top-level DICOM JSON member
 * per line, in tag order (`"00080020":{"vr":"DA","Value":["20160826"]}`), compact, values only:
 * attributes held as BulkDataURI or InlineBinary are dropped, at any depth (search results never
 * carried them, and a relative bulk data URI means nothing at study level).
 *
 * QIDO-RS copies each attribute's JSON text into its answers instead of parsing a jsonb document
 * and writing it again (the server's DicomJsonMembers). Measured on a 1,000,000-instance index, a
 * `PatientName=*son` search answering ~700 studies spent 3.4 ms in the driver's JSON.parse, 3.6 ms
 * writing the JSON back and ~5 ms collecting the garbage, against 4.8 ms for the query itself.
 *
 * Existing rows are rewritten in batches by this file's own writer (a migration never imports
 * server code, which changes), which writes what the server writes for new rows: tags in tag order
 * in datasets and sequence items, attribute and person-name members in their usual order. `down`
 * turns the lines back into jsonb (without the dropped bulk data).
 */
const TABLES = ['study', 'series'] as const;
const BATCH = 500;

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of TABLES) {
    await sql`alter table ${sql.table(table)} add column attribute_lines text`.execute(db);
    let last = 0;
    for (;;) {
      const { rows } = await sql<{ pk: string | number; attributes: string }>`
        select pk, attributes::text as attributes from ${sql.table(table)} where pk > ${last} order by pk limit ${BATCH}`.execute(db);
      if (rows.length === 0) break;
      const values = rows.map((row) => sql`(${Number(row.pk)}::bigint, ${memberLines(valuesOnly(JSON.parse(row.attributes) as Dataset))})`);
      await sql`update ${sql.table(table)} as t set attribute_lines = v.lines
        from (values ${sql.join(values)}) as v(pk, lines) where t.pk = v.pk`.execute(db);
      last = Number(rows[rows.length - 1]!.pk);
    }
    await sql`alter table ${sql.table(table)} drop column attributes`.execute(db);
    await sql`alter table ${sql.table(table)} rename column attribute_lines to attributes`.execute(db);
    await sql`alter table ${sql.table(table)} alter column attributes set not null`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of TABLES) {
    await sql`alter table ${sql.table(table)} alter column attributes type jsonb
      using ('{' || replace(attributes, E'\n', ',') || '}')::jsonb`.execute(db);
  }
}

type Dataset = Record<string, { vr: string; Value?: unknown[]; BulkDataURI?: string; InlineBinary?: string }>;

function valuesOnly(dataset: Dataset): Dataset {
  const clean: Dataset = {};
  for (const [key, attr] of Object.entries(dataset)) {
    if (attr.BulkDataURI !== undefined || attr.InlineBinary !== undefined) continue;
    clean[key] =
      attr.vr === 'SQ' && attr.Value
        ? { ...attr, Value: attr.Value.map((item) => (item && typeof item === 'object' ? valuesOnly(item as Dataset) : item)) }
        : attr;
  }
  return clean;
}

function memberLines(dataset: Dataset): string {
  return orderedKeys(dataset)
    .map((key) => `${JSON.stringify(key)}:${compact(dataset[key])}`)
    .join('\n');
}

function compact(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(compact).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const object = value as Record<string, unknown>;
  return `{${orderedKeys(object)
    .map((key) => `${JSON.stringify(key)}:${compact(object[key])}`)
    .join(',')}}`;
}

/** The server's order: attribute and person-name members as written by it, tags in code-unit order. */
const RANKED = ['vr', 'Value', 'BulkDataURI', 'InlineBinary', 'Alphabetic', 'Ideographic', 'Phonetic'];
const rank = (key: string) => (RANKED.includes(key) ? RANKED.indexOf(key) : RANKED.length);
const orderedKeys = (object: object) => Object.keys(object).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
