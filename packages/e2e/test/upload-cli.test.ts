import { once } from 'node:events';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { type CliRun, backendNames, orthancMissing, runCli, readManifest, sharedFiles, startOrthanc, startTestServer, testDataPath } from '@tessera/testkit';
import { indexCounts } from '@tessera/index/testing';
import { createKey } from './access/access-fixture.js';

// Issue #16, `tessera upload`: the CLI as a user runs it (a child process) against this server on
// every back end and against Orthanc's DICOMweb plugin. One folder of real files from
// @tessera/test-data, nested, with a DICOMDIR, a text file and a text file named .dcm beside them.
// Counts and exit codes are asserted; a re-run stores nothing new and says "already present"; a
// transient 503 (a real node:http proxy in front of the server) is retried.

const scratch = mkdtempSync(join(tmpdir(), 'tessera-upload-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

/** 7 CT files of one study (no file name extension) and 2 files of two other studies. */
const STUDY_FOLDER = 'dicomdir/98892001';
const PAIR = 'studies/patient-with-2-studies';
const manifest = readManifest();
const realFiles = [...sharedFiles(STUDY_FOLDER), ...sharedFiles(PAIR)];
const studies = new Set(realFiles.map((path) => manifest.get(path)!.studyUid));

/** The upload folder: nested real files, a DICOMDIR, a text file and a non-DICOM file named .dcm. */
const folder = join(scratch, 'folder');
mkdirSync(join(folder, 'cd', 'nested', 'deeper'), { recursive: true });
cpSync(testDataPath(STUDY_FOLDER), join(folder, 'cd', '98892001'), { recursive: true });
for (const path of sharedFiles(PAIR)) cpSync(testDataPath(path), join(folder, 'cd', 'nested', 'deeper', path.split('/').pop()!));
cpSync(testDataPath('dicomdir/DICOMDIR'), join(folder, 'cd', 'DICOMDIR'));
writeFileSync(join(folder, 'README.txt'), 'studies exported from the scanner\n');
cpSync(testDataPath('bad/not-dicom-random-4k.dcm'), join(folder, 'cd', 'nested', 'image.dcm'));
/** A DICOM file the server refuses: StudyInstanceUID missing (A900). */
const refusedFile = join(scratch, 'no-study-uid.dcm');
cpSync(testDataPath('bad/no-study-uid.dcm'), refusedFile);

/** `tessera upload` as a user runs it (a child process, from the sources; no TESSERA_TOKEN of ours). */
const upload = (args: string[], env: Record<string, string> = {}): Promise<CliRun> => runCli(['upload', ...args], env);

/** The closing totals line of the summary, as numbers. */
function totals(run: CliRun) {
  const match =
    /(\d+) DICOM file\(s\), [\d.]+ MB in [\d.]+ s: (\d+) stored, (\d+) already present, (\d+) refused, (\d+) not sent; (\d+) file\(s\) skipped/.exec(
      run.stdout,
    );
  if (!match) return undefined;
  const [files, stored, alreadyPresent, refused, notSent, skipped] = match.slice(1).map(Number);
  return { files, stored, alreadyPresent, refused, notSent, skipped };
}

const show = (run: CliRun) => `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;

for (const backend of backendNames()) {
  t.test(`${backend}: tessera upload stores a folder, then finds everything already present`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const url = `${server.url}/dicomweb`;

    const first = await upload([folder, '--url', url, '--batch', '4', '--concurrency', '2']);
    t.equal(first.code, 0, 'exit 0: everything stored', { output: show(first) });
    t.same(
      totals(first),
      { files: realFiles.length, stored: realFiles.length, alreadyPresent: 0, refused: 0, notSent: 0, skipped: 3 },
      'counts of the first run',
    );
    t.match(first.stderr, /skipped \S*cd\/DICOMDIR: DICOMDIR/, 'the DICOMDIR is skipped with a note');
    t.match(first.stderr, /skipped \S*README\.txt: not DICOM/, 'the text file is skipped with a note');
    t.match(first.stderr, /skipped \S*image\.dcm: not DICOM/, 'a non-DICOM file named .dcm is skipped: detection is by content');
    for (const study of studies)
      t.match(first.stdout, new RegExp(`study ${study.replaceAll('.', '\\.')}: \\d+ stored, 0 already present, 0 refused`), `study ${study} listed`);
    t.equal((await indexCounts(server.index)).instances, realFiles.length, 'every instance indexed');
    t.equal((await indexCounts(server.index)).studies, studies.size, 'in its studies');

    const again = await upload([folder, '--url', url]);
    t.equal(again.code, 0, 'exit 0 on a re-run', { output: show(again) });
    t.same(
      totals(again),
      { files: realFiles.length, stored: 0, alreadyPresent: realFiles.length, refused: 0, notSent: 0, skipped: 3 },
      'a re-run stores nothing new',
    );
    t.match(again.stdout, /nothing new: every instance was already present/, 'and says so');
    t.equal((await indexCounts(server.index)).instances, realFiles.length, 'nothing more indexed');

    const refused = await upload([refusedFile, join(folder, 'cd', 'nested'), '--url', url]);
    t.equal(refused.code, 1, 'exit 1 when the server refuses an instance', { output: show(refused) });
    t.same(totals(refused), { files: 3, stored: 0, alreadyPresent: 2, refused: 1, notSent: 0, skipped: 1 }, 'counts with a refused file');
    t.match(refused.stdout, /refused \S*no-study-uid\.dcm: A900 [^:\n]+: StudyInstanceUID/, 'the FailureReason and its words are in the summary');
  });
}

t.test('a transient 503 (with Retry-After) is retried, then everything is stored', async (t) => {
  const server = await startTestServer(backendNames()[0]!);
  t.teardown(() => server.close());
  const target = new URL(server.url);
  let refusals = 0;
  let stowRequests = 0;
  // A real proxy in front of the server: the first STOW-RS request is answered 503, the rest are forwarded.
  const proxy = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST') {
      stowRequests++;
      if (refusals === 0) {
        refusals++;
        req.resume();
        res.writeHead(503, { 'retry-after': '1', 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ status: 503, title: 'Service Unavailable', detail: 'restarting' }));
        return;
      }
    }
    const forward = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  t.teardown(() => new Promise<void>((done) => proxy.close(() => done())));
  const { port } = proxy.address() as AddressInfo;

  const run = await upload([join(folder, 'cd', '98892001'), '--url', `http://127.0.0.1:${port}/dicomweb`, '--batch', '100']);
  t.equal(run.code, 0, 'exit 0 after the retry', { output: show(run) });
  t.equal(refusals, 1, 'the proxy answered 503 once');
  t.equal(stowRequests, 2, 'the batch was sent twice: refused, then stored');
  t.match(run.stderr, /retrying a batch of 7 file\(s\) in 1\.0 s \(attempt 2\): HTTP 503: restarting/, 'the retry is said, after the Retry-After delay');
  t.same(totals(run), { files: 7, stored: 7, alreadyPresent: 0, refused: 0, notSent: 0, skipped: 0 }, 'all stored');
  t.equal((await indexCounts(server.index)).instances, 7);
});

t.test('an unreachable server: exit 2, nothing counted as sent', async (t) => {
  // A port nobody listens on: bound, then closed.
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((done) => probe.close(() => done()));
  const run = await upload([folder, '--url', `http://127.0.0.1:${port}/dicomweb`, '--retries', '1']);
  t.equal(run.code, 2, 'exit 2', { output: show(run) });
  t.same(totals(run), { files: realFiles.length, stored: 0, alreadyPresent: 0, refused: 0, notSent: realFiles.length, skipped: 3 });
  t.match(run.stdout, /the server could not be reached/);
});

t.test('with API keys: the token from TESSERA_TOKEN; no token is exit 2; a write-only key stores but cannot tell "already present"', async (t) => {
  const server = await startTestServer(backendNames()[0]!, { AUTH_MODE: 'apikey' });
  t.teardown(() => server.close());
  const url = `${server.url}/dicomweb`;
  const target = join(folder, 'cd', 'nested');

  const anonymous = await upload([target, '--url', url, '--retries', '0']);
  t.equal(anonymous.code, 2, 'exit 2 without a credential', { output: show(anonymous) });
  t.match(anonymous.stdout, /the server refused the credential: HTTP 401/);
  t.equal((await indexCounts(server.index)).instances, 0, 'nothing stored');

  const writeOnly = await createKey(server.index, 'router', ['write']);
  const blind = await upload([target, '--url', url], { TESSERA_TOKEN: writeOnly });
  t.equal(blind.code, 0, 'exit 0 with a write key in TESSERA_TOKEN', { output: show(blind) });
  t.same(totals(blind), { files: 2, stored: 2, alreadyPresent: 0, refused: 0, notSent: 0, skipped: 1 });
  t.match(blind.stderr, /could not ask the server which instances it already holds \(QIDO-RS search answered HTTP 403\)/, 'the missing read scope is said');

  const both = await createKey(server.index, 'uploader', ['read', 'write']);
  const again = await upload([target, '--url', url, '--token', both]);
  t.equal(again.code, 0, 'exit 0 with a read+write key given as --token', { output: show(again) });
  t.same(totals(again), { files: 2, stored: 0, alreadyPresent: 2, refused: 0, notSent: 0, skipped: 1 }, 'already present, told by QIDO-RS');
});

t.test('usage errors: exit 2', async (t) => {
  const none = await upload([]);
  t.equal(none.code, 2, 'no file or folder');
  t.match(none.stderr, /give at least one file or folder/);
  const bad = await upload([folder, '--concurrency', '0']);
  t.equal(bad.code, 2, '--concurrency 0');
});

const missing = orthancMissing();
const skipOrthanc = missing && process.env.TESSERA_REQUIRE_REAL_CLIENTS !== '1' ? missing : false;

t.test("Orthanc's DICOMweb as the server: stored, then already present", { skip: skipOrthanc }, async (t) => {
  const orthanc = await startOrthanc();
  t.teardown(() => orthanc.stop());
  const url = `${orthanc.url}/dicom-web`;
  const first = await upload([folder, '--url', url, '--batch', '4']);
  t.equal(first.code, 0, 'exit 0', { output: show(first) });
  t.same(
    totals(first),
    { files: realFiles.length, stored: realFiles.length, alreadyPresent: 0, refused: 0, notSent: 0, skipped: 3 },
    'counts of the first run',
  );
  t.equal((await orthanc.rest<string[]>('GET', '/instances')).length, realFiles.length, 'Orthanc holds every instance');
  t.equal((await orthanc.rest<string[]>('GET', '/studies')).length, studies.size, 'in its studies');

  const again = await upload([folder, '--url', url]);
  t.equal(again.code, 0, 'exit 0 on a re-run', { output: show(again) });
  t.same(totals(again), { files: realFiles.length, stored: 0, alreadyPresent: realFiles.length, refused: 0, notSent: 0, skipped: 3 }, 'nothing new');
  t.match(again.stdout, /nothing new: every instance was already present/);
  t.equal((await orthanc.rest<string[]>('GET', '/instances')).length, realFiles.length, 'Orthanc still holds each instance once');
});
