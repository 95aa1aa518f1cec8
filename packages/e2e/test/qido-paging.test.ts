import t from 'tap';
import { backendNames, newUid, startTestServer, type TestServer } from '@tessera/testkit';
import { instance, search, store, uids } from './qido-support.js';

/** QIDO-RS paging and result order (digest QIDO-12, D13), on every storage back end. QIDO_MAX_LIMIT=4 here. */

const MAX = 4;

for (const backend of backendNames()) {
  t.test(backend, async (t) => {
    const server: TestServer = await startTestServer(backend, { QIDO_MAX_LIMIT: String(MAX) });
    t.teardown(() => server.close());
    const issuer = `PG-${newUid().slice(-6)}`;
    // Five studies whose expected order is: date desc, time desc, then UID; one without a date last.
    const specs = [
      { date: '20240105', time: '080000' },
      { date: '20240105', time: '173000' },
      { date: '20231231', time: '235959' },
      { date: '20240301', time: undefined },
      { date: undefined, time: undefined },
    ].map((s) => ({ ...s, uid: newUid() }));
    await store(
      t,
      server,
      specs.map((s) => instance({ IssuerOfPatientID: issuer, StudyInstanceUID: s.uid, StudyDate: s.date, StudyTime: s.time })),
    );
    const expected = [specs[3]!, specs[1]!, specs[0]!, specs[2]!, specs[4]!].map((s) => s.uid);
    const q = (params: string) => `/studies?IssuerOfPatientID=${issuer}${params}`;
    // A series with five instances, and a study with series numbers out of order.
    const issuer2 = `${issuer}-S`;
    const seriesStudy = newUid();
    const seriesUid = newUid();
    const sops = [5, 1, 3, 2, 4].map((n) => ({ n, uid: newUid() }));
    await store(
      t,
      server,
      sops.map((s) =>
        instance({ IssuerOfPatientID: issuer2, StudyInstanceUID: seriesStudy, SeriesInstanceUID: seriesUid, SOPInstanceUID: s.uid, InstanceNumber: s.n }),
      ),
    );
    const numbered = [3, 1, 2].map((n) => ({ n, uid: newUid() }));
    await store(
      t,
      server,
      numbered.map((s) => instance({ IssuerOfPatientID: issuer2, StudyInstanceUID: seriesStudy, SeriesInstanceUID: s.uid, SeriesNumber: 10 + s.n })),
    );

    t.test('QIDO-12: limit and offset over 5 studies', async (t) => {
      const last = await search(server, q('&limit=2&offset=4'));
      t.equal(last.status, 200, 'QIDO-12: limit=2&offset=4 → 200');
      t.same(uids(last.results), [expected[4]], 'QIDO-12: … with the 5th study only');
      t.same(last.warnings, [], 'QIDO-12: nothing left, no Warning');
      const none = await search(server, q('&offset=5'));
      t.equal(none.status, 204, 'QIDO-12: offset=5 → 204');
      t.equal(none.body, '', 'QIDO-12: … with an empty body');
      const first = await search(server, q('&limit=2'));
      t.same(uids(first.results), expected.slice(0, 2), 'QIDO-12: limit=2 → the first two');
      t.equal(first.warnings.length, 1, 'QIDO-12: one Warning');
      t.match(
        first.warnings[0],
        /^299 http:\/\/[^ ]+\/dicomweb: There are 3 additional results that can be requested$/,
        'QIDO-12: Warning names the 3 remaining results',
      );
      const middle = await search(server, q('&limit=2&offset=2'));
      t.match(middle.warnings[0], /There are 1 additional results/, 'QIDO-12: remaining counts from offset + page');
    });

    t.test('QIDO-12: deterministic order, pages concatenate to the whole list', async (t) => {
      const all = await search(server, q('&limit=5'));
      t.same(uids(all.results), expected.slice(0, MAX), 'QIDO-12: StudyDate desc, StudyTime desc, UID; no date last (limit clamped)');
      const again = await search(server, q('&limit=5'));
      t.same(uids(again.results), uids(all.results), 'QIDO-12: identical requests return the same ordered list');
      const pages: string[] = [];
      for (let offset = 0; offset < 5; offset += 2) pages.push(...uids((await search(server, q(`&limit=2&offset=${offset}`))).results));
      t.same(pages, expected, 'QIDO-12: limit/offset pages concatenate to the full ordered list');
    });

    t.test('QIDO-12 (D13): the server maximum clamps limit and is the default', async (t) => {
      const clamped = await search(server, q('&limit=1000'));
      t.equal(clamped.status, 200, 'D13: limit above the maximum is clamped, not 400');
      t.equal(clamped.results.length, MAX, `D13: at most QIDO_MAX_LIMIT (${MAX}) results`);
      t.match(clamped.warnings[0], /There are 1 additional results/, 'QIDO-12: the rest is announced');
      const byDefault = await search(server, q(''));
      t.equal(byDefault.results.length, MAX, 'QIDO-12: without limit, the server maximum');
    });

    t.test('QIDO-12: invalid limit/offset are 400', async (t) => {
      for (const bad of ['limit=0', 'limit=-1', 'limit=abc', 'limit=1.5', 'offset=-1', 'offset=x', 'limit=1&limit=2']) {
        const answer = await search(server, `/studies?${bad}`);
        t.equal(answer.status, 400, `QIDO-12/COMMON-2: ${bad} → 400`);
        t.match(JSON.parse(answer.body).detail, /limit|offset/, 'the problem names the parameter');
      }
    });

    t.test('QIDO-12: series by SeriesNumber, instances by InstanceNumber, paged', async (t) => {
      const series = await search(server, `/studies/${seriesStudy}/series?limit=4`);
      t.same(
        series.results.map((r) => r['00200011']?.Value?.[0]),
        [1, 11, 12, 13],
        'QIDO-12: series ordered by SeriesNumber',
      );
      const instances = await search(server, `/studies/${seriesStudy}/series/${seriesUid}/instances?limit=2&offset=1`);
      t.same(
        instances.results.map((r) => r['00200013']?.Value?.[0]),
        [2, 3],
        'QIDO-12: instances ordered by InstanceNumber, paged',
      );
      t.match(instances.warnings[0], /There are 2 additional results/, 'QIDO-12: Warning at instance level');
      const relational = await search(server, `/instances?IssuerOfPatientID=${issuer2}&SeriesInstanceUID=${seriesUid}&offset=3`);
      t.same(
        relational.results.map((r) => r['00200013']?.Value?.[0]),
        [4, 5],
        'QIDO-12: /instances paged',
      );
      const allSeries = await search(server, `/series?IssuerOfPatientID=${issuer2}&limit=2&offset=6`);
      t.equal(allSeries.status, 204, 'QIDO-12: /series past the end → 204');
    });
  });
}
