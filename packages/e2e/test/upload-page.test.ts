import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { backendNames, readManifest, sharedFiles, startTestServer, testDataPath } from '@tessera/testkit';
import { indexCounts } from '@tessera/index/testing';
import { browserSkip, launchBrowser, screenshot, waitFor, watchPage } from './browser-helpers.js';

// Issue #16, "Upload from the browser": the upload page in Debian's Chromium. A folder of real
// files (nested, with a text file) is chosen with the page's folder picker (webkitdirectory); every
// DICOM file shows its progress and result and a link to its study in the hosted viewer; the text
// file is skipped in the page; the studies are then found by QIDO-RS. A second pass of the same
// folder says "already present". No console error (a CSP violation would be one).

const skip = browserSkip() && process.env.TESSERA_REQUIRE_REAL_CLIENTS !== '1' ? browserSkip() : false;
const scratch = mkdtempSync(join(tmpdir(), 'tessera-upload-page-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));

const STUDY_FOLDER = 'dicomdir/98892001';
const PAIR = 'studies/patient-with-2-studies';
const manifest = readManifest();
const real = [...sharedFiles(STUDY_FOLDER), ...sharedFiles(PAIR)];
const studies = new Set(real.map((path) => manifest.get(path)!.studyUid));

const folder = join(scratch, 'export');
mkdirSync(join(folder, 'pair'), { recursive: true });
cpSync(testDataPath(STUDY_FOLDER), join(folder, 'ct'), { recursive: true });
for (const path of sharedFiles(PAIR)) cpSync(testDataPath(path), join(folder, 'pair', path.split('/').pop()!));
writeFileSync(join(folder, 'notes.txt'), 'not an image\n');

interface Row {
  name: string;
  result: string | undefined;
  text: string;
  progress: number;
  link: string | undefined;
  study: string | undefined;
}

for (const backend of backendNames()) {
  t.test(`${backend}: the upload page stores a folder chosen in Chromium`, { skip }, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const context = await launchBrowser(t);
    const page = await context.newPage();
    const log = watchPage(page);

    const pass = async (expected: string) => {
      await page.goto(`${server.url}/upload`);
      await page.setInputFiles('#folder', folder);
      const done = await waitFor(
        page,
        () => page.locator('#summary').getAttribute('data-done'),
        (value) => value === 'true',
      );
      t.equal(done, 'true', 'the page finished every file');
      // Read in the page (no DOM types here: the elements are described by what is read from them).
      const rows: Row[] = await page.$$eval('#rows tr', (trs) =>
        trs.map((element) => {
          type Node = { dataset: Record<string, string | undefined>; textContent: string | null; value?: number; href?: string };
          const row = element as unknown as Node & { querySelector(selector: string): Node | null };
          const a = row.querySelector('a');
          return {
            name: row.dataset.name ?? '',
            result: row.dataset.result,
            text: row.querySelector('td.result')?.textContent ?? '',
            progress: row.querySelector('progress')?.value ?? -1,
            link: a?.href,
            study: a?.dataset.study,
          };
        }),
      );
      t.equal(rows.length, real.length + 1, 'one row per file of the folder');
      const dicomRows = rows.filter((r) => !r.name.endsWith('notes.txt'));
      t.same(
        dicomRows.map((r) => r.result),
        dicomRows.map(() => expected),
        `every DICOM file: ${expected}`,
      );
      t.ok(
        dicomRows.every((r) => r.progress === 1),
        'every progress bar is full',
      );
      t.same(new Set(dicomRows.map((r) => r.study)), studies, 'each row links its own study');
      t.ok(
        dicomRows.every((r) => r.link === `${server.url}/viewer?StudyInstanceUIDs=${r.study}`),
        'the links open the hosted viewer on the study',
      );
      t.ok(
        rows.some((r) => r.name === 'export/pair/TEST_1_study_1234.dcm'),
        'names keep their path in the folder',
      );
      const text = rows.find((r) => r.name.endsWith('notes.txt'));
      t.equal(text?.result, 'skipped', 'the text file is skipped in the page, never sent');
      return page.locator('#summary').textContent();
    };

    const first = await pass('stored');
    t.match(
      first,
      new RegExp(`${real.length + 1} of ${real.length + 1} file\\(s\\): ${real.length} stored, 0 already present, 0 refused, 0 failed, 1 skipped`),
    );
    await screenshot(page, `upload-page-${backend}`);
    t.equal((await indexCounts(server.index)).instances, real.length, 'every instance indexed');
    // Found by QIDO-RS, as any client finds them.
    for (const study of studies) {
      const res = await fetch(`${server.url}/dicomweb/studies?StudyInstanceUID=${study}`, { headers: { accept: 'application/dicom+json' } });
      t.equal(res.status, 200, `QIDO-RS finds study ${study}`);
      const found = (await res.json()) as Record<string, { Value?: unknown[] }>[];
      t.equal(found[0]?.['0020000D']?.Value?.[0], study);
    }

    const second = await pass('already present');
    t.match(second, new RegExp(`0 stored, ${real.length} already present, 0 refused, 0 failed, 1 skipped`), 'a second pass stores nothing new and says so');
    t.equal((await indexCounts(server.index)).instances, real.length, 'nothing more indexed');
    t.same(log.errors, [], 'no console error, no CSP violation');
    t.same(log.failed, [], 'no failed request');
  });
}
