/** Consumers of the change feed for the tests (issue #17): a poller of the JSON feed and an SSE follower. */

export interface FeedEntry {
  Sequence: number;
  StudyInstanceUid: string;
  SeriesInstanceUid: string;
  SopInstanceUid: string;
  Action: 'create' | 'update' | 'delete';
  Timestamp: string;
  State: 'current' | 'replaced' | 'deleted';
  Metadata?: Record<string, unknown> | null;
}

export interface ServerSentEvent {
  id?: string;
  event?: string;
  data: string;
}

/** Parses a text/event-stream body as it arrives (the WHATWG event stream format, enough of it for our server). */
export async function* serverSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event: Partial<ServerSentEvent> & { dataLines: string[] } = { dataLines: [] };
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
      const line = buffer.slice(0, end).replace(/\r$/, '');
      buffer = buffer.slice(end + 1);
      if (line === '') {
        if (event.dataLines.length) yield { id: event.id, event: event.event, data: event.dataLines.join('\n') };
        event = { dataLines: [] };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') event.dataLines.push(value);
      else if (field === 'id') event.id = value;
      else if (field === 'event') event.event = value;
    }
  }
}

/**
 * Follows `${base}/api/changefeed/stream` from `after`, handing each entry to `onEntry`, until
 * `signal` aborts. On a dropped connection it reconnects with Last-Event-ID, as an EventSource does.
 */
export async function followStream(
  base: string,
  after: number,
  onEntry: (entry: FeedEntry) => void,
  signal: AbortSignal,
  headers: Record<string, string> = {},
): Promise<void> {
  let last = after;
  while (!signal.aborted) {
    try {
      const response = await fetch(`${base}/api/changefeed/stream`, {
        headers: { accept: 'text/event-stream', 'last-event-id': String(last), ...headers },
        signal,
      });
      if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
      for await (const event of serverSentEvents(response.body)) {
        if (event.event !== 'change') continue;
        const entry = JSON.parse(event.data) as FeedEntry;
        if (event.id !== String(entry.Sequence)) throw new Error(`event id ${event.id} is not the Sequence ${entry.Sequence}`);
        last = entry.Sequence;
        onEntry(entry);
      }
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
  }
}

/** Reads the JSON feed page by page after `after` until a page comes back empty; returns the entries read. */
export async function readFeed(base: string, after: number, headers: Record<string, string> = {}, limit = 200): Promise<FeedEntry[]> {
  const entries: FeedEntry[] = [];
  for (let offset = after; ;) {
    const response = await fetch(`${base}/api/changefeed?offset=${offset}&limit=${limit}&includeMetadata=false`, { headers });
    if (!response.ok) throw new Error(`the change feed answered ${response.status}: ${await response.text()}`);
    const page = (await response.json()) as FeedEntry[];
    if (page.length === 0) return entries;
    entries.push(...page);
    offset = page.at(-1)!.Sequence;
  }
}

/** Problems with a consumer's view: a gap, a repeat or a step back in the sequence (empty when there is none). */
export function sequenceProblems(entries: readonly FeedEntry[], from = 1): string[] {
  const problems: string[] = [];
  entries.forEach((entry, i) => {
    if (entry.Sequence !== from + i) problems.push(`entry ${i} has Sequence ${entry.Sequence}, expected ${from + i}`);
  });
  return problems.slice(0, 5);
}
