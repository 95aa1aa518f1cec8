import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { HttpProblem, instanceUrl, parseAccept } from '@tessera/http';
import type { ChangeFeedEntry, Index } from '@tessera/index';

export interface ChangeFeedRoutesOptions {
  index: Pick<Index, 'changes'>;
  /** The DICOMweb service URL of a request (for absolute BulkDataURIs in Metadata). */
  serviceUrl: (request: import('fastify').FastifyRequest) => string;
  /** How often an idle stream asks the database for new entries (ms). */
  pollMs?: number;
  /** How often an idle stream sends a comment line, so proxies and idle timeouts keep it open (ms). */
  heartbeatMs?: number;
}

/** Entries per page: Microsoft's DICOM service defaults to 10 and allows up to 200. */
const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 200;
/** Entries per database read while a stream catches up. */
const STREAM_PAGE = 200;
const FEED_PARAMETERS = ['startTime', 'endTime', 'offset', 'limit', 'includeMetadata'];
const STREAM_PARAMETERS = ['after', 'includeMetadata', 'timeout'];
const EVENT_STREAM = 'text/event-stream';

/**
 * The change feed (issue #17), in the shape of Microsoft's DICOM service change feed (v2): every
 * create, overwrite (update) and delete of an instance, numbered gap-free in commit order by the
 * database (migration 2026-12-08T03-00_change-feed), so a consumer that remembers the last Sequence
 * it processed resumes from there and misses nothing, whichever server it asks.
 *
 * - `GET /api/changefeed?startTime=&endTime=&offset=&limit=&includeMetadata=`: a JSON array, oldest
 *   first. Without a time window, `offset` is the last Sequence already seen (entries after it; the
 *   sequence starts at 1 without gaps, so this is also the number of entries skipped); with one,
 *   the number of entries of the window skipped. `limit` 1-200 (default 10), `includeMetadata`
 *   true|false (default true).
 * - `GET /api/changefeed/latest`: the latest entry, or 204 while the feed is empty.
 * - `GET /api/changefeed/stream?after=`: Server-Sent Events, one `change` event per entry, its
 *   `id` the Sequence; it resumes after `after`, or after the `Last-Event-ID` an EventSource sends
 *   when it reconnects. `includeMetadata` defaults to false here. `timeout` (seconds, 0-86400) ends
 *   the stream that long after it started, once it has caught up (0: send what there is, then end);
 *   without it the stream stays open until the client or the server closes it.
 *
 * Every route takes the `read` scope (docs/security.md) and is audited as a Query.
 */
export const changeFeedRoutes: FastifyPluginAsync<ChangeFeedRoutesOptions> = async (app, { index, serviceUrl, pollMs = 250, heartbeatMs = 15_000 }) => {
  const closing = new AbortController();
  app.addHook('preClose', async () => closing.abort());

  app.get('/api/changefeed', async (request, reply) => {
    acceptJson(request.headers.accept);
    const query = parameters(request.query as Record<string, unknown>, FEED_PARAMETERS);
    const startTime = time(query, 'startTime');
    const endTime = time(query, 'endTime');
    if (startTime && endTime && startTime >= endTime) throw invalid('startTime must be earlier than endTime');
    const windowed = startTime !== undefined || endTime !== undefined;
    const offset = integer(query, 'offset', 0, Number.MAX_SAFE_INTEGER) ?? 0;
    const entries = await index.changes.read({
      afterSequence: windowed ? 0 : offset,
      startTime,
      endTime,
      skip: windowed ? offset : 0,
      limit: integer(query, 'limit', 1, MAX_LIMIT) ?? DEFAULT_LIMIT,
      includeMetadata: boolean(query, 'includeMetadata') ?? true,
    });
    const base = serviceUrl(request);
    return reply.type('application/json').send(`[${entries.map((entry) => entryJson(entry, base)).join(',')}]`);
  });

  app.get('/api/changefeed/latest', async (request, reply) => {
    acceptJson(request.headers.accept);
    const query = parameters(request.query as Record<string, unknown>, ['includeMetadata']);
    const entry = await index.changes.latest(boolean(query, 'includeMetadata') ?? true);
    if (!entry) return reply.code(204).send();
    return reply.type('application/json').send(entryJson(entry, serviceUrl(request)));
  });

  app.get('/api/changefeed/stream', async (request, reply) => {
    if (!parseAccept(request.headers.accept).some((e) => e.q > 0 && [EVENT_STREAM, 'text/*', '*/*'].includes(e.mediaType))) {
      throw new HttpProblem(406, 'NOT_ACCEPTABLE', `the change feed stream is ${EVENT_STREAM} (Server-Sent Events)`);
    }
    const query = parameters(request.query as Record<string, unknown>, STREAM_PARAMETERS);
    const lastEventId = request.headers['last-event-id'];
    let after = integer(query, 'after', 0, Number.MAX_SAFE_INTEGER) ?? 0;
    if (typeof lastEventId === 'string' && lastEventId !== '') {
      if (!/^\d{1,15}$/.test(lastEventId)) throw invalid('the Last-Event-ID header must be a Sequence (a non-negative integer)');
      after = Number(lastEventId);
    }
    const includeMetadata = boolean(query, 'includeMetadata') ?? false;
    const timeout = integer(query, 'timeout', 0, 86_400);
    const deadline = timeout === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeout * 1000;
    const base = serviceUrl(request);
    const stop = AbortSignal.any([closing.signal, abortOnClose(request.raw)]);
    async function* events(): AsyncGenerator<string> {
      yield `retry: 1000\n\n`;
      let idleSince = Date.now();
      while (!stop.aborted) {
        const page = await index.changes.read({ afterSequence: after, limit: STREAM_PAGE, includeMetadata });
        if (page.length) {
          after = page.at(-1)!.sequence;
          idleSince = Date.now();
          yield page.map((entry) => `id: ${entry.sequence}\nevent: change\ndata: ${entryJson(entry, base)}\n\n`).join('');
          if (page.length === STREAM_PAGE) continue;
        }
        if (Date.now() >= deadline) return;
        if (page.length === 0 && Date.now() - idleSince >= heartbeatMs) {
          idleSince = Date.now();
          yield `: idle\n\n`;
        }
        await sleep(Math.min(pollMs, deadline - Date.now()), stop);
      }
    }
    reply.header('cache-control', 'no-cache, no-store');
    reply.header('x-accel-buffering', 'no');
    return reply.type(`${EVENT_STREAM}; charset=utf-8`).send(Readable.from(events(), { objectMode: false }));
  });
};

/** One entry in Microsoft's field names; Metadata is the stored DICOM JSON text with absolute BulkDataURIs. */
function entryJson(entry: ChangeFeedEntry, serviceUrl: string): string {
  const fields = JSON.stringify({
    Sequence: entry.sequence,
    StudyInstanceUid: entry.studyInstanceUid,
    SeriesInstanceUid: entry.seriesInstanceUid,
    SopInstanceUid: entry.sopInstanceUid,
    Action: entry.action,
    Timestamp: entry.timestamp.toISOString(),
    State: entry.state,
  });
  if (entry.metadata === undefined) return fields;
  const bulk = JSON.stringify(`${instanceUrl(serviceUrl, entry)}/bulkdata/`).slice(1, -1);
  // Safe for the reason given in wado-rs retrieve-metadata.ts: the needle cannot occur inside a string value.
  const metadata = entry.metadata.replaceAll('"BulkDataURI":"bulkdata/', `"BulkDataURI":"${bulk}`);
  return `${fields.slice(0, -1)},"Metadata":${metadata}}`;
}

function acceptJson(accept: string | string[] | undefined): void {
  if (!parseAccept(accept).some((e) => e.q > 0 && ['application/json', 'application/*', '*/*'].includes(e.mediaType))) {
    throw new HttpProblem(406, 'NOT_ACCEPTABLE', 'the change feed is available as application/json');
  }
}

const invalid = (message: string) => new HttpProblem(400, 'INVALID_CHANGE_FEED_QUERY', message);

/** The query's parameters by their canonical names (matched case-insensitively, as Microsoft's are); an unknown one is a 400. */
function parameters(query: Record<string, unknown>, names: readonly string[]): Map<string, string> {
  const byLower = new Map(names.map((n) => [n.toLowerCase(), n]));
  const found = new Map<string, string>();
  for (const [name, raw] of Object.entries(query)) {
    const canonical = byLower.get(name.toLowerCase());
    if (!canonical) throw invalid(`unknown parameter; this resource takes ${names.join(', ')}`);
    if (typeof raw !== 'string' || found.has(canonical)) throw invalid(`the ${canonical} parameter must be given once`);
    found.set(canonical, raw);
  }
  return found;
}

function integer(query: Map<string, string>, name: string, min: number, max: number): number | undefined {
  const raw = query.get(name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,16}$/.test(raw) || Number(raw) < min || Number(raw) > max) throw invalid(`the ${name} parameter must be an integer from ${min} to ${max}`);
  return Number(raw);
}

function boolean(query: Map<string, string>, name: string): boolean | undefined {
  const raw = query.get(name)?.toLowerCase();
  if (raw === undefined) return undefined;
  if (raw !== 'true' && raw !== 'false') throw invalid(`the ${name} parameter must be true or false`);
  return raw === 'true';
}

function time(query: Map<string, string>, name: string): Date | undefined {
  const raw = query.get(name);
  if (raw === undefined) return undefined;
  const value = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(raw) ? new Date(raw) : undefined;
  if (!value || Number.isNaN(value.getTime())) throw invalid(`the ${name} parameter must be an ISO 8601 date or time with a zone, e.g. 2026-12-01T00:00:00Z`);
  return value;
}

function abortOnClose(raw: import('node:http').IncomingMessage): AbortSignal {
  const controller = new AbortController();
  raw.socket?.once('close', () => controller.abort());
  return controller.signal;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
