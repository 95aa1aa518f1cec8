import { isValidUid } from '@tessera/dicom';
import { MountPoint } from '@tessera/http';

/**
 * The study of a legacy OHIF link (`<viewer>/viewer?url=<this server>/ohif/study/{s}/series`), or
 * undefined when `url` is not this server's own legacy JSON route for a whole study.
 *
 * `url` is resolved the way the legacy viewer's `fetch` resolves it, against the page it was given
 * to (`pageUrl`, e.g. `<base>/viewer`): absolute, host-relative and relative forms all work. It is
 * recognised only when it lands on `<base>/ohif/study/{StudyInstanceUID}/series` with the public
 * base URL's origin and path prefix. Nothing is fetched: the caller sends the viewer to the same
 * study through its own data source, so a link to anywhere else is neither requested by the
 * server nor redirected to.
 */
export function studyOfLegacyLink(url: string, pageUrl: string, baseUrl: string): string | undefined {
  return studyOfOwnLink(url, pageUrl, baseUrl, LEGACY_STUDY_PATH);
}

/**
 * The study of a DICOM JSON link of this server (`<viewer>/viewer/dicomjson?url=<base>/ohif/dicomjson/studies/{s}`),
 * resolved and checked as `studyOfLegacyLink` does. Used when the hosted viewer signs in: OHIF's
 * `dicomjson` data source fetches that JSON without the Authorization header, so the link is
 * answered with the same study through the `dicomweb` data source, which sends it.
 */
export function studyOfDicomJsonLink(url: string, pageUrl: string, baseUrl: string): string | undefined {
  return studyOfOwnLink(url, pageUrl, baseUrl, DICOM_JSON_STUDY_PATH);
}

function studyOfOwnLink(url: string, pageUrl: string, baseUrl: string, route: RegExp): string | undefined {
  let target: URL;
  let base: URL;
  try {
    target = new URL(url, pageUrl);
    base = new URL(baseUrl);
  } catch {
    return undefined;
  }
  if (target.origin !== base.origin || target.username || target.password) return undefined;
  const prefix = base.pathname.replace(/\/+$/, '');
  if (!target.pathname.startsWith(`${prefix}/`)) return undefined;
  const match = route.exec(target.pathname.slice(prefix.length));
  if (!match) return undefined;
  let uid: string;
  try {
    uid = decodeURIComponent(match[1]!);
  } catch {
    return undefined;
  }
  return isValidUid(uid) ? uid : undefined;
}

/** `{MountPoint.ohif}/study/{s}/series`, optionally with a trailing slash (the mount point has no regex characters but `/`). */
const LEGACY_STUDY_PATH = new RegExp(`^${MountPoint.ohif}/study/([^/]+)/series/?$`);
/** `{MountPoint.ohif}/dicomjson/studies/{s}`, optionally with a trailing slash. */
const DICOM_JSON_STUDY_PATH = new RegExp(`^${MountPoint.ohif}/dicomjson/studies/([^/]+)/?$`);
