import type { FastifyRequest } from 'fastify';
import type { StudyOfRequest } from '@tessera/access';

/** QIDO-RS searches that name no study: their service limits the answer to a share's study itself (qido-rs `studyLimit`). */
const LIMITED_SEARCHES = new Set(['/dicomweb/studies', '/dicomweb/series', '/dicomweb/instances']);

/**
 * The study a request concerns, for principals limited to one study (share links, issue #14; access
 * control's `studyOf`): the `:study` of its route, WADO-URI's `studyUID`, `'limited'` for the QIDO-RS
 * searches that take the limit into their query, and undefined for every other route (refused to
 * such a principal: a new route is closed to shares until it says which study it serves).
 */
export function studyOfRequest(request: FastifyRequest): StudyOfRequest {
  const route = request.routeOptions.url;
  if (route === undefined) return undefined;
  const study = (request.params as Record<string, unknown> | undefined)?.study;
  if (route.includes(':study')) return typeof study === 'string' ? { uid: study } : undefined;
  if (route === '/wado' || route === '/wadouri') {
    const given = (request.query as Record<string, unknown> | undefined)?.studyUID;
    return typeof given === 'string' ? { uid: given } : undefined;
  }
  if ((request.method === 'GET' || request.method === 'HEAD') && LIMITED_SEARCHES.has(route)) return 'limited';
  return undefined;
}
