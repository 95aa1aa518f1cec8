import t from 'tap';
import { backendNames, newUid, startTestServer, type TestServer } from '@tessera/testkit';
import { checkJsonShape, type Dataset, instance, search, store, uids, value } from './qido-support.js';

/**
 * What QIDO-RS results carry (digest QIDO-5..7, QIDO-9, JSON-2..6): includefield, default
 * attributes per level, parent attributes, RetrieveURL; on every storage back end.
 */

const STUDY_DEFAULTS = [
  '00080020',
  '00080030',
  '00080050',
  '00080056',
  '00080061',
  '00080090',
  '00081190',
  '00100010',
  '00100020',
  '00100030',
  '00100040',
  '0020000D',
  '00200010',
  '00201206',
  '00201208',
];
const SERIES_DEFAULTS = ['00080060', '00081190', '0020000E', '00200011', '00201209'];
const INSTANCE_DEFAULTS = ['00080016', '00080018', '00080056', '00081190', '00200013'];

const hasAll = (ds: Dataset | undefined, keys: string[]) => keys.filter((k) => !ds?.[k]);

for (const backend of backendNames()) {
  t.test(backend, async (t) => {
    // pacs.example:8443 may shape URLs because it is configured (ALLOWED_HOSTS, issue #21 item 13).
    const server: TestServer = await startTestServer(backend, { ALLOWED_HOSTS: 'pacs.example:8443' });
    t.teardown(() => server.close());
    const issuer = `INC-${newUid().slice(-6)}`;
    const study = newUid();
    const ct = newUid();
    const sr = newUid();
    const sop = newUid();
    await store(t, server, [
      instance({
        IssuerOfPatientID: issuer,
        StudyInstanceUID: study,
        SeriesInstanceUID: ct,
        SOPInstanceUID: sop,
        StudyID: undefined,
        StudyDescription: 'Chest CT',
        SeriesDescription: 'Axial 5mm',
        InstitutionName: 'General Hospital',
        ImageComments: 'instance comment',
        TimezoneOffsetFromUTC: '+0100',
        Rows: 2,
        Columns: 2,
        BitsAllocated: 16,
        EncapsulatedDocument: Buffer.alloc(4096, 7),
        SelectorOBValue: Buffer.from([1, 2, 3, 4]),
      }),
      instance({
        IssuerOfPatientID: issuer,
        StudyInstanceUID: study,
        SeriesInstanceUID: sr,
        Modality: 'SR',
        SeriesNumber: 2,
        StudyID: undefined,
        SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.11',
      }),
    ]);
    const q = (path: string) => `${path}${path.includes('?') ? '&' : '?'}IssuerOfPatientID=${issuer}`;

    t.test('QIDO-5: includefield by tag, keyword, list and repeated parameter', async (t) => {
      const byTag = await search(server, q('/studies?includefield=00081030'));
      t.same(byTag.results[0]?.['00081030'], { vr: 'LO', Value: ['Chest CT'] }, 'QIDO-5: includefield=00081030 returns StudyDescription');
      const byKeyword = await search(server, q('/studies?includefield=StudyDescription'));
      t.ok(byKeyword.results[0]?.['00081030'], 'QIDO-5: by keyword');
      const deeper = await search(server, q('/studies?includefield=SeriesDescription'));
      t.notOk(deeper.results[0]?.['0008103E'], 'QIDO-5: /studies?includefield=SeriesDescription does not return 0008103E (deeper level)');
      const list = await search(server, q('/series?includefield=0008103E,InstitutionName'));
      const ctSeries = list.results.find((r) => value(r, '0020000E') === ct);
      t.same(ctSeries?.['0008103E']?.Value, ['Axial 5mm'], 'QIDO-5: comma list (tag)');
      t.same(ctSeries?.['00080080']?.Value, ['General Hospital'], 'QIDO-5: comma list (keyword)');
      const repeated = await search(server, q('/series?includefield=0008103E&includefield=00080080'));
      t.same(repeated.results.find((r) => value(r, '0020000E') === ct)?.['00080080']?.Value, ['General Hospital'], 'QIDO-5: repeated includefield parameters');
      const lowerHex = await search(server, q('/studies?includefield=0008103e'));
      t.equal(lowerHex.status, 200, 'QIDO-3: hex tags in either case');
      const unknown = await search(server, q('/studies?includefield=NoSuchKeyword'));
      t.equal(unknown.status, 200, 'QIDO-5: unknown includefield keywords are ignored');
      const inst = await search(server, q('/instances?includefield=ImageComments'));
      t.same(
        inst.results.find((r) => value(r, '00080018') === sop)?.['00204000']?.Value,
        ['instance comment'],
        'QIDO-5: instance-level attribute from the instance metadata',
      );
      const studyLevel = await search(server, q('/studies?includefield=ImageComments'));
      t.notOk(studyLevel.results[0]?.['00204000'], 'QIDO-5: an instance attribute is never returned at study level');
      const sopClasses = await search(server, q('/studies?includefield=SOPClassesInStudy'));
      t.equal(sopClasses.results[0]?.['00080062']?.Value?.length, 2, 'QIDO-5/QIDO-8: includefield of a computed attribute');
    });

    t.test('QIDO-5: includefield=all, alone or mixed with a list', async (t) => {
      for (const path of ['/studies?includefield=all', '/studies?includefield=all,00081030', '/studies?includefield=00100020&includefield=all']) {
        const answer = await search(server, q(path));
        const ds = answer.results[0];
        t.same(ds?.['00081030']?.Value, ['Chest CT'], `QIDO-5: ${path} returns StudyDescription`);
        t.same(ds?.['00100021']?.Value, [issuer], `QIDO-5: ${path} returns IssuerOfPatientID`);
        t.notOk(ds?.['00080060'] ?? ds?.['0008103E'], `QIDO-5: ${path} returns no series attribute`);
        t.same(hasAll(ds, STUDY_DEFAULTS), [], 'QIDO-6: and all the defaults');
        checkJsonShape(t, answer);
      }
      const instances = await search(server, q(`/studies/${study}/series/${ct}/instances?includefield=all`));
      const ds = instances.results[0]!;
      t.same(ds['00204000']?.Value, ['instance comment'], 'QIDO-5: instance includefield=all returns instance attributes');
      t.notOk(ds['00420011'], 'QIDO-5: an attribute held as BulkDataURI is left out of QIDO results');
      t.notOk(ds['00720065'], 'QIDO-5: an attribute held as InlineBinary is left out of QIDO results');
      t.notOk(ds['00020010'], 'JSON-2: no group 0002 in QIDO results');
      t.notOk(instances.body.includes('BulkDataURI') || instances.body.includes('InlineBinary'), 'JSON-10: no bulk data references at all');
      checkJsonShape(t, instances);
    });

    t.test('QIDO-6: default attributes per level, zero-length when unknown', async (t) => {
      const studies = await search(server, q('/studies'));
      const ds = studies.results[0]!;
      t.same(hasAll(ds, STUDY_DEFAULTS), [], 'QIDO-6: every study default is present');
      t.same(ds['00200010'], { vr: 'SH' }, 'QIDO-6: a study lacking StudyID still has "00200010":{"vr":"SH"}');
      t.same(ds['00080056'], { vr: 'CS', Value: ['ONLINE'] }, 'QIDO-6: InstanceAvailability ONLINE');
      t.same(ds['00080201'], { vr: 'SH', Value: ['+0100'] }, 'QIDO-6: TimezoneOffsetFromUTC when known');
      t.same(ds['00100010'], { vr: 'PN', Value: [{ Alphabetic: 'Test^Patient' }] }, 'JSON-6: PN as an object');
      t.notOk(ds['00081030'], 'QIDO-6: StudyDescription is not a default (only with includefield)');
      checkJsonShape(t, studies);
      const series = await search(server, `/studies/${study}/series`);
      for (const s of series.results) t.same(hasAll(s, [...SERIES_DEFAULTS, '0020000D']), [], 'QIDO-6/7: series defaults and StudyInstanceUID');
      t.same(series.results.find((r) => value(r, '0020000E') === ct)?.['0008103E']?.Value, ['Axial 5mm'], 'QIDO-6: SeriesDescription (C) when known');
      t.notOk(series.results[0]?.['00100010'], 'QIDO-7: /studies/{s}/series does not repeat the study defaults');
      checkJsonShape(t, series);
      const instances = await search(server, `/studies/${study}/series/${ct}/instances`);
      const i = instances.results[0]!;
      t.same(hasAll(i, [...INSTANCE_DEFAULTS, '0020000D', '0020000E']), [], 'QIDO-6/7: instance defaults with study and series UIDs');
      t.same(
        [i['00280010'], i['00280011'], i['00280100']],
        [
          { vr: 'US', Value: [2] },
          { vr: 'US', Value: [2] },
          { vr: 'US', Value: [16] },
        ],
        'QIDO-6: Rows, Columns, BitsAllocated when known',
      );
      t.notOk(i['00080060'], 'QIDO-7: /studies/{s}/series/{se}/instances does not repeat series defaults');
      checkJsonShape(t, instances);
    });

    t.test('QIDO-7: parent attributes on relational resources', async (t) => {
      const series = await search(server, q('/series?Modality=SR'));
      t.same(uids(series.results, '0020000E'), [sr]);
      t.same(
        hasAll(series.results[0], ['0020000D', '00100010', '00201208', ...SERIES_DEFAULTS]),
        [],
        'QIDO-7: /series results carry 0020000D, 00100010, 00201208 and the series keys',
      );
      t.match(
        value(series.results[0], '00081190'),
        new RegExp(`^http://[^/]+/dicomweb/studies/${study}/series/${sr}$`),
        'QIDO-9: the series RetrieveURL, absolute, not the study one',
      );
      const studyInstances = await search(server, `/studies/${study}/instances`);
      t.equal(studyInstances.results.length, 2);
      for (const i of studyInstances.results) {
        t.same(
          hasAll(i, [...INSTANCE_DEFAULTS, '00080060', '00200011', '00201209', '0020000E', '0020000D']),
          [],
          'QIDO-7: /studies/{s}/instances carry the series defaults',
        );
        t.notOk(i['00100010'], 'QIDO-7: … but not the study defaults');
      }
      const all = await search(server, q('/instances'));
      for (const i of all.results)
        t.same(
          hasAll(i, [...INSTANCE_DEFAULTS, ...SERIES_DEFAULTS.filter((k) => k !== '00081190'), ...STUDY_DEFAULTS]),
          [],
          'QIDO-7: /instances carry study and series defaults',
        );
      checkJsonShape(t, all);
    });

    t.test('QIDO-9: RetrieveURL is absolute, proxy-aware and per level', async (t) => {
      const headers = { accept: 'application/dicom+json', host: 'pacs.example:8443' };
      const studies = await search(server, q('/studies'), headers);
      t.equal(value(studies.results[0], '00081190'), `http://pacs.example:8443/dicomweb/studies/${study}`, 'QIDO-9: study URL');
      const series = await search(server, `/studies/${study}/series?SeriesInstanceUID=${ct}`, headers);
      t.equal(value(series.results[0], '00081190'), `http://pacs.example:8443/dicomweb/studies/${study}/series/${ct}`, 'QIDO-9: series URL');
      const inst = await search(server, `/studies/${study}/series/${ct}/instances`, headers);
      t.equal(
        value(inst.results[0], '00081190'),
        `http://pacs.example:8443/dicomweb/studies/${study}/series/${ct}/instances/${sop}`,
        'QIDO-9: instance URL (full path)',
      );
      const warned = await search(server, q('/studies?foo=bar'), headers);
      t.match(warned.warnings[0], /^299 http:\/\/pacs\.example:8443\/dicomweb: /, 'QIDO-10: Warning 299 names the service base URI');
      // GET on each RetrieveURL is WADO-RS (another package): the retrieve tests cover the answer.
      for (const url of [value(studies.results[0], '00081190'), value(series.results[0], '00081190'), value(inst.results[0], '00081190')]) {
        const res = await server.app.inject({ method: 'GET', url: `${new URL(url).pathname}/metadata`, headers: { accept: 'application/dicom+json' } });
        t.equal(res.statusCode, 200, `QIDO-9: GET ${new URL(url).pathname}/metadata (the RetrieveURL) → 200`);
      }
    });
  });
}
