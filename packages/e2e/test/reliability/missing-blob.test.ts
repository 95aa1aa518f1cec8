import t from 'tap';
import { backendNames, ctInstance, encodeInstance, startTestServer } from '@tessera/testkit';
import { findInstance } from '@tessera/index/testing';

/**
 * Issue #21 item 2: an indexed instance whose blob is gone (removed outside the server, a storage
 * fault) is answered 503 INSTANCE_DATA_MISSING on every retrieve route, never 500.
 */
for (const backend of backendNames()) {
  t.test(`${backend}: retrieving an instance whose blob is missing`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const spec = ctInstance({}, { rows: 64, columns: 64, frames: 2 });
    const stored = await server.app.inject({
      method: 'POST',
      url: '/dicomweb/studies',
      headers: { 'content-type': 'application/dicom' },
      payload: encodeInstance(spec),
    });
    t.equal(stored.statusCode, 200);
    const { StudyInstanceUID: study, SeriesInstanceUID: series, SOPInstanceUID: sop } = spec.attributes as Record<string, string>;
    const row = await findInstance(server.index, sop!);
    await server.blobs.delete(row!.blobKey);

    const instance = `/dicomweb/studies/${study}/series/${series}/instances/${sop}`;
    const metadata = await server.app.inject({ method: 'GET', url: `${instance}/metadata` });
    t.equal(metadata.statusCode, 200, 'the metadata comes from the index, not the blob');
    const pixelDataUri = String(metadata.json<Record<string, { BulkDataURI?: string }>[]>()[0]!['7FE00010']!.BulkDataURI);
    const requests: [string, string, string?][] = [
      ['WADO-RS instance', instance, 'multipart/related; type="application/dicom"'],
      ['WADO-RS frame', `${instance}/frames/1`, 'multipart/related; type="application/octet-stream"'],
      ['WADO-RS rendered', `${instance}/rendered`, 'image/jpeg'],
      ['WADO-RS bulk data', new URL(pixelDataUri).pathname, 'multipart/related; type="application/octet-stream"'],
      ['WADO-URI file', `/wadouri?requestType=WADO&studyUID=${study}&seriesUID=${series}&objectUID=${sop}&contentType=application/dicom`],
      ['WADO-URI rendered', `/wadouri?requestType=WADO&studyUID=${study}&seriesUID=${series}&objectUID=${sop}`],
    ];
    for (const [name, url, accept] of requests) {
      const res = await server.app.inject({ method: 'GET', url, headers: accept ? { accept } : {} });
      t.equal(res.statusCode, 503, `${name}: 503 (${res.statusCode} ${res.body.slice(0, 160)})`);
      t.equal(res.json().code, 'INSTANCE_DATA_MISSING', `${name}: says what is wrong`);
    }
  });
}
