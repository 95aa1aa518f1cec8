import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createBlobStore } from '@tessera/blob-store';
import { openIndex } from '@tessera/index';
import { buildApp, loadConfig } from '@tessera/server';
import { readShared, runCli } from '@tessera/testkit';

/**
 * Issue #14: `tessera share <study> --expires 7d` prints the link once (stdout alone), `share list`
 * never shows the token, `share revoke` ends it; the embedded index of a DATA_DIR, as a user runs
 * the CLI (a child process from the sources). Creating and revoking are audit events.
 */
t.test('tessera share: create, list, revoke', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'tessera-share-cli-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const env = { DATA_DIR: dataDir, LOG_LEVEL: 'silent', PUBLIC_URL: 'https://pacs.example.org/tessera' };

  // A stored study, through the server in this process (then closed: PGlite is one process's).
  let study = '';
  {
    const config = loadConfig(env);
    const index = await openIndex(config.index);
    const blobs = createBlobStore(config.blobs);
    const app = await buildApp({ config, index, blobs, logger: false });
    const stored = await app.inject({
      method: 'POST',
      url: '/dicomweb/studies',
      headers: { 'content-type': 'application/dicom' },
      payload: readShared('non-image/pdf/encapsulated-pdf.dcm'),
    });
    t.equal(stored.statusCode, 200);
    study = /studies\/([\d.]+)/.exec(stored.json()['00081199'].Value[0]['00081190'].Value[0])![1]!;
    await app.close();
    await index.close();
    await blobs.close();
  }

  const created = await runCli(['share', study, '--expires', '7d', '--note', 'for the reader'], env);
  t.equal(created.code, 0, `exit 0 (${created.stderr})`);
  const link = created.stdout.trim();
  t.match(link, /^https:\/\/pacs\.example\.org\/tessera\/s\/tsl_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/, 'stdout holds the link alone, under PUBLIC_URL');
  const id = /tsl_([0-9a-f]{16})_/.exec(link)![1]!;
  t.match(created.stderr, new RegExp(`created share ${id} of study ${study.replaceAll('.', '\\.')}, expiring \\d{4}-`));

  const listed = await runCli(['share', 'list'], env);
  t.equal(listed.code, 0);
  t.match(listed.stdout, new RegExp(`^${id}\\t${study.replaceAll('.', '\\.')}\\tfor the reader\\tcli:\\S+\\t\\S+\\t\\S+\\tactive$`, 'm'));
  t.notMatch(listed.stdout, /tsl_/, 'never the token');

  t.equal((await runCli(['share', '1.2.3.4', '--expires', '1d'], env)).code, 1, 'a study that is not stored');
  const tooLong = await runCli(['share', study, '--expires', '31d'], env);
  t.equal(tooLong.code, 2, 'longer than SHARE_MAX_DAYS');
  t.match(tooLong.stderr, /SHARE_MAX_DAYS/);

  const revoked = await runCli(['share', 'revoke', id], env);
  t.equal(revoked.code, 0, `revoke: exit 0 (${revoked.stderr})`);
  t.match((await runCli(['share', 'list', '--study', study], env)).stdout, new RegExp(`^${id}\\t.*\\trevoked \\d{4}-`, 'm'));
  t.equal((await runCli(['share', 'revoke', '0000000000000000'], env)).code, 1, 'an unknown id');

  const index = await openIndex(loadConfig(env).index);
  t.teardown(() => index.close());
  const events = await index.audit.find({}, 100);
  t.same(
    events.filter((e) => e.detail.share === id).map((e) => [e.type, e.actor.kind, e.studyUids]),
    [
      ['share-created', 'cli', [study]],
      ['share-revoked', 'cli', [study]],
    ],
    'created and revoked are audit events',
  );
});
