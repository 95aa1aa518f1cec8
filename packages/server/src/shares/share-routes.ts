import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { SHARE_COOKIE, type ShareVerifier, generateShareToken } from '@tessera/access';
import { isValidUid } from '@tessera/dicom';
import { HttpProblem, noteAuditedStudies } from '@tessera/http';
import type { Index, ShareRecord } from '@tessera/index';
import { noteAuditDetail } from '../audit/audit-detail.js';

export interface ShareRoutesOptions {
  index: Pick<Index, 'shares' | 'search'>;
  /** Verifies the token of a link being opened (the same verifier access control asks for the cookie). */
  verifier: ShareVerifier;
  /** The public base URL (public-url.ts): the link's origin, the cookie's path, and whether the cookie is Secure. */
  baseUrl(request: FastifyRequest): string;
  /** The longest lifetime a share may be given (SHARE_MAX_DAYS). */
  maxLifetimeMs: number;
}

const NOTE_MAX = 200;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Study share links (issue #14): `POST /api/shares`, `GET /api/shares`, `DELETE /api/shares/{id}`
 * (admin scope) and the link itself, `GET /s/{token}` (public: the token is the credential). Opening
 * a valid link sets the share cookie (HttpOnly, SameSite=Strict, Secure when the public URL is https,
 * until the share expires) and redirects (303) to the hosted viewer for the study, so the token
 * never appears in the viewer's address bar, in Referer headers or in the server's log
 * (request-log.ts redacts `/s/…`). From then on access control reads the cookie: read-only, one study.
 */
export const shareRoutes: FastifyPluginAsync<ShareRoutesOptions> = async (app, options) => {
  const { index } = options;

  app.post('/api/shares', async (request, reply) => {
    const { studyInstanceUid, lifetimeMs, note } = parseNewShare(request.body, options.maxLifetimeMs);
    const found = await index.search.searchStudies({ level: 'study', scope: { studyInstanceUid }, filters: [], includeFields: [], limit: 1, offset: 0 });
    noteAuditedStudies(request, [studyInstanceUid]);
    if (found.matches.length === 0) throw new HttpProblem(404, 'STUDY_NOT_FOUND', 'no study with this StudyInstanceUID is stored here');
    const token = generateShareToken();
    const share = await index.shares.create({
      id: token.id,
      studyInstanceUid,
      secretHash: token.secretHash,
      ...(note ? { note } : {}),
      createdBy: `${request.principal.kind}:${request.principal.id}`,
      expiresAt: new Date(Date.now() + lifetimeMs),
    });
    noteAuditDetail(request, { share: share.id });
    // The answer holds the only copy of the link: no cache may keep it.
    return reply
      .code(201)
      .header('cache-control', 'no-store')
      .send({ ...shareJson(share), link: `${options.baseUrl(request)}/s/${token.token}` });
  });

  app.get('/api/shares', async (request) => {
    const query = request.query as Record<string, unknown>;
    const names = Object.keys(query);
    if (names.some((name) => name !== 'study')) throw new HttpProblem(400, 'INVALID_SHARE_QUERY', 'unknown parameter; the share list takes study');
    const study = query.study;
    if (study !== undefined && (typeof study !== 'string' || !isValidUid(study))) {
      throw new HttpProblem(400, 'INVALID_SHARE_QUERY', 'the study parameter must be one StudyInstanceUID');
    }
    const shares = await index.shares.list(study === undefined ? {} : { studyInstanceUid: study });
    return { shares: shares.map(shareJson) };
  });

  app.delete('/api/shares/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const share = /^[0-9a-f]{16}$/.test(id) ? await index.shares.revoke(id) : undefined;
    noteAuditDetail(request, { share: /^[0-9a-f]{16}$/.test(id) ? id : '(malformed)' });
    if (!share) throw new HttpProblem(404, 'SHARE_NOT_FOUND', 'no share with this id (GET /api/shares lists them)');
    noteAuditedStudies(request, [share.studyInstanceUid]);
    return reply.code(204).send();
  });

  app.get('/s/:token', async (request, reply) => {
    const { token } = request.params as { token: string };
    // Neither this answer nor the redirect may pass the link on: no Referer from it, no cache.
    reply.header('referrer-policy', 'no-referrer').header('cache-control', 'no-store');
    const verification = await options.verifier.verify(token);
    if (!verification.ok) {
      if (verification.reason === 'unavailable') {
        request.log.warn({ detail: verification.message }, 'a share link could not be checked');
        throw new HttpProblem(503, 'AUTHENTICATION_UNAVAILABLE', 'the share link cannot be checked now; retry later', { 'retry-after': '5' });
      }
      noteAuditDetail(request, { reason: verification.reason });
      if (verification.reason === 'revoked' || verification.reason === 'expired') throw new HttpProblem(410, 'SHARE_ENDED', verification.message);
      throw new HttpProblem(404, 'SHARE_NOT_FOUND', 'this share link is not known');
    }
    const { principal } = verification;
    // The audit event of this request names the share as its actor.
    request.principal = principal;
    noteAuditDetail(request, { share: principal.id });
    noteAuditedStudies(request, [principal.study!]);
    const base = new URL(options.baseUrl(request));
    const path = base.pathname.replace(/\/+$/, '');
    const maxAge = Math.max(1, Math.floor((verification.expiresAt! - Date.now()) / 1000));
    const cookie = [
      `${SHARE_COOKIE}=${token}`,
      `Path=${path || '/'}`,
      `Max-Age=${maxAge}`,
      'HttpOnly',
      'SameSite=Strict',
      ...(base.protocol === 'https:' ? ['Secure'] : []),
    ];
    return redirect(reply.header('set-cookie', cookie.join('; ')), `${path}/viewer?StudyInstanceUIDs=${encodeURIComponent(principal.study!)}`);
  });
};

function redirect(reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).header('location', location).send();
}

/** A share as the API shows it: never the token or its hash. */
function shareJson(share: ShareRecord) {
  const state = share.revokedAt ? 'revoked' : share.expiresAt.getTime() <= Date.now() ? 'expired' : 'active';
  return {
    id: share.id,
    studyInstanceUid: share.studyInstanceUid,
    note: share.note,
    createdBy: share.createdBy,
    createdAt: share.createdAt.toISOString(),
    expiresAt: share.expiresAt.toISOString(),
    revokedAt: share.revokedAt?.toISOString() ?? null,
    state,
  };
}

/** `expiresIn`: seconds (a positive integer) or a number with a unit: `30m`, `12h`, `7d`. */
export function parseLifetime(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value * 1000 : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^([1-9]\d{0,6})([mhd])$/.exec(value.trim());
  return match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : undefined;
}

function parseNewShare(body: unknown, maxLifetimeMs: number): { studyInstanceUid: string; lifetimeMs: number; note?: string } {
  const bad = (message: string) => new HttpProblem(400, 'INVALID_SHARE', message);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('the body must be a JSON object: {"studyInstanceUid", "expiresIn", "note"?}');
  const { studyInstanceUid, expiresIn, note, ...rest } = body as Record<string, unknown>;
  if (Object.keys(rest).length) throw bad('unknown member; a share takes studyInstanceUid, expiresIn and note');
  if (typeof studyInstanceUid !== 'string' || !isValidUid(studyInstanceUid)) throw bad('studyInstanceUid must be a StudyInstanceUID');
  const lifetimeMs = parseLifetime(expiresIn);
  if (lifetimeMs === undefined) throw bad('expiresIn must be a number of seconds or a number with a unit, like 30m, 12h or 7d');
  if (lifetimeMs > maxLifetimeMs) throw bad(`expiresIn may be at most ${Math.floor(maxLifetimeMs / 86_400_000)} days (SHARE_MAX_DAYS)`);
  if (note !== undefined && (typeof note !== 'string' || note.length > NOTE_MAX)) throw bad(`note must be a text of at most ${NOTE_MAX} characters`);
  return { studyInstanceUid, lifetimeMs, ...(note?.trim() ? { note: note.trim() } : {}) };
}
