import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createBlobStore } from '@tessera/blob-store';
import { openIndex } from '@tessera/index';
import { findInstance } from '@tessera/index/testing';
import { buildApp, loadConfig } from '@tessera/server';
import { ctInstance, encodeInstance, newUid, runCli } from '@tessera/testkit';

// `tessera verify` as a user runs it (a child process on DATA_DIR): exit codes 0 / 1 / 2 and both
// output forms. The checks themselves, on both back ends, are in verify.test.ts.

/** The CLI on its own DATA_DIR, as a user runs it (a child process, from the sources). */
const cli = (args: string[], dataDir: string) => runCli(args, { DATA_DIR: dataDir, LOG_LEVEL: 'silent' });

t.test('tessera verify: exit 0 on an intact archive, 1 with the damaged instance named, 2 on a usage error', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'tessera-verify-cli-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  // Two instances stored through the real STOW path on the embedded deployment under DATA_DIR.
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const index = await openIndex(config.index);
  const blobs = createBlobStore(config.blobs);
  const app = await buildApp({ config, index, blobs, logger: false });
  const study = newUid();
  const sops = [newUid(), newUid()];
  for (const sop of sops) {
    const reply = await app.inject({
      method: 'POST',
      url: '/dicomweb/studies',
      headers: { 'content-type': 'application/dicom' },
      payload: encodeInstance(ctInstance({ StudyInstanceUID: study, SOPInstanceUID: sop })),
    });
    t.equal(reply.statusCode, 200);
  }
  const gone = (await findInstance(index, sops[1]!))!;
  await app.close();
  await index.close();

  const clean = await cli(['verify'], dataDir);
  t.equal(clean.code, 0, `exit 0 when intact (${clean.stderr})`);
  t.match(clean.stdout, /^verified 2 instance\(s\) at level checksum: all byte-identical to what was stored \(SHA-256\)/);

  await rm(join(dataDir, 'blobs', gone.blobKey));
  const damaged = await cli(['verify', '--json', '--level', 'exists', '--rate', '100/s'], dataDir);
  t.equal(damaged.code, 1, 'exit 1 when a problem is found');
  const lines = damaged.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  t.match(lines, [
    { type: 'problem', kind: 'missing', studyInstanceUid: study, sopInstanceUid: sops[1], blobKey: gone.blobKey },
    { type: 'summary', level: 'exists', checked: 2, missing: 1, problems: 1, ok: false },
  ]);
  t.equal(lines.length, 2);

  const usage = await cli(['verify', '--level', 'md5'], dataDir);
  t.equal(usage.code, 2, 'exit 2 on a usage error');
  t.match(usage.stderr, /--level is exists, size or checksum/);
});
