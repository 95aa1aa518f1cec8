import t from 'tap';
import { ctInstance, encodeInstance } from '@tessera/testkit';
import { type FeedEntry, followStream, readFeed, sequenceProblems } from '../change-feed-helpers.js';
import { skipReason, startCluster, store } from './harness.js';

/**
 * Issue #17, the change feed under concurrency: 8 writers over 2 servers (4 on A, 4 on B), each
 * run one request per writer at once, each request a new instance and a new version of the
 * writer's instance of the run before (STOW_DUPLICATE_POLICY=overwrite: a create and an update).
 * A consumer polling `GET /api/changefeed` on B and one following the SSE stream on A, both running
 * while the writers write, must each see every acknowledged change exactly once, in commit order:
 * Sequences 1, 2, 3… without a gap, and each writer's changes in the order it was answered.
 *
 * SCALE_OUT_FEED_RUNS sets the number of runs. The figure is 50 (400 requests, 792 changes:
 * 273 s on the shared 2-core development machine under a load average of 30; it passed); the default, which CI runs, is 20 (160 requests,
 * 312 changes), to keep the scale-out harness within its CI budget. Run
 * `SCALE_OUT_FEED_RUNS=50 pnpm exec tap packages/e2e/test/scale-out/change-feed-writers.test.ts` for the full figure.
 */
const RUNS = Number(process.env.SCALE_OUT_FEED_RUNS ?? 20);
const WRITERS = 8;

t.test(`change feed: ${WRITERS} writers over 2 servers, ${RUNS} runs`, { skip: skipReason }, async (t) => {
  const cluster = await startCluster({ servers: 2, env: { STOW_DUPLICATE_POLICY: 'overwrite' } });
  t.teardown(() => cluster.close());
  const [a, b] = cluster.servers as [(typeof cluster.servers)[0], (typeof cluster.servers)[0]];

  const streamed: FeedEntry[] = [];
  const stop = new AbortController();
  const following = followStream(a.url, 0, (entry) => streamed.push(entry), stop.signal);
  const polled: FeedEntry[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      polled.push(...(await readFeed(b.url, polled.at(-1)?.Sequence ?? 0, {}, 50)));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  /** Acknowledged requests per writer, in the order the writer was answered, each its changes (`action sop`). */
  const acknowledged: string[][][] = Array.from({ length: WRITERS }, () => []);
  const previous: (ReturnType<typeof ctInstance> | undefined)[] = [];
  const study = ctInstance().attributes.StudyInstanceUID as string;
  for (let run = 0; run < RUNS; run++) {
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        const fresh = ctInstance({ StudyInstanceUID: study, InstanceNumber: run * WRITERS + w + 1, ImageComments: 'version 0' });
        const before = previous[w];
        const parts = [encodeInstance(fresh)];
        if (before) parts.push(encodeInstance({ ...before, attributes: { ...before.attributes, ImageComments: `version ${run}` } }));
        const answer = await store(w % 2 ? b : a, parts);
        if (answer.status !== 200) throw new Error(`writer ${w}, run ${run}: ${answer.status}`);
        // One request, one transaction: its changes are numbered together.
        acknowledged[w]!.push([`create ${fresh.attributes.SOPInstanceUID}`, ...(before ? [`update ${before.attributes.SOPInstanceUID}`] : [])]);
        previous[w] = fresh;
      }),
    );
  }
  const total = acknowledged.flat(2).length;
  const latest = (await (await fetch(`${b.url}/api/changefeed/latest?includeMetadata=false`)).json()) as FeedEntry;
  t.equal(latest.Sequence, total, `the latest Sequence is the number of acknowledged changes (${total})`);
  // Let both consumers catch up with the last acknowledged change, then stop them.
  for (let i = 0; i < 600 && (streamed.length < total || polled.length < total); i++) await new Promise((r) => setTimeout(r, 50));
  polling = false;
  await poller;
  stop.abort();
  await following;

  for (const [name, seen] of [
    ['the poller (JSON feed on B)', polled],
    ['the SSE follower (stream on A)', streamed],
  ] as const) {
    t.same(sequenceProblems(seen), [], `${name}: Sequences 1…n, no gap, no repeat`);
    t.equal(seen.length, total, `${name}: ${total} entries, one per acknowledged change`);
    const position = new Map(seen.map((e, i) => [`${e.Action} ${e.SopInstanceUid}`, i]));
    t.equal(position.size, seen.length, `${name}: no change seen twice`);
    const missing = acknowledged.flat(2).filter((change) => !position.has(change));
    t.same(missing, [], `${name}: every acknowledged change seen`);
    // A request answered before the writer sent its next one committed first: all its changes come before the next one's.
    const outOfOrder = acknowledged.filter((requests) =>
      requests.some((changes, i) => i > 0 && Math.min(...changes.map((c) => position.get(c)!)) < Math.max(...requests[i - 1]!.map((c) => position.get(c)!))),
    );
    t.equal(outOfOrder.length, 0, `${name}: each writer's requests in the order they were acknowledged`);
    const split = acknowledged
      .flat()
      .filter((changes) => Math.max(...changes.map((c) => position.get(c)!)) - Math.min(...changes.map((c) => position.get(c)!)) !== changes.length - 1);
    t.equal(split.length, 0, `${name}: the changes of one request are consecutive (one transaction, numbered at its commit)`);
  }
});
