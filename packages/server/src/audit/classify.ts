import { isValidUid } from '@tessera/dicom';
import type { AuditAction, AuditEventType, AuditOutcome } from '@tessera/index';

/** What a request was, in the terms of the audit trail (PS3.15 A.5.3); see docs/security.md. */
export interface RequestClassification {
  type: AuditEventType;
  action: AuditAction;
  /** The studies named by the request itself (path or query); the service may note better ones. */
  studyUids: string[];
  detail: Record<string, string>;
}

export interface ClassifiedRequest {
  method: string;
  /** The route pattern with its prefix, e.g. `/dicomweb/studies/:study/metadata`. */
  route: string;
  params: Readonly<Record<string, unknown>>;
  query: Readonly<Record<string, unknown>>;
}

const QIDO = new Map<string, string>([
  ['/dicomweb/studies', 'study'],
  ['/dicomweb/series', 'series'],
  ['/dicomweb/studies/:study/series', 'series'],
  ['/dicomweb/instances', 'instance'],
  ['/dicomweb/studies/:study/instances', 'instance'],
  ['/dicomweb/studies/:study/series/:series/instances', 'instance'],
]);

/** WADO-RS resources whose answer is a view of the data (Instances Accessed), not the instances themselves. */
const ACCESSED_RESOURCES = new Set(['metadata', 'rendered', 'thumbnail']);

/**
 * Classifies a request to a patient data route; undefined for every other route (health, viewer
 * files, the capabilities document, CORS preflights, 405 answers) which touch no patient data.
 *
 * - QIDO-RS searches: Query (action E).
 * - WADO-RS instances, frames, bulk data, and WADO-URI's application/dicom: DICOM Instances
 *   Transferred (R: the archive sends copies).
 * - WADO-RS metadata, rendered, thumbnails, WADO-URI images, the OHIF JSON routes: DICOM Instances
 *   Accessed (R: viewed, no copy of the instances leaves).
 * - STOW-RS: DICOM Instances Transferred (C: the archive receives copies; PS3.15 A.5.3.2; "Data
 *   Import" (A.5.3.4) is for media brought into the organisation, not a network store).
 * - DELETE of a study: DICOM Study Deleted (D); of a series or an instance: DICOM Instances Accessed (D).
 * - `GET /api/audit`: Audit Log Used (R).
 * - Share links (issue #14): `POST /api/shares` share-created (C), `DELETE /api/shares/{id}`
 *   share-revoked (U), `GET /s/{token}` share-opened (E); the routes note the share's id. Data read
 *   with a share cookie is recorded as any read, with the share as the actor.
 * - `GET /api/backup/index` (a snapshot of the embedded index): DICOM Instances Transferred (R).
 * - The change feed (`/api/changefeed…`): Query (E), like a search of the whole archive.
 */
export function classifyRequest({ method, route, params, query }: ClassifiedRequest): RequestClassification | undefined {
  const path = route.length > 1 ? route.replace(/\/+$/, '') : route;
  const pathStudy = validUids(params.study);
  if (method === 'GET' || method === 'HEAD') {
    const level = QIDO.get(path);
    if (level !== undefined) {
      const filter = validUids(query.StudyInstanceUID ?? query['0020000D']);
      return { type: 'query', action: 'E', studyUids: pathStudy.length ? pathStudy : filter, detail: { service: 'qido-rs', level } };
    }
    if (path.startsWith('/dicomweb/studies/:study')) {
      const resource = retrieveResource(path);
      const type = ACCESSED_RESOURCES.has(resource) ? 'instances-accessed' : 'instances-transferred';
      return { type, action: 'R', studyUids: pathStudy, detail: { service: 'wado-rs', resource } };
    }
    if (path === '/wadouri' || path === '/wado') {
      const contentType = typeof query.contentType === 'string' ? query.contentType.split(/[;,]/)[0]!.trim().toLowerCase() : '';
      const type = contentType === 'application/dicom' ? 'instances-transferred' : 'instances-accessed';
      return { type, action: 'R', studyUids: validUids(query.studyUID), detail: { service: 'wado-uri' } };
    }
    if (path.startsWith('/ohif/')) {
      return { type: 'instances-accessed', action: 'R', studyUids: pathStudy, detail: { service: 'ohif' } };
    }
    if (path === '/s/:token') return { type: 'share-opened', action: 'E', studyUids: [], detail: { service: 'shares' } };
    if (path === '/api/backup/index') {
      // A copy of the whole embedded index (every patient's attributes) leaves the archive.
      return { type: 'instances-transferred', action: 'R', studyUids: [], detail: { service: 'backup' } };
    }
    if (path.startsWith('/api/changefeed')) {
      return { type: 'query', action: 'E', studyUids: [], detail: { service: 'changefeed' } };
    }
    if (path === '/api/audit') {
      // The names of the filters used, never their values.
      const filters = Object.keys(query).sort().join(',');
      return { type: 'audit-log-used', action: 'R', studyUids: [], detail: filters ? { service: 'audit', filters } : { service: 'audit' } };
    }
    return undefined;
  }
  if (method === 'POST' && (path === '/dicomweb/studies' || path === '/dicomweb/studies/:study')) {
    return { type: 'instances-transferred', action: 'C', studyUids: pathStudy, detail: { service: 'stow-rs' } };
  }
  if (method === 'POST' && path === '/api/shares') return { type: 'share-created', action: 'C', studyUids: [], detail: { service: 'shares' } };
  if (method === 'DELETE' && path === '/api/shares/:id') return { type: 'share-revoked', action: 'U', studyUids: [], detail: { service: 'shares' } };
  if (method === 'POST' && path === '/api/upload') {
    // The upload page's store: the same transaction as STOW-RS.
    return { type: 'instances-transferred', action: 'C', studyUids: [], detail: { service: 'upload-page' } };
  }
  if (method === 'DELETE' && path.startsWith('/dicomweb/studies/:study')) {
    // A whole study: DICOM Study Deleted; part of one: DICOM Instances Accessed with action D (deleted).
    const level = path.endsWith(':instance') ? 'instance' : path.endsWith(':series') ? 'series' : 'study';
    const type = level === 'study' ? 'study-deleted' : 'instances-accessed';
    return { type, action: 'D', studyUids: pathStudy, detail: { service: 'delete', level } };
  }
  return undefined;
}

/** The outcome of a request by its status (PS3.15 A.5.1): a client error is a minor failure, a server error serious. */
export function outcomeOfStatus(status: number): AuditOutcome {
  if (status >= 500) return 8;
  // 202: some instances of a STOW-RS request were refused.
  if (status >= 400 || status === 202) return 4;
  return 0;
}

/** The retrieved resource named by a WADO-RS route pattern's last segment. */
function retrieveResource(path: string): string {
  const segments = path.split('/');
  const last = segments.at(-1)!;
  if (last === '*') return segments.at(-2)!; // frames/*, bulkdata/*
  if (last.startsWith(':')) return 'instances';
  return last;
}

/** Valid UIDs from a parameter (one value, a comma list, or repeated); anything else is left out, never stored. */
function validUids(value: unknown): string[] {
  const values = Array.isArray(value) ? value : [value];
  const uids = values
    .flatMap((v) => (typeof v === 'string' ? v.split(',') : []))
    .map((v) => v.trim())
    .filter((v) => isValidUid(v));
  return [...new Set(uids)];
}
