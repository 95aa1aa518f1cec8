import t from 'tap';
import { backendNames, newUid, readManifest, sharedFiles, startTestServer, type TestServer } from '@tessera/testkit';
import { type Dataset, search, shared, sorted, store, uids, value, instance } from './qido-support.js';

/**
 * The QIDO-RS requests OHIF v3 sends and what it reads from the answers (digest §11),
 * with real files from packages/test-data/dicom, on every storage back end.
 */

const OHIF_STUDY_LIST = '/studies?limit=101&offset=0&fuzzymatching=false&includefield=00081030%2C00080060%2C00080090%2C00100030';
const OHIF_STUDY_READS = ['0020000D', '00080020', '00080030', '00080050', '00100020', '00100010', '00100030', '00201208', '00081030', '00080061', '00080090'];
// OHIF also reads 0008103E SeriesDescription: a conditional attribute, returned when the series has one
// (this real CT series has none; the synthetic one is checked below).
const OHIF_SERIES_READS = ['0020000D', '0020000E', '00080060', '00200011', '00080021', '00201209'];
const missing = (ds: Dataset | undefined, keys: string[]) => keys.filter((k) => !ds?.[k]);

for (const backend of backendNames()) {
  t.test(backend, async (t) => {
    const server: TestServer = await startTestServer(backend);
    t.teardown(() => server.close());
    const manifest = readManifest();
    const files = [...sharedFiles('series/ct-ge-hispeed-tilt-28').slice(0, 4), ...sharedFiles('studies/patient-with-2-studies')];
    for (const file of files) await store(t, server, [shared(file)]);
    const ctStudy = manifest.get(files[0]!)!.studyUid;
    const ctSeries = manifest.get(files[0]!)!.seriesUid;
    const twoStudies = sharedFiles('studies/patient-with-2-studies').map((f) => manifest.get(f)!.studyUid);
    const issuer = `OHIF-${newUid().slice(-6)}`;
    const mr = newUid();
    await store(t, server, [
      instance({
        IssuerOfPatientID: issuer,
        StudyInstanceUID: mr,
        Modality: 'MR',
        PatientName: 'Ohif^Viewer',
        PatientID: 'OHIF-42',
        AccessionNumber: 'ACC-OHIF',
        StudyDescription: 'Brain MR',
        StudyDate: '20220606',
        SeriesDescription: 'Sagittal T1',
        SeriesDate: '20220606',
        ReferringPhysicianName: 'Ref^Doc',
        PatientBirthDate: '19700101',
      }),
    ]);

    t.test('§11 study list: the exact OHIF query, and what OHIF reads', async (t) => {
      const answer = await search(server, OHIF_STUDY_LIST);
      t.equal(answer.status, 200, '§11: the OHIF study list query → 200');
      t.same(answer.warnings, [], '§11: no warning (includefield 00080060 is simply not a study attribute)');
      t.same(sorted(uids(answer.results)), sorted([ctStudy, ...twoStudies, mr]), '§11: every study');
      for (const ds of answer.results) t.same(missing(ds, OHIF_STUDY_READS), [], `§11: study ${value(ds, '0020000D')} has every attribute OHIF reads`);
      const mrResult = answer.results.find((r) => value(r, '0020000D') === mr)!;
      t.equal(value(mrResult, '00100010').Alphabetic, 'Ohif^Viewer', '§11: PatientName as a PN object with Alphabetic');
      t.same(
        [value(mrResult, '00081030'), value(mrResult, '00080090').Alphabetic, value(mrResult, '00100030'), value(mrResult, '00201208')],
        ['Brain MR', 'Ref^Doc', '19700101', 1],
        '§11: StudyDescription, ReferringPhysicianName, PatientBirthDate, NumberOfStudyRelatedInstances',
      );
      t.same(mrResult['00080061'], { vr: 'CS', Value: ['MR'] }, '§11: ModalitiesInStudy');
      const ct = answer.results.find((r) => value(r, '0020000D') === ctStudy)!;
      t.equal(value(ct, '00201208'), 4, '§11: NumberOfStudyRelatedInstances of a real CT series');
    });

    t.test('§11 study list filters (wildcards as OHIF sends them)', async (t) => {
      const filters: [string, string][] = [
        ['PatientName', '*ohif*'],
        ['00100020', '*HIF-4*'],
        ['AccessionNumber', '*OHIF*'],
        ['StudyDescription', '*Brain*'],
        ['ModalitiesInStudy', 'MR%2CSR'],
        ['StudyDate', '20220101-20221231'],
      ];
      for (const [key, v] of filters) {
        const answer = await search(server, `${OHIF_STUDY_LIST}&${key}=${v.includes('%') ? v : encodeURIComponent(v)}`);
        t.same(uids(answer.results), [mr], `§11: ${key}=${v}`);
      }
      const all = await search(
        server,
        `${OHIF_STUDY_LIST}&PatientName=${encodeURIComponent('*ohif*')}&00100020=${encodeURIComponent('*HIF*')}&StudyDate=20220101-20221231&ModalitiesInStudy=CT%2CMR`,
      );
      t.same(uids(all.results), [mr], '§11: the filters combined');
      const fuzzy = await search(server, '/studies?limit=101&offset=0&fuzzymatching=true&PatientName=ohi');
      t.same(uids(fuzzy.results), [mr], '§11: with supportsFuzzyMatching OHIF sends fuzzymatching=true');
      const none = await search(server, `${OHIF_STUDY_LIST}&PatientName=${encodeURIComponent('*nobody*')}`);
      t.equal(none.status, 204, '§11/DWC: an empty list is 204, which dicomweb-client treats as []');
    });

    t.test('§11 study by UID: backslash list, and the viewer-load query', async (t) => {
      const answer = await search(server, `${OHIF_STUDY_LIST}&StudyInstanceUID=${twoStudies.join('%5C')}`);
      t.same(sorted(uids(answer.results)), sorted(twoStudies), 'MATCH-5/§11: StudyInstanceUID=uid1%5Cuid2');
      const one = await search(server, `${OHIF_STUDY_LIST}&StudyInstanceUID=${ctStudy}`);
      t.same(uids(one.results), [ctStudy], 'ohif-e2e.md step 1: the study by UID');
    });

    t.test('§11 row expand and viewer load: series of a study', async (t) => {
      for (const path of [
        `/studies/${ctStudy}/series?includefield=0008103E,00080021`,
        `/studies/${ctStudy}/series?includefield=00080021%2C00080031%2C0008103E%2C00200011`,
      ]) {
        const answer = await search(server, path);
        t.same(uids(answer.results, '0020000E'), [ctSeries], `§11: ${path}`);
        const ds = answer.results[0]!;
        t.same(missing(ds, OHIF_SERIES_READS), [], '§11: every series attribute OHIF reads (0020000D included)');
        t.equal(value(ds, '0020000D'), ctStudy, 'QIDO-7: StudyInstanceUID in the series result');
        t.equal(value(ds, '00201209'), 4, '§11: NumberOfSeriesRelatedInstances');
      }
      const described = await search(server, `/studies/${mr}/series?includefield=0008103E,00080021`);
      t.equal(value(described.results[0], '0008103E'), 'Sagittal T1', '§11: SeriesDescription when the series has one');
      const bySeries = await search(server, `/studies/${ctStudy}/series?SeriesInstanceUID=${ctSeries}`);
      t.same(uids(bySeries.results, '0020000E'), [ctSeries], '§11: lazy load may filter by SeriesInstanceUID');
    });

    t.test('§11 thumbnail fallback: first instance of a series', async (t) => {
      const answer = await search(server, `/studies/${ctStudy}/series/${ctSeries}/instances?limit=1&includefield=00080018`);
      t.equal(answer.results.length, 1, '§11: limit=1');
      t.ok(value(answer.results[0], '00080018'), '§11: SOPInstanceUID');
      t.match(answer.warnings[0], /There are 3 additional results/, 'QIDO-12: the rest is announced');
    });
  });
}
