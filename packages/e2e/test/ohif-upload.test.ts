import t from 'tap';
import { backendNames, readManifest, sharedFiles, startTestServer, testDataPath } from '@tessera/testkit';
import { indexCounts } from '@tessera/index/testing';
import { browserSkip, launchBrowser, screenshot, waitFor, watchPage } from './browser-helpers.js';

// Issue #16: the hosted OHIF viewer's own upload keeps working. Our app-config enables it
// (`dicomUploadEnabled: true` on the dicomweb data source); OHIF 3.13 then shows "Upload" in the
// study list, whose dialog ("Add files", react-dropzone with a hidden file input) sends each file
// with STOW-RS through dicomweb-client. Driven in Debian's Chromium: the files are given to that
// input, the dialog must report "Completed!" and the studies must then be in the index.
// One back end: the STOW-RS path underneath is the same on both (upload-page.test.ts and the STOW
// tests cover both back ends).

const skip = browserSkip() && process.env.TESSERA_REQUIRE_REAL_CLIENTS !== '1' ? browserSkip() : false;
const manifest = readManifest();
const files = [...sharedFiles('dicomdir/98892001'), ...sharedFiles('studies/patient-with-2-studies')];
const studies = new Set(files.map((path) => manifest.get(path)!.studyUid));

t.test("the OHIF viewer's Upload dialog stores files with STOW-RS", { skip }, async (t) => {
  const server = await startTestServer(backendNames()[0]!);
  t.teardown(() => server.close());
  const context = await launchBrowser(t);
  const page = await context.newPage();
  const log = watchPage(page);
  await page.goto(`${server.url}/`);
  await page.getByText('Upload', { exact: true }).first().click();
  await page.getByText('Upload files').first().waitFor({ timeout: 60_000 });
  // "Add files": react-dropzone's hidden input (the first file input of the dialog; the second is "Add folder").
  await page
    .locator('input[type=file]')
    .first()
    .setInputFiles(files.map((path) => testDataPath(path)));
  const completed = await waitFor(
    page,
    () => page.getByText(/^Completed/).count(),
    (n) => n > 0,
    120_000,
  );
  await screenshot(page, 'ohif-upload-dialog');
  t.ok(completed > 0, 'the dialog reports completion');
  t.equal(await page.getByText('Completed!', { exact: true }).count(), 1, 'without an error ("Completed!", not "Completed with N errors!")');
  t.equal((await indexCounts(server.index)).instances, files.length, 'every file is stored');
  for (const study of studies) {
    const res = await fetch(`${server.url}/dicomweb/studies?StudyInstanceUID=${study}`, { headers: { accept: 'application/dicom+json' } });
    t.equal(res.status, 200, `QIDO-RS finds study ${study}`);
  }
  const stow = log.requested.filter((url) => url === `${server.url}/dicomweb/studies`);
  t.ok(stow.length >= 1, `the viewer posted to the STOW-RS endpoint (${stow.length} request(s))`);
  t.same(log.failed, [], 'no failed request');
});
