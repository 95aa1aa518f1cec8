import type { DicomJsonDataset } from '@tessera/dicom';
import type { Index, InstanceMatch, SearchQuery, StudyMatch } from '@tessera/index';

/**
 * One study as the OHIF adapters see it: the study match and its instances grouped by series,
 * series ordered by SeriesNumber, instances by InstanceNumber. Read through the same search
 * functions as QIDO-RS (`index.search`), not a second query path.
 */
export interface StudyView {
  study: StudyMatch;
  series: { uid: string; attributes: DicomJsonDataset; instances: InstanceMatch[] }[];
}

const query = (level: SearchQuery['level'], scope: SearchQuery['scope'], limit: number, includeFields: SearchQuery['includeFields'] = []): SearchQuery =>
  ({ level, scope, filters: [], includeFields, limit, offset: 0 });

export async function loadStudyView(
  index: Pick<Index, 'search'>,
  studyInstanceUid: string,
  options: { seriesInstanceUid?: string; withMetadata?: boolean } = {},
): Promise<StudyView | undefined> {
  const { matches: [study] } = await index.search.searchStudies(query('study', { studyInstanceUid }, 1));
  if (!study) return undefined;
  const scope = { studyInstanceUid, seriesInstanceUid: options.seriesInstanceUid };
  const { matches } = await index.search.searchInstances(query('instance', scope, Math.max(1, study.numberOfInstances), options.withMetadata ? 'all' : []));
  const bySeries = new Map<string, StudyView['series'][number]>();
  for (const instance of matches) {
    const uid = instance.series.seriesInstanceUid;
    let entry = bySeries.get(uid);
    if (!entry) bySeries.set(uid, (entry = { uid, attributes: instance.series.attributes.dataset(), instances: [] }));
    entry.instances.push(instance);
  }
  const series = [...bySeries.values()].sort((a, b) => (seriesNumber(a.attributes) - seriesNumber(b.attributes)) || (a.uid < b.uid ? -1 : 1));
  for (const s of series) s.instances.sort((a, b) => (a.instanceNumber ?? Infinity) - (b.instanceNumber ?? Infinity) || (a.sopInstanceUid < b.sopInstanceUid ? -1 : 1));
  return { study, series };
}

const seriesNumber = (attributes: DicomJsonDataset): number => {
  const n = Number(attributes['00200011']?.Value?.[0]);
  return Number.isFinite(n) ? n : Infinity;
};

/** First value of an attribute as a string (PN: its Alphabetic group), or undefined. */
export function text(dataset: DicomJsonDataset | undefined, tag: string): string | undefined {
  const value = dataset?.[tag]?.Value?.[0];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'object') return (value as { Alphabetic?: string }).Alphabetic ?? Object.values(value)[0] as string | undefined;
  return String(value);
}

export function number(dataset: DicomJsonDataset | undefined, tag: string): number | undefined {
  const n = Number(dataset?.[tag]?.Value?.[0]);
  return dataset?.[tag]?.Value?.[0] === undefined || !Number.isFinite(n) ? undefined : n;
}

/** The WADO-URI URL of an instance (the form OHIF's legacy JSON and its WADO-URI loader use). */
export function wadoUriUrl(baseUrl: string, studyUid: string, seriesUid: string, sopUid: string, options: { legacySpelling?: boolean } = {}): string {
  const params = options.legacySpelling
    ? `RequestType=wado&studyUID=${studyUid}&seriesUID=${seriesUid}&objectUID=${sopUid}&contentType=application/dicom`
    : `requestType=WADO&studyUID=${studyUid}&seriesUID=${seriesUid}&objectUID=${sopUid}&contentType=application%2Fdicom&transferSyntax=*`;
  return `${baseUrl}/wadouri/?${params}`;
}
