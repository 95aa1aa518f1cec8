import {
  type DicomJsonDataset,
  type DicomJsonMembers,
  Tag,
  lookupTag,
  parseTagKey,
  stringifyDicomJsonAttribute,
  tagKey,
  withoutBulkData,
} from '@tessera/dicom';
import { instanceUrl as instanceUrlOf, seriesUrl as seriesUrlOf, studyUrl as studyUrlOf } from '@tessera/http';
import type { InstanceMatch, SearchQuery, SeriesMatch, StudyMatch } from '@tessera/index';

/**
 * Renders index matches as QIDO-RS result datasets (digest QIDO-6..9, JSON-1..13): the default
 * attributes of the level, zero-length when unknown; parent attributes where QIDO-7 asks for them;
 * the computed attributes; an absolute RetrieveURL; and the includefield / match-key attributes
 * found at the level or a parent level (never a deeper one).
 *
 * Results are built as JSON text, attribute by attribute: the stored study and series attributes
 * are already DICOM JSON text without bulk data (DicomJsonMembers) and are copied as they are, so
 * a page of a thousand studies is never parsed into objects and written back.
 */

export interface RenderContext {
  /** Service base URL, e.g. `https://pacs.example/dicomweb` (QIDO-9). */
  serviceUrl: string;
  includeFields: SearchQuery['includeFields'];
}

/**
 * One result: attribute JSON texts by tag key, written in tag order (JSON-2) by `toJson`. Members
 * are kept in arrays in the order set (a result has a few dozen at most) and sorted only if they
 * were not set in tag order, which the study and series defaults are.
 */
export class ResultDataset {
  private readonly keys: string[] = [];
  private readonly values: string[] = [];
  private inOrder = true;

  has(key: string): boolean {
    return this.keys.includes(key);
  }

  /** Sets the attribute `key` to `json`, an attribute object's JSON text (`{"vr":…}`). */
  set(key: string, json: string): void {
    // Appending is safe only while the keys are sorted: then a key greater than the last is new.
    const last = this.keys.length - 1;
    if (this.inOrder && (last < 0 || key > this.keys[last]!)) {
      this.keys.push(key);
      this.values.push(json);
      return;
    }
    const at = this.keys.indexOf(key);
    if (at >= 0) {
      this.values[at] = json;
      return;
    }
    this.inOrder = false;
    this.keys.push(key);
    this.values.push(json);
  }

  /** Sets the attribute only if the result does not have it yet. */
  setIfAbsent(key: string, json: string): void {
    if (!this.keys.includes(key)) this.set(key, json);
  }

  toJson(): string {
    const { keys, values } = this;
    let order: number[] | undefined;
    if (!this.inOrder) order = keys.map((_, i) => i).sort((a, b) => (keys[a]! < keys[b]! ? -1 : 1));
    let out = '{';
    for (let i = 0; i < keys.length; i++) {
      const at = order ? order[i]! : i;
      out += `${i ? ',' : ''}"${keys[at]}":${values[at]}`;
    }
    return `${out}}`;
  }
}

/**
 * A DICOM JSON array of results (JSON-1), by concatenation: V8 keeps the pieces as a tree and
 * flattens it once when the text is encoded, faster here than joining an array of parts (measured
 * on a 708-study answer: 1.75 ms against 2.3 ms, encoding included).
 */
export function resultsJson(results: readonly ResultDataset[]): string {
  let out = '[';
  for (let i = 0; i < results.length; i++) out += (i ? ',' : '') + results[i]!.toJson();
  return `${out}]`;
}

/** Tag → JSON key, memoised: results are rendered by the thousand with the same few dozen tags. */
const KEYS = new Map<number, string>();
const k = (tag: number): string => {
  let key = KEYS.get(tag);
  if (key === undefined) KEYS.set(tag, (key = tagKey(tag)));
  return key;
};

/** An attribute object's JSON: zero-length (JSON-4) without values. */
const attribute = (vr: string, values?: readonly (string | number)[]): string =>
  values === undefined || values.length === 0 ? `{"vr":"${vr}"}` : `{"vr":"${vr}","Value":${JSON.stringify(values)}}`;
/** The same for one integer (counts, numbers kept in columns). */
const integer = (vr: string, value: number): string => `{"vr":"${vr}","Value":[${value}]}`;
/** The same for one string (UIDs, URLs). */
const text = (vr: string, value: string): string => `{"vr":"${vr}","Value":[${JSON.stringify(value)}]}`;
const ONLINE = attribute('CS', ['ONLINE']);

export function studyUrl(ctx: RenderContext, study: StudyMatch): string {
  return studyUrlOf(ctx.serviceUrl, study.studyInstanceUid);
}
export function seriesUrl(ctx: RenderContext, series: SeriesMatch): string {
  return seriesUrlOf(ctx.serviceUrl, series.study.studyInstanceUid, series.seriesInstanceUid);
}
export function instanceUrl(ctx: RenderContext, instance: InstanceMatch): string {
  return instanceUrlOf(ctx.serviceUrl, {
    studyInstanceUid: instance.series.study.studyInstanceUid,
    seriesInstanceUid: instance.series.seriesInstanceUid,
    sopInstanceUid: instance.sopInstanceUid,
  });
}

/**
 * Where includefield attributes are looked up, own level first: the stored study and series
 * members (DicomJsonMembers), computed attributes, or (instances) the parsed instance metadata.
 * `get` answers the attribute's JSON without bulk data, or undefined when it is absent or holds
 * only bulk data.
 */
interface AttributeSource {
  get(key: string): string | undefined;
  keys(): Iterable<string>;
}

class DatasetSource implements AttributeSource {
  constructor(private readonly dataset: DicomJsonDataset) {}
  get(key: string): string | undefined {
    const attr = this.dataset[key];
    const clean = attr && withoutBulkData(attr);
    return clean && stringifyDicomJsonAttribute(clean);
  }
  keys(): Iterable<string> {
    return Object.keys(this.dataset);
  }
}

/** Attributes computed from a match on demand (`undefined`: not one of them). */
class ComputedSource implements AttributeSource {
  constructor(
    private readonly compute: (key: string) => string | undefined,
    private readonly computedKeys: readonly string[],
  ) {}
  get(key: string): string | undefined {
    return this.compute(key);
  }
  keys(): Iterable<string> {
    return this.computedKeys;
  }
}

/** QIDO-8: the computed study attributes (ModalitiesInStudy, SOPClassesInStudy, the counts), for includefield. */
const STUDY_COMPUTED_KEYS = [Tag.ModalitiesInStudy, Tag.SOPClassesInStudy, Tag.NumberOfStudyRelatedSeries, Tag.NumberOfStudyRelatedInstances].map(k);
function studyComputed(study: StudyMatch): ComputedSource {
  return new ComputedSource((key) => {
    switch (key) {
      case STUDY_COMPUTED_KEYS[0]:
        return attribute('CS', study.modalitiesInStudy);
      case STUDY_COMPUTED_KEYS[1]:
        return attribute('UI', study.sopClassesInStudy);
      case STUDY_COMPUTED_KEYS[2]:
        return integer('IS', study.numberOfSeries);
      case STUDY_COMPUTED_KEYS[3]:
        return integer('IS', study.numberOfInstances);
      default:
        return undefined;
    }
  }, STUDY_COMPUTED_KEYS);
}

/** The computed series attribute (NumberOfSeriesRelatedInstances), for includefield on instances. */
const SERIES_COMPUTED_KEYS = [k(Tag.NumberOfSeriesRelatedInstances)];
function seriesComputed(series: SeriesMatch): ComputedSource {
  return new ComputedSource((key) => (key === SERIES_COMPUTED_KEYS[0] ? integer('IS', series.numberOfInstances) : undefined), SERIES_COMPUTED_KEYS);
}

/** One default attribute of a level: its key, and its JSON for a match (undefined: left out). */
type Default<T> = readonly [key: string, json: (match: T, url: string | undefined) => string | undefined];

/** R: always present, zero-length with this VR when not stored. */
const required = <T extends { attributes: DicomJsonMembers }>(tag: number, vr: string): Default<T> => {
  const key = k(tag);
  return [key, (match) => valueOrEmpty(match.attributes, key, vr)];
};
/** C: present when stored. */
const conditional = <T extends { attributes: DicomJsonMembers }>(tag: number): Default<T> => {
  const key = k(tag);
  return [key, (match) => match.attributes.get(key)];
};
const retrieveUrl: Default<unknown> = [k(Tag.RetrieveURL), (_, url) => (url === undefined ? undefined : text('UR', url))];

/** Study defaults (Table 10.6.3-3) and the computed attributes QIDO-8 returns by default, in tag order. */
const STUDY_DEFAULTS: Default<StudyMatch>[] = [
  required(Tag.StudyDate, 'DA'),
  required(Tag.StudyTime, 'TM'),
  required(Tag.AccessionNumber, 'SH'),
  [k(Tag.InstanceAvailability), () => ONLINE],
  [k(Tag.ModalitiesInStudy), (study) => attribute('CS', study.modalitiesInStudy)],
  required(Tag.ReferringPhysicianName, 'PN'),
  conditional(Tag.TimezoneOffsetFromUTC),
  retrieveUrl,
  required(Tag.PatientName, 'PN'),
  required(Tag.PatientID, 'LO'),
  required(Tag.PatientBirthDate, 'DA'),
  required(Tag.PatientSex, 'CS'),
  [k(Tag.StudyInstanceUID), (study) => text('UI', study.studyInstanceUid)],
  required(Tag.StudyID, 'SH'),
  [k(Tag.NumberOfStudyRelatedSeries), (study) => integer('IS', study.numberOfSeries)],
  [k(Tag.NumberOfStudyRelatedInstances), (study) => integer('IS', study.numberOfInstances)],
];

/** Series defaults (Table 10.6.3-4), the study's timezone and NumberOfSeriesRelatedInstances, in tag order. */
const SERIES_DEFAULTS: Default<SeriesMatch>[] = [
  required(Tag.Modality, 'CS'),
  [k(Tag.TimezoneOffsetFromUTC), (series) => series.study.attributes.get(k(Tag.TimezoneOffsetFromUTC))],
  conditional(Tag.SeriesDescription),
  retrieveUrl,
  [k(Tag.StudyInstanceUID), (series) => text('UI', series.study.studyInstanceUid)],
  [k(Tag.SeriesInstanceUID), (series) => text('UI', series.seriesInstanceUid)],
  required(Tag.SeriesNumber, 'IS'),
  [k(Tag.NumberOfSeriesRelatedInstances), (series) => integer('IS', series.numberOfInstances)],
  conditional(Tag.PerformedProcedureStepStartDate),
  conditional(Tag.PerformedProcedureStepStartTime),
  conditional(Tag.RequestAttributesSequence),
];

/** Sets a level's defaults; `url` is the RetrieveURL, given only when the match is the result entity. */
function setDefaults<T>(defaults: Default<T>[], match: T, out: ResultDataset, url?: string): void {
  for (const [key, json] of defaults) {
    const value = json(match, url);
    if (value !== undefined) out.set(key, value);
  }
}

/** Adds the includefield attributes found in `sources` (own level first, then parents). */
function addIncluded(out: ResultDataset, ctx: RenderContext, sources: AttributeSource[]): void {
  if (ctx.includeFields === 'all') {
    // Parents first: a study-level attribute repeated in the instance metadata keeps the study's value.
    for (let i = sources.length - 1; i >= 0; i--) {
      const source = sources[i]!;
      for (const key of source.keys()) {
        if (out.has(key) || key.startsWith('0002') || key.endsWith('0000')) continue;
        const json = source.get(key);
        if (json !== undefined) out.set(key, json);
      }
    }
    return;
  }
  for (const key of ctx.includeFields) {
    if (out.has(key)) continue;
    for (const source of sources) {
      const json = source.get(key);
      if (json === undefined) continue;
      out.set(key, json);
      break;
    }
  }
}

export function renderStudy(study: StudyMatch, ctx: RenderContext): ResultDataset {
  const out = new ResultDataset();
  setDefaults(STUDY_DEFAULTS, study, out, studyUrl(ctx, study));
  if (ctx.includeFields === 'all' || ctx.includeFields.length) addIncluded(out, ctx, [studyComputed(study), study.attributes]);
  return out;
}

/**
 * A series result. `withStudy`: the relational `/series` resource carries the study defaults too
 * (QIDO-7); every series result carries StudyInstanceUID (PROJECT, OHIF reads it).
 */
export function renderSeries(series: SeriesMatch, ctx: RenderContext, withStudy: boolean): ResultDataset {
  const out = new ResultDataset();
  if (withStudy) setDefaults(STUDY_DEFAULTS, series.study, out);
  setDefaults(SERIES_DEFAULTS, series, out, seriesUrl(ctx, series));
  if (ctx.includeFields === 'all' || ctx.includeFields.length) {
    addIncluded(out, ctx, [series.attributes, studyComputed(series.study), series.study.attributes]);
  }
  return out;
}

/** An instance result; `parents` says which parent defaults the resource adds (QIDO-7). */
export function renderInstance(instance: InstanceMatch, ctx: RenderContext, parents: { study: boolean; series: boolean }): ResultDataset {
  const out = new ResultDataset();
  const series = instance.series;
  if (parents.study) setDefaults(STUDY_DEFAULTS, series.study, out);
  if (parents.series) setDefaults(SERIES_DEFAULTS, series, out);
  out.set(k(Tag.StudyInstanceUID), text('UI', series.study.studyInstanceUid));
  out.set(k(Tag.SeriesInstanceUID), text('UI', series.seriesInstanceUid));
  out.set(k(Tag.SOPClassUID), text('UI', instance.sopClassUid));
  out.set(k(Tag.SOPInstanceUID), text('UI', instance.sopInstanceUid));
  out.set(k(Tag.InstanceAvailability), ONLINE);
  const timezone = series.study.attributes.get(k(Tag.TimezoneOffsetFromUTC));
  if (timezone !== undefined) out.set(k(Tag.TimezoneOffsetFromUTC), timezone);
  out.set(k(Tag.RetrieveURL), text('UR', instanceUrl(ctx, instance)));
  out.set(k(Tag.InstanceNumber), instance.instanceNumber === null ? attribute('IS') : integer('IS', instance.instanceNumber));
  if (instance.rows !== null) out.set(k(Tag.Rows), integer('US', instance.rows));
  if (instance.columns !== null) out.set(k(Tag.Columns), integer('US', instance.columns));
  if (instance.bitsAllocated !== null) out.set(k(Tag.BitsAllocated), integer('US', instance.bitsAllocated));
  if (instance.numberOfFrames !== null) out.set(k(Tag.NumberOfFrames), integer('IS', instance.numberOfFrames));
  out.set(k(Tag.AvailableTransferSyntaxUID), text('UI', instance.transferSyntaxUid));
  if (ctx.includeFields === 'all' || ctx.includeFields.length) {
    addIncluded(out, ctx, [
      new DatasetSource(instance.metadata ?? {}),
      series.attributes,
      seriesComputed(series),
      studyComputed(series.study),
      series.study.attributes,
    ]);
  }
  return out;
}

/** A stored attribute's JSON, or zero-length with `vr` when not stored (the index keeps values only). */
function valueOrEmpty(stored: DicomJsonMembers, key: string, vr: string): string {
  return stored.get(key) ?? attribute(vr);
}

/** The JSON of a zero-length attribute of this key, with its dictionary VR (`UN` when unknown). */
export function emptyAttribute(key: string): string {
  const entry = lookupTag(parseTagKey(key) ?? 0);
  const vr = entry?.vr ?? 'UN';
  return attribute(vr === 'xs' ? 'US' : vr === 'ox' ? 'OW' : vr);
}
