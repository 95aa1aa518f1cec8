import { type DicomJsonAttribute, type DicomJsonDataset, Tag, lookupTag, parseTagKey, tagKey } from '@tessera/dicom';
import type { InstanceMatch, SearchQuery, SeriesMatch, StudyMatch } from '@tessera/index';

/**
 * Renders index matches as QIDO-RS result datasets (digest QIDO-6..9, JSON-1..13): the default
 * attributes of the level, zero-length when unknown; parent attributes where QIDO-7 asks for them;
 * the computed attributes; an absolute RetrieveURL; and the includefield / match-key attributes
 * found at the level or a parent level (never a deeper one).
 */

export interface RenderContext {
  /** Service base URL, e.g. `https://pacs.example/dicomweb` (QIDO-9). */
  serviceUrl: string;
  includeFields: SearchQuery['includeFields'];
}

/** Tag → JSON key, memoised: results are rendered by the thousand with the same few dozen tags. */
const KEYS = new Map<number, string>();
const k = (tag: number): string => {
  let key = KEYS.get(tag);
  if (key === undefined) KEYS.set(tag, (key = tagKey(tag)));
  return key;
};
const ONLINE: DicomJsonAttribute = { vr: 'CS', Value: ['ONLINE'] };

/** Study defaults (Table 10.6.3-3): R = always present, C = when known. */
const STUDY_REQUIRED: [number, string][] = [
  [Tag.StudyDate, 'DA'], [Tag.StudyTime, 'TM'], [Tag.AccessionNumber, 'SH'], [Tag.ReferringPhysicianName, 'PN'],
  [Tag.PatientName, 'PN'], [Tag.PatientID, 'LO'], [Tag.PatientBirthDate, 'DA'], [Tag.PatientSex, 'CS'], [Tag.StudyID, 'SH'],
];
const STUDY_CONDITIONAL = [Tag.TimezoneOffsetFromUTC];
/** Series defaults (Table 10.6.3-4). */
const SERIES_REQUIRED: [number, string][] = [[Tag.Modality, 'CS'], [Tag.SeriesNumber, 'IS']];
const SERIES_CONDITIONAL = [Tag.SeriesDescription, Tag.PerformedProcedureStepStartDate, Tag.PerformedProcedureStepStartTime, Tag.RequestAttributesSequence];

export function studyUrl(ctx: RenderContext, study: StudyMatch): string {
  return `${ctx.serviceUrl}/studies/${study.studyInstanceUid}`;
}
export function seriesUrl(ctx: RenderContext, series: SeriesMatch): string {
  return `${studyUrl(ctx, series.study)}/series/${series.seriesInstanceUid}`;
}
export function instanceUrl(ctx: RenderContext, instance: InstanceMatch): string {
  return `${seriesUrl(ctx, instance.series)}/instances/${instance.sopInstanceUid}`;
}

/** The study defaults, with the study's RetrieveURL only when the study is the result entity. */
function studyDefaults(study: StudyMatch, out: DicomJsonDataset, url?: string): void {
  for (const [tag, vr] of STUDY_REQUIRED) out[k(tag)] = valueOrEmpty(study.attributes[k(tag)], vr);
  for (const tag of STUDY_CONDITIONAL) copy(study.attributes, tag, out);
  out[k(Tag.InstanceAvailability)] = ONLINE;
  out[k(Tag.StudyInstanceUID)] = { vr: 'UI', Value: [study.studyInstanceUid] };
  Object.assign(out, studyComputed(study, [Tag.ModalitiesInStudy, Tag.NumberOfStudyRelatedSeries, Tag.NumberOfStudyRelatedInstances]));
  if (url) out[k(Tag.RetrieveURL)] = { vr: 'UR', Value: [url] };
}

function seriesDefaults(series: SeriesMatch, out: DicomJsonDataset, url?: string): void {
  for (const [tag, vr] of SERIES_REQUIRED) out[k(tag)] = valueOrEmpty(series.attributes[k(tag)], vr);
  for (const tag of SERIES_CONDITIONAL) copy(series.attributes, tag, out);
  copy(series.study.attributes, Tag.TimezoneOffsetFromUTC, out);
  out[k(Tag.SeriesInstanceUID)] = { vr: 'UI', Value: [series.seriesInstanceUid] };
  out[k(Tag.NumberOfSeriesRelatedInstances)] = { vr: 'IS', Value: [series.numberOfInstances] };
  if (url) out[k(Tag.RetrieveURL)] = { vr: 'UR', Value: [url] };
}

/** QIDO-8: computed study attributes (ModalitiesInStudy, SOPClassesInStudy, the counts). */
function studyComputed(study: StudyMatch, tags: number[]): DicomJsonDataset {
  const out: DicomJsonDataset = {};
  for (const tag of tags) {
    switch (tag) {
      case Tag.ModalitiesInStudy:
        out[k(tag)] = study.modalitiesInStudy.length ? { vr: 'CS', Value: study.modalitiesInStudy } : { vr: 'CS' };
        break;
      case Tag.SOPClassesInStudy:
        out[k(tag)] = study.sopClassesInStudy.length ? { vr: 'UI', Value: study.sopClassesInStudy } : { vr: 'UI' };
        break;
      case Tag.NumberOfStudyRelatedSeries:
        out[k(tag)] = { vr: 'IS', Value: [study.numberOfSeries] };
        break;
      case Tag.NumberOfStudyRelatedInstances:
        out[k(tag)] = { vr: 'IS', Value: [study.numberOfInstances] };
        break;
    }
  }
  return out;
}

const STUDY_COMPUTED = [Tag.ModalitiesInStudy, Tag.SOPClassesInStudy, Tag.NumberOfStudyRelatedSeries, Tag.NumberOfStudyRelatedInstances];

/** Adds the includefield attributes found in `sources` (own level first, then parents). */
function addIncluded(out: DicomJsonDataset, ctx: RenderContext, sources: DicomJsonDataset[]): void {
  if (ctx.includeFields === 'all') {
    for (const source of [...sources].reverse()) {
      for (const [key, attr] of Object.entries(source)) {
        if (out[key] !== undefined || key.startsWith('0002') || key.endsWith('0000')) continue;
        const clean = withoutBulkData(attr);
        if (clean) out[key] = clean;
      }
    }
    return;
  }
  for (const key of ctx.includeFields) {
    if (out[key] !== undefined) continue;
    for (const source of sources) {
      const attr = source[key];
      if (!attr) continue;
      const clean = withoutBulkData(attr);
      if (clean) out[key] = clean;
      break;
    }
  }
}

export function renderStudy(study: StudyMatch, ctx: RenderContext): DicomJsonDataset {
  const out: DicomJsonDataset = {};
  studyDefaults(study, out, studyUrl(ctx, study));
  addIncluded(out, ctx, [studyComputed(study, STUDY_COMPUTED), study.attributes]);
  return out;
}

/**
 * A series result. `withStudy`: the relational `/series` resource carries the study defaults too
 * (QIDO-7); every series result carries StudyInstanceUID (PROJECT, OHIF reads it).
 */
export function renderSeries(series: SeriesMatch, ctx: RenderContext, withStudy: boolean): DicomJsonDataset {
  const out: DicomJsonDataset = {};
  if (withStudy) studyDefaults(series.study, out);
  out[k(Tag.StudyInstanceUID)] = { vr: 'UI', Value: [series.study.studyInstanceUid] };
  seriesDefaults(series, out, seriesUrl(ctx, series));
  addIncluded(out, ctx, [series.attributes, studyComputed(series.study, STUDY_COMPUTED), series.study.attributes]);
  return out;
}

/** An instance result; `parents` says which parent defaults the resource adds (QIDO-7). */
export function renderInstance(instance: InstanceMatch, ctx: RenderContext, parents: { study: boolean; series: boolean }): DicomJsonDataset {
  const out: DicomJsonDataset = {};
  const series = instance.series;
  if (parents.study) studyDefaults(series.study, out);
  if (parents.series) seriesDefaults(series, out);
  out[k(Tag.StudyInstanceUID)] = { vr: 'UI', Value: [series.study.studyInstanceUid] };
  out[k(Tag.SeriesInstanceUID)] = { vr: 'UI', Value: [series.seriesInstanceUid] };
  out[k(Tag.SOPClassUID)] = { vr: 'UI', Value: [instance.sopClassUid] };
  out[k(Tag.SOPInstanceUID)] = { vr: 'UI', Value: [instance.sopInstanceUid] };
  out[k(Tag.InstanceAvailability)] = ONLINE;
  copy(series.study.attributes, Tag.TimezoneOffsetFromUTC, out);
  out[k(Tag.RetrieveURL)] = { vr: 'UR', Value: [instanceUrl(ctx, instance)] };
  out[k(Tag.InstanceNumber)] = instance.instanceNumber === null ? { vr: 'IS' } : { vr: 'IS', Value: [instance.instanceNumber] };
  if (instance.rows !== null) out[k(Tag.Rows)] = { vr: 'US', Value: [instance.rows] };
  if (instance.columns !== null) out[k(Tag.Columns)] = { vr: 'US', Value: [instance.columns] };
  if (instance.bitsAllocated !== null) out[k(Tag.BitsAllocated)] = { vr: 'US', Value: [instance.bitsAllocated] };
  if (instance.numberOfFrames !== null) out[k(Tag.NumberOfFrames)] = { vr: 'IS', Value: [instance.numberOfFrames] };
  out[k(Tag.AvailableTransferSyntaxUID)] = { vr: 'UI', Value: [instance.transferSyntaxUid] };
  const seriesComputed: DicomJsonDataset = { [k(Tag.NumberOfSeriesRelatedInstances)]: { vr: 'IS', Value: [series.numberOfInstances] } };
  addIncluded(out, ctx, [instance.metadata ?? {}, series.attributes, seriesComputed, studyComputed(series.study, STUDY_COMPUTED), series.study.attributes]);
  return out;
}

function valueOrEmpty(attr: DicomJsonAttribute | undefined, vr: string): DicomJsonAttribute {
  return attr ? withoutBulkData(attr) ?? { vr: attr.vr } : { vr };
}

function copy(source: DicomJsonDataset, tag: number, out: DicomJsonDataset): void {
  const attr = source[k(tag)];
  const clean = attr && withoutBulkData(attr);
  if (clean) out[k(tag)] = clean;
}

/**
 * QIDO results carry values only: an attribute held as BulkDataURI or InlineBinary is left out
 * (recursively inside sequence items); relative bulk data URIs would not resolve from a search URL.
 */
export function withoutBulkData(attr: DicomJsonAttribute): DicomJsonAttribute | undefined {
  if (attr.BulkDataURI !== undefined || attr.InlineBinary !== undefined) return undefined;
  if (attr.vr !== 'SQ' || !attr.Value) return attr;
  return {
    vr: 'SQ',
    Value: attr.Value.map((item) => {
      if (!item || typeof item !== 'object') return item;
      const clean: DicomJsonDataset = {};
      for (const [key, value] of Object.entries(item as DicomJsonDataset)) {
        const v = withoutBulkData(value);
        if (v) clean[key] = v;
      }
      return clean;
    }),
  };
}

/** The dictionary VR of a tag key (for zero-length attributes), `UN` when unknown. */
export function vrOf(key: string): string {
  const entry = lookupTag(parseTagKey(key) ?? 0);
  const vr = entry?.vr ?? 'UN';
  return vr === 'xs' ? 'US' : vr === 'ox' ? 'OW' : vr;
}
