import { type DicomJsonDataset, Tag, statusHex, statusName, tagKey } from '@tessera/dicom';
import type { StoreOutcome } from './store-instances.js';

/**
 * The Store Instances Response Module (PS3.18 Annex I, digest STOW-4/10) and its HTTP status
 * (STOW-6): 200 all stored, 202 some stored or any warning, 409 none stored.
 *
 * Each FailureReason and WarningReason item also carries the reason in words, in Text Value
 * (0040,A160, UT): a client that reads only the numeric reason is unaffected, a person reading the
 * answer learns why. UT, not Error Comment (0000,0902): that is a command element, and its LO
 * value (64 characters at most) cannot hold a reason that names the UIDs involved.
 */
export function toStoreResponse(
  outcome: StoreOutcome,
  urls: { study(uid: string): string; instance(study: string, series: string, sop: string): string },
): { status: number; body: DicomJsonDataset } {
  const stored = outcome.results.filter((r) => r.kind === 'stored');
  const failed = outcome.results.filter((r) => r.kind === 'failed');
  const body: DicomJsonDataset = {};
  const studies = new Set(stored.map((r) => r.studyInstanceUid));
  const [onlyStudy] = studies;
  body[tagKey(Tag.RetrieveURL)] = studies.size === 1 && onlyStudy ? { vr: 'UR', Value: [urls.study(onlyStudy)] } : { vr: 'UR' };

  const withUids = failed.filter((r) => r.sopInstanceUid !== undefined);
  const other = failed.filter((r) => r.sopInstanceUid === undefined);
  if (withUids.length) {
    body[tagKey(Tag.FailedSOPSequence)] = {
      vr: 'SQ',
      Value: withUids.map((r) => ({
        [tagKey(Tag.ReferencedSOPClassUID)]: r.sopClassUid ? { vr: 'UI', Value: [r.sopClassUid] } : { vr: 'UI' },
        [tagKey(Tag.ReferencedSOPInstanceUID)]: { vr: 'UI', Value: [r.sopInstanceUid!] },
        [tagKey(Tag.FailureReason)]: { vr: 'US', Value: [r.reason] },
        [tagKey(Tag.TextValue)]: { vr: 'UT', Value: [r.detail] },
      })),
    };
  }
  if (other.length) {
    body[tagKey(Tag.OtherFailuresSequence)] = {
      vr: 'SQ',
      Value: other.map((r) => ({
        [tagKey(Tag.FailureReason)]: { vr: 'US', Value: [r.reason] },
        [tagKey(Tag.TextValue)]: { vr: 'UT', Value: [r.detail] },
      })),
    };
  }
  if (stored.length) {
    body[tagKey(Tag.ReferencedSOPSequence)] = {
      vr: 'SQ',
      Value: stored.map((r) => ({
        [tagKey(Tag.ReferencedSOPClassUID)]: { vr: 'UI', Value: [r.sopClassUid] },
        [tagKey(Tag.ReferencedSOPInstanceUID)]: { vr: 'UI', Value: [r.sopInstanceUid] },
        [tagKey(Tag.RetrieveURL)]: { vr: 'UR', Value: [urls.instance(r.studyInstanceUid, r.seriesInstanceUid, r.sopInstanceUid)] },
        ...(r.warning
          ? {
              [tagKey(Tag.WarningReason)]: { vr: 'US', Value: [r.warning.reason] },
              [tagKey(Tag.TextValue)]: { vr: 'UT', Value: [r.warning.detail] },
            }
          : {}),
      })),
    };
  }
  const sorted = Object.fromEntries(Object.entries(body).sort(([a], [b]) => (a < b ? -1 : 1)));
  // Nothing stored and nothing even readable as DICOM: the request as a whole was bad (STOW-6/8).
  const status = stored.length === 0 ? (other.length === failed.length ? 400 : 409) : failed.length || stored.some((r) => r.warning) ? 202 : 200;
  return { status, body: sorted };
}

/** What one STOW request did, for its log line: counts and reasons only, never data of an instance. */
export interface StoreSummary {
  /** Instances stored, byte-identical re-sends included. */
  stored: number;
  /** Of those, byte-identical re-sends that changed nothing. */
  duplicates: number;
  /** Stored with a WarningReason. */
  warnings: number;
  refused: number;
  /** Refusals and warnings by reason, e.g. `{ "A900 data set does not match its SOP class": 2 }`. */
  reasons: Record<string, number>;
}

export function summarizeOutcome(outcome: StoreOutcome): StoreSummary {
  const summary: StoreSummary = { stored: 0, duplicates: 0, warnings: 0, refused: 0, reasons: {} };
  const count = (code: number) => {
    const key = `${statusHex(code)} ${statusName(code)}`;
    summary.reasons[key] = (summary.reasons[key] ?? 0) + 1;
  };
  for (const r of outcome.results) {
    if (r.kind === 'failed') {
      summary.refused++;
      count(r.reason);
      continue;
    }
    summary.stored++;
    if (r.duplicate) summary.duplicates++;
    if (r.warning) {
      summary.warnings++;
      count(r.warning.reason);
    }
  }
  return summary;
}
