import { createHash } from 'node:crypto';
import t from 'tap';
import { backendNames, readShared, sharedFiles, startTestServer, type TestServer } from '@tessera/testkit';

/** The OHIF adapter's JSON: legacy standalone format (DICOMcloud shape) and OHIF v3 DICOM JSON. */

const CT_STUDY = '1.2.826.0.1.3680043.9.4245.1760717064491086528325869788156915668';
const CT_SERIES = '1.2.826.0.1.3680043.9.4245.3115138630835728997848661150714813892';
const MULTIFRAME = 'multiframe/enhanced-mr-emri_small-10fr.dcm';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function upload(server: TestServer, path: string) {
  const res = await server.app.inject({
    method: 'POST',
    url: '/dicomweb/studies',
    headers: { 'content-type': 'application/dicom' },
    payload: readShared(path),
  });
  if (res.statusCode >= 300) throw new Error(`${path}: ${res.statusCode} ${res.body}`);
  return JSON.parse(res.body)['00081199'].Value[0]['00081190'].Value[0] as string;
}

for (const backend of backendNames()) {
  t.test(`${backend}: OHIF JSON`, async (t) => {
    // The public host the URLs below are built from is a configured one (ALLOWED_HOSTS, issue #21 item 13).
    const server = await startTestServer(backend, { ALLOWED_HOSTS: 'pacs.example:8080' });
    t.teardown(() => server.close());
    const ctFiles = sharedFiles('series/ct-ge-hispeed-tilt-28');
    // Upload out of order: the adapter must order by InstanceNumber, not by arrival.
    for (const path of [...ctFiles].reverse()) await upload(server, path);
    const multiframeUrl = await upload(server, MULTIFRAME);
    const [, mfStudy] = /studies\/([\d.]+)\//.exec(multiframeUrl)!;

    t.test('legacy standalone format, key for key', async (t) => {
      const res = await server.app.inject({ method: 'GET', url: `/ohif/study/${CT_STUDY}/series`, headers: { host: 'pacs.example:8080' } });
      t.equal(res.statusCode, 200);
      const doc = JSON.parse(res.body);
      t.same(Object.keys(doc), ['transactionId', 'studies']);
      t.match(doc.transactionId, /^[0-9a-f-]{36}$/, 'a UUID transactionId');
      t.equal(doc.studies.length, 1);
      const study = doc.studies[0];
      t.same(Object.keys(study).slice(0, 2), ['studyInstanceUid', 'patientName'], 'the DICOMcloud keys come first');
      t.equal(study.studyInstanceUid, CT_STUDY);
      t.equal(study.patientName, 'REMOVED');
      t.equal(study.patientId, 'QMNx85rKkkg');
      t.equal(study.seriesList.length, 1);
      const series = study.seriesList[0];
      t.same(Object.keys(series).slice(0, 2), ['seriesInstanceUid', 'seriesDescription']);
      t.equal(series.seriesInstanceUid, CT_SERIES);
      t.equal(series.seriesNumber, 2);
      t.equal(series.instances.length, 28, 'every instance of the series');
      t.same(
        series.instances.map((i: { instanceNumber: number }) => i.instanceNumber),
        Array.from({ length: 28 }, (_, i) => i + 1),
        'ordered by InstanceNumber',
      );
      const first = series.instances[0];
      t.same(
        Object.keys(first).filter((k) => ['sopInstanceUid', 'rows', 'url'].includes(k)),
        ['sopInstanceUid', 'rows', 'url'],
      );
      t.equal(first.rows, 512, 'real Rows (DICOMcloud wrote 1)');
      t.equal(first.columns, 512);
      t.match(
        first.url,
        new RegExp(
          `^dicomweb://pacs\\.example:8080/wadouri/\\?RequestType=wado&studyUID=${CT_STUDY}&seriesUID=${CT_SERIES}&objectUID=[\\d.]+&contentType=application/dicom$`,
        ),
        'dicomweb: scheme, public host, the seed query',
      );
    });

    t.test('every legacy URL, fetched over http, returns the instance bytes', async (t) => {
      const doc = JSON.parse((await server.app.inject({ method: 'GET', url: `/ohif/study/${CT_STUDY}/series` })).body);
      const byNumber = new Map(ctFiles.map((p) => [Number(/(\d+)\.dcm$/.exec(p)![1]), readShared(p)]));
      for (const instance of doc.studies[0].seriesList[0].instances) {
        const url = new URL(instance.url.replace(/^dicomweb:/, 'http:'));
        const res = await server.app.inject({ method: 'GET', url: `${url.pathname}${url.search}` });
        t.equal(res.statusCode, 200, `instance ${instance.instanceNumber}`);
        t.equal(sha256(res.rawPayload), sha256(byNumber.get(instance.instanceNumber)!), `instance ${instance.instanceNumber}: the stored bytes`);
      }
    });

    t.test('single series form and errors', async (t) => {
      const one = await server.app.inject({ method: 'GET', url: `/ohif/study/${CT_STUDY}/series/${CT_SERIES}` });
      t.equal(one.statusCode, 200);
      t.equal(JSON.parse(one.body).studies[0].seriesList[0].instances.length, 28);
      const unknown = await server.app.inject({ method: 'GET', url: '/ohif/study/1.2.999/series' });
      t.equal(unknown.statusCode, 404);
      t.match(unknown.headers['content-type'], /problem\+json/);
      t.equal((await server.app.inject({ method: 'GET', url: '/ohif/study/1.2.03/series' })).statusCode, 400, 'a malformed UID is 400');
    });

    t.test('OHIF v3 DICOM JSON', async (t) => {
      const res = await server.app.inject({ method: 'GET', url: `/ohif/dicomjson/studies/${CT_STUDY}` });
      t.equal(res.statusCode, 200);
      const doc = JSON.parse(res.body);
      const series = doc.studies[0].series[0];
      t.equal(series.instances.length, 28);
      const m = series.instances[0].metadata;
      for (const keyword of [
        'StudyInstanceUID',
        'SeriesInstanceUID',
        'SOPInstanceUID',
        'SOPClassUID',
        'Modality',
        'Rows',
        'Columns',
        'BitsAllocated',
        'PixelRepresentation',
        'PhotometricInterpretation',
        'ImagePositionPatient',
        'ImageOrientationPatient',
        'PixelSpacing',
        'RescaleSlope',
        'RescaleIntercept',
        'WindowCenter',
        'WindowWidth',
        'InstanceNumber',
      ]) {
        t.ok(m[keyword] !== undefined, `metadata has ${keyword}`);
      }
      t.equal(m.Rows, 512, 'single values unwrapped');
      t.equal(m.ImageOrientationPatient.length, 6, 'multiple values as arrays');
      t.match(series.instances[0].url, /^dicomweb:http:\/\/[^/]+\/wadouri\/\?requestType=WADO&studyUID=/);

      const mf = JSON.parse((await server.app.inject({ method: 'GET', url: `/ohif/dicomjson/studies/${mfStudy}` })).body);
      const frames = mf.studies[0].series[0].instances;
      t.equal(frames.length, 10, 'a 10-frame instance is listed once per frame');
      t.match(frames[9].url, /&frame=10$/);
      const wado = new URL(frames[0].url.replace(/^dicomweb:/, ''));
      const file = await server.app.inject({
        method: 'GET',
        url: `${wado.pathname}${wado.search}`,
        headers: { accept: 'multipart/related; type="application/octet-stream"; transfer-syntax="*"' },
      });
      t.equal(file.statusCode, 200, 'the WADO-URI URL answers the Accept header OHIF sends');
      t.equal(sha256(file.rawPayload), sha256(readShared(MULTIFRAME)));
    });
  });
}
