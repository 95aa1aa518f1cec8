import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { readManifest, sharedFiles, testDataPath } from '@tessera/test-data';
import { findDicomFiles, mediaStorageSopClass } from './find-files.js';

// DICOM by content, not by name (PS3.10 §7.1): real files from @tessera/test-data, DICOMDIRs, and
// files that only look like DICOM by their names.

const scratch = mkdtempSync(join(tmpdir(), 'tessera-find-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
const manifest = readManifest();

t.test('a nested folder: DICOM files with their UIDs, everything else skipped with a reason', async (t) => {
  const root = join(scratch, 'tree');
  mkdirSync(join(root, 'a', 'b'), { recursive: true });
  const ct = sharedFiles('dicomdir/98892001');
  cpSync(testDataPath('dicomdir/98892001'), join(root, 'a', 'b', 'ct'), { recursive: true });
  cpSync(testDataPath('transfer-syntax/small/mr-small_1.2.840.10008.1.2_implicit-le.dcm'), join(root, 'implicit.bin'));
  for (const name of ['DICOMDIR', 'DICOMDIR-implicit', 'DICOMDIR-bigEnd']) cpSync(testDataPath(`dicomdir/${name}`), join(root, name));
  cpSync(testDataPath('bad/not-dicom-png.dcm'), join(root, 'a', 'picture.dcm'));
  cpSync(testDataPath('bad/wrong-magic-DICN.dcm'), join(root, 'a', 'dicn.dcm'));
  writeFileSync(join(root, 'notes.txt'), 'x'.repeat(500));
  symlinkSync(join(root, 'implicit.bin'), join(root, 'link.dcm'));

  const found = await findDicomFiles([root]);
  t.equal(found.files.length, ct.length + 1, 'the CT files and the implicit VR file, whatever their names');
  const implicit = found.files.find((f) => f.path.endsWith('implicit.bin'))!;
  const row = manifest.get('transfer-syntax/small/mr-small_1.2.840.10008.1.2_implicit-le.dcm')!;
  t.equal(implicit.studyInstanceUid, row.studyUid, 'StudyInstanceUID read from an Implicit VR dataset');
  t.equal(implicit.sopInstanceUid, row.sopUid, 'SOPInstanceUID too');
  for (const path of ct) {
    const file = found.files.find((f) => f.path.endsWith(path.split('/').slice(-2).join('/')))!;
    t.equal(file.sopInstanceUid, manifest.get(path)!.sopUid, `${path}: its SOPInstanceUID`);
  }
  const reasons = new Map(found.skipped.map((s) => [s.path.slice(root.length + 1), s.reason]));
  for (const name of ['DICOMDIR', 'DICOMDIR-implicit', 'DICOMDIR-bigEnd']) t.match(reasons.get(name), /^DICOMDIR/, `${name} skipped as a DICOMDIR`);
  t.match(reasons.get('a/picture.dcm'), /^not DICOM/, 'a PNG named .dcm');
  t.match(reasons.get('a/dicn.dcm'), /^not DICOM \(no "DICM"/, 'DICN instead of DICM');
  t.match(reasons.get('notes.txt'), /^not DICOM/, 'a text file');
  t.match(reasons.get('link.dcm'), /symbolic link/, 'a link inside a folder is not followed');
  t.equal(found.skipped.length, 7, 'nothing else skipped');
});

t.test('a missing path is a skipped file, not a crash', async (t) => {
  const found = await findDicomFiles([join(scratch, 'nowhere')]);
  t.same(found.files, []);
  t.match(found.skipped[0]?.reason, /ENOENT/);
});

t.test('mediaStorageSopClass reads (0002,0002) from the File Meta', async (t) => {
  const { readShared } = await import('@tessera/test-data');
  t.equal(mediaStorageSopClass(readShared('dicomdir/DICOMDIR')), '1.2.840.10008.1.3.10');
  t.equal(mediaStorageSopClass(readShared('dicomdir/98892001/CT2N/6293')), manifest.get('dicomdir/98892001/CT2N/6293')!.sopClass);
  t.equal(mediaStorageSopClass(Buffer.alloc(200)), undefined, 'no File Meta');
  t.equal(mediaStorageSopClass(readShared('dicomdir/DICOMDIR').subarray(0, 140)), undefined, 'cut before the element');
});
