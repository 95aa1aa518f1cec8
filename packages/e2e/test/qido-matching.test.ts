import t from 'tap';
import { backendNames, newUid, startTestServer, type TestServer } from '@tessera/testkit';
import { instance, search, sorted, store, uids, value } from './qido-support.js';

/**
 * QIDO-RS attribute matching (digest QIDO-4, MATCH-1..11, MATCH-13..15, QIDO-10/11, COMMON-1/3),
 * the same cases on every storage back end. Each case stores its own studies under its own
 * IssuerOfPatientID and adds that key to its searches, so cases do not see each other's data.
 */

let markerCount = 0;
const marker = () => `M${++markerCount}-${newUid().slice(-8)}`;
const scoped = (path: string, issuer: string) => `${path}${path.includes('?') ? '&' : '?'}IssuerOfPatientID=${issuer}`;

for (const backend of backendNames()) {
  t.test(backend, async (t) => {
    const server: TestServer = await startTestServer(backend);
    t.teardown(() => server.close());

    t.test('QIDO-4: every required study key filters (one positive, one negative case each)', async (t) => {
      const issuer = marker();
      const a = newUid();
      const b = newUid();
      await store(t, server, [
        instance({
          IssuerOfPatientID: issuer,
          StudyInstanceUID: a,
          StudyDate: '20130509',
          StudyTime: '131600',
          AccessionNumber: 'ACC-1',
          ReferringPhysicianName: 'House^Gregory',
          PatientName: 'Doe^John',
          PatientID: 'PID-A',
          StudyID: 'S1',
          StudyDescription: 'CT head w/o',
          PatientBirthDate: '19670701',
          Modality: 'CT',
        }),
        instance({
          IssuerOfPatientID: issuer,
          StudyInstanceUID: b,
          StudyDate: '20140101',
          StudyTime: '080000',
          AccessionNumber: 'ACC-2',
          ReferringPhysicianName: 'Wilson^James',
          PatientName: 'Roe^Jane',
          PatientID: 'PID-B',
          StudyID: 'S2',
          StudyDescription: 'MR knee',
          PatientBirthDate: '19800202',
          Modality: 'MR',
        }),
      ]);
      const cases: [string, string, string][] = [
        ['StudyDate', '20130509', '20130510'],
        ['StudyTime', '131600', '131601'],
        ['AccessionNumber', 'ACC-1', 'ACC-3'],
        ['ModalitiesInStudy', 'CT', 'PT'],
        ['ReferringPhysicianName', 'House^Gregory', 'House^Greg'],
        ['PatientName', 'Doe^John', 'Doe^Johnny'],
        ['PatientID', 'PID-A', 'PID-C'],
        ['StudyInstanceUID', a, newUid()],
        ['StudyID', 'S1', 'S3'],
        ['StudyDescription', 'CT head w/o', 'CT head'],
        ['PatientBirthDate', '19670701', '19670702'],
      ];
      for (const [key, positive, negative] of cases) {
        const hit = await search(server, scoped(`/studies?${key}=${encodeURIComponent(positive)}`, issuer));
        t.equal(hit.status, 200, `QIDO-4: ${key}=${positive} → 200`);
        t.same(uids(hit.results), [a], `QIDO-4: ${key}=${positive} finds exactly the matching study`);
        const miss = await search(server, scoped(`/studies?${key}=${encodeURIComponent(negative)}`, issuer));
        t.equal(miss.status, 204, `QIDO-4: ${key}=${negative} → 204 (no match)`);
      }
    });

    t.test('QIDO-4: every required series and instance key filters', async (t) => {
      const issuer = marker();
      const study = newUid();
      const ct = newUid();
      const mr = newUid();
      const sop = newUid();
      await store(t, server, [
        instance({
          IssuerOfPatientID: issuer,
          StudyInstanceUID: study,
          SeriesInstanceUID: ct,
          SOPInstanceUID: sop,
          Modality: 'CT',
          SeriesNumber: 3,
          InstanceNumber: 7,
          PerformedProcedureStepStartDate: '20200101',
          PerformedProcedureStepStartTime: '101500',
        }),
        instance({
          IssuerOfPatientID: issuer,
          StudyInstanceUID: study,
          SeriesInstanceUID: mr,
          Modality: 'MR',
          SeriesNumber: 4,
          InstanceNumber: 8,
          SOPClassUID: '1.2.840.10008.5.1.4.1.1.4',
          PerformedProcedureStepStartDate: '20200102',
          PerformedProcedureStepStartTime: '111500',
        }),
      ]);
      const seriesCases: [string, string, string][] = [
        ['Modality', 'CT', 'US'],
        ['SeriesInstanceUID', ct, newUid()],
        ['SeriesNumber', '3', '5'],
        ['PerformedProcedureStepStartDate', '20200101', '20200103'],
        ['PerformedProcedureStepStartTime', '101500', '101501'],
      ];
      for (const [key, positive, negative] of seriesCases) {
        const hit = await search(server, scoped(`/series?${key}=${positive}`, issuer));
        t.same(uids(hit.results, '0020000E'), [ct], `QIDO-4: /series?${key}=${positive}`);
        t.equal((await search(server, scoped(`/series?${key}=${negative}`, issuer))).status, 204, `QIDO-4: /series?${key}=${negative} → 204`);
        const nested = await search(server, `/studies/${study}/series?${key}=${positive}`);
        t.same(uids(nested.results, '0020000E'), [ct], `QIDO-4: /studies/{s}/series?${key}=${positive}`);
      }
      const instanceCases: [string, string, string][] = [
        ['SOPClassUID', '1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.5.1.4.1.1.7'],
        ['SOPInstanceUID', sop, newUid()],
        ['InstanceNumber', '7', '9'],
      ];
      for (const [key, positive, negative] of instanceCases) {
        const hit = await search(server, scoped(`/instances?${key}=${positive}`, issuer));
        t.same(uids(hit.results, '00080018'), [sop], `QIDO-4: /instances?${key}=${positive}`);
        t.equal((await search(server, scoped(`/instances?${key}=${negative}`, issuer))).status, 204, `QIDO-4: /instances?${key}=${negative} → 204`);
        const nested = await search(server, `/studies/${study}/series/${ct}/instances?${key}=${positive}`);
        t.same(uids(nested.results, '00080018'), [sop], `QIDO-4: /studies/{s}/series/{se}/instances?${key}=${positive}`);
      }
    });

    t.test('MATCH-1: wildcards in UI or DA are 400; `*` alone is universal', async (t) => {
      const issuer = marker();
      const named = newUid();
      const unnamed = newUid();
      await store(t, server, [
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: named, PatientName: 'Smith^Ann' }),
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: unnamed, PatientName: undefined }),
      ]);
      t.equal((await search(server, '/studies?StudyInstanceUID=1.2.*')).status, 400, 'MATCH-1: StudyInstanceUID=1.2.* → 400');
      t.equal((await search(server, '/studies?StudyDate=2013*')).status, 400, 'MATCH-1: StudyDate=2013* → 400');
      const all = await search(server, scoped('/studies?PatientName=*', issuer));
      t.same(sorted(uids(all.results)), sorted([named, unnamed]), 'MATCH-1/MATCH-14: PatientName=* returns every study, including one without a name');
      const smith = await search(server, scoped('/studies?PatientName=SMITH', issuer));
      t.equal(smith.status, 204, 'MATCH-14 (D12): an empty stored name does not match PatientName=SMITH');
    });

    t.test('MATCH-2: single values are exact, case-sensitive except PN; DA/TM/IS by meaning', async (t) => {
      const issuer = marker();
      const study = newUid();
      await store(t, server, [instance({ IssuerOfPatientID: issuer, StudyInstanceUID: study, Modality: 'CT', StudyTime: '223000', SeriesNumber: 7 })]);
      t.same(uids((await search(server, scoped('/series?Modality=CT', issuer))).results), [study], 'MATCH-2: Modality=CT matches stored CT');
      t.equal((await search(server, scoped('/series?Modality=ct', issuer))).status, 204, 'MATCH-2 (D11): Modality=ct does not match CT');
      t.same(uids((await search(server, scoped('/studies?StudyTime=2230', issuer))).results), [study], 'MATCH-2: StudyTime=2230 equals 223000');
      t.same(uids((await search(server, scoped('/studies?StudyTime=223000.000', issuer))).results), [study], 'MATCH-2: 223000.000 equals 223000');
      for (const n of ['7', '+7', '007']) {
        t.same(
          uids((await search(server, scoped(`/series?SeriesNumber=${encodeURIComponent(n)}`, issuer))).results),
          [study],
          `MATCH-2: SeriesNumber=${n} matches 7`,
        );
      }
      t.same(uids((await search(server, scoped('/studies?Modality%20=CT', issuer))).results), [study], 'COMMON-2: an unknown parameter name is ignored');
    });

    t.test('MATCH-3: person names are case-insensitive, per component group, trailing components ignored', async (t) => {
      const issuer = marker();
      const study = newUid();
      const multi = newUid();
      await store(t, server, [
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: study, PatientName: 'Doe^John' }),
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: multi, PatientName: 'Yamada^Tarou=山田^太郎=やまだ^たろう' }),
      ]);
      for (const key of ['doe^john', 'DOE*', '*john*', 'Doe^John^^^', 'D?e^John']) {
        t.same(
          uids((await search(server, scoped(`/studies?PatientName=${encodeURIComponent(key)}`, issuer))).results),
          [study],
          `MATCH-3: ${key} matches Doe^John`,
        );
      }
      t.equal((await search(server, scoped('/studies?PatientName=Doe', issuer))).status, 204, 'MATCH-3: Doe does not match Doe^John (no implicit wildcard)');
      for (const key of ['山田^太郎', 'やまだ*', 'YAMADA^TAROU', 'yamada^tarou=山田^太郎', '=山田*', 'Yamada*==やまだ^たろう']) {
        t.same(
          uids((await search(server, scoped(`/studies?PatientName=${encodeURIComponent(key)}`, issuer))).results),
          [multi],
          `MATCH-3: ${key} matches a group of Yamada^Tarou=山田^太郎=やまだ^たろう`,
        );
      }
      t.equal(
        (await search(server, scoped(`/studies?PatientName=${encodeURIComponent('山田^太郎=Yamada*')}`, issuer))).status,
        204,
        'MATCH-3: groups keep their position when the key has =',
      );
    });

    t.test('MATCH-4: wildcards * and ? (LIKE metacharacters are literal)', async (t) => {
      const issuer = marker();
      const abc = newUid();
      const abbc = newUid();
      const pct = newUid();
      await store(t, server, [
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: abc, AccessionNumber: 'ABC', StudyDescription: 'CT head w/o' }),
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: abbc, AccessionNumber: 'ABBC', StudyDescription: 'Head_50%' }),
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: pct, AccessionNumber: 'A\\C', StudyDescription: 'HeadX50Y' }),
      ]);
      t.same(uids((await search(server, scoped('/studies?AccessionNumber=A?C', issuer))).results), [abc], 'MATCH-4: A?C matches ABC, not ABBC');
      t.same(
        sorted(uids((await search(server, scoped('/studies?AccessionNumber=A*C', issuer))).results)),
        sorted([abc, abbc]),
        'MATCH-4: A*C matches ABC and ABBC',
      );
      t.same(
        uids((await search(server, scoped('/studies?StudyDescription=*head*', issuer))).results),
        [abc],
        'MATCH-4: *head* matches "CT head w/o" (case-sensitive: not "Head…")',
      );
      t.same(
        uids((await search(server, scoped(`/studies?StudyDescription=${encodeURIComponent('Head_50%')}`, issuer))).results),
        [abbc],
        'MATCH-4: _ and % are literal',
      );
      t.same(
        uids((await search(server, scoped(`/studies?StudyDescription=${encodeURIComponent('Head_5*')}`, issuer))).results),
        [abbc],
        'MATCH-4: _ is literal in a wildcard key (not LIKE _)',
      );
      t.same(uids((await search(server, scoped('/studies?StudyDescription=*', issuer))).results).length, 3, 'MATCH-4: * alone is universal');
    });

    t.test('MATCH-5: lists of UIDs (, %2C and \\)', async (t) => {
      const issuer = marker();
      const [a, b, c] = [newUid(), newUid(), newUid()];
      await store(
        t,
        server,
        [a, b, c].map((uid) => instance({ IssuerOfPatientID: issuer, StudyInstanceUID: uid })),
      );
      for (const sep of [',', '%2C', '%5C', '\\']) {
        const answer = await search(server, `/studies?StudyInstanceUID=${a}${sep}${b}`);
        t.same(sorted(uids(answer.results)), sorted([a, b]), `MATCH-5/D4: StudyInstanceUID=a${sep}b returns both`);
      }
      t.equal((await search(server, `/studies?StudyInstanceUID=${a},1.02.3`)).status, 400, 'MATCH-5: an invalid UID in the list → 400');
    });

    t.test('MATCH-6: date ranges, open ranges, invalid ranges', async (t) => {
      const issuer = marker();
      const days = ['20130508', '20130509', '20130510', '20130511'];
      const byDay = new Map(days.map((d) => [d, newUid()]));
      await store(
        t,
        server,
        days.map((d) => instance({ IssuerOfPatientID: issuer, StudyInstanceUID: byDay.get(d)!, StudyDate: d })),
      );
      const of = (...ds: string[]) => sorted(ds.map((d) => byDay.get(d)!));
      t.same(
        sorted(uids((await search(server, scoped('/studies?StudyDate=20130509-20130510', issuer))).results)),
        of('20130509', '20130510'),
        'MATCH-6: inclusive range',
      );
      t.same(
        sorted(uids((await search(server, scoped('/studies?StudyDate=-20130509', issuer))).results)),
        of('20130508', '20130509'),
        'MATCH-6: -d2 includes d2',
      );
      t.same(
        sorted(uids((await search(server, scoped('/studies?StudyDate=20130510-', issuer))).results)),
        of('20130510', '20130511'),
        'MATCH-6: d1- includes d1',
      );
      for (const bad of ['20130510-20130509', '-', '2013', '20131301', '20130509-2013051', '20130230']) {
        t.equal((await search(server, `/studies?StudyDate=${bad}`)).status, 400, `MATCH-6: StudyDate=${bad} → 400`);
      }
    });

    t.test('MATCH-7: time ranges by precision', async (t) => {
      const issuer = marker();
      const late = newUid();
      const early = newUid();
      await store(t, server, [
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: late, StudyTime: '103059' }),
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: early, StudyTime: '090100' }),
      ]);
      t.same(uids((await search(server, scoped('/studies?StudyTime=1000-1030', issuer))).results), [late], 'MATCH-7: 1000-1030 matches 103059');
      t.equal((await search(server, scoped('/studies?StudyTime=-0900', issuer))).status, 204, 'MATCH-7: -0900 does not match 090100');
      t.same(uids((await search(server, scoped('/studies?StudyTime=0901-', issuer))).results).length, 2, 'MATCH-7: 0901- matches both');
      t.equal((await search(server, '/studies?StudyTime=1800-0600')).status, 400, 'MATCH-7: a range crossing midnight → 400');
      t.equal((await search(server, '/studies?StudyTime=2500')).status, 400, 'MATCH-7: an invalid time → 400');
    });

    t.test('MATCH-8: StudyDate + StudyTime ranges are one date-time range', async (t) => {
      const issuer = marker();
      const night = newUid();
      const before = newUid();
      const after = newUid();
      await store(t, server, [
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: night, StudyDate: '20060706', StudyTime: '030000' }),
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: before, StudyDate: '20060705', StudyTime: '090000' }),
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: after, StudyDate: '20060707', StudyTime: '180100' }),
      ]);
      const answer = await search(server, scoped('/studies?StudyDate=20060705-20060707&StudyTime=1000-1800', issuer));
      t.same(uids(answer.results), [night], 'MATCH-8: 2006-07-06 03:00 is inside 5 Jul 10:00 → 7 Jul 18:00; 5 Jul 09:00 and 7 Jul 18:01 are not');
    });

    t.test('MATCH-9/10: multi-valued attributes and lists of values', async (t) => {
      const issuer = marker();
      const [ctpt, ctOnly, mrOnly, ctmr] = [newUid(), newUid(), newUid(), newUid()];
      await store(t, server, [
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: ctpt, Modality: 'CT' }),
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: ctpt, Modality: 'PT' }),
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: ctOnly, Modality: 'CT' }),
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: mrOnly, Modality: 'MR' }),
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: ctmr, Modality: 'CT' }),
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: ctmr, Modality: 'MR' }),
      ]);
      t.same(
        sorted(uids((await search(server, scoped('/studies?ModalitiesInStudy=PT', issuer))).results)),
        [ctpt],
        'MATCH-9: PT matches the study with ["CT","PT"]',
      );
      const ctpt9 = await search(server, scoped('/studies?ModalitiesInStudy=PT', issuer));
      t.same(sorted(value(ctpt9.results[0], '00080061') ? ctpt9.results[0]!['00080061']!.Value! : []), ['CT', 'PT'], 'MATCH-9: all stored values are returned');
      t.same(
        sorted(uids((await search(server, scoped('/studies?ModalitiesInStudy=P*', issuer))).results)),
        [ctpt],
        'MATCH-9: a wildcard matches any stored value',
      );
      const any = await search(server, scoped('/studies?ModalitiesInStudy=CT%2CMR', issuer));
      t.same(sorted(uids(any.results)), sorted([ctpt, ctOnly, mrOnly, ctmr]), 'MATCH-10 (D3): CT%2CMR without the flag is any-of');
      const all = await search(server, scoped('/studies?ModalitiesInStudy=CT%2CMR&multiplevaluematching=true', issuer));
      t.same(uids(all.results), [ctmr], 'MATCH-10: with multiplevaluematching=true only studies with both');
      t.equal(all.warnings.length, 0, 'QIDO-11: multiplevaluematching is supported (no warning)');
      t.same(sorted(uids((await search(server, scoped('/series?Modality=CT\\MR', issuer))).results)).length, 5, 'MATCH-10: backslash lists too');
    });

    t.test('MATCH-11: an empty key is universal matching and returns the attribute', async (t) => {
      const issuer = marker();
      const [a, b] = [newUid(), newUid()];
      await store(t, server, [
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: a, PatientName: 'X^Y', StudyDescription: 'Desc' }),
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: b, PatientName: undefined }),
      ]);
      const answer = await search(server, scoped('/studies?PatientName=&StudyDescription=', issuer));
      t.same(sorted(uids(answer.results)), sorted([a, b]), 'MATCH-11: every study');
      for (const ds of answer.results) {
        t.ok(ds['00100010'], 'MATCH-11: 00100010 is present in every result');
        t.ok(ds['00081030'], 'MATCH-11/QIDO-6: the match key StudyDescription is returned (zero-length when unknown)');
      }
      const withB = answer.results.find((r) => value(r, '0020000D') === b)!;
      t.same(withB['00100010'], { vr: 'PN' }, 'JSON-4: zero-length PN is {"vr":"PN"}');
    });

    t.test('MATCH-13: parent keys filter children; path UIDs restrict the scope', async (t) => {
      const issuer = marker();
      const [s1, s2] = [newUid(), newUid()];
      await store(t, server, [
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: s1, PatientID: 'P-13', Modality: 'CT' }),
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: s2, PatientID: 'P-13', Modality: 'CT' }),
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: s2, PatientID: 'P-13', Modality: 'MR' }),
      ]);
      const nested = await search(server, `/studies/${s1}/series?Modality=CT`);
      t.same(uids(nested.results), [s1], 'MATCH-13: /studies/{s}/series?Modality=CT never returns series of another study');
      const relational = await search(server, scoped('/series?PatientID=P-13&Modality=CT', issuer));
      t.same(sorted(uids(relational.results)), sorted([s1, s2]), 'MATCH-13: /series?PatientID=…&Modality=CT');
      const samePath = await search(server, `/studies/${s1}/series?StudyInstanceUID=${s1}`);
      t.equal(samePath.status, 200, 'QIDO-1: a path UID repeated as a key and equal to the path');
      t.equal(samePath.warnings.length, 0, 'QIDO-1: … is no warning');
      t.equal((await search(server, `/studies/${s1}/series?StudyInstanceUID=${s2}`)).status, 204, 'QIDO-1: a path UID repeated as a different key → 204');
      const all = await search(server, `/studies/${s2}/instances`);
      t.equal(all.results.length, 2, 'QIDO-1: /studies/{s}/instances returns the instances of all series of {s}');
    });

    t.test('MATCH-15 / QIDO-11: emptyvaluematching=true', async (t) => {
      const issuer = marker();
      const [withAcc, without] = [newUid(), newUid()];
      await store(t, server, [
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: withAcc, AccessionNumber: 'A-1' }),
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: without }),
      ]);
      const answer = await search(server, scoped('/studies?AccessionNumber=%22%22&emptyvaluematching=true', issuer));
      t.same(uids(answer.results), [without], 'MATCH-15: only the study without an accession number');
      t.equal(answer.warnings.length, 0, 'QIDO-11: emptyvaluematching is supported (no warning)');
      t.equal((await search(server, scoped('/studies?AccessionNumber=%22%22', issuer))).status, 204, 'MATCH-15: without the flag "" is a literal value');
    });

    t.test('QIDO-10: fuzzymatching=true is name-part prefix matching ignoring case and accents', async (t) => {
      const issuer = marker();
      const [muller, other] = [newUid(), newUid()];
      await store(t, server, [
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: muller, PatientName: 'Müller^Hans-Jürgen', ReferringPhysicianName: 'Öztürk^Ayşe' }),
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: other, PatientName: 'Hansen^Peter' }),
      ]);
      const f = (key: string, name = 'PatientName') => search(server, scoped(`/studies?${name}=${encodeURIComponent(key)}&fuzzymatching=true`, issuer));
      t.same(uids((await f('muller')).results), [muller], 'QIDO-10: muller matches Müller (accent and case folded)');
      t.same(uids((await f('MÜL')).results), [muller], 'QIDO-10: a prefix of a name part');
      t.same(uids((await f('jurgen')).results), [muller], 'QIDO-10: any name part (Jürgen of Hans-Jürgen)');
      t.same(sorted(uids((await f('hans')).results)), sorted([muller, other]), 'QIDO-10: hans starts Hans and Hansen');
      t.equal((await f('ller')).status, 204, 'QIDO-10: not an infix');
      t.same(
        uids((await f('ozturk aYse', 'ReferringPhysicianName')).results),
        [muller],
        'QIDO-10: several words must all start a part; works for ReferringPhysicianName',
      );
      const answer = await f('muller');
      t.notOk(
        answer.warnings.some((w) => /fuzzymatching/.test(w)),
        'QIDO-10: supported, so no "not supported" warning',
      );
      const literal = await search(server, scoped('/studies?PatientName=muller&fuzzymatching=false', issuer));
      t.equal(literal.status, 204, 'QIDO-10: fuzzymatching=false is literal matching');
      t.equal(literal.warnings.length, 0, 'QIDO-10: fuzzymatching=false → no warning');
    });

    t.test('COMMON-1/3: case-sensitive names, percent-decoding', async (t) => {
      const issuer = marker();
      const [a, b] = [newUid(), newUid()];
      await store(t, server, [
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: a, PatientName: 'Müller^Hans' }),
        instance({ IssuerOfPatientID: issuer, StudyInstanceUID: b, PatientName: 'Meyer^Ute' }),
      ]);
      t.same(uids((await search(server, scoped('/studies?PatientName=M%C3%BCller*', issuer))).results), [a], 'COMMON-3: M%C3%BCller* matches Müller^Hans');
      const upper = await search(server, scoped('/studies?LIMIT=1', issuer));
      t.equal(upper.results.length, 2, 'COMMON-1: LIMIT=1 is an unknown parameter: the same set as without it');
      t.ok(
        upper.warnings.some((w) => /LIMIT/.test(w)),
        'COMMON-2: … reported in a Warning 299',
      );
      const lower = await search(server, scoped('/studies?patientname=Meyer*', issuer));
      t.equal(lower.results.length, 2, 'QIDO-3: patientname (wrong case) is ignored');
    });
  });
}
