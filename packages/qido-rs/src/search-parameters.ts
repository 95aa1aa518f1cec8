import { Tag, isPrivateTag, isValidUid, lookupKeyword, parseTagKey, tagKey } from '@tessera/dicom';
import { HttpProblem } from '@tessera/http';
import { type AttributeLevel, type Filter, type Level, SEARCHABLE_ATTRIBUTES, SERIES_LEVEL_TAGS, STUDY_LEVEL_TAGS, type SearchQuery } from '@tessera/index';

/** The six QIDO-RS resources (digest QIDO-1), by the entity they return and the UIDs in their path. */
export interface SearchResource {
  level: Level;
  /** `/studies/{s}/…`, `/studies/{s}/series/{se}/…` */
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
}

/** A parsed request: the storage-agnostic query and the Warning 299 texts it earned (COMMON-2). */
export interface ParsedSearch {
  query: SearchQuery;
  warnings: string[];
  /** Match keys (not includefields): returned in every result, zero-length when the entity has no value (QIDO-6). */
  matchKeys: string[];
}

export interface SearchLimits {
  /** The server's maximum number of results per request (QIDO_MAX_LIMIT); `limit` above it is clamped. */
  maxLimit: number;
}

/** Query parameters that are not attributes (PS3.18 §8.3.4). */
const CONTROL_PARAMETERS = new Set(['limit', 'offset', 'includefield', 'fuzzymatching', 'emptyvaluematching', 'multiplevaluematching']);

const TAG_TIMEZONE_OFFSET = tagKey(Tag.TimezoneOffsetFromUTC);
const TAG_STUDY_UID = tagKey(Tag.StudyInstanceUID);
const TAG_SERIES_UID = tagKey(Tag.SeriesInstanceUID);
/** DA/TM pairs matched as one date-time range when given together (MATCH-8). */
const DATE_TIME_PAIRS: [string, string][] = (
  [
    [Tag.StudyDate, Tag.StudyTime],
    [Tag.SeriesDate, Tag.SeriesTime],
    [Tag.PerformedProcedureStepStartDate, Tag.PerformedProcedureStepStartTime],
  ] as const
).map(([date, time]) => [tagKey(date), tagKey(time)]);

/** Levels whose attributes may be match keys on each resource (QIDO-1, Table 10.6.1-1). */
function allowedLevels(resource: SearchResource): AttributeLevel[] {
  switch (resource.level) {
    case 'study':
      return ['patient', 'study'];
    case 'series':
      return resource.studyInstanceUid !== undefined ? ['patient', 'series'] : ['patient', 'study', 'series'];
    case 'instance':
      if (resource.seriesInstanceUid !== undefined) return ['patient', 'instance'];
      if (resource.studyInstanceUid !== undefined) return ['patient', 'series', 'instance'];
      return ['patient', 'study', 'series', 'instance'];
  }
}

/** The query level an attribute belongs to: from the search catalogue, else from the index's level lists. */
export function attributeLevel(tag: string): AttributeLevel {
  const searchable = SEARCHABLE_ATTRIBUTES.get(tag);
  if (searchable) return searchable.level;
  if (tag.startsWith('0010')) return 'patient';
  if (STUDY_LEVEL_TAGS.has(tag)) return 'study';
  if (SERIES_LEVEL_TAGS.has(tag)) return 'series';
  return 'instance';
}

/**
 * Splits and percent-decodes a raw query string (`a=1&b=2`). `+` is kept as is: DICOMweb clients
 * encode values with encodeURIComponent, so a literal `+` (a UTC offset) stays a plus (COMMON-3).
 */
export function decodeQueryString(raw: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    let pair: [string, string];
    try {
      pair = [decodeURIComponent(name), decodeURIComponent(value)];
    } catch {
      throw badParameter(safeText(name), 'is not valid percent-encoded UTF-8 (PS3.18 §8.3.1, RFC 3986 §2.1)');
    }
    // No DICOM string value holds a NUL (PS3.5 §6.2), and PostgreSQL refuses it in text: caught
    // here, for every parameter, before it can reach the index as a 500.
    if (pair[0].includes('\0') || pair[1].includes('\0')) {
      throw badParameter(safeText(pair[0]), `contains a NUL character (%00), which no DICOM string value may hold (PS3.5 §6.2)`);
    }
    pairs.push(pair);
  }
  return pairs;
}

/**
 * Parses QIDO-RS query parameters into a SearchQuery (digest QIDO-3..5, QIDO-10..12, MATCH-1..15).
 * Invalid values of supported parameters are 400 problems naming the parameter; unknown parameters,
 * attributes that cannot be matched and keys of levels the resource does not allow are ignored
 * with a warning (COMMON-2, QIDO-1, QIDO-4, QIDO-14).
 */
export function parseSearchQuery(resource: SearchResource, params: readonly (readonly [string, string])[], limits: SearchLimits): ParsedSearch {
  const warnings: string[] = [];
  const control = new Map<string, string>();
  const includeFieldValues: string[] = [];
  const attributeParams: [string, string][] = [];
  for (const [name, value] of params) {
    if (name === 'includefield') includeFieldValues.push(value);
    else if (CONTROL_PARAMETERS.has(name)) {
      if (control.has(name)) throw badParameter(name, 'is repeated (PS3.18 §8.3.4.1)');
      control.set(name, value);
    } else attributeParams.push([name, value]);
  }

  const fuzzy = booleanParameter(control, 'fuzzymatching');
  const emptyValueMatching = booleanParameter(control, 'emptyvaluematching');
  const multipleValueMatching = booleanParameter(control, 'multiplevaluematching');
  const offset = control.has('offset') ? unsignedParameter(control, 'offset', 0) : 0;
  const limit = control.has('limit') ? Math.min(unsignedParameter(control, 'limit', 1), limits.maxLimit) : limits.maxLimit;

  let includeAll = false;
  const includeFields = new Set<string>();
  for (const value of includeFieldValues) {
    for (const item of value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      if (item === 'all') {
        includeAll = true;
        continue;
      }
      const tag = resolveAttributeName(item);
      if (tag === undefined || typeof tag !== 'string') warnings.push(`includefield ${safeText(item)} is not a known attribute; it was ignored`);
      else includeFields.add(tag);
    }
  }

  const allowed = allowedLevels(resource);
  const seen = new Set<string>();
  const matchKeys: string[] = [];
  const terms = new Map<string, Filter[]>();
  for (const [name, rawValue] of attributeParams) {
    const resolved = resolveAttributeName(name);
    if (resolved === undefined) {
      warnings.push(`The query parameter ${safeText(name)} is not supported and was ignored`);
      continue;
    }
    if (typeof resolved !== 'string') {
      warnings.push(`Sequence matching (${safeText(name)}) is not supported; the key was ignored (PS3.18 section 8.3.4.1.1)`);
      continue;
    }
    const tag = resolved;
    if (seen.has(tag)) throw badParameter(name, `names attribute ${tag} that is already a match key (PS3.18 §8.3.4.1)`);
    seen.add(tag);
    if (isPrivateTag(parseTagKey(tag)!)) {
      warnings.push(`Matching on private attribute ${tag} is not supported; the key was ignored (PS3.18 section 8.3.4.1.1)`);
      continue;
    }
    const pathKey = (tag === TAG_STUDY_UID && resource.studyInstanceUid !== undefined) || (tag === TAG_SERIES_UID && resource.seriesInstanceUid !== undefined);
    if (!pathKey && tag !== TAG_TIMEZONE_OFFSET && !allowed.includes(attributeLevel(tag))) {
      warnings.push(
        `${safeText(name)} is a ${attributeLevel(tag)}-level attribute, not allowed as a match key on this resource; it was ignored (PS3.18 section 10.6.1.2)`,
      );
      continue;
    }
    includeFields.add(tag); // a match key is returned (QIDO-6)
    matchKeys.push(tag);
    const searchable = SEARCHABLE_ATTRIBUTES.get(tag);
    if (rawValue === '') continue; // universal matching (MATCH-11)
    if (!searchable) {
      warnings.push(`${safeText(name)} is not supported for matching; the key was ignored and the attribute is returned when present (PS3.18 Table 10.6.1-5)`);
      continue;
    }
    const filters = valueFilters(name, tag, searchable.vr, searchable.kind === 'personName', rawValue, { fuzzy, emptyValueMatching, multipleValueMatching });
    if (filters.length) terms.set(tag, filters);
  }

  const filters = combineDateTime(terms);
  const query: SearchQuery = {
    level: resource.level,
    scope: { studyInstanceUid: resource.studyInstanceUid, seriesInstanceUid: resource.seriesInstanceUid },
    filters,
    includeFields: includeAll ? 'all' : [...includeFields],
    limit,
    offset,
  };
  if (query.scope.studyInstanceUid === undefined) delete query.scope.studyInstanceUid;
  if (query.scope.seriesInstanceUid === undefined) delete query.scope.seriesInstanceUid;
  return { query, warnings, matchKeys };
}

/**
 * An attribute parameter name: a keyword (case-sensitive) or 8 hex digits (either case) → the tag
 * key; a dotted sequence path → `{ sequence }`; anything else → undefined (QIDO-3).
 */
function resolveAttributeName(name: string): string | { sequence: string } | undefined {
  if (name.includes('.')) {
    return name.split('.').every((part) => typeof resolveAttributeName(part) === 'string') ? { sequence: name } : undefined;
  }
  const hex = parseTagKey(name);
  if (hex !== undefined) return tagKey(hex);
  const entry = lookupKeyword(name);
  return entry ? tagKey(entry.tag) : undefined;
}

interface MatchOptions {
  fuzzy: boolean;
  emptyValueMatching: boolean;
  multipleValueMatching: boolean;
}

/** Values may be lists (D3, MATCH-5, MATCH-10): split by VR, then one filter per value. */
const COMMA_LISTS = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'SH', 'TM', 'UI', 'US', 'UL', 'SS', 'SL']);
const SINGLE_VALUED_TEXT = new Set(['LT', 'ST', 'UT', 'UR']);
const WILDCARD_VRS = new Set(['AE', 'CS', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UR', 'UT']);

function valueFilters(name: string, tag: string, vr: string, personName: boolean, raw: string, options: MatchOptions): Filter[] {
  if (options.emptyValueMatching && raw === '""') return [{ kind: 'empty', tag }];
  let values = [raw];
  if (!SINGLE_VALUED_TEXT.has(vr)) values = values.flatMap((v) => v.split('\\'));
  if (COMMA_LISTS.has(vr)) values = values.flatMap((v) => v.split(','));
  values = values.map((v) => trimPadding(v, vr));

  if (vr === 'UI') {
    for (const uid of values) {
      if (!isValidUid(uid)) throw badParameter(name, `value '${safeText(uid)}' is not a valid UID (PS3.4 §C.2.2.2.2)`);
    }
    return [{ kind: 'uidList', tag, uids: [...new Set(values)] }];
  }
  if (values.some((v) => v === '*' && WILDCARD_VRS.has(vr))) return []; // `*` alone is universal (MATCH-4)
  if (options.multipleValueMatching && values.length > 1 && values.some((v) => /[*?]/.test(v))) {
    throw badParameter(name, 'has several values and a wildcard: multiplevaluematching=true allows no wildcards (PS3.18 §8.3.4.6)');
  }
  const filters = values.map((v) => valueFilter(name, tag, vr, personName, v, options));
  if (filters.length === 1) return filters;
  return [options.multipleValueMatching ? { kind: 'allOf', filters } : { kind: 'anyOf', filters }];
}

function valueFilter(name: string, tag: string, vr: string, personName: boolean, value: string, options: MatchOptions): Filter {
  switch (vr) {
    case 'DA': {
      if (/[*?]/.test(value)) throw badParameter(name, `value '${safeText(value)}' has a wildcard; dates take single values or ranges (PS3.4 §C.2.2.2)`);
      if (value.includes('-')) {
        const [from, to, ...rest] = value.split('-');
        if (rest.length || (!from && !to)) throw badParameter(name, `'${safeText(value)}' is not a date range YYYYMMDD-YYYYMMDD (PS3.4 §C.2.2.2.5)`);
        for (const d of [from, to]) if (d && !isDate(d)) throw badParameter(name, `'${safeText(d)}' is not a date YYYYMMDD (PS3.4 §C.2.2.2.5)`);
        if (from && to && from > to) throw badParameter(name, `the range ${safeText(value)} ends before it starts (PS3.4 §C.2.2.2.5)`);
        return { kind: 'range', tag, from: from || null, to: to || null };
      }
      if (!isDate(value)) throw badParameter(name, `'${safeText(value)}' is not a date YYYYMMDD (PS3.4 §C.2.2.2.5)`);
      return { kind: 'exact', tag, value };
    }
    case 'TM': {
      if (/[*?]/.test(value)) throw badParameter(name, `value '${safeText(value)}' has a wildcard; times take single values or ranges (PS3.4 §C.2.2.2)`);
      if (value.includes('-')) {
        const [from, to, ...rest] = value.split('-');
        if (rest.length || (!from && !to)) throw badParameter(name, `'${safeText(value)}' is not a time range HHMMSS-HHMMSS (PS3.4 §C.2.2.2.5)`);
        for (const t of [from, to]) if (t && !isTime(t)) throw badParameter(name, `'${safeText(t)}' is not a time HHMMSS.FFFFFF (PS3.4 §C.2.2.2.5)`);
        const lower = from ? padTime(from, '0') : null;
        const upper = to ? padTime(to, '9') : null;
        if (lower && upper && lower > upper)
          throw badParameter(name, `the range ${safeText(value)} crosses midnight or ends before it starts (PS3.4 §C.2.2.2.5)`);
        return { kind: 'range', tag, from: lower, to: upper };
      }
      if (!isTime(value)) throw badParameter(name, `'${safeText(value)}' is not a time HHMMSS.FFFFFF (PS3.4 §C.2.2.2.5)`);
      return { kind: 'exact', tag, value: padTime(value, '0') };
    }
    case 'IS':
    case 'US':
    case 'UL':
    case 'SS':
    case 'SL': {
      if (!/^[+-]?\d{1,10}$/.test(value)) throw badParameter(name, `'${safeText(value)}' is not an integer (PS3.4 §C.2.2.2.1)`);
      return { kind: 'number', tag, value: Number(value) };
    }
    default:
      break;
  }
  if (personName) {
    if (options.fuzzy) {
      const words = value
        .toLowerCase()
        .split(/[\s^=,*-]+/)
        .filter(Boolean);
      return { kind: 'fuzzyName', tag, words };
    }
    const lower = value.toLowerCase();
    if (!lower.includes('=')) return { kind: 'personName', tag, groups: [normalisePnGroup(lower)], anyGroup: true };
    const groups = lower
      .split('=')
      .slice(0, 3)
      .map((g) => normalisePnGroup(g) || null);
    return { kind: 'personName', tag, groups, anyGroup: false };
  }
  if (/[*?]/.test(value) && WILDCARD_VRS.has(vr)) return { kind: 'wildcard', tag, pattern: value };
  return { kind: 'exact', tag, value };
}

/** MATCH-8: a DA and a TM key of one pair, at least one a range, become one date-time range. */
function combineDateTime(terms: Map<string, Filter[]>): Filter[] {
  for (const [dateTag, timeTag] of DATE_TIME_PAIRS) {
    const date = terms.get(dateTag);
    const time = terms.get(timeTag);
    if (date?.length !== 1 || time?.length !== 1) continue;
    const d = date[0]!;
    const t = time[0]!;
    if (!((d.kind === 'range' || d.kind === 'exact') && (t.kind === 'range' || t.kind === 'exact'))) continue;
    if (d.kind === 'exact' && t.kind === 'exact') continue; // independent single values mean the same
    const dFrom = d.kind === 'range' ? d.from : d.value;
    const dTo = d.kind === 'range' ? d.to : d.value;
    const tFrom = t.kind === 'range' ? t.from : t.value;
    const tTo = t.kind === 'range' ? t.to : t.value;
    terms.delete(dateTag);
    terms.delete(timeTag);
    terms.set(`${dateTag}+${timeTag}`, [
      {
        kind: 'dateTimeRange',
        dateTag,
        timeTag,
        from: dFrom ? dFrom + (tFrom ?? '000000.000000') : null,
        to: dTo ? dTo + (tTo ?? '235959.999999') : null,
      },
    ]);
  }
  return [...terms.values()].flat();
}

/** Padding is not significant (MATCH-2): trailing spaces always; leading ones too for LO, SH, PN. */
function trimPadding(value: string, vr: string): string {
  const trailing = vr === 'UI' ? value.replace(/[\0 ]+$/, '') : value.replace(/ +$/, '');
  return vr === 'LO' || vr === 'SH' || vr === 'PN' || vr === 'UI' ? trailing.replace(/^ +/, '') : trailing;
}

/** Person names are matched without trailing empty components (MATCH-3). */
const normalisePnGroup = (group: string) => group.trim().replace(/\^+$/, '');

function isDate(value: string): boolean {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

const isTime = (value: string) => /^([01]\d|2[0-3])([0-5]\d([0-5]\d(\.\d{1,6})?)?)?$/.test(value);

/** `HH[MM[SS[.F…]]]` → `HHMMSS.ffffff`, filling what the value leaves out with `0` (start) or `9`/`59` (end). */
function padTime(value: string, fill: '0' | '9'): string {
  const [hms = '', fraction = ''] = value.split('.');
  const rest = fill === '0' ? '0000' : '5959';
  return `${hms}${rest.slice(hms.length - 2)}.${fraction.padEnd(6, fill)}`;
}

function booleanParameter(control: Map<string, string>, name: string): boolean {
  const value = control.get(name);
  if (value === undefined) return false;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw badParameter(name, `must be true or false, not '${safeText(value)}' (PS3.18 §8.3.4)`);
}

function unsignedParameter(control: Map<string, string>, name: string, min: number): number {
  const value = control.get(name)!;
  const n = Number(value);
  if (!/^\d{1,15}$/.test(value) || n < min) {
    throw badParameter(name, `must be an integer of at least ${min}, not '${safeText(value)}' (PS3.18 §8.3.4.4)`);
  }
  return n;
}

function badParameter(name: string, detail: string): HttpProblem {
  return new HttpProblem(400, 'INVALID_QUERY_PARAMETER', `query parameter ${name} ${detail}`);
}

/** User text echoed into a header or message: printable ASCII only, bounded. */
export function safeText(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > 80 ? `${ascii.slice(0, 77)}...` : ascii;
}
