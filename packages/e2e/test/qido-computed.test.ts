import t from 'tap';
import { backendNames, newUid, startTestServer, type TestServer } from '@tessera/testkit';
import { instance, search, sorted, store, uids, value } from './qido-support.js';

/** QIDO-RS computed attributes (digest QIDO-8), maintained on STOW, on every storage back end. */

const SR_CLASS = '1.2.840.10008.5.1.4.1.1.88.11';
const CT_CLASS = '1.2.840.10008.5.1.4.1.1.2';

for (const backend of backendNames()) {
  t.test(backend, async (t) => {
    const server: TestServer = await startTestServer(backend);
    t.teardown(() => server.close());
    const issuer = `CMP-${newUid().slice(-6)}`;
    const study = newUid();
    const ct = newUid();
    const sr = newUid();
    await store(t, server, [
      instance({ IssuerOfPatientID: issuer, StudyInstanceUID: study, SeriesInstanceUID: ct, Modality: 'CT' }),
      instance({ IssuerOfPatientID: issuer, StudyInstanceUID: study, SeriesInstanceUID: ct, Modality: 'CT', InstanceNumber: 2 }),
      instance({ IssuerOfPatientID: issuer, StudyInstanceUID: study, SeriesInstanceUID: sr, Modality: 'SR', SOPClassUID: SR_CLASS }),
    ]);

    t.test('QIDO-8: 2 CT + 1 SR instances in 2 series', async (t) => {
      const answer = await search(server, `/studies?StudyInstanceUID=${study}&includefield=SOPClassesInStudy`);
      const ds = answer.results[0]!;
      t.same(ds['00201206'], { vr: 'IS', Value: [2] }, 'QIDO-8: NumberOfStudyRelatedSeries [2]');
      t.same(ds['00201208'], { vr: 'IS', Value: [3] }, 'QIDO-8: NumberOfStudyRelatedInstances [3]');
      t.same(sorted(ds['00080061']!.Value!), ['CT', 'SR'], 'QIDO-8: ModalitiesInStudy ["CT","SR"]');
      t.equal(ds['00080061']!.vr, 'CS');
      t.same(sorted(ds['00080062']!.Value!), sorted([CT_CLASS, SR_CLASS]), 'QIDO-8: SOPClassesInStudy (includefield)');
      const series = await search(server, `/studies/${study}/series`);
      const counts = Object.fromEntries(series.results.map((r) => [value(r, '0020000E'), r['00201209']]));
      t.same(counts, { [ct]: { vr: 'IS', Value: [2] }, [sr]: { vr: 'IS', Value: [1] } }, 'QIDO-8: NumberOfSeriesRelatedInstances per series');
      const instances = await search(server, `/studies/${study}/instances`);
      t.ok(
        instances.results.every((r) => r['00201209']),
        'QIDO-7/8: /studies/{s}/instances results carry the series count',
      );
    });

    t.test('QIDO-8: counts follow new instances', async (t) => {
      await store(t, server, [instance({ IssuerOfPatientID: issuer, StudyInstanceUID: study, SeriesInstanceUID: newUid(), Modality: 'MR' })]);
      const ds = (await search(server, `/studies?StudyInstanceUID=${study}`)).results[0]!;
      t.same([value(ds, '00201206'), value(ds, '00201208')], [3, 4], 'QIDO-8: 3 series, 4 instances after another STOW');
      t.same(sorted(ds['00080061']!.Value!), ['CT', 'MR', 'SR'], 'QIDO-8: ModalitiesInStudy gains MR');
    });

    t.test('QIDO-8: computed attributes as match keys', async (t) => {
      t.same(uids((await search(server, `/studies?IssuerOfPatientID=${issuer}&ModalitiesInStudy=SR`)).results), [study], 'MATCH-9: ModalitiesInStudy=SR');
      t.same(
        uids((await search(server, `/studies?IssuerOfPatientID=${issuer}&NumberOfStudyRelatedInstances=4`)).results),
        [study],
        'QIDO-8: NumberOfStudyRelatedInstances=4',
      );
      t.equal(
        (await search(server, `/studies?IssuerOfPatientID=${issuer}&NumberOfStudyRelatedInstances=5`)).status,
        204,
        'QIDO-8: NumberOfStudyRelatedInstances=5 → 204',
      );
      t.same(
        uids((await search(server, `/studies?IssuerOfPatientID=${issuer}&SOPClassesInStudy=${SR_CLASS}`)).results),
        [study],
        'QIDO-8: SOPClassesInStudy as a UID key',
      );
      const none = await search(server, `/studies?IssuerOfPatientID=${issuer}&ModalitiesInStudy=&NumberOfStudyRelatedSeries=`);
      t.same(value(none.results[0], '00201206'), 3, 'MATCH-11: universal keys on computed attributes');
    });
  });
}
