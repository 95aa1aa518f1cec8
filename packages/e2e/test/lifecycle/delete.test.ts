import { join } from 'node:path';
import t from 'tap';
import type { BlobStore } from '@tessera/blob-store';
import { deleteResource } from '@tessera/lifecycle';
import { collectOrphans } from '@tessera/stow-rs';
import { backendNames, ctInstance, encodeInstance, newUid, startTestServer, type InstanceSpec, type TestServer } from '@tessera/testkit';
import { findInstance, findStudy, indexCounts } from '@tessera/index/testing';

/**
 * Issue #15, Delete: DELETE of a study, a series and an instance on every back end. After each, every
 * read path (QIDO-RS, WADO-RS instances/metadata/frames/thumbnails, WADO-URI, the OHIF JSON) stops
 * showing what went, the computed counts (QIDO-8) are exact, and the blobs are gone from the store
 * itself (and the cached thumbnails derived from them).
 */

const PIXELS = { rows: 8, columns: 8, frames: 2 };
const NUMBER_OF_STUDY_RELATED_INSTANCES = '00201208';
const NUMBER_OF_STUDY_RELATED_SERIES = '00201206';
const NUMBER_OF_SERIES_RELATED_INSTANCES = '00201209';
const SERIES_INSTANCE_UID = '0020000E';
const SOP_INSTANCE_UID = '00080018';

interface Study {
  study: string;
  /** Series UID → instance specs. */
  series: Map<string, InstanceSpec[]>;
}

/** A study of `shape.length` series with shape[i] instances each, stored through STOW-RS. */
async function storeStudy(server: TestServer, shape: number[], patientId = 'DEL-1'): Promise<Study> {
  const study = newUid();
  const series = new Map<string, InstanceSpec[]>();
  for (const [s, count] of shape.entries()) {
    const seriesUid = newUid();
    const specs = Array.from({ length: count }, (_, i) =>
      ctInstance({ StudyInstanceUID: study, SeriesInstanceUID: seriesUid, SeriesNumber: s + 1, InstanceNumber: i + 1, PatientID: patientId }, PIXELS),
    );
    series.set(seriesUid, specs);
    for (const spec of specs) {
      const res = await server.app.inject({
        method: 'POST',
        url: '/dicomweb/studies',
        headers: { 'content-type': 'application/dicom' },
        payload: encodeInstance(spec),
      });
      if (res.statusCode !== 200) throw new Error(`STOW ${res.statusCode}: ${res.body}`);
    }
  }
  return { study, series };
}

const sop = (spec: InstanceSpec) => String(spec.attributes.SOPInstanceUID);
const path = (study: string, series?: string, instance?: string) =>
  `/dicomweb/studies/${study}${series ? `/series/${series}` : ''}${series && instance ? `/instances/${instance}` : ''}`;

async function get(server: TestServer, url: string, accept?: string) {
  return server.app.inject({ method: 'GET', url, headers: accept ? { accept } : {} });
}

/** A QIDO-RS answer as a list (204: none). */
async function qido(server: TestServer, url: string): Promise<Record<string, { Value?: unknown[] }>[]> {
  const res = await get(server, url);
  if (res.statusCode === 204) return [];
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
  return res.json();
}
const first = (dataset: Record<string, { Value?: unknown[] }>, tag: string) => dataset[tag]?.Value?.[0];

/** Every blob key under a prefix, read from the store itself. */
async function keys(blobs: BlobStore, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for await (const info of blobs.list(prefix)) found.push(info.key);
  return found.sort();
}

const del = (server: TestServer, url: string) => server.app.inject({ method: 'DELETE', url });
const ANY_DICOM = 'multipart/related; type="application/dicom"; transfer-syntax=*';

for (const backend of backendNames()) {
  t.test(`${backend}: delete an instance, a series, a study`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const kept = await storeStudy(server, [2], 'KEEP-1');
    const target = await storeStudy(server, [3, 2]);
    const [seriesA, seriesB] = [...target.series.keys()] as [string, string];
    const a = target.series.get(seriesA)!;
    const b = target.series.get(seriesB)!;
    t.same(await indexCounts(server.index), { studies: 2, series: 3, instances: 7 }, 'stored');

    // A cached thumbnail of the first instance, to see it go with its blob.
    const thumb = await get(server, `${path(target.study, seriesA, sop(a[0]!))}/thumbnail`, 'image/jpeg');
    t.equal(thumb.statusCode, 200, 'a thumbnail is rendered');
    const a0 = (await findInstance(server.index, sop(a[0]!)))!;
    t.equal((await keys(server.blobs, `thumbnails/${a0.blobKey.replace(/\.dcm$/, '')}/`)).length, 1, 'and cached in the blob store');

    t.test('the capabilities document names the DELETE routes', async (t) => {
      const res = await server.app.inject({ method: 'OPTIONS', url: '/dicomweb', headers: { accept: 'application/json' } });
      t.equal(res.statusCode, 200);
      const resources = res.json<{ application: { resources: { resource: { '@path': string; method: { '@name': string; '@id': string }[] }[] } } }>()
        .application.resources.resource;
      const deletes = resources.flatMap((r) => r.method.filter((m) => m['@name'] === 'DELETE').map((m) => `${r['@path']} ${m['@id']}`));
      t.same(deletes.sort(), [
        'studies/{study} DeleteStudy',
        'studies/{study}/series/{series} DeleteSeries',
        'studies/{study}/series/{series}/instances/{instance} DeleteInstance',
      ]);
    });

    t.test('an instance', async (t) => {
      const res = await del(server, path(target.study, seriesA, sop(a[0]!)));
      t.equal(res.statusCode, 204, '204 No Content');
      t.equal(res.body, '', 'no body');
      const instancePath = path(target.study, seriesA, sop(a[0]!));
      t.equal((await get(server, instancePath, ANY_DICOM)).statusCode, 404, 'WADO-RS instance: 404');
      t.equal((await get(server, `${instancePath}/metadata`)).statusCode, 404, 'WADO-RS instance metadata: 404');
      t.equal((await get(server, `${instancePath}/frames/1`)).statusCode, 404, 'WADO-RS frames: 404');
      t.equal((await get(server, `${instancePath}/thumbnail`, 'image/jpeg')).statusCode, 404, 'WADO-RS thumbnail: 404');
      const uri = `/wadouri?requestType=WADO&studyUID=${target.study}&seriesUID=${seriesA}&objectUID=${sop(a[0]!)}&contentType=application%2Fdicom`;
      t.equal((await get(server, uri)).statusCode, 404, 'WADO-URI: 404');
      const listed = await qido(server, `${path(target.study, seriesA)}/instances`);
      t.same(listed.map((i) => first(i, SOP_INSTANCE_UID)).sort(), a.slice(1).map(sop).sort(), 'QIDO-RS lists the other instances of the series only');
      const metadata = (await get(server, `${path(target.study)}/metadata`)).json<Record<string, { Value?: unknown[] }>[]>();
      t.equal(metadata.length, 4, 'study metadata: the 4 instances left');
      t.notOk(JSON.stringify(metadata).includes(sop(a[0]!)), 'and not the deleted one');
      const ohif = (await get(server, `/ohif/dicomjson/studies/${target.study}`)).body;
      t.notOk(ohif.includes(sop(a[0]!)), 'the OHIF JSON does not list it');
      const [study] = await qido(server, `/dicomweb/studies?StudyInstanceUID=${target.study}&includefield=${NUMBER_OF_STUDY_RELATED_SERIES}`);
      t.equal(first(study!, NUMBER_OF_STUDY_RELATED_INSTANCES), 4, 'NumberOfStudyRelatedInstances 4');
      t.equal(first(study!, NUMBER_OF_STUDY_RELATED_SERIES), 2, 'NumberOfStudyRelatedSeries 2');
      const series = await qido(server, `${path(target.study)}/series`);
      const counts = Object.fromEntries(series.map((s) => [first(s, SERIES_INSTANCE_UID), first(s, NUMBER_OF_SERIES_RELATED_INSTANCES)]));
      t.same(counts, { [seriesA]: 2, [seriesB]: 2 }, 'NumberOfSeriesRelatedInstances 2 and 2');
      t.same(await findStudy(server.index, target.study), {
        numberOfSeries: 2,
        numberOfInstances: 4,
        modalitiesInStudy: ['CT'],
        sopClassesInStudy: ['1.2.840.10008.5.1.4.1.1.2'],
      });
      t.notOk(await server.blobs.head(a0.blobKey), 'its blob is gone from the store');
      t.same(await keys(server.blobs, `thumbnails/${a0.blobKey.replace(/\.dcm$/, '')}/`), [], 'its cached thumbnail too');
      t.equal((await del(server, instancePath)).statusCode, 404, 'deleting it again: 404');
    });

    t.test('a series', async (t) => {
      const bKeys = await Promise.all(b.map(async (spec) => (await findInstance(server.index, sop(spec)))!.blobKey));
      const res = await del(server, path(target.study, seriesB));
      t.equal(res.statusCode, 204);
      t.equal((await get(server, path(target.study, seriesB), ANY_DICOM)).statusCode, 404, 'WADO-RS series: 404');
      t.equal((await get(server, `${path(target.study, seriesB)}/metadata`)).statusCode, 404, 'WADO-RS series metadata: 404');
      t.equal((await get(server, path(target.study, seriesB, sop(b[0]!)), ANY_DICOM)).statusCode, 404, 'its instances: 404');
      t.same(
        (await qido(server, `${path(target.study)}/series`)).map((s) => first(s, SERIES_INSTANCE_UID)),
        [seriesA],
        'QIDO-RS lists only the other series',
      );
      t.same(await qido(server, `/dicomweb/series?SeriesInstanceUID=${seriesB}`), [], 'a series search does not find it');
      t.same(await qido(server, `/dicomweb/instances?SeriesInstanceUID=${seriesB}`), [], 'an instance search does not find its instances');
      t.same(
        await findStudy(server.index, target.study),
        { numberOfSeries: 1, numberOfInstances: 2, modalitiesInStudy: ['CT'], sopClassesInStudy: ['1.2.840.10008.5.1.4.1.1.2'] },
        'counts 1 series, 2 instances',
      );
      for (const key of bKeys) t.notOk(await server.blobs.head(key), `blob ${key.split('/').at(-1)} is gone`);
      t.same(await keys(server.blobs, `instances/${target.study}/${seriesB}/`), [], 'nothing left under the series prefix');
      t.equal((await del(server, path(target.study, seriesB))).statusCode, 404, 'deleting it again: 404');
      t.equal((await del(server, path(kept.study, seriesA))).statusCode, 404, 'a series named under another study: 404');
    });

    t.test('the last instance of a series takes the series with it', async (t) => {
      const small = await storeStudy(server, [1, 1], 'SMALL-1');
      const [one, two] = [...small.series] as [[string, InstanceSpec[]], [string, InstanceSpec[]]];
      t.equal((await del(server, path(small.study, one[0], sop(one[1][0]!)))).statusCode, 204);
      t.same(
        (await qido(server, `${path(small.study)}/series`)).map((s) => first(s, SERIES_INSTANCE_UID)),
        [two[0]],
        'the emptied series is not listed',
      );
      t.equal((await get(server, `${path(small.study, one[0])}/metadata`)).statusCode, 404, 'nor retrieved');
      t.same(await findStudy(server.index, small.study), {
        numberOfSeries: 1,
        numberOfInstances: 1,
        modalitiesInStudy: ['CT'],
        sopClassesInStudy: ['1.2.840.10008.5.1.4.1.1.2'],
      });
      t.equal((await del(server, path(small.study, two[0], sop(two[1][0]!)))).statusCode, 204, 'and the last instance of the study');
      t.same(await qido(server, `/dicomweb/studies?StudyInstanceUID=${small.study}`), [], 'takes the study with it');
      t.same(await qido(server, `/dicomweb/studies?PatientID=SMALL-1`), [], 'and its patient');
    });

    t.test('a study', async (t) => {
      const res = await del(server, path(target.study));
      t.equal(res.statusCode, 204);
      t.same(await qido(server, `/dicomweb/studies?StudyInstanceUID=${target.study}`), [], 'QIDO-RS does not find the study');
      t.same(await qido(server, `/dicomweb/studies?PatientID=DEL-1`), [], 'nor by its patient');
      t.equal((await get(server, path(target.study), ANY_DICOM)).statusCode, 404, 'WADO-RS study: 404');
      t.equal((await get(server, `${path(target.study)}/metadata`)).statusCode, 404, 'WADO-RS study metadata: 404');
      t.equal((await get(server, `/ohif/dicomjson/studies/${target.study}`)).statusCode, 404, 'OHIF v3 JSON: 404');
      t.equal((await get(server, `/ohif/study/${target.study}/series`)).statusCode, 404, 'OHIF legacy JSON: 404');
      t.same(await keys(server.blobs, `instances/${target.study}/`), [], 'no blob of the study is left in the store');
      t.same(await keys(server.blobs, `thumbnails/instances/${target.study}/`), [], 'nor a cached thumbnail');
      t.equal((await del(server, path(target.study))).statusCode, 404, 'deleting it again: 404');
      t.equal((await del(server, path(newUid()))).statusCode, 404, 'a study never stored: 404');
      t.equal((await del(server, '/dicomweb/studies/1.2.03')).statusCode, 400, 'a malformed UID: 400');
      t.equal((await del(server, '/dicomweb/studies')).statusCode, 405, 'DELETE where it is not served: 405');

      t.same(await indexCounts(server.index), { studies: 1, series: 1, instances: 2 }, 'only the other study is left');
      t.same(await findStudy(server.index, kept.study), {
        numberOfSeries: 1,
        numberOfInstances: 2,
        modalitiesInStudy: ['CT'],
        sopClassesInStudy: ['1.2.840.10008.5.1.4.1.1.2'],
      });
      t.equal((await keys(server.blobs, `instances/${kept.study}/`)).length, 2, 'its blobs are untouched');
      t.equal((await get(server, path(kept.study), ANY_DICOM)).statusCode, 200, 'and it is retrieved');
    });

    t.test('a deleted study stored again is a fresh study', async (t) => {
      const again = target.series.get(seriesA)![0]!;
      const res = await server.app.inject({
        method: 'POST',
        url: '/dicomweb/studies',
        headers: { 'content-type': 'application/dicom' },
        payload: encodeInstance(again),
      });
      t.equal(res.statusCode, 200);
      t.same(await findStudy(server.index, target.study), {
        numberOfSeries: 1,
        numberOfInstances: 1,
        modalitiesInStudy: ['CT'],
        sopClassesInStudy: ['1.2.840.10008.5.1.4.1.1.2'],
      });
      t.equal((await get(server, path(target.study, seriesA, sop(again)), ANY_DICOM)).statusCode, 200, 'and retrieved');
    });

    t.test('the audit trail records the deletions', async (t) => {
      await server.app.audit.flush();
      const events = await server.index.audit.find({ studyUid: target.study }, 100);
      const deletions = events.filter((e) => e.action === 'D' && e.httpStatus === 204).map((e) => `${e.type} ${(e.detail as { level?: string }).level}`);
      t.same(deletions.sort(), ['instances-accessed instance', 'instances-accessed series', 'study-deleted study']);
    });
  });

  t.test(`${backend}: a blob whose removal fails is left unreferenced, and gc collects it`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const { study, series } = await storeStudy(server, [2]);
    const [seriesUid, specs] = [...series][0]!;
    const failing = await findInstance(server.index, sop(specs[0]!));
    const other = await findInstance(server.index, sop(specs[1]!));
    // The real store, with one removal failing (as an unreachable S3 or a full disk would make it).
    const blobs: BlobStore = Object.create(server.blobs, {
      delete: {
        value: async (key: string) => {
          if (key === failing!.blobKey) throw new Error('injected: the blob store refused the removal');
          return server.blobs.delete(key);
        },
      },
    });
    const outcome = await deleteResource({ index: server.index, blobs }, { studyInstanceUid: study, seriesInstanceUid: seriesUid });
    t.same(outcome?.blobsLeft, [failing!.blobKey], 'the failed removal is reported');
    t.same(outcome?.sopInstanceUids.sort(), specs.map(sop).sort(), 'both instances left the index');
    t.notOk(await server.blobs.head(other!.blobKey), 'the other blob is gone');
    t.ok(await server.blobs.head(failing!.blobKey), 'the blob is still in the store');
    t.notOk(await server.index.instances.isBlobReferenced(failing!.blobKey), 'but no row refers to it: an orphan');
    t.same(await indexCounts(server.index), { studies: 0, series: 0, instances: 0 });
    const report = await collectOrphans(server.index, server.blobs, { spoolDir: join(server.dataDir, 'no-spool'), graceMs: 0 });
    t.same(report.removed, [failing!.blobKey], '`tessera gc` collects it');
    t.notOk(await server.blobs.head(failing!.blobKey), 'and it is gone');
  });
}
