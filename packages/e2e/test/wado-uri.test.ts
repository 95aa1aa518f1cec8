import t from 'tap';
import { backendNames, ctInstance, encodeInstance, readShared, startTestServer } from '@tessera/testkit';
import { storedPath, upload } from './retrieve-helpers.js';

/** WADO-URI (digest WADOURI-1..7, D16, D25), at /wadouri and /wado, every back end. */

const OHIF_LOADER_ACCEPT = 'multipart/related; type="application/octet-stream"; transfer-syntax="*"';

for (const backend of backendNames()) {
  t.test(`${backend}: WADO-URI`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const spec = ctInstance({}, { rows: 8, columns: 8, frames: 1 });
    const file = encodeInstance(spec);
    await upload(server, file);
    const a = spec.attributes;
    const ids = `studyUID=${a.StudyInstanceUID}&seriesUID=${a.SeriesInstanceUID}&objectUID=${a.SOPInstanceUID}`;
    const get = (query: string, accept?: string, base = '/wadouri') =>
      server.app.inject({ method: 'GET', url: `${base}?${query}`, headers: accept ? { accept } : {} });

    t.test('WADOURI-7: the exact OHIF request (plus &frame=1 and the loader Accept) returns the file', async (t) => {
      for (const base of ['/wadouri', '/wado']) {
        const res = await get(`requestType=WADO&${ids}&contentType=application%2Fdicom&transferSyntax=*&frame=1`, OHIF_LOADER_ACCEPT, base);
        t.equal(res.statusCode, 200, `${base}: 200`);
        t.equal(res.headers['content-type'], 'application/dicom', 'WADOURI-6: Content-Type');
        t.equal(Number(res.headers['content-length']), file.length, 'WADOURI-6: Content-Length');
        t.match(res.headers['content-location'], new RegExp(`^${server.url.replace(/\./g, '\\.')}${base}\\?requestType=WADO`), 'WADOURI-6: Content-Location');
        t.ok(res.rawPayload.equals(file), 'the stored file');
      }
    });

    t.test('WADOURI-1: parameters', async (t) => {
      t.equal(
        (await get(`requestType=WADO&studyUID=${a.StudyInstanceUID}&objectUID=${a.SOPInstanceUID}&contentType=application/dicom`)).statusCode,
        400,
        'missing seriesUID → 400',
      );
      t.equal((await get(`${ids}&contentType=application/dicom`)).statusCode, 400, 'missing requestType → 400');
      t.equal((await get(`requestType=wado&${ids}&contentType=application/dicom`)).statusCode, 400, 'requestType=wado → 400');
      t.equal(
        (await get(`RequestType=wado&${ids}&contentType=application/dicom`)).statusCode,
        200,
        'legacy RequestType spelling, value case-insensitive (documented leniency)',
      );
      t.equal((await get(`requestType=WADO&&${ids}&&contentType=application/dicom&`)).statusCode, 200, 'empty parameters tolerated');
      t.equal(
        (await get(`requestType=WADO&studyUID=1.2.03&seriesUID=${a.SeriesInstanceUID}&objectUID=${a.SOPInstanceUID}&contentType=application/dicom`)).statusCode,
        400,
        'DATA-1: malformed UID → 400',
      );
      t.equal(
        (await get(`requestType=WADO&studyUID=${a.StudyInstanceUID}&seriesUID=${a.SeriesInstanceUID}&objectUID=1.2.999&contentType=application/dicom`))
          .statusCode,
        404,
        'unknown instance → 404',
      );
      t.equal((await get(`requestType=WADO&${ids}&objectUID=1.2.3&contentType=application/dicom`)).statusCode, 400, 'objectUID twice → 400');
      t.equal((await get(`requestType=WADO&${ids}&contentType=application/dicom&foo=bar`)).statusCode, 200, 'COMMON-2: unknown parameters ignored');
    });

    t.test('WADOURI-2: contentType', async (t) => {
      const none = await get(`requestType=WADO&${ids}`);
      t.equal(none.statusCode, 200, 'no contentType = rendered image/jpeg');
      t.equal(none.headers['content-type'], 'image/jpeg');
      t.same([...none.rawPayload.subarray(0, 2)], [0xff, 0xd8], 'WADOURI-6: one JPEG, never multipart');
      const png = await get(`requestType=WADO&${ids}&contentType=image/png`);
      t.equal(png.headers['content-type'], 'image/png', 'image/png');
      t.equal(png.rawPayload.toString('latin1', 1, 4), 'PNG');
      t.equal((await get(`requestType=WADO&${ids}&contentType=image/jp2`)).statusCode, 406, 'an unsupported rendered type → 406');
      t.equal((await get(`requestType=WADO&${ids}&contentType=application/dicom,image/jpeg`)).statusCode, 400, 'mixed → 400');
      t.equal(
        (await get(`requestType=WADO&${ids}&contentType=${encodeURIComponent('application/dicom; transfer-syntax=1.2.840.10008.1.2.1')}`)).statusCode,
        400,
        'media type parameters → 400',
      );
      t.equal(
        (await get(`requestType=WADO&${ids}&contentType=application/dicom&windowCenter=40&windowWidth=400`)).statusCode,
        400,
        'WADOURI-5: windowing with application/dicom → 400',
      );
      t.equal((await get(`requestType=WADO&${ids}&contentType=application/dicom&frameNumber=1`)).statusCode, 200, 'WADOURI-7: frameNumber ignored');
    });

    t.test('WADOURI-5: rendering parameters', async (t) => {
      const sized = await get(`requestType=WADO&${ids}&contentType=image/png&rows=4&columns=4&windowCenter=100&windowWidth=200`);
      t.equal(sized.statusCode, 200);
      t.equal(sized.rawPayload.readUInt32BE(16), 4, 'columns=4');
      t.equal(sized.rawPayload.readUInt32BE(20), 4, 'rows=4');
      t.equal((await get(`requestType=WADO&${ids}&windowCenter=40`)).statusCode, 400, 'windowCenter alone → 400');
      t.equal((await get(`requestType=WADO&${ids}&frameNumber=2`)).statusCode, 400, 'frameNumber on a single-frame image → 400');
      t.equal((await get(`requestType=WADO&${ids}&region=0.5,0,0.2,1`)).statusCode, 400, 'xmin ≥ xmax → 400');
      t.equal((await get(`requestType=WADO&${ids}&imageQuality=101`)).statusCode, 400, 'imageQuality out of range → 400');
      t.equal((await get(`requestType=WADO&${ids}&region=0,0,0.5,0.5&imageQuality=50`)).statusCode, 200, 'region and quality');
    });

    t.test('WADOURI-3: transferSyntax', async (t) => {
      t.equal((await get(`requestType=WADO&${ids}&contentType=application/dicom`)).statusCode, 200, 'absent → Explicit VR LE');
      t.equal((await get(`requestType=WADO&${ids}&contentType=application/dicom&transferSyntax=1.2.840.10008.1.2.1`)).statusCode, 200);
      t.equal((await get(`requestType=WADO&${ids}&contentType=application/dicom&transferSyntax=1.2.3,1.2.4`)).statusCode, 400, 'two values → 400');
      t.equal(
        (await get(`requestType=WADO&${ids}&contentType=application/dicom&transferSyntax=1.2.840.10008.1.2.1&transferSyntax=*`)).statusCode,
        400,
        'repeated → 400',
      );
      t.equal((await get(`requestType=WADO&${ids}&contentType=application/dicom&transferSyntax=abc`)).statusCode, 400, 'invalid UID → 400');
      t.equal((await get(`requestType=WADO&${ids}&contentType=application/dicom&transferSyntax=1.2.840.10008.1.2.4.90`)).statusCode, 406, 'no codec → 406');
      t.equal(
        (await get(`requestType=WADO&${ids}&contentType=application/dicom&transferSyntax=1.2.840.10008.1.2`)).statusCode,
        406,
        'NEG-7: implicit never served → 406',
      );
    });

    t.test('WADOURI-4: anonymize fails closed', async (t) => {
      for (const value of ['yes', 'no', '']) {
        const res = await get(`requestType=WADO&${ids}&contentType=application/dicom&anonymize=${value}`);
        t.equal(res.statusCode, 400, `anonymize=${value} → 400`);
        t.notOk(res.rawPayload.includes(Buffer.from('DICM')), 'never the original file');
      }
    });

    t.test('WADOURI-3: an implicit VR object is re-encoded even for transferSyntax=*', async (t) => {
      const implicit = readShared('transfer-syntax/small/mr-small_1.2.840.10008.1.2_implicit-le.dcm');
      const url = storedPath((await upload(server, implicit)).body)!;
      const [, , , s, , se, , i] = url.split('/');
      const res = await get(`requestType=WADO&studyUID=${s}&seriesUID=${se}&objectUID=${i}&contentType=application/dicom&transferSyntax=*`);
      t.equal(res.statusCode, 200);
      t.ok(res.rawPayload.includes(Buffer.from('1.2.840.10008.1.2.1\0')), 'File Meta says Explicit VR LE');
      t.equal(Number(res.headers['content-length']), res.rawPayload.length, 'WADOURI-6: Content-Length of the re-encoded file');
    });
  });
}
