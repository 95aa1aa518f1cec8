import { type DicomJsonDataset, Tag, type TagNumber, firstNumber, firstPersonName, firstString } from '@tessera/dicom';
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

const query = (level: SearchQuery['level'], scope: SearchQuery['scope'], limit: number, includeFields: SearchQuery['includeFields'] = []): SearchQuery => ({
  level,
  scope,
  filters: [],
  includeFields,
  limit,
  offset: 0,
});

export async function loadStudyView(
  index: Pick<Index, 'search'>,
  studyInstanceUid: string,
  options: { seriesInstanceUid?: string; withMetadata?: boolean } = {},
): Promise<StudyView | undefined> {
  const {
    matches: [study],
  } = await index.search.searchStudies(query('study', { studyInstanceUid }, 1));
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
  const series = [...bySeries.values()].sort((a, b) => seriesNumber(a.attributes) - seriesNumber(b.attributes) || (a.uid < b.uid ? -1 : 1));
  for (const s of series)
    s.instances.sort((a, b) => (a.instanceNumber ?? Infinity) - (b.instanceNumber ?? Infinity) || (a.sopInstanceUid < b.sopInstanceUid ? -1 : 1));
  return { study, series };
}

const seriesNumber = (attributes: DicomJsonDataset): number => firstNumber(attributes, Tag.SeriesNumber) ?? Infinity;

/** First value of an attribute as text (PN: its Alphabetic group, else its first group), or undefined. */
export function text(dataset: DicomJsonDataset | undefined, tag: TagNumber): string | undefined {
  const name = firstPersonName(dataset, tag);
  return name ? (name.Alphabetic ?? (Object.values(name)[0] as string | undefined)) : firstString(dataset, tag);
}

/** First value of a numeric attribute, or undefined. */
export const number = (dataset: DicomJsonDataset | undefined, tag: TagNumber): number | undefined => firstNumber(dataset, tag);

/** The three UIDs of an instance, as the URL builders of `@tessera/http` take them. */
export const instanceUids = (studyInstanceUid: string, seriesInstanceUid: string, sopInstanceUid: string) => ({
  studyInstanceUid,
  seriesInstanceUid,
  sopInstanceUid,
});
