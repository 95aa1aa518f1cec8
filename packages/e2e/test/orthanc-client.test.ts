import { createHash } from 'node:crypto';
import t from 'tap';
import { backendNames, orthancMissing, readManifest, readShared, sharedFiles, startOrthanc, startTestServer } from '@tessera/testkit';
import { findInstance, indexCounts } from '@tessera/index/testing';

/**
 * A real DICOMweb client nobody on this project wrote: Orthanc 1.10 with its DICOMweb plugin
 * (Debian packages `orthanc`, `orthanc-dicomweb`), started by the test on a loopback port of its
 * own. Orthanc pushes two real multi-series studies here with STOW-RS (a 73-character boundary,
 * chunked, a Content-Length on every part), searches them with QIDO-RS at the three levels, and
 * after its own copies are deleted pulls them back with WADO-RS: every file must come back byte for
 * byte. On every storage back end.
 *
 * Without Orthanc the test is skipped, unless TESSERA_REQUIRE_REAL_CLIENTS=1 (set by .ci/run),
 * where a missing client fails it.
 */
/**
 * Two studies of Explicit VR Little Endian files: a CT study of two series and an SR + SEG + RWV
 * study of three. (Files stored in Implicit VR Little Endian come back re-encoded in Explicit VR
 * Little Endian even for `transfer-syntax=*`, PS3.18 §8.7.3.5.2: those cannot be byte for byte.)
 */
const STUDY_FOLDERS = ['dicomdir/98892001', 'studies/qin-headneck-seg-sr-rwvm'];
const SERVER = 'tessera';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
/** Orthanc's /qido answer: per attribute `{ vr, Name, Group, Element, Value }`, Value a string. */
type OrthancQidoItem = Record<string, { vr: string; Name: string; Value?: string }>;
const value = (item: OrthancQidoItem, tag: string) => item[tag]?.Value;

const missing = orthancMissing();
const skip = missing && process.env.TESSERA_REQUIRE_REAL_CLIENTS !== '1' ? missing : false;

for (const backend of backendNames()) {
  t.test(`${backend}: Orthanc as a DICOMweb client`, { skip }, async (t) => {
    const manifest = readManifest();
    const files = STUDY_FOLDERS.flatMap((folder) => sharedFiles(folder));
    const originals = new Map(files.map((path) => [manifest.get(path)!.sopUid, { path, row: manifest.get(path)!, bytes: readShared(path) }]));
    t.equal(originals.size, files.length, `${files.length} distinct instances`);
    const studies = new Map<string, { series: Set<string>; instances: number }>();
    for (const { row } of originals.values()) {
      const study = studies.get(row.studyUid) ?? { series: new Set(), instances: 0 };
      study.series.add(row.seriesUid);
      study.instances++;
      studies.set(row.studyUid, study);
    }
    t.ok(
      [...studies.values()].every((s) => s.series.size >= 2),
      'every study has two series or more',
    );

    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const orthanc = await startOrthanc();
    t.teardown(() => orthanc.stop());

    await orthanc.rest('PUT', `/dicom-web/servers/${SERVER}`, { Url: `${server.url}/dicomweb` });
    t.same(await orthanc.rest('GET', '/dicom-web/servers'), [SERVER], 'this server is registered with Orthanc');

    // Load the studies into Orthanc.
    const orthancStudies = new Set<string>();
    for (const { path, bytes } of originals.values()) {
      const stored = await orthanc.rest<{ Status: string; ParentStudy: string }>('POST', '/instances', bytes);
      t.equal(stored.Status, 'Success', `Orthanc stored ${path}`);
      orthancStudies.add(stored.ParentStudy);
    }
    t.equal(orthancStudies.size, studies.size, 'Orthanc sees the same studies');
    const patientIds = new Map<string, string>();
    for (const id of orthancStudies) {
      const study = await orthanc.rest<{ MainDicomTags: Record<string, string>; PatientMainDicomTags: Record<string, string> }>('GET', `/studies/${id}`);
      patientIds.set(study.MainDicomTags.StudyInstanceUID!, study.PatientMainDicomTags.PatientID!);
    }

    await t.test('STOW-RS from Orthanc stores every instance', async (t) => {
      await orthanc.rest('POST', `/dicom-web/servers/${SERVER}/stow`, { Resources: [...orthancStudies] });
      const counts = await indexCounts(server.index);
      t.equal(counts.instances, originals.size, 'every instance indexed here');
      for (const [sopUid, { path, bytes }] of originals) {
        const found = await findInstance(server.index, sopUid);
        const chunks: Buffer[] = [];
        if (found) for await (const chunk of await server.blobs.get(found.blobKey)) chunks.push(chunk as Buffer);
        t.equal(sha256(Buffer.concat(chunks)), sha256(bytes), `${path} stored byte for byte`);
      }
    });

    await t.test('QIDO-RS through Orthanc at the study, series and instance levels', async (t) => {
      const qido = (uri: string, args: Record<string, string> = {}) =>
        orthanc.rest<OrthancQidoItem[]>('POST', `/dicom-web/servers/${SERVER}/qido`, { Uri: uri, Arguments: args });
      const allStudies = await qido('/studies');
      t.same(allStudies.map((s) => value(s, '0020000D')).sort(), [...studies.keys()].sort(), 'QIDO-1: /studies lists both studies');
      for (const [studyUid, expected] of studies) {
        const rows = [...originals.values()].map((o) => o.row).filter((r) => r.studyUid === studyUid);
        const patientId = patientIds.get(studyUid)!;
        t.ok(patientId, `PatientID ${patientId}`);
        const matches = await qido('/studies', { PatientID: patientId, StudyInstanceUID: studyUid });
        t.same(
          matches.map((s) => value(s, '0020000D')),
          [studyUid],
          `one study matches ${studyUid} by PatientID and UID`,
        );
        t.equal(value(matches[0]!, '00100020'), patientId, 'PatientID returned');

        const series = await qido(`/studies/${studyUid}/series`);
        t.same(series.map((s) => value(s, '0020000E')).sort(), [...expected.series].sort(), `the ${expected.series.size} series of the study`);
        for (const item of series) {
          const seriesUid = value(item, '0020000E')!;
          const ofSeries = rows.filter((r) => r.seriesUid === seriesUid);
          t.equal(value(item, '00080060'), ofSeries[0]!.modality || undefined, `series ${seriesUid}: Modality`);
          const instances = await qido(`/studies/${studyUid}/series/${seriesUid}/instances`);
          t.same(instances.map((i) => value(i, '00080018')).sort(), ofSeries.map((r) => r.sopUid).sort(), `series ${seriesUid}: its instances`);
          t.same(instances.map((i) => value(i, '00080016')).sort(), ofSeries.map((r) => r.sopClass).sort(), 'their SOP Class UIDs');
        }
        const instances = await qido(`/studies/${studyUid}/instances`);
        t.equal(instances.length, expected.instances, `the ${expected.instances} instances of the study`);
      }
      const one = [...originals.values()][0]!.row;
      const found = await qido('/instances', { SOPInstanceUID: one.sopUid });
      t.same(
        found.map((i) => value(i, '00080018')),
        [one.sopUid],
        'QIDO-1: /instances by SOPInstanceUID',
      );
    });

    await t.test('WADO-RS into Orthanc gives back every file byte for byte', async (t) => {
      for (const id of orthancStudies) await orthanc.rest('DELETE', `/studies/${id}`);
      t.same(await orthanc.rest('GET', '/instances'), [], "Orthanc's copies are deleted");
      await orthanc.rest('POST', `/dicom-web/servers/${SERVER}/retrieve`, {
        Resources: [...studies.keys()].map((Study) => ({ Study })),
      });
      const ids = await orthanc.rest<string[]>('GET', '/instances');
      t.equal(ids.length, originals.size, 'Orthanc holds every instance again');
      const seen = new Set<string>();
      for (const id of ids) {
        const tags = await orthanc.rest<{ SOPInstanceUID: string }>('GET', `/instances/${id}/simplified-tags`);
        const original = originals.get(tags.SOPInstanceUID);
        t.ok(original, `retrieved ${tags.SOPInstanceUID} is one of ours`);
        if (!original) continue;
        seen.add(tags.SOPInstanceUID);
        const bytes = await orthanc.bytes(`/instances/${id}/file`);
        t.equal(bytes.length, original.bytes.length, `${original.path}: same length`);
        t.ok(bytes.equals(original.bytes), `${original.path}: byte for byte`);
      }
      t.equal(seen.size, originals.size, 'every original came back');
    });
  });
}
