import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { createBlobStore } from '@tessera/blob-store';
import { findInstance } from '@tessera/index/testing';
import { type TestServer, backendNames, ctInstance, encodeInstance, newUid, startTestServer } from '@tessera/testkit';
import { runVerify } from './run-verify.js';
import { type VerifyLevel, type VerifyProblem, verifyArchive } from './verify.js';

// Issue #15, "Verify and repair": `tessera verify` reports missing, truncated and corrupt instances
// (against the size and SHA-256 stored at ingest) with their UIDs, at the level asked for, on both
// back ends; exit code 0 clean / 1 problems / 2 failure; --json is JSON Lines ending in a summary.

interface Stored {
  study: string;
  series: string;
  sop: string;
  blobKey: string;
}

async function store(server: TestServer, study: string, series: string, count: number): Promise<Stored[]> {
  const stored: Stored[] = [];
  for (let i = 0; i < count; i++) {
    const sop = newUid();
    const reply = await server.app.inject({
      method: 'POST',
      url: '/dicomweb/studies',
      headers: { 'content-type': 'application/dicom' },
      payload: encodeInstance(
        ctInstance({ StudyInstanceUID: study, SeriesInstanceUID: series, SOPInstanceUID: sop, InstanceNumber: i + 1 }, { rows: 16, columns: 16, frames: 1 }),
      ),
    });
    if (reply.statusCode !== 200) throw new Error(`STOW answered ${reply.statusCode}: ${reply.body}`);
    const row = await findInstance(server.index, sop);
    stored.push({ study, series, sop, blobKey: row!.blobKey });
  }
  return stored;
}

function capture(isTTY = false) {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: {
      stdout: { write: (text: string) => (out.stdout += text) },
      stderr: { write: (text: string) => (out.stderr += text), isTTY, columns: 100 },
    },
  };
}

const problemsAt = async (server: TestServer, level: VerifyLevel, options: { pageSize?: number; rate?: number } = {}) => {
  const problems: VerifyProblem[] = [];
  const summary = await verifyArchive(server.index, server.blobs, { level, ...options, onProblem: (p) => problems.push(p) });
  return { summary, found: problems.map((p) => `${p.kind} ${p.sopInstanceUid}`).sort() };
};

for (const backend of backendNames()) {
  t.test(`${backend}: verify finds exactly the damaged instances, each at the level that can see it`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const study = newUid();
    const series = newUid();
    const damagedStudy = await store(server, study, series, 5);
    const clean = await store(server, newUid(), newUid(), 2);
    const [truncated, flipped, deleted] = damagedStudy as [Stored, Stored, Stored, ...Stored[]];

    t.same((await problemsAt(server, 'checksum')).found, [], 'an intact archive: nothing at the checksum level');

    if (backend === 'embedded') {
      // The filesystem store: a file cut short, one byte flipped in place, a file removed.
      const root = join(server.dataDir, 'blobs');
      const path = (key: string) => join(root, key);
      const size = (await readFile(path(truncated.blobKey))).length;
      await truncate(path(truncated.blobKey), size - 100);
      const bytes = await readFile(path(flipped.blobKey));
      bytes[bytes.length - 7]! ^= 0x01;
      await writeFile(path(flipped.blobKey), bytes);
      await rm(path(deleted.blobKey));
    } else {
      // S3: objects overwritten with other bytes (shorter; same length), an object deleted.
      const original = async (key: string) => Buffer.concat(await (await server.blobs.get(key)).toArray());
      const shorter = (await original(truncated.blobKey)).subarray(0, 200);
      await server.blobs.put(truncated.blobKey, shorter, shorter.length);
      const other = Buffer.from(await original(flipped.blobKey));
      other.fill(0x42, other.length - 64);
      await server.blobs.put(flipped.blobKey, other, other.length);
      await server.blobs.delete(deleted.blobKey);
    }

    const exists = await problemsAt(server, 'exists');
    t.same(exists.found, [`missing ${deleted.sop}`], 'exists: only the deleted blob (a changed blob is still there)');
    t.equal(exists.summary.checked, 7, 'every instance was checked');
    t.same(
      (await problemsAt(server, 'size')).found,
      [`missing ${deleted.sop}`, `truncated ${truncated.sop}`].sort(),
      'size: the missing and the truncated blob',
    );
    const checksum = await problemsAt(server, 'checksum', { pageSize: 2 });
    t.same(
      checksum.found,
      [`missing ${deleted.sop}`, `truncated ${truncated.sop}`, `corrupt ${flipped.sop}`].sort(),
      'checksum: the changed bytes too (SHA-256 differs at the stored size)',
    );
    t.equal(checksum.summary.checked, 7, 'keyset pages of 2 rows visit every instance once');
    t.match(checksum.summary, { missing: 1, truncated: 1, corrupt: 1 });

    // The runner as the CLI calls it: exit code and the JSON Lines shape.
    const json = capture();
    t.equal(await runVerify(server.index, server.blobs, { level: 'checksum', json: true, rate: 1000 }, json.io), 1, 'exit code 1 when problems are found');
    const lines = json.out.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    t.equal(lines.length, 4, 'three problem lines and a summary line');
    const summary = lines.at(-1)!;
    t.match(summary, { type: 'summary', level: 'checksum', checked: 7, missing: 1, truncated: 1, corrupt: 1, problems: 3, ok: false });
    const corrupt = lines.find((line) => line.kind === 'corrupt')!;
    t.match(corrupt, {
      type: 'problem',
      kind: 'corrupt',
      studyInstanceUid: study,
      seriesInstanceUid: series,
      sopInstanceUid: flipped.sop,
      blobKey: flipped.blobKey,
      expected: { size: Number, sha256: /^[0-9a-f]{64}$/ },
      actual: { size: Number, sha256: /^[0-9a-f]{64}$/ },
    });
    t.not((corrupt.expected as { sha256: string }).sha256, (corrupt.actual as { sha256: string }).sha256);
    t.match(
      lines.find((line) => line.kind === 'missing'),
      { type: 'problem', sopInstanceUid: deleted.sop, blobKey: deleted.blobKey, expected: { size: Number } },
    );
    t.notOk(lines.find((line) => line.kind === 'missing')!.actual, 'a missing blob has no actual size');
    t.equal(json.out.stderr, '', 'no progress bar when stderr is not a terminal');

    const text = capture(true);
    t.equal(await runVerify(server.index, server.blobs, { level: 'size', json: false }, text.io), 1);
    t.match(
      text.out.stdout,
      new RegExp(`^missing +study=${study.replaceAll('.', '\\.')} series=${series.replaceAll('.', '\\.')} sop=${deleted.sop.replaceAll('.', '\\.')} key=`, 'm'),
    );
    t.match(text.out.stdout, /verified 7 instance\(s\) at level size: 1 missing, 1 truncated, 0 corrupt\n$/);
    t.match(text.out.stderr, /verify \[#+\] 7\/7 100%/, 'a terminal gets a progress bar on stderr');

    const oneStudy = capture();
    t.equal(
      await runVerify(server.index, server.blobs, { level: 'checksum', json: true, studyInstanceUid: clean[0]!.study }, oneStudy.io),
      0,
      'exit code 0: the undamaged study alone is clean',
    );
    t.match(JSON.parse(oneStudy.out.stdout.trim()), { type: 'summary', checked: 2, problems: 0, ok: true });
  });
}

t.test('exit code 2 when the blob store cannot be reached (not a problem report)', async (t) => {
  const server = await startTestServer('embedded');
  t.teardown(() => server.close());
  await store(server, newUid(), newUid(), 1);
  // A real S3 store whose endpoint refuses connections (nothing listens on a just-closed port).
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  const unreachable = createBlobStore({
    kind: 's3',
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    bucket: 'gone',
    forcePathStyle: true,
    accessKeyId: 'x',
    secretAccessKey: 'x',
    requestTimeoutMs: 2_000,
  });
  t.teardown(() => unreachable.close());
  const run = capture();
  t.equal(await runVerify(server.index, unreachable, { level: 'exists', json: true }, run.io), 2);
  t.match(JSON.parse(run.out.stdout.trim()), { type: 'error', message: /could not finish/ });
  t.match(run.out.stderr, /tessera verify: the check could not finish/);
});
