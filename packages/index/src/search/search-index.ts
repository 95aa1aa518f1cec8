import { type DicomJsonDataset, DicomJsonMembers, Tag, tagKey } from '@tessera/dicom';
import { type Kysely, type RawBuilder, type Selectable, type SelectQueryBuilder, sql } from 'kysely';
import { SERIES_LEVEL_TAGS, STUDY_LEVEL_TAGS } from '../levels.js';
import { preparedStatement } from '../prepared.js';
import type { Database, SeriesTable, StudyTable } from '../schema.js';
import type { Filter, SearchQuery } from './search-query.js';
import { FOLD_COLUMN, SEARCHABLE_ATTRIBUTES, type SearchableAttribute } from './searchable-attributes.js';

export interface StudyMatch {
  studyInstanceUid: string;
  /** The study-level DICOM JSON kept at store time (patient and study modules), as stored text. */
  attributes: DicomJsonMembers;
  numberOfSeries: number;
  numberOfInstances: number;
  modalitiesInStudy: string[];
  sopClassesInStudy: string[];
}

export interface SeriesMatch {
  study: StudyMatch;
  seriesInstanceUid: string;
  /** The series module DICOM JSON kept at store time, as stored text. */
  attributes: DicomJsonMembers;
  numberOfInstances: number;
}

export interface InstanceMatch {
  series: SeriesMatch;
  sopInstanceUid: string;
  sopClassUid: string;
  instanceNumber: number | null;
  rows: number | null;
  columns: number | null;
  bitsAllocated: number | null;
  numberOfFrames: number | null;
  transferSyntaxUid: string;
  /** The whole instance DICOM JSON, only when the query's includeFields need more than the columns. */
  metadata?: DicomJsonDataset;
}

/** One page of matches and how many more there are after it (QIDO-12 Warning header). */
export interface SearchResult<T> {
  matches: T[];
  /**
   * The number of matches after this page: 0 at once when the page is not full, else an exact
   * count that runs in the database while the caller renders the page.
   */
  remaining: Promise<number>;
}

/** Tags an instance result can be rendered with without reading the instance's whole metadata. */
const INSTANCE_COLUMN_TAGS = new Set(
  [Tag.SOPClassUID, Tag.SOPInstanceUID, Tag.InstanceNumber, Tag.NumberOfFrames, Tag.Rows, Tag.Columns, Tag.BitsAllocated, Tag.AvailableTransferSyntaxUID].map(
    tagKey,
  ),
);
const COMPUTED_TAGS = new Set(
  [
    Tag.ModalitiesInStudy,
    Tag.SOPClassesInStudy,
    Tag.NumberOfStudyRelatedSeries,
    Tag.NumberOfStudyRelatedInstances,
    Tag.NumberOfSeriesRelatedInstances,
    Tag.InstanceAvailability,
    Tag.RetrieveURL,
  ].map(tagKey),
);

/** Whether an instance search must load the instance metadata to honour its includefield list. */
export function needsInstanceMetadata(includeFields: SearchQuery['includeFields']): boolean {
  if (includeFields === 'all') return true;
  return includeFields.some((tag) => !INSTANCE_COLUMN_TAGS.has(tag) && !STUDY_LEVEL_TAGS.has(tag) && !SERIES_LEVEL_TAGS.has(tag) && !COMPUTED_TAGS.has(tag));
}

/** The study columns a StudyMatch is built from (toStudy). */
const STUDY_COLUMNS = [
  'study.study_instance_uid',
  'study.attributes',
  'study.number_of_series',
  'study.number_of_instances',
  'study.modalities_in_study',
  'study.sop_classes_in_study',
] as const;

/** The columns a SeriesMatch is built from (toSeries): its study's, then its own. */
const SERIES_COLUMNS = [
  ...STUDY_COLUMNS,
  'series.series_instance_uid',
  'series.attributes as series_attributes',
  'series.number_of_instances as series_number_of_instances',
] as const;

type Tables = 'study' | 'series' | 'instance';
type AnyQuery = SelectQueryBuilder<Database, Tables, object>;

/**
 * A search within a study or series and nothing else (OHIF's study view, QIDO-RS series of a study or
 * instances of a series): equality on unique UIDs, whose best plan is the same for every value, so it
 * is sent as a named prepared statement (prepared.ts) and planned once per connection. Searches with
 * filters are not: a generic plan for a wildcard or a range could lose an index.
 */
const isScopeOnly = (query: SearchQuery): boolean => query.filters.length === 0;

/**
 * QIDO-RS over the index: translates a SearchQuery into one parameterised SQL query per page
 * (and a count only when the page is full). Results come in the deterministic order of QIDO-12.
 */
export class SearchIndex {
  constructor(private readonly db: Kysely<Database>) {}

  async searchStudies(query: SearchQuery): Promise<SearchResult<StudyMatch>> {
    const base = this.db.selectFrom('study') as unknown as AnyQuery;
    const filtered = this.where(base, query);
    const rows = await filtered
      .select(STUDY_COLUMNS)
      .orderBy(sql`study.study_date desc nulls last, study.study_time desc nulls last, study.study_instance_uid`)
      .limit(query.limit + 1)
      .offset(query.offset)
      .$if(isScopeOnly(query), (q) => q.modifyEnd(preparedStatement()))
      .execute();
    return this.page(rows, query, filtered, (row) => toStudy(row));
  }

  async searchSeries(query: SearchQuery): Promise<SearchResult<SeriesMatch>> {
    const base = this.db.selectFrom('series').innerJoin('study', 'study.pk', 'series.study_pk') as unknown as AnyQuery;
    const filtered = this.where(base, query);
    const rows = await filtered
      .select(SERIES_COLUMNS)
      .orderBy(sql`series.series_number nulls last, series.series_instance_uid`)
      .limit(query.limit + 1)
      .offset(query.offset)
      .$if(isScopeOnly(query), (q) => q.modifyEnd(preparedStatement()))
      .execute();
    return this.page(rows, query, filtered, (row) => toSeries(row));
  }

  /**
   * Instance rows carry only their own columns and their series key; the series and study of the
   * page are read once each by a second query (a 500-instance study would otherwise send and parse
   * the same two jsonb documents 500 times), and shared by the page's matches.
   */
  async searchInstances(query: SearchQuery): Promise<SearchResult<InstanceMatch>> {
    const base = this.db
      .selectFrom('instance')
      .innerJoin('series', 'series.pk', 'instance.series_pk')
      .innerJoin('study', 'study.pk', 'instance.study_pk') as unknown as AnyQuery;
    const filtered = this.where(base, query);
    const withMetadata = needsInstanceMetadata(query.includeFields);
    const rows = await filtered
      .select([
        'instance.series_pk',
        'instance.sop_instance_uid',
        'instance.sop_class_uid',
        'instance.instance_number',
        'instance.rows',
        'instance.columns',
        'instance.bits_allocated',
        'instance.number_of_frames',
        'instance.transfer_syntax_uid',
      ])
      .$if(withMetadata, (q) => q.select('instance.metadata'))
      .orderBy(sql`instance.instance_number nulls last, instance.sop_instance_uid`)
      .limit(query.limit + 1)
      .offset(query.offset)
      .$if(isScopeOnly(query), (q) => q.modifyEnd(preparedStatement()))
      .execute();
    const series = await this.seriesByKey(rows.slice(0, query.limit).map((row) => Number(row.series_pk)));
    return this.page(rows, query, filtered, (row) => ({
      series: series.get(Number(row.series_pk))!,
      sopInstanceUid: row.sop_instance_uid,
      sopClassUid: row.sop_class_uid,
      instanceNumber: row.instance_number,
      rows: row.rows,
      columns: row.columns,
      bitsAllocated: row.bits_allocated,
      numberOfFrames: row.number_of_frames,
      transferSyntaxUid: row.transfer_syntax_uid,
      ...(withMetadata && row.metadata !== undefined ? { metadata: JSON.parse(row.metadata) as DicomJsonDataset } : {}),
    }));
  }

  /**
   * The series (with their studies) of the given primary keys, each built once; a study shared by its
   * series. Prepared (one statement per count of keys, primary-key equality): every instance search
   * runs it, and unprepared it cost the embedded index a parse and plan in WebAssembly each time.
   */
  private async seriesByKey(keys: number[]): Promise<Map<number, SeriesMatch>> {
    const distinct = [...new Set(keys)];
    const bySeries = new Map<number, SeriesMatch>();
    if (distinct.length === 0) return bySeries;
    const rows = await this.db
      .selectFrom('series')
      .innerJoin('study', 'study.pk', 'series.study_pk')
      .select(['series.pk', 'study.pk as study_pk', ...SERIES_COLUMNS])
      .where('series.pk', 'in', distinct)
      .modifyEnd(preparedStatement())
      .execute();
    const studies = new Map<number, StudyMatch>();
    for (const row of rows) {
      const studyKey = Number(row.study_pk);
      let study = studies.get(studyKey);
      if (!study) studies.set(studyKey, (study = toStudy(row)));
      bySeries.set(Number(row.pk), toSeries(row, study));
    }
    return bySeries;
  }

  /** The page, and the number of matches after it: counted only when the page is full, without waiting for it. */
  private page<R, T>(rows: R[], query: SearchQuery, filtered: AnyQuery, map: (row: R) => T): SearchResult<T> {
    const matches = rows.slice(0, query.limit).map(map);
    if (rows.length <= query.limit) return { matches, remaining: Promise.resolve(0) };
    const remaining = filtered
      .select(sql<number>`count(*)::int`.as('count'))
      .executeTakeFirstOrThrow()
      .then((row) => Math.max(0, row.count - query.offset - matches.length));
    // A caller that does not need the count (OHIF) never awaits it; its failure must not go unhandled.
    remaining.catch(() => {});
    return { matches, remaining };
  }

  private where(base: AnyQuery, query: SearchQuery): AnyQuery {
    let q = base;
    if (query.scope.studyInstanceUid !== undefined) q = q.where(sql<boolean>`study.study_instance_uid = ${query.scope.studyInstanceUid}`);
    if (query.scope.seriesInstanceUid !== undefined) q = q.where(sql<boolean>`series.series_instance_uid = ${query.scope.seriesInstanceUid}`);
    for (const filter of query.filters) q = q.where(condition(filter));
    return q;
  }
}

/** The SQL condition of one filter (exhaustive over Filter kinds). */
export function condition(filter: Filter): RawBuilder<boolean> {
  switch (filter.kind) {
    case 'anyOf':
      return filter.filters.length ? sql<boolean>`(${sql.join(filter.filters.map(condition), sql` or `)})` : sql<boolean>`false`;
    case 'allOf':
      return filter.filters.length ? sql<boolean>`(${sql.join(filter.filters.map(condition), sql` and `)})` : sql<boolean>`true`;
    case 'dateTimeRange': {
      const date = column(attribute(filter.dateTag));
      const time = column(attribute(filter.timeTag));
      const dt = sql`(${date} || ${normalisedTime(time)})`;
      const withTime = [sql`${time} is not null`, sql`${date} is not null`];
      const dateOnly = [sql`${time} is null`, sql`${date} is not null`];
      if (filter.from !== null) {
        withTime.push(sql`${dt} >= ${filter.from}`);
        dateOnly.push(sql`${date} >= ${filter.from.slice(0, 8)}`);
      }
      if (filter.to !== null) {
        withTime.push(sql`${dt} <= ${filter.to}`);
        dateOnly.push(sql`${date} <= ${filter.to.slice(0, 8)}`);
      }
      return sql<boolean>`((${sql.join(withTime, sql` and `)}) or (${sql.join(dateOnly, sql` and `)}))`;
    }
    default:
      return attributeCondition(filter, attribute(filter.tag));
  }
}

type AttributeFilter = Exclude<Filter, { kind: 'anyOf' | 'allOf' | 'dateTimeRange' }>;

function attributeCondition(filter: AttributeFilter, attr: SearchableAttribute): RawBuilder<boolean> {
  const col = column(attr);
  const array = attr.kind === 'textArray' || attr.kind === 'uidArray';
  switch (filter.kind) {
    case 'exact':
      if (array) return sql<boolean>`${filter.value} = any(${col})`;
      if (attr.kind === 'time') return sql<boolean>`${normalisedTime(col)} = ${filter.value}`;
      return sql<boolean>`${col} = ${filter.value}`;
    case 'wildcard': {
      const pattern = likePattern(filter.pattern);
      if (array) return sql<boolean>`exists (select 1 from unnest(${col}) as v(value) where v.value like ${pattern})`;
      return sql<boolean>`${col} like ${pattern}`;
    }
    case 'range': {
      const value = attr.kind === 'time' ? normalisedTime(col) : col;
      const parts = [sql`${col} is not null`];
      if (filter.from !== null) parts.push(sql`${value} >= ${filter.from}`);
      if (filter.to !== null) parts.push(sql`${value} <= ${filter.to}`);
      return sql<boolean>`(${sql.join(parts, sql` and `)})`;
    }
    case 'uidList':
      if (array) return sql<boolean>`${col} && ${sql`array[${sql.join(filter.uids)}]::text[]`}`;
      return sql<boolean>`${col} in (${sql.join(filter.uids)})`;
    case 'number':
      return sql<boolean>`${col} = ${filter.value}`;
    case 'empty':
      if (array) return sql<boolean>`cardinality(${col}) = 0`;
      if (attr.kind === 'integer') return sql<boolean>`${col} is null`;
      return sql<boolean>`(${col} is null or ${col} = '')`;
    case 'personName': {
      const group = (i: number) => sql`split_part(${col}, '=', ${sql.lit(i)})`;
      const match = (target: RawBuilder<unknown>, value: string) =>
        hasWildcard(value) ? sql`${target} like ${likePattern(value)}` : sql`${target} = ${value}`;
      const parts: RawBuilder<unknown>[] = [];
      if (filter.anyGroup) {
        const value = filter.groups[0] ?? '';
        parts.push(
          sql`(${sql.join(
            [1, 2, 3].map((i) => match(group(i), value)),
            sql` or `,
          )})`,
        );
        // Redundant, but lets the trigram index on the whole name narrow the rows first.
        parts.push(sql`${col} like ${`%${likePattern(value)}%`}`);
      } else {
        filter.groups.forEach((value, i) => {
          if (value !== null && value !== '') parts.push(match(group(i + 1), value));
        });
      }
      return parts.length ? sql<boolean>`(${sql.join(parts, sql` and `)})` : sql<boolean>`${col} is not null`;
    }
    case 'fuzzyName': {
      const fold = FOLD_COLUMN[attr.column];
      if (!fold) throw new Error(`no fuzzy column for ${attr.keyword}`);
      const foldCol = sql.ref(`${attr.table}.${fold}`);
      const parts = filter.words.map((word) => sql`${foldCol} like ('% ' || tessera_unaccent(${likePattern(word)}) || '%')`);
      return parts.length ? sql<boolean>`(${sql.join(parts, sql` and `)})` : sql<boolean>`true`;
    }
    default:
      return assertNever(filter);
  }
}

function attribute(tag: string): SearchableAttribute {
  const attr = SEARCHABLE_ATTRIBUTES.get(tag);
  if (!attr) throw new Error(`attribute ${tag} is not searchable`);
  return attr;
}

const column = (attr: SearchableAttribute) => sql.ref(`${attr.table}.${attr.column}`);

/** A stored TM as `HHMMSS.ffffff`, so that times of any precision compare by meaning (MATCH-2, MATCH-7). */
const normalisedTime = (col: RawBuilder<unknown>) =>
  sql`(rpad(split_part(replace(${col}, ':', ''), '.', 1), 6, '0') || '.' || rpad(split_part(${col}, '.', 2), 6, '0'))`;

const hasWildcard = (value: string) => /[*?]/.test(value);

/** DICOM wildcards to a LIKE pattern: LIKE's own metacharacters are escaped first (`\` is the escape). */
export function likePattern(dicom: string): string {
  return dicom
    .replace(/[\\%_]/g, (c) => `\\${c}`)
    .replace(/\*/g, '%')
    .replace(/\?/g, '_');
}

function assertNever(value: never): never {
  throw new Error(`unhandled filter ${JSON.stringify(value)}`);
}

/** The study columns a search result is built from. */
type StudyRow = Pick<
  Selectable<StudyTable>,
  'study_instance_uid' | 'attributes' | 'number_of_series' | 'number_of_instances' | 'modalities_in_study' | 'sop_classes_in_study'
>;
/** The series columns a search result is built from (aliased, since the study's columns share their names). */
interface SeriesRow {
  series_instance_uid: Selectable<SeriesTable>['series_instance_uid'];
  series_attributes: Selectable<SeriesTable>['attributes'];
  series_number_of_instances: Selectable<SeriesTable>['number_of_instances'];
}

function toStudy(row: StudyRow): StudyMatch {
  return {
    studyInstanceUid: row.study_instance_uid,
    attributes: new DicomJsonMembers(row.attributes),
    numberOfSeries: Number(row.number_of_series),
    numberOfInstances: Number(row.number_of_instances),
    modalitiesInStudy: row.modalities_in_study ?? [],
    sopClassesInStudy: row.sop_classes_in_study ?? [],
  };
}

function toSeries(row: StudyRow & SeriesRow, study: StudyMatch = toStudy(row)): SeriesMatch {
  return {
    study,
    seriesInstanceUid: row.series_instance_uid,
    attributes: new DicomJsonMembers(row.series_attributes),
    numberOfInstances: Number(row.series_number_of_instances),
  };
}
