import t from 'tap';
import { backendNames, ctInstance, encodeInstance, multipartBuffer, startTestServer } from '@tessera/testkit';
import { type FeedEntry, serverSentEvents } from './change-feed-helpers.js';

/**
 * The change feed's routes (issue #17) on every back end, one server: the JSON feed in Microsoft's
 * field names (Sequence, StudyInstanceUid, SeriesInstanceUid, SopInstanceUid, Action, Timestamp,
 * State, Metadata), an overwrite recorded as an update that replaces the create, paging by offset,
 * a time window, `latest`, parameter errors as problem+json, and the Server-Sent Events stream
 * resuming after `after` or Last-Event-ID. Many servers and concurrent writers: scale-out/.
 */
for (const backend of backendNames()) {
  t.test(`${backend}: the change feed`, async (t) => {
    const server = await startTestServer(backend, { STOW_DUPLICATE_POLICY: 'overwrite' });
    t.teardown(() => server.close());
    const store = async (specs: ReturnType<typeof ctInstance>[]) => {
      const { contentType, payload } = await multipartBuffer(specs.map(encodeInstance));
      const res = await server.app.inject({
        method: 'POST',
        url: '/dicomweb/studies',
        headers: { 'content-type': contentType, accept: 'application/dicom+json' },
        payload,
      });
      t.equal(res.statusCode, 200, `stored ${specs.length}`);
    };

    const empty = await server.app.inject({ url: '/api/changefeed/latest' });
    t.equal(empty.statusCode, 204, 'latest of an empty feed: 204');
    t.same((await server.app.inject({ url: '/api/changefeed' })).json(), [], 'an empty feed: []');

    const first = ctInstance({ SeriesDescription: 'first' }, { rows: 16, columns: 16, frames: 1 });
    const study = first.attributes.StudyInstanceUID as string;
    const series = first.attributes.SeriesInstanceUID as string;
    const second = ctInstance({ StudyInstanceUID: study, SeriesInstanceUID: series, InstanceNumber: 2 });
    await store([first, second]);
    // The same SOP Instance UID with other bytes, STOW_DUPLICATE_POLICY=overwrite: an update.
    await store([{ ...first, attributes: { ...first.attributes, SeriesDescription: 'replaced' } }]);

    const feed = await server.app.inject({ url: '/api/changefeed?includeMetadata=true' });
    t.equal(feed.statusCode, 200);
    t.match(feed.headers['content-type'], /^application\/json/);
    const entries = feed.json<FeedEntry[]>();
    t.same(
      entries.map((e) => [e.Sequence, e.Action, e.SopInstanceUid, e.State]),
      [
        [1, 'create', first.attributes.SOPInstanceUID, 'replaced'],
        [2, 'create', second.attributes.SOPInstanceUID, 'current'],
        [3, 'update', first.attributes.SOPInstanceUID, 'current'],
      ],
      'create, create, then the overwrite as an update; the first create is replaced',
    );
    t.same(
      Object.keys(entries[0]!),
      ['Sequence', 'StudyInstanceUid', 'SeriesInstanceUid', 'SopInstanceUid', 'Action', 'Timestamp', 'State', 'Metadata'],
      "Microsoft's field names",
    );
    t.same([entries[0]!.StudyInstanceUid, entries[0]!.SeriesInstanceUid], [study, series]);
    t.match(entries[0]!.Timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'Timestamp in ISO 8601, UTC');
    const metadata = entries[2]!.Metadata as Record<string, { Value?: unknown[]; BulkDataURI?: string }>;
    t.same(metadata['0008103E']!.Value, ['replaced'], 'Metadata is the current DICOM JSON');
    t.match(metadata['7FE00010']?.BulkDataURI ?? '', /^http:\/\/[^/]+\/dicomweb\/studies\/.+\/bulkdata\//, 'with absolute BulkDataURIs');
    t.notOk(
      'Metadata' in (await server.app.inject({ url: '/api/changefeed?includeMetadata=false' })).json<FeedEntry[]>()[0]!,
      'includeMetadata=false leaves it out',
    );

    t.same(
      (await server.app.inject({ url: '/api/changefeed?offset=1&limit=1' })).json<FeedEntry[]>().map((e) => e.Sequence),
      [2],
      'offset: after that Sequence; limit',
    );
    // Timestamps are shown to the millisecond and kept to the microsecond: an entry is in a window
    // that starts at a shown time exactly when its shown time is not earlier.
    const start = entries[1]!.Timestamp;
    const inWindow = entries.filter((e) => Date.parse(e.Timestamp) >= Date.parse(start)).map((e) => e.Sequence);
    t.same(
      (await server.app.inject({ url: `/api/changefeed?startTime=${encodeURIComponent(start)}&offset=1` })).json<FeedEntry[]>().map((e) => e.Sequence),
      inWindow.slice(1),
      'a time window: offset skips entries of the window',
    );
    t.same(
      (await server.app.inject({ url: `/api/changefeed?endTime=${encodeURIComponent(start)}` })).json<FeedEntry[]>().map((e) => e.Sequence),
      entries.filter((e) => Date.parse(e.Timestamp) < Date.parse(start)).map((e) => e.Sequence),
      'endTime is exclusive',
    );
    const latest = await server.app.inject({ url: '/api/changefeed/latest?includeMetadata=false' });
    t.same(latest.json<FeedEntry>().Sequence, 3, 'latest');

    for (const [url, why] of [
      ['/api/changefeed?limit=0', 'limit below 1'],
      ['/api/changefeed?limit=201', 'limit above 200'],
      ['/api/changefeed?offset=-1', 'a negative offset'],
      ['/api/changefeed?startTime=yesterday', 'a time that is not ISO 8601'],
      ['/api/changefeed?startTime=2026-01-02T00:00:00Z&endTime=2026-01-01T00:00:00Z', 'an empty window'],
      ['/api/changefeed?includeMetadata=maybe', 'includeMetadata not a boolean'],
      ['/api/changefeed?since=1', 'an unknown parameter'],
      ['/api/changefeed/stream?after=x', 'after not a number'],
    ]) {
      const res = await server.app.inject({ url: url!, headers: { accept: url!.includes('stream') ? 'text/event-stream' : 'application/json' } });
      t.equal(res.statusCode, 400, `400 for ${why}`);
      t.match(res.headers['content-type'], /^application\/problem\+json/);
    }
    t.equal((await server.app.inject({ url: '/api/changefeed', headers: { accept: 'application/dicom+json' } })).statusCode, 406, '406 for another media type');

    // The stream, over real HTTP: resumes after `after`, then after Last-Event-ID, and ends once
    // caught up with timeout=0.
    const streamed = async (query: string, headers: Record<string, string> = {}) => {
      const res = await fetch(`${server.url}/api/changefeed/stream${query}`, { headers: { accept: 'text/event-stream', ...headers } });
      t.equal(res.status, 200);
      t.match(res.headers.get('content-type'), /^text\/event-stream/);
      const events = [];
      for await (const event of serverSentEvents(res.body!)) events.push(event);
      return events;
    };
    const all = await streamed('?timeout=0');
    t.same(
      all.map((e) => [e.id, e.event, (JSON.parse(e.data) as FeedEntry).Sequence]),
      [
        ['1', 'change', 1],
        ['2', 'change', 2],
        ['3', 'change', 3],
      ],
      'every entry as a change event whose id is its Sequence',
    );
    t.same(
      (await streamed('?timeout=0&after=1')).map((e) => e.id),
      ['2', '3'],
      'after=1 resumes after it',
    );
    t.same(
      (await streamed('?timeout=0&after=0', { 'last-event-id': '2' })).map((e) => e.id),
      ['3'],
      'Last-Event-ID (an EventSource reconnecting) wins over after',
    );

    // A live stream sees a change committed after it opened, then the server closes it on shutdown.
    const controller = new AbortController();
    const live = await fetch(`${server.url}/api/changefeed/stream?after=3`, { headers: { accept: 'text/event-stream' }, signal: controller.signal });
    const events = serverSentEvents(live.body!);
    const third = ctInstance({ StudyInstanceUID: study, SeriesInstanceUID: series, InstanceNumber: 3 });
    await store([third]);
    const next = await events.next();
    t.same(
      next.done ? undefined : [next.value.id, (JSON.parse(next.value.data) as FeedEntry).SopInstanceUid],
      ['4', third.attributes.SOPInstanceUID],
      'the live stream delivers a new change',
    );
    controller.abort();
    await events.return(undefined).catch(() => {});
  });
}
