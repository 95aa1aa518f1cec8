import { MountPoint } from './mount-points.js';

/*
 * The URLs of stored resources, the one place their paths are written: the RetrieveURL of STOW-RS
 * and QIDO-RS answers (PS3.18 §10.5.3, §10.6.3), WADO-RS links and the OHIF adapter's WADO-URI links.
 * `serviceUrl` is the DICOMweb root (base URL + `MountPoint.dicomweb`); UIDs are valid UIDs, so
 * nothing in them needs escaping.
 */

/** `{serviceUrl}/studies/{study}` (PS3.18 §10.4.1). */
export const studyUrl = (serviceUrl: string, studyInstanceUid: string): string => `${serviceUrl}/studies/${studyInstanceUid}`;

/** `{serviceUrl}/studies/{study}/series/{series}`. */
export const seriesUrl = (serviceUrl: string, studyInstanceUid: string, seriesInstanceUid: string): string =>
  `${studyUrl(serviceUrl, studyInstanceUid)}/series/${seriesInstanceUid}`;

/** `{serviceUrl}/studies/{study}/series/{series}/instances/{instance}`. */
export const instanceUrl = (serviceUrl: string, i: { studyInstanceUid: string; seriesInstanceUid: string; sopInstanceUid: string }): string =>
  `${seriesUrl(serviceUrl, i.studyInstanceUid, i.seriesInstanceUid)}/instances/${i.sopInstanceUid}`;

/**
 * The WADO-URI URL of an instance's PS3.10 file (PS3.18 §9.1): the form OHIF's WADO-URI loader
 * opens. `legacySpelling` writes the parameters as the legacy OHIF viewer expects them
 * (`RequestType=wado`, an unescaped content type, no transfer syntax).
 */
export function wadoUriUrl(
  baseUrl: string,
  i: { studyInstanceUid: string; seriesInstanceUid: string; sopInstanceUid: string },
  options: { legacySpelling?: boolean } = {},
): string {
  const uids = `studyUID=${i.studyInstanceUid}&seriesUID=${i.seriesInstanceUid}&objectUID=${i.sopInstanceUid}`;
  const params = options.legacySpelling
    ? `RequestType=wado&${uids}&contentType=application/dicom`
    : `requestType=WADO&${uids}&contentType=application%2Fdicom&transferSyntax=*`;
  return `${baseUrl}${MountPoint.wadoUri}/?${params}`;
}
