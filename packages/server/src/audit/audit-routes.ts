import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { isValidUid } from '@tessera/dicom';
import { HttpProblem, parseAccept } from '@tessera/http';
import {
  AUDIT_EVENT_CODES,
  AUDIT_EVENT_TYPES,
  AUDIT_OUTCOMES,
  type AuditEventType,
  type AuditFilter,
  type AuditOutcome,
  type Index,
  type StoredAuditEvent,
} from '@tessera/index';

export interface AuditRoutesOptions {
  index: Pick<Index, 'audit'>;
}

const NDJSON = 'application/x-ndjson';
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1_000;
/** Events per database read while an export streams. */
const EXPORT_PAGE = 1_000;
const PARAMETERS = new Set(['since', 'until', 'actor', 'study', 'outcome', 'type', 'limit', 'cursor']);

interface AuditQuery {
  filter: AuditFilter;
  limit?: number;
}

/**
 * `GET /api/audit` (admin scope): the audit trail, oldest first. As JSON, one page of at most
 * `limit` events (default 100, at most 1000) and the cursor of the next page; as JSON lines
 * (`Accept: application/x-ndjson`), every matching event from the cursor on (or `limit` of them),
 * streamed page by page from the database, for export. Filters: `since` and `until` (ISO 8601
 * times, until exclusive), `actor` (a key id or token subject), `study` (a StudyInstanceUID),
 * `outcome` (0, 4, 8 or 12, PS3.15 A.5.1), `type` (an event type of docs/security.md).
 */
export const auditRoutes: FastifyPluginAsync<AuditRoutesOptions> = async (app, { index }) => {
  app.get('/api/audit', async (request, reply) => {
    const form = responseForm(request.headers.accept);
    const { filter, limit } = parseAuditQuery(request.query as Record<string, unknown>);
    if (form === 'ndjson') {
      return reply.type(NDJSON).send(Readable.from(exportLines(index, filter, limit)));
    }
    const pageSize = limit ?? DEFAULT_LIMIT;
    const events = await index.audit.find(filter, pageSize);
    const next = events.length === pageSize ? encodeCursor(events.at(-1)!.id) : null;
    return reply.type('application/json').send({ events: events.map(toJson), next });
  });
};

async function* exportLines(index: Pick<Index, 'audit'>, filter: AuditFilter, limit: number | undefined): AsyncGenerator<string> {
  let left = limit ?? Number.POSITIVE_INFINITY;
  let afterId = filter.afterId;
  while (left > 0) {
    const page = await index.audit.find({ ...filter, afterId }, Math.min(EXPORT_PAGE, left));
    if (page.length) yield page.map((event) => `${JSON.stringify(toJson(event))}\n`).join('');
    if (page.length < Math.min(EXPORT_PAGE, left)) return;
    left -= page.length;
    afterId = page.at(-1)!.id;
  }
}

/** An event as the API shows it: the coded EventID beside the short type name. */
function toJson(event: StoredAuditEvent) {
  const { code, meaning } = AUDIT_EVENT_CODES[event.type];
  return {
    id: event.id,
    time: event.occurredAt.toISOString(),
    type: event.type,
    eventId: { code, scheme: 'DCM', meaning },
    action: event.action,
    outcome: event.outcome,
    httpStatus: event.httpStatus ?? null,
    actor: { kind: event.actor.kind, id: event.actor.id, name: event.actor.name ?? null },
    clientAddress: event.clientAddress ?? null,
    requestId: event.requestId ?? null,
    route: event.route ?? null,
    studies: event.studyUids,
    detail: event.detail,
  };
}

function responseForm(accept: string | string[] | undefined): 'json' | 'ndjson' {
  for (const { mediaType, q } of parseAccept(accept)) {
    if (q === 0) continue;
    if (mediaType === NDJSON) return 'ndjson';
    if (['application/json', 'application/*', '*/*'].includes(mediaType)) return 'json';
  }
  throw new HttpProblem(406, 'NOT_ACCEPTABLE', `the audit trail is available as application/json or ${NDJSON}`);
}

/** The query parameters, validated: a bad one is a 400 naming it (never echoing a value). */
export function parseAuditQuery(query: Record<string, unknown>): AuditQuery {
  const filter: AuditFilter = {};
  let limit: number | undefined;
  const bad = (name: string, expected: string) => new HttpProblem(400, 'INVALID_AUDIT_QUERY', `the ${name} parameter must be ${expected}`);
  for (const [name, raw] of Object.entries(query)) {
    if (!PARAMETERS.has(name)) throw new HttpProblem(400, 'INVALID_AUDIT_QUERY', `unknown parameter; the audit trail takes ${[...PARAMETERS].join(', ')}`);
    if (typeof raw !== 'string') throw bad(name, 'given once');
    switch (name) {
      case 'since':
      case 'until': {
        const time = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(raw) ? new Date(raw) : undefined;
        if (!time || Number.isNaN(time.getTime())) throw bad(name, 'an ISO 8601 date or time with a zone, e.g. 2026-12-01T00:00:00Z');
        filter[name] = time;
        break;
      }
      case 'actor':
        if (raw === '' || raw.length > 256) throw bad(name, 'a key id or token subject of 1 to 256 characters');
        filter.actorId = raw;
        break;
      case 'study':
        if (!isValidUid(raw)) throw bad(name, 'a StudyInstanceUID');
        filter.studyUid = raw;
        break;
      case 'outcome':
        if (!AUDIT_OUTCOMES.map(String).includes(raw)) throw bad(name, `one of ${AUDIT_OUTCOMES.join(', ')}`);
        filter.outcome = Number(raw) as AuditOutcome;
        break;
      case 'type':
        if (!(AUDIT_EVENT_TYPES as readonly string[]).includes(raw)) throw bad(name, `one of ${AUDIT_EVENT_TYPES.join(', ')}`);
        filter.type = raw as AuditEventType;
        break;
      case 'limit':
        if (!/^\d{1,7}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_LIMIT) throw bad(name, `an integer from 1 to ${MAX_LIMIT}`);
        limit = Number(raw);
        break;
      case 'cursor': {
        const id = decodeCursor(raw);
        if (id === undefined) throw bad(name, 'the value of `next` from an earlier answer');
        filter.afterId = id;
        break;
      }
    }
  }
  if (filter.since && filter.until && filter.since >= filter.until) throw new HttpProblem(400, 'INVALID_AUDIT_QUERY', 'since must be earlier than until');
  return { filter, limit };
}

/** Cursors are opaque to clients: the last id of a page, base64url-encoded. */
function encodeCursor(id: number): string {
  return Buffer.from(`after:${id}`).toString('base64url');
}

function decodeCursor(text: string): number | undefined {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(text)) return undefined;
  const match = /^after:(\d{1,15})$/.exec(Buffer.from(text, 'base64url').toString('utf8'));
  return match ? Number(match[1]) : undefined;
}
