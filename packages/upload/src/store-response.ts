import { Tag, statusHex, statusName, tagKey } from '@tessera/dicom';

/** What a Store Instances Response (PS3.18 §10.5.3, Annex I) says about one SOP Instance. */
export type InstanceAnswer =
  { kind: 'stored'; sopInstanceUid: string; retrieveUrl?: string; warning?: string } | { kind: 'refused'; sopInstanceUid: string; reason: string };

export interface StoreAnswer {
  /** By SOP Instance UID. */
  instances: Map<string, InstanceAnswer>;
  /** Items of OtherFailuresSequence (failures the server could not tie to an instance). */
  otherFailures: string[];
}

type JsonItem = Record<string, { vr?: string; Value?: unknown[] } | undefined>;

/**
 * Reads a Store Instances Response in its DICOM JSON form (PS3.18 §F.2): ReferencedSOPSequence
 * (stored, maybe with a WarningReason), FailedSOPSequence (FailureReason) and
 * OtherFailuresSequence. Reasons are rendered with their hex code and name, plus the server's
 * words when it gives them (Text Value 0040,A160, as this server and others do).
 */
export function parseStoreResponse(body: unknown): StoreAnswer {
  const answer: StoreAnswer = { instances: new Map(), otherFailures: [] };
  if (!body || typeof body !== 'object') return answer;
  // Some servers answer a one-element array (a list of datasets) rather than the dataset itself.
  const dataset = (Array.isArray(body) ? body[0] : body) as JsonItem | undefined;
  if (!dataset || typeof dataset !== 'object') return answer;
  const items = (tag: number): JsonItem[] => (dataset[tagKey(tag)]?.Value ?? []).filter((v): v is JsonItem => !!v && typeof v === 'object');
  const first = (item: JsonItem, tag: number): unknown => item[tagKey(tag)]?.Value?.[0];
  const reasonText = (item: JsonItem, tag: number): string => {
    const code = first(item, tag);
    const words = first(item, Tag.TextValue);
    const named = typeof code === 'number' ? `${statusHex(code)} ${statusName(code)}` : 'no reason given';
    return typeof words === 'string' && words ? `${named}: ${words}` : named;
  };
  for (const item of items(Tag.ReferencedSOPSequence)) {
    const sop = first(item, Tag.ReferencedSOPInstanceUID);
    if (typeof sop !== 'string') continue;
    const url = first(item, Tag.RetrieveURL);
    const warning = first(item, Tag.WarningReason) === undefined ? undefined : reasonText(item, Tag.WarningReason);
    answer.instances.set(sop, {
      kind: 'stored',
      sopInstanceUid: sop,
      ...(typeof url === 'string' ? { retrieveUrl: url } : {}),
      ...(warning ? { warning } : {}),
    });
  }
  for (const item of items(Tag.FailedSOPSequence)) {
    const sop = first(item, Tag.ReferencedSOPInstanceUID);
    if (typeof sop !== 'string') continue;
    answer.instances.set(sop, { kind: 'refused', sopInstanceUid: sop, reason: reasonText(item, Tag.FailureReason) });
  }
  for (const item of items(Tag.OtherFailuresSequence)) answer.otherFailures.push(reasonText(item, Tag.FailureReason));
  return answer;
}
