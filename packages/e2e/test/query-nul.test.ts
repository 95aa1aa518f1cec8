import t from 'tap';
import { backendNames, ctInstance, encodeInstance, startTestServer } from '@tessera/testkit';
import { ROOT, store } from './qido-support.js';

/**
 * A NUL (U+0000) in a query parameter, on every route that reads a query string: QIDO-RS answers 400
 * naming the parameter (PostgreSQL refuses the byte in text, so it must never reach the index:
 * issue #21 item 9); WADO-RS, rendered, WADO-URI, the OHIF routes and the viewer never answer 5xx.
 */

const QIDO_PARAMETERS: [string, string][] = [
  ['/studies', 'PatientName=%00'],
  ['/studies', 'PatientName=A%00*'],
  ['/studies', 'PatientName=%00&fuzzymatching=true'],
  ['/studies', 'PatientID=X%00'],
  ['/studies', 'PatientID=X-1,%00'],
  ['/studies', 'StudyDescription=*%00*'],
  ['/studies', 'AccessionNumber=%00'],
  ['/studies', 'ReferringPhysicianName=%00'],
  ['/studies', 'ModalitiesInStudy=CT%00'],
  ['/studies', 'StudyInstanceUID=1.2%00'],
  ['/studies', 'StudyDate=2020%00'],
  ['/studies', 'StudyTime=%00'],
  ['/studies', '00100010=%00'],
  ['/studies', 'IssuerOfPatientID=%00'],
  ['/studies', 'includefield=%00'],
  ['/studies', 'includefield=PatientAge%00'],
  ['/studies', 'fuzzymatching=%00'],
  ['/studies', 'limit=1%00'],
  ['/studies', 'offset=%00'],
  ['/studies', 'emptyvaluematching=%00'],
  ['/studies', 'multiplevaluematching=true&PatientID=%00'],
  ['/series', 'Modality=%00'],
  ['/series', 'SeriesDescription=%00'],
  ['/series', 'SeriesInstanceUID=%00'],
  ['/series', 'SeriesNumber=%00'],
  ['/instances', 'SOPInstanceUID=%00'],
  ['/instances', 'SOPClassUID=1.2%00'],
  ['/instances', 'InstanceNumber=1%00'],
  ['/studies', 'Patient%00Name=x'],
  ['/studies', '%00=x'],
  ['/studies', 'PatientName.x%00=1'],
];

for (const backend of backendNames()) {
  t.test(backend, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const spec = ctInstance({ PatientID: 'X-1' }, { rows: 8, columns: 8, frames: 1 });
    await store(t, server, [encodeInstance(spec)]);
    const a = spec.attributes;
    const study = String(a.StudyInstanceUID);
    const series = String(a.SeriesInstanceUID);
    const sop = String(a.SOPInstanceUID);
    const get = (url: string, accept = '*/*') => server.app.inject({ method: 'GET', url, headers: { accept } });

    t.test('QIDO-RS: 400 naming the parameter', async (t) => {
      const resources = (path: string) => [
        path,
        ...(path === '/series'
          ? [`/studies/${study}/series`]
          : path === '/instances'
            ? [`/studies/${study}/instances`, `/studies/${study}/series/${series}/instances`]
            : []),
      ];
      for (const [path, query] of QIDO_PARAMETERS) {
        for (const resource of resources(path)) {
          const res = await get(`${ROOT}${resource}?${query}`, 'application/dicom+json');
          t.equal(res.statusCode, 400, `${resource}?${query} → 400`);
          t.match(res.headers['content-type'], /^application\/problem\+json/, 'a problem body');
          const name = query
            .split('&')
            .find((p) => p.includes('%00'))!
            .split('=')[0]!
            .replace(/%00/g, '?');
          t.ok(JSON.parse(res.body).detail.includes(`query parameter ${name} `), `the problem names ${name}`);
        }
      }
      const clean = await get(`${ROOT}/studies?PatientID=X-1`, 'application/dicom+json');
      t.equal(clean.statusCode, 200, 'the same search without the NUL still works');
    });

    t.test('WADO-RS, rendered, WADO-URI, OHIF, viewer: never 5xx', async (t) => {
      const instance = `${ROOT}/studies/${study}/series/${series}/instances/${sop}`;
      const urls = [
        `${ROOT}/studies/${study}?accept=%00`,
        `${ROOT}/studies/${study}/metadata?accept=application/dicom%00`,
        `${instance}/frames/1?accept=%00`,
        `${ROOT}/studies/1.2%00/metadata`,
        `${ROOT}/studies/${study}/series/%00`,
        `${instance}/frames/1%00`,
        `${instance}/bulkdata/%00`,
        ...[
          'window=%00',
          'window=40,400,LINEAR%00',
          'viewport=%00',
          'viewport=64,64%00',
          'quality=%00',
          'annotation=%00',
          'accept=%00',
          'accept=image/png%00',
          'iccprofile=%00',
        ].flatMap((q) => [`${instance}/rendered?${q}`, `${instance}/thumbnail?${q}`, `${instance}/frames/1/rendered?${q}`]),
        ...[
          'requestType=%00',
          'requestType=WADO%00',
          'studyUID=%00',
          'seriesUID=1.2%00',
          'objectUID=%00',
          'contentType=%00',
          'contentType=image/jpeg%00',
          'contentType=application/dicom%00',
          'transferSyntax=%00',
          'charset=%00',
          'frameNumber=%00',
          'rows=%00',
          'columns=%00',
          'region=%00',
          'windowCenter=%00',
          'windowWidth=%00',
          'imageQuality=%00',
          'annotation=%00',
          'anonymize=%00',
          'presentationUID=%00',
          'x%00=1',
        ].flatMap((q) => {
          const ids = { requestType: 'WADO', studyUID: study, seriesUID: series, objectUID: sop, contentType: 'image/jpeg' } as Record<string, string>;
          const name = q.split('=')[0]!;
          const rest = Object.entries(ids)
            .filter(([k]) => k !== name)
            .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
            .join('&');
          return ['/wadouri', '/wado'].map((base) => `${base}?${rest}&${q}`);
        }),
        `/ohif/study/${study}/series?x=%00`,
        `/ohif/study/%00/series`,
        `/ohif/dicomjson/studies/${study}?%00=%00`,
        '/viewer?StudyInstanceUIDs=%00',
        '/app-config.js?%00',
        '/?%00=%00',
      ];
      for (const url of urls) {
        const res = await get(url);
        t.ok(res.statusCode < 500, `${url} → ${res.statusCode}`);
        if (res.statusCode >= 400) t.match(res.headers['content-type'], /^application\/problem\+json/, `${url}: a problem body`);
      }
    });
  });
}
