import { type IncomingMessage, request } from 'node:http';
import t from 'tap';
import { type InstanceSpec, backendNames, ctInstance, encodeInstance, newUid, startTestServer, stowStreamed } from '@tessera/testkit';
import { parseMultipart } from './retrieve-helpers.js';

/**
 * Whole reads borrow their buffers from a pool and give them back once the response has written
 * them out (retrieve whole-read.ts, http buffer-pool.ts). A buffer given back too early would be
 * refilled with another instance while its socket write is still going on, and a client would
 * receive parts of two instances. Many clients, some reading slowly, retrieve instances, frames,
 * WADO-URI objects and whole studies of 526 KB instances at once, on every back end, and every
 * byte they receive is checked (WADORS-2/3, WADORS-5, WADOURI-1).
 */

// 16 × 526 KB: a study is more than the kernel's socket buffers take, so a reader that stalls
// leaves parts waiting in the server, in buffers other requests must not be lent.
const STUDIES = 2;
const PER_STUDY = 16;
const CLIENTS = 8;
const ROUNDS = 6;

/**
 * A GET over a fresh connection, read in full. A slow reader pauses between chunks so the server's
 * writes wait; `stallMs` stops reading after the first chunk for that long.
 */
function fetchAll(url: string, accept: string, slow: boolean, stallMs = 0): Promise<{ res: IncomingMessage; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { accept } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        const pause = chunks.length === 1 && stallMs > 0 ? stallMs : slow && chunks.length % 4 === 0 ? 2 : 0;
        if (pause > 0) {
          res.pause();
          setTimeout(() => res.resume(), pause);
        }
      });
      res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

for (const backend of backendNames()) {
  t.test(`${backend}: concurrent retrievals never mix the bytes of two instances`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const studies: { uid: string; specs: InstanceSpec[] }[] = [];
    // Each instance has patient fields of its own, so two instances differ in more than their UIDs.
    for (let s = 0; s < STUDIES; s++) {
      const uid = newUid();
      const series = newUid();
      const specs = Array.from({ length: PER_STUDY }, (_, i) =>
        ctInstance(
          { StudyInstanceUID: uid, SeriesInstanceUID: series, InstanceNumber: i + 1, PatientID: `POOL-${s}-${i}`, PatientName: `Pool^${s}^${i}` },
          { rows: 512, columns: 512, frames: 1 },
        ),
      );
      for (const spec of specs) await stowStreamed(server, spec);
      studies.push({ uid, specs });
    }
    const expected = new Map(studies.flatMap(({ specs }) => specs.map((spec) => [String(spec.attributes.SOPInstanceUID), encodeInstance(spec)] as const)));
    const pixelData = (bytes: Buffer) => bytes.subarray(bytes.length - 512 * 512 * 2);

    const failures: string[] = [];
    let checked = 0;
    const check = (what: string, ok: boolean) => {
      checked++;
      if (!ok) failures.push(what);
    };
    const client = async (c: number) => {
      for (let round = 0; round < ROUNDS; round++) {
        const { uid, specs } = studies[(c + round) % STUDIES]!;
        const spec = specs[(c * 7 + round) % PER_STUDY]!;
        const sop = String(spec.attributes.SOPInstanceUID);
        const instanceUrl = `${server.url}/dicomweb/studies/${uid}/series/${spec.attributes.SeriesInstanceUID}/instances/${sop}`;
        const slow = (c + round) % 3 === 0;
        switch ((c + round) % 5) {
          case 0: {
            const { body } = await fetchAll(instanceUrl, 'application/dicom', slow);
            check(`instance ${sop}`, body.equals(expected.get(sop)!));
            break;
          }
          case 1: {
            const { res, body } = await fetchAll(instanceUrl, 'multipart/related; type="application/dicom"', slow);
            const [part] = parseMultipart(res.headers['content-type'], body).parts;
            check(`instance ${sop} (multipart)`, part !== undefined && part.body.equals(expected.get(sop)!));
            break;
          }
          case 2: {
            const { res, body } = await fetchAll(`${instanceUrl}/frames/1`, 'multipart/related; type="application/octet-stream"', slow);
            const [part] = parseMultipart(res.headers['content-type'], body).parts;
            check(`frame 1 of ${sop}`, part !== undefined && part.body.equals(pixelData(expected.get(sop)!)));
            break;
          }
          case 3: {
            const query = `requestType=WADO&studyUID=${uid}&seriesUID=${spec.attributes.SeriesInstanceUID}&objectUID=${sop}&contentType=application%2Fdicom`;
            const { body } = await fetchAll(`${server.url}/wadouri?${query}`, 'application/dicom', slow);
            check(`WADO-URI ${sop}`, body.equals(expected.get(sop)!));
            break;
          }
          default: {
            const { res, body } = await fetchAll(`${server.url}/dicomweb/studies/${uid}`, 'multipart/related; type="application/dicom"', slow);
            const { parts } = parseMultipart(res.headers['content-type'], body);
            check(`study ${uid}: ${parts.length} parts`, parts.length === PER_STUDY);
            for (const part of parts) {
              const partSop = /instances\/([0-9.]+)/.exec(part.headers['content-location'] ?? '')?.[1] ?? '';
              check(`study ${uid}, part ${partSop}`, expected.get(partSop)?.equals(part.body) === true);
            }
          }
        }
      }
    };
    // Readers of a whole study that stop after its first bytes while the other clients come and go.
    const stalled = async (s: number) => {
      const { uid } = studies[s]!;
      const { res, body } = await fetchAll(`${server.url}/dicomweb/studies/${uid}`, 'multipart/related; type="application/dicom"', false, 500);
      const { parts } = parseMultipart(res.headers['content-type'], body);
      check(`stalled study ${uid}: ${parts.length} parts`, parts.length === PER_STUDY);
      for (const part of parts) {
        const partSop = /instances\/([0-9.]+)/.exec(part.headers['content-location'] ?? '')?.[1] ?? '';
        check(`stalled study ${uid}, part ${partSop}`, expected.get(partSop)?.equals(part.body) === true);
      }
    };
    await Promise.all([...studies.map((_, s) => stalled(s)), ...Array.from({ length: CLIENTS }, (_, c) => client(c))]);
    t.ok(checked >= CLIENTS * ROUNDS, `${checked} bodies and parts checked`);
    t.same(failures, [], 'every byte as stored');
  });
}
