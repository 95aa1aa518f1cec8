import { type DicomJsonAttribute, type DicomJsonDataset, Tag, lookupTag, parseTagKey } from '@tessera/dicom';
import { wadoUriUrl } from '@tessera/http';
import { type StudyView, instanceUids, number, text } from './study-view.js';

type Natural = string | number | null | Natural[] | { [keyword: string]: Natural };

/**
 * OHIF v3's DICOM JSON (the `dicomjson` data source, `/viewer/dicomjson?url=…`): studies → series
 * → instances, each instance with `metadata` holding the naturalized attributes OHIF needs to
 * display and measure (keywords as keys, single values unwrapped, PN as its Alphabetic text) and
 * `url: "dicomweb:<WADO-URI url>"`; a multi-frame instance is listed once per frame (`&frame=n`).
 * Built from the metadata stored at ingest; binary values (BulkDataURI/InlineBinary) are left out.
 */
export function toOhifDicomJson(view: StudyView, baseUrl: string) {
  const { study } = view;
  const attrs = study.attributes.dataset();
  return {
    studies: [
      {
        StudyInstanceUID: study.studyInstanceUid,
        StudyDescription: text(attrs, Tag.StudyDescription) ?? '',
        StudyDate: text(attrs, Tag.StudyDate) ?? '',
        StudyTime: text(attrs, Tag.StudyTime) ?? '',
        PatientName: text(attrs, Tag.PatientName) ?? '',
        PatientID: text(attrs, Tag.PatientID) ?? '',
        AccessionNumber: text(attrs, Tag.AccessionNumber) ?? '',
        PatientSex: text(attrs, Tag.PatientSex) ?? '',
        PatientBirthDate: text(attrs, Tag.PatientBirthDate) ?? '',
        NumInstances: study.numberOfInstances,
        NumOfSeries: study.numberOfSeries,
        Modalities: study.modalitiesInStudy.join('\\'),
        series: view.series.map((series) => ({
          SeriesInstanceUID: series.uid,
          SeriesDescription: text(series.attributes, Tag.SeriesDescription) ?? '',
          SeriesNumber: number(series.attributes, Tag.SeriesNumber) ?? null,
          Modality: text(series.attributes, Tag.Modality) ?? '',
          SeriesDate: text(series.attributes, Tag.SeriesDate) ?? '',
          SeriesTime: text(series.attributes, Tag.SeriesTime) ?? '',
          instances: series.instances.flatMap((instance) => {
            const metadata = naturalize(instance.metadata ?? {});
            Object.assign(metadata, {
              StudyInstanceUID: study.studyInstanceUid,
              SeriesInstanceUID: series.uid,
              SOPInstanceUID: instance.sopInstanceUid,
              SOPClassUID: instance.sopClassUid,
            });
            const url = `dicomweb:${wadoUriUrl(baseUrl, instanceUids(study.studyInstanceUid, series.uid, instance.sopInstanceUid))}`;
            const frames = instance.numberOfFrames ?? 1;
            if (frames <= 1) return [{ metadata, url }];
            return Array.from({ length: frames }, (_, i) => ({ metadata, url: `${url}&frame=${i + 1}` }));
          }),
        })),
      },
    ],
  };
}

/** Keyword of a DICOM JSON key (null: private or unknown), memoised: a study repeats the same few hundred keys per instance. */
const KEYWORDS = new Map<string, string | null>();
function keywordOf(key: string): string | null {
  let keyword = KEYWORDS.get(key);
  if (keyword === undefined) {
    const tag = parseTagKey(key);
    keyword = (tag === undefined ? undefined : lookupTag(tag)?.keyword) || null;
    if (KEYWORDS.size < 100_000) KEYWORDS.set(key, keyword);
  }
  return keyword;
}

/** DICOM JSON → keyword-keyed values, as dcmjs's naturalizeDataset writes them. */
export function naturalize(dataset: DicomJsonDataset): Record<string, Natural> {
  const out: Record<string, Natural> = {};
  for (const key in dataset) {
    const attribute = dataset[key]!;
    const values = attribute.Value;
    if (values === undefined || values.length === 0) continue;
    const keyword = keywordOf(key);
    if (!keyword) continue;
    // A sequence stays a list of items; other attributes unwrap a single value.
    if (attribute.vr === 'SQ') out[keyword] = values.map((item) => (item === null ? null : naturalize(item as DicomJsonDataset)));
    else if (values.length === 1) out[keyword] = naturalValue(attribute, values[0]);
    else out[keyword] = values.map((value) => naturalValue(attribute, value));
  }
  return out;
}

function naturalValue(attribute: DicomJsonAttribute, value: unknown): Natural {
  if (value === null) return null;
  if (attribute.vr === 'PN' && typeof value === 'object') return (value as { Alphabetic?: string }).Alphabetic ?? '';
  return value as string | number;
}
