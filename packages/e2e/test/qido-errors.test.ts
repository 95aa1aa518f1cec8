import t from 'tap';
import { backendNames, newUid, startTestServer, type TestServer } from '@tessera/testkit';
import { ROOT, instance, search, store, uids } from './qido-support.js';

/**
 * QIDO-RS requests that fail or are partly ignored (digest QIDO-1..3, QIDO-13, QIDO-14,
 * COMMON-2/4/5/6), on every storage back end.
 */

const RESOURCES = (s: string, se: string) => [
  '/studies',
  `/studies/${s}/series`,
  '/series',
  `/studies/${s}/series/${se}/instances`,
  `/studies/${s}/instances`,
  '/instances',
];

for (const backend of backendNames()) {
  t.test(backend, async (t) => {
    const server: TestServer = await startTestServer(backend);
    t.teardown(() => server.close());
    const issuer = `ERR-${newUid().slice(-6)}`;
    const study = newUid();
    const series = newUid();
    await store(t, server, [instance({ IssuerOfPatientID: issuer, StudyInstanceUID: study, SeriesInstanceUID: series, PatientID: 'X-1', PatientAge: '042Y' })]);

    t.test('QIDO-1/COMMON-5: the six resources answer JSON with Content-Length', async (t) => {
      for (const path of RESOURCES(study, series)) {
        const answer = await search(server, path);
        t.equal(answer.status, 200, `QIDO-1: GET ${path} → 200`);
        t.match(answer.headers['content-type'], /^application\/dicom\+json/, `QIDO-2: ${path} is application/dicom+json`);
        t.ok(answer.headers['content-length'] || answer.headers['transfer-encoding'], `COMMON-5: ${path} has a length`);
        t.ok(Array.isArray(JSON.parse(answer.body)), 'JSON-1: one top-level array');
      }
      for (const path of RESOURCES(newUid(), newUid())) {
        const answer = await search(server, path.includes(study) ? path : `${path}?PatientID=nobody`);
        t.equal(answer.status, 204, `QIDO-13: ${path} with nothing to find → 204`);
      }
    });

    t.test('QIDO-2: Accept', async (t) => {
      const base = await search(server, `/studies?StudyInstanceUID=${study}`);
      for (const accept of ['application/json', '*/*', 'application/*', 'text/html, application/json;q=0.5', 'application/dicom+json; charset=utf-8', '']) {
        const answer = await search(server, `/studies?StudyInstanceUID=${study}`, accept ? { accept } : {});
        t.equal(answer.status, 200, `QIDO-2: Accept "${accept}" → 200`);
        t.equal(answer.body, base.body, `QIDO-2: Accept "${accept}" gives the same body`);
      }
      // The XML form (multipart/related; type="application/dicom+xml") is served: xml-media-types.test.ts.
      const other = await search(server, '/studies', { accept: 'multipart/related; type="application/dicom"' });
      t.equal(other.status, 406, 'QIDO-2: a multipart type other than the XML form → 406');
      t.match(other.headers['content-type'], /^application\/problem\+json/, 'COMMON-4: the 406 has a problem body');
      t.ok(JSON.parse(other.body).detail.length > 0, 'COMMON-4: … that explains');
      t.equal((await search(server, '/studies', { accept: 'image/jpeg' })).status, 406, 'QIDO-2: an unrelated type → 406');
    });

    t.test('QIDO-3: attribute names, repeats', async (t) => {
      const byTag = await search(server, `/studies?00100020=X-1&IssuerOfPatientID=${issuer}`);
      const byKeyword = await search(server, `/studies?PatientID=X-1&IssuerOfPatientID=${issuer}`);
      t.same(uids(byTag.results), [study], 'QIDO-3: 00100020=X finds the study');
      t.equal(byTag.body, byKeyword.body, 'QIDO-3: 00100020=X ≡ PatientID=X');
      t.same(uids((await search(server, `/studies?0020000d=${study}`)).results), [study], 'QIDO-3: lower-case hex tag accepted');
      const unknown = await search(server, `/studies?patientid=nobody&IssuerOfPatientID=${issuer}`);
      t.same(uids(unknown.results), [study], 'QIDO-3: patientid=X is an unknown name, ignored');
      t.ok(
        unknown.warnings.some((w) => /patientid/.test(w)),
        'COMMON-2: … with a Warning 299',
      );
      for (const repeated of ['PatientID=X&PatientID=Y', 'PatientID=X&00100020=X', 'fuzzymatching=true&fuzzymatching=true']) {
        const answer = await search(server, `/studies?${repeated}`);
        t.equal(answer.status, 400, `QIDO-3: ${repeated} → 400`);
        t.match(JSON.parse(answer.body).detail, /PatientID|00100020|fuzzymatching/, 'the problem names the parameter');
      }
    });

    t.test('QIDO-13/COMMON-2/5: 204 and 400', async (t) => {
      const none = await search(server, '/studies?PatientID=nobody');
      t.equal(none.status, 204, 'QIDO-13: /studies?PatientID=nobody → 204');
      t.equal(none.body, '', 'QIDO-13: zero-length body');
      t.notOk(none.headers['content-type'], 'COMMON-5: a 204 has no Content-Type');
      const cases: [string, string][] = [
        ['StudyDate=2013', 'StudyDate'],
        ['limit=-1', 'limit'],
        ['limit=abc', 'limit'],
        ['fuzzymatching=yes', 'fuzzymatching'],
        ['emptyvaluematching=1', 'emptyvaluematching'],
        ['multiplevaluematching=TRUE', 'multiplevaluematching'],
        ['StudyInstanceUID=1.2.3,1.2.03', 'StudyInstanceUID'],
        ['SeriesNumber=abc', 'SeriesNumber'],
        ['PatientName=%E0%A4%A', 'PatientName'],
      ];
      for (const [query, name] of cases) {
        const path = query.startsWith('Series') ? `/series?${query}` : `/studies?${query}`;
        const answer = await search(server, path);
        t.equal(answer.status, 400, `COMMON-2/QIDO-13: ${path} → 400`);
        t.match(answer.headers['content-type'], /^application\/problem\+json/);
        t.match(JSON.parse(answer.body).detail, new RegExp(name), `the problem names ${name}`);
      }
      const same = await search(server, `/studies?foo=bar&IssuerOfPatientID=${issuer}`);
      t.same(uids(same.results), [study], 'COMMON-2: /studies?foo=bar equals /studies');
      t.match(same.warnings[0], /^299 http:\/\/[^ ]+\/dicomweb: .*foo/, 'COMMON-2: Warning 299 <service>: …');
    });

    t.test('COMMON-6: UIDs in the path', async (t) => {
      for (const path of ['/studies/1.2.03/series', `/studies/${study}/series/1.2.03/instances`, '/studies/abc/instances']) {
        t.equal((await search(server, path)).status, 400, `COMMON-6: ${path} → 400`);
      }
      t.equal((await search(server, `/studies/${newUid()}/series`)).status, 204, 'QIDO-13: /studies/{unknown}/series → 204, not 404');
    });

    t.test('QIDO-1/4/14: keys that are ignored with a Warning 299', async (t) => {
      const cases: [string, RegExp][] = [
        ['/studies?OtherPatientIDsSequence.PatientID=X', /Sequence matching/],
        ['/studies?00101002.00100020=X', /Sequence matching/],
        ['/series?RequestAttributesSequence.RequestedProcedureID=RP1', /Sequence matching/],
        ['/studies?00091010=X', /private/],
        ['/studies?Modality=MR', /series-level/],
        [`/studies/${study}/series?StudyDate=19000101`, /study-level/],
        [`/studies/${study}/series/${series}/instances?Modality=MR`, /series-level/],
        ['/studies?PatientAge=001Y', /not supported for matching/],
        ['/studies?TimezoneOffsetFromUTC=%2B0500', /not supported for matching/],
      ];
      for (const [path, warning] of cases) {
        const sep = path.includes('?') ? '&' : '?';
        const answer = await search(server, path.includes(`/studies/${study}`) ? path : `${path}${sep}IssuerOfPatientID=${issuer}`);
        t.equal(answer.status, 200, `QIDO-14/QIDO-1: ${path} → 200 (the key is ignored), not 400 or 500`);
        t.ok(
          answer.warnings.some((w) => warning.test(w)),
          `QIDO-14/QIDO-1: ${path} → Warning 299 ${warning}`,
        );
      }
      const ignored = await search(server, `/studies?PatientAge=001Y&IssuerOfPatientID=${issuer}`);
      t.same(
        ignored.results[0]?.['00101010'],
        { vr: 'AS', Value: ['042Y'] },
        'QIDO-4: an optional key not supported for matching is still returned (universal)',
      );
    });

    t.test('COMMON-4: other methods are 405 with Allow', async (t) => {
      for (const [method, path] of [
        ['PUT', '/studies'],
        ['DELETE', '/series'],
        ['POST', '/instances'],
        ['PATCH', `/studies/${study}/series`],
      ] as const) {
        const res = await server.app.inject({ method, url: `${ROOT}${path}` });
        t.equal(res.statusCode, 405, `COMMON-4: ${method} ${path} → 405`);
        t.match(String(res.headers.allow), /GET/, `COMMON-4: ${method} ${path} Allow lists GET`);
        t.ok(res.body.length > 0, 'COMMON-4: non-empty body');
      }
      const stow = await server.app.inject({ method: 'PUT', url: `${ROOT}/studies` });
      t.match(String(stow.headers.allow), /POST/, 'COMMON-4: /studies allows POST (STOW) and GET (QIDO)');
    });
  });
}
