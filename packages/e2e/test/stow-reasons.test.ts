import { Writable } from 'node:stream';
import t from 'tap';
import { FailureReason } from '@tessera/dicom';
import { buildApp } from '@tessera/server';
import { backendNames, ctInstance, encodeInstance, multipartBuffer, newUid, openTestStorage } from '@tessera/testkit';

/**
 * Issue #12, section 3: a refused instance says why in words next to its FailureReason (Text Value,
 * 0040,A160, UT), and every STOW request logs one line with its outcome (stored, duplicates, refused
 * with reasons, request id) and no patient data. Digest STOW-4/5/7/8; every storage back end.
 */

type Json = Record<string, { vr: string; Value?: any[] }>;

for (const backend of backendNames()) {
  t.test(backend, async (t) => {
    const storage = await openTestStorage(backend);
    const lines: Record<string, any>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, any>);
        done();
      },
    });
    const app = await buildApp({ config: storage.config, index: storage.index, blobs: storage.blobs, logger: { level: 'info', stream } });
    t.teardown(async () => {
      await app.close();
      await storage.close();
    });

    const studyUid = newUid();
    const secrets = { PatientName: 'Secretname^Gertrude', PatientID: 'PID-7731-SECRET', StudyDate: '19710203' };
    const good = encodeInstance(ctInstance({ ...secrets, StudyInstanceUID: studyUid }));
    const otherStudy = ctInstance({ ...secrets });
    const otherSop = otherStudy.attributes.SOPInstanceUID as string;
    const notDicom = Buffer.from('this is not a DICOM file at all, just some words '.repeat(8));
    const { contentType, payload } = await multipartBuffer([good, good, encodeInstance(otherStudy), notDicom]);
    const res = await app.inject({
      method: 'POST',
      url: `/dicomweb/studies/${studyUid}`,
      headers: { 'content-type': contentType, accept: 'application/dicom+json', 'x-request-id': 'stow-reasons-1' },
      payload,
    });

    t.test('each failed item has its FailureReason and the reason in words (Text Value, UT)', async (t) => {
      t.equal(res.statusCode, 202, 'STOW-6: some stored, some failed');
      const body = JSON.parse(res.body) as Json;
      const failed = body['00081198']?.Value as Json[];
      t.equal(failed?.length, 1, 'one FailedSOPSequence item (the other study)');
      t.same(failed[0]!['00081197'], { vr: 'US', Value: [FailureReason.StudyInstanceUIDMismatch] }, 'STOW-7: numeric FailureReason kept');
      t.same(failed[0]!['00081155'], { vr: 'UI', Value: [otherSop] });
      t.equal(failed[0]!['0040A160']?.vr, 'UT', 'Text Value is a UT element');
      t.match(failed[0]!['0040A160']?.Value?.[0], new RegExp(`is not the study ${studyUid.replaceAll('.', '\\.')} of the request`), 'says why');
      const other = body['0008119A']?.Value as Json[];
      t.equal(other?.length, 1, 'one OtherFailuresSequence item (the bytes that are not DICOM)');
      t.equal(other[0]!['00081197']?.Value?.[0] & 0xf000, 0xc000, 'STOW-8: numeric FailureReason in the C000 family');
      t.equal(other[0]!['0040A160']?.vr, 'UT');
      t.ok(
        typeof other[0]!['0040A160']?.Value?.[0] === 'string' && other[0]!['0040A160'].Value[0].length > 10,
        `reason in words: ${other[0]!['0040A160']?.Value?.[0]}`,
      );
      t.equal((body['00081199']?.Value as Json[]).length, 2, 'the instance and its byte-identical re-send are both acknowledged');
      // Valid DICOM JSON: within each item the keys ascend and every element has a known VR.
      for (const item of [...failed, ...other]) {
        const keys = Object.keys(item);
        t.same(keys, [...keys].sort(), 'attribute order ascends');
      }
    });

    t.test('one log line per request: counts, reasons, request id, no patient data', async (t) => {
      const outcome = lines.filter((l) => l.stow && l.reqId === 'stow-reasons-1');
      t.equal(outcome.length, 1, 'exactly one outcome line for the request');
      const [line] = outcome;
      t.equal(line!.level, 30, 'at info level');
      t.match(line!.stow, { status: 202, stored: 2, duplicates: 1, refused: 2, warnings: 0 });
      const reasons = Object.keys(line!.stow.reasons as Record<string, number>);
      t.ok(
        reasons.some((r) => r.startsWith('A901 StudyInstanceUID differs')),
        `A901 named: ${reasons.join(', ')}`,
      );
      t.ok(
        reasons.some((r) => /^C\w{3} cannot understand/.test(r)),
        'C000 family named',
      );
      t.match(line!.msg, /^STOW-RS 202: stored 2 \(1 duplicate\), refused 2 \(A901 .+ ×1; C\w{3} .+ ×1\)$/, `message: ${line!.msg}`);
      const everything = JSON.stringify(lines);
      for (const secret of [...Object.values(secrets), 'Secretname']) t.notOk(everything.includes(secret), `no ${secret} anywhere in the log`);
      // UIDs only at debug level (the request URL, logged by fastify, names the study of the path).
      const own = JSON.stringify(outcome);
      for (const uid of [otherSop, studyUid]) t.notOk(own.includes(uid), `no ${uid} in the outcome line`);
    });

    t.test('a request that fails as a whole logs its one line too', async (t) => {
      const before = lines.length;
      const bad = await app.inject({
        method: 'POST',
        url: '/dicomweb/studies',
        headers: { 'content-type': 'text/plain', 'x-request-id': 'stow-reasons-2' },
        payload: 'hello',
      });
      t.equal(bad.statusCode, 415);
      const outcome = lines.slice(before).filter((l) => l.stow && l.reqId === 'stow-reasons-2');
      t.equal(outcome.length, 1, 'one line');
      t.match(outcome[0]?.msg, /STOW-RS request failed as a whole: 415 UNSUPPORTED_MEDIA_TYPE/);
    });
  });
}
