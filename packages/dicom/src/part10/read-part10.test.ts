import { join } from 'node:path';
import t from 'tap';
import { TEST_DICOM, readBadIndex, readShared, sharedFiles } from '@tessera/test-data';
import { FailureReason } from '../status.js';
import { Tag } from '../tag.js';
import { TransferSyntax, isValidUid } from '../uid.js';
import { readManifestEntries } from '../testing/manifest.js';
import { type InstanceDescription, describeInstance } from './describe-instance.js';
import { DicomParseError } from './errors.js';
import { bufferByteSource, fileByteSource } from './file-source.js';
import { type ByteSource, readPart10Header } from './read-part10.js';
import { elementString } from './values.js';

const OPTIONS = { maxHeaderBytes: 64 * 1024 * 1024, inlineBinaryMaxBytes: 1024 };
const { CannotUnderstand, DataSetDoesNotMatchSOPClass, SOPClassNotSupported, TransferSyntaxNotSupported } = FailureReason;
/** The study make-bad.py moves every surviving bad/ dataset into. */
const BAD_STUDY_UID = '2.25.333480926215357352056482087636797681';

type Outcome = { description: InstanceDescription } | { error: unknown };

async function describePath(path: string): Promise<Outcome> {
  const source = await fileByteSource(join(TEST_DICOM, path));
  try {
    return { description: await describeInstance(source, OPTIONS) };
  } catch (error) {
    return { error };
  } finally {
    await source.close();
  }
}

const hex = (reason: number) => `0x${reason.toString(16).toUpperCase().padStart(4, '0')}`;
const errorText = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

interface Rejection {
  reason: number;
  why: string;
  /** Text the error message must contain (e.g. the attribute that is missing). */
  message?: string;
}

const truncated = (why: string): Rejection => ({ reason: CannotUnderstand, why });
const lacking = (attribute: string, why: string): Rejection => ({ reason: DataSetDoesNotMatchSOPClass, why, message: attribute });
const directory: Rejection = { reason: SOPClassNotSupported, why: 'a Media Storage Directory is not an instance', message: 'DICOMDIR' };

/** Real files (outside bad/) that describeInstance refuses, on purpose, and why. */
const REJECTED_REAL: Record<string, Rejection> = {
  // Truncated real files: pydicom reads them leniently, dcmtk reports a premature end.
  'edge/pixel/mr-truncated-pixeldata.dcm': truncated('Pixel Data declares 8192 bytes, the file ends 62 bytes earlier'),
  'edge/pixel/rtplan-truncated.dcm': truncated('cut inside a nested defined-length sequence'),
  'edge/pixel/j2k-too-short.dcm': truncated('encapsulated Pixel Data ends without its sequence delimiter (8 bytes short)'),
  // No File Meta and a stray 0x20 byte before the first (0008,0005) element: no encoding can be detected.
  'edge/no-meta/ct-small-no-meta.dcm': truncated('starts with a stray byte, not with a group 0008 element'),
  // DICOMDIRs (Media Storage SOP Class 1.2.840.10008.1.3.10) describe a file-set; they are not archived.
  'dicomdir/DICOMDIR': directory,
  'dicomdir/DICOMDIR-bigEnd': directory,
  'dicomdir/DICOMDIR-empty.dcm': directory,
  'dicomdir/DICOMDIR-implicit': directory,
  'dicomdir/DICOMDIR-nopatient': directory,
  'dicomdir/DICOMDIR-reordered': directory,
  'dicomdir/TINY_ALPHA/DICOMDIR': directory,
  // Also structurally broken (its last directory record item declares 248 bytes, 24 more than the
  // file holds: the offset elements were removed, the item length was not updated; pydicom reads the
  // short item without complaint), but a DICOMDIR is refused from its File Meta, before the dataset.
  'dicomdir/DICOMDIR-nooffset': directory,
  // Files lacking the UIDs an instance must carry (STOW-8).
  'charset/chrSQEncoding.dcm': lacking('SOPClassUID', 'a charset sample holding only a sequence, no UIDs'),
  'charset/chrSQEncoding1.dcm': lacking('SOPClassUID', 'a charset sample holding only a sequence, no UIDs'),
  'edge/minimal/no-sop-class-empty-study-desc.dcm': lacking('SOPClassUID', 'no SOP Class UID'),
  'edge/minimal/no-sop-class.dcm': lacking('SOPClassUID', 'no SOP Class UID'),
  'edge/minimal/only-sop-uids.dcm': lacking('StudyInstanceUID', 'only SOP Class and Instance UIDs'),
  'edge/missing-uids/empty-charset-no-uids.dcm': lacking('SOPClassUID', 'no UIDs at all'),
  'edge/missing-uids/htj2k-lossless-rgb_1.2.840.10008.1.2.4.201.dcm': lacking('StudyInstanceUID', 'no Study/Series UID'),
  'edge/missing-uids/htj2k-rgb_1.2.840.10008.1.2.4.203.dcm': lacking('StudyInstanceUID', 'no Study/Series UID'),
  'edge/missing-uids/jpegls-8bit-no-study.dcm': lacking('StudyInstanceUID', 'no Study/Series UID'),
  'edge/missing-uids/un-sequence-only.dcm': lacking('SOPClassUID', 'only a private UN sequence'),
  'edge/no-meta/meta-missing-transfer-syntax.dcm': lacking('SOPClassUID', 'no UIDs in the dataset'),
  'edge/no-meta/meta-no-group-length.dcm': lacking('SOPClassUID', 'no UIDs in the dataset'),
  'edge/private/nested-private-sq.dcm': lacking('SOPClassUID', 'no UIDs in the dataset'),
  'edge/private/private-sq-undefined-length.dcm': lacking('SOPClassUID', 'no UIDs in the dataset'),
  // UIDs that are present but not UIDs (DATA-1): 64 hex digits.
  'edge/vr/invalid-sequence-in-jpeg-ll.dcm': lacking('SOPInstanceUID', 'hex-digest UIDs are not valid UIDs'),
};

const manifest = readManifestEntries();
const realFiles = sharedFiles().filter((path) => !path.startsWith('bad/'));

t.test('shared data is where the tests expect it', async (t) => {
  t.ok(realFiles.length >= 250, `${realFiles.length} real files under ${TEST_DICOM}`);
  for (const path of realFiles) if (!manifest.has(path)) t.fail(`${path} has no MANIFEST row`);
  for (const path of Object.keys(REJECTED_REAL)) t.ok(realFiles.includes(path), `listed rejection ${path} exists`);
});

t.test('STOW-8: real files with MANIFEST UIDs are described with exactly those UIDs', async (t) => {
  let described = 0;
  for (const path of realFiles) {
    if (REJECTED_REAL[path]) continue; // asserted in the next test
    const row = manifest.get(path)!;
    const hasUids = [row.studyUid, row.seriesUid, row.sopUid].every(isValidUid);
    if (!hasUids) {
      t.fail(`${path}: neither listed as a deliberate rejection nor given valid UIDs by MANIFEST.tsv`);
      continue;
    }
    const outcome = await describePath(path);
    if ('error' in outcome) {
      t.fail(`STOW-8: ${path} must be accepted: ${errorText(outcome.error)}`);
      continue;
    }
    const d = outcome.description;
    t.same(
      { study: d.studyInstanceUid, series: d.seriesInstanceUid, sop: d.sopInstanceUid },
      { study: row.studyUid, series: row.seriesUid, sop: row.sopUid },
      `STOW-8: ${path} UIDs are MANIFEST's`,
    );
    if (row.sopClassUid) t.equal(d.sopClassUid, row.sopClassUid, `STOW-8: ${path} SOP Class is MANIFEST's`);
    if (row.transferSyntax) {
      // MANIFEST's transfer syntax comes from the File Meta (DATA-2).
      t.ok(d.hasFileMeta, `DATA-2: ${path} has a File Meta`);
      t.equal(d.transferSyntaxUid, row.transferSyntax, `DATA-2: ${path} transfer syntax is the File Meta's`);
    } else {
      t.notOk(d.hasFileMeta, `DATA-2: ${path} has no File Meta (MANIFEST parse=${row.parse})`);
    }
    described++;
  }
  t.ok(described >= 220, `${described} real files described`);
});

t.test('STOW-5/STOW-8: deliberate rejections of real files carry their failure reason', async (t) => {
  for (const [path, expected] of Object.entries(REJECTED_REAL)) {
    const outcome = await describePath(path);
    if (!('error' in outcome)) {
      t.fail(`${path} must be rejected (${expected.why})`);
      continue;
    }
    const { error } = outcome;
    t.type(error, DicomParseError, `${path} fails with a DicomParseError: ${errorText(error)}`);
    if (!(error instanceof DicomParseError)) continue;
    t.equal(hex(error.reason), hex(expected.reason), `STOW-5: ${path} reason ${hex(expected.reason)} (${expected.why})`);
    if (expected.message) t.match(error.message, expected.message, `STOW-8: ${path} names ${expected.message}`);
  }
});

t.test('STOW-8: a failure after the SOP UIDs are read names the instance', async (t) => {
  // Study/Series UID missing: FailedSOPSequence can still report ReferencedSOPInstanceUID.
  for (const path of ['edge/minimal/only-sop-uids.dcm', 'edge/missing-uids/jpegls-8bit-no-study.dcm']) {
    const outcome = await describePath(path);
    const error = 'error' in outcome ? outcome.error : undefined;
    t.type(error, DicomParseError, `${path} is rejected`);
    const row = manifest.get(path)!;
    t.match(error, { sopClassUid: row.sopClassUid, sopInstanceUid: row.sopUid }, `STOW-8: ${path} error carries the SOP UIDs`);
  }
});

t.test('DATA-2: files without File Meta are read with a detected encoding', async (t) => {
  const expected: Record<string, string> = {
    'edge/no-meta/explicit-le-no-meta.dcm': TransferSyntax.ExplicitVRLittleEndian,
    'edge/no-meta/explicit-be-no-meta.dcm': TransferSyntax.ExplicitVRBigEndian,
    'edge/no-meta/rtstruct-no-preamble.dcm': TransferSyntax.ImplicitVRLittleEndian,
    'edge/no-meta/ot-palette-no-meta.dcm': TransferSyntax.ImplicitVRLittleEndian,
    'edge/private/pet-private-tags-liege.dcm': TransferSyntax.ImplicitVRLittleEndian,
  };
  for (const [path, uid] of Object.entries(expected)) {
    const header = await readPart10Header(bufferByteSource(readShared(path)), OPTIONS);
    t.equal(header.hasFileMeta, false, `DATA-2: ${path} has no File Meta`);
    t.equal(header.datasetOffset, 0, `DATA-2: ${path} dataset starts at byte 0`);
    t.equal(header.transferSyntax.uid, uid, `DATA-2: ${path} is read as ${uid}`);
  }
  const withMeta = await readPart10Header(bufferByteSource(readShared('transfer-syntax/small/mr-small_1.2.840.10008.1.2.1_explicit-le.dcm')), OPTIONS);
  t.equal(withMeta.hasFileMeta, true, 'DATA-2: a PS3.10 file has its File Meta read');
  t.ok(withMeta.datasetOffset > 132, 'DATA-2: its dataset starts after preamble, DICM and group 0002');
  t.notOk(
    [...withMeta.dataset.keys()].some((tag) => tag >>> 16 === 2),
    'DATA-2: group 0002 is not part of the dataset',
  );
});

t.test('DATA-2: deflated datasets are inflated and their File Meta read from the file', async (t) => {
  for (const path of ['transfer-syntax/small/sc-deflate_1.2.840.10008.1.2.1.99.dcm', 'transfer-syntax/ct-one-image/ct_1.2.840.10008.1.2.1.99.dcm']) {
    const outcome = await describePath(path);
    if ('error' in outcome) {
      t.fail(`${path}: ${errorText(outcome.error)}`);
      continue;
    }
    const d = outcome.description;
    const row = manifest.get(path)!;
    t.equal(d.transferSyntaxUid, TransferSyntax.DeflatedExplicitVRLittleEndian, `DATA-3: ${path} is deflated`);
    t.equal(d.sopInstanceUid, row.sopUid, `STOW-8: ${path} SOP Instance UID`);
    // Regression: the File Meta UIDs were decoded from the inflated bytes, giving garbage mismatch warnings.
    t.same(d.warnings, [], `STOW-8: ${path} File Meta agrees with its dataset (no warning)`);
    const header = await readPart10Header(bufferByteSource(readShared(path)), OPTIONS);
    const metaSop = header.meta.get(Tag.MediaStorageSOPInstanceUID);
    t.equal(metaSop && elementString(header.metaBuffer, metaSop), row.sopUid, `DATA-2: ${path} (0002,0003) is read from the file bytes`);
  }
});

t.test('header reading is bounded: a large object costs one prefix read', async (t) => {
  const path = 'transfer-syntax/small/us-ybr-full-422-evrle.dcm'; // 889 kB, mostly pixel data
  const inner = await fileByteSource(join(TEST_DICOM, path));
  let bytesRead = 0;
  const counting: ByteSource = {
    size: inner.size,
    read: async (offset, length) => {
      const bytes = await inner.read(offset, length);
      bytesRead += bytes.length;
      return bytes;
    },
    stream: (offset) => inner.stream(offset),
  };
  try {
    const d = await describeInstance(counting, OPTIONS);
    t.equal(d.sopInstanceUid, manifest.get(path)!.sopUid, 'the instance is described');
  } finally {
    await inner.close();
  }
  t.ok(inner.size > 800_000, `the file holds ${inner.size} bytes`);
  t.ok(bytesRead <= 256 * 1024, `only ${bytesRead} bytes were read`);
});

// ---------------------------------------------------------------------------------------------
// bad/: generated broken and hostile inputs (bad/INDEX.tsv says what the server must do)

const ACCEPT = 'accept' as const;
const reject = (reason: number): { reason: number } => ({ reason });
const BAD: Record<string, typeof ACCEPT | { reason: number }> = {
  'zero-length.dcm': reject(CannotUnderstand),
  'not-dicom-text.dcm': reject(CannotUnderstand),
  'not-dicom-png.dcm': reject(CannotUnderstand),
  'not-dicom-random-4k.dcm': reject(CannotUnderstand),
  'not-dicom-json.dcm': reject(CannotUnderstand),
  'gzip-of-dicom.dcm.gz': reject(CannotUnderstand),
  'preamble-only.dcm': reject(CannotUnderstand),
  'wrong-magic-DICN.dcm': reject(CannotUnderstand),
  'short-preamble-100.dcm': reject(CannotUnderstand),
  'no-preamble-dicm-at-0.dcm': reject(CannotUnderstand),
  'garbage-preamble-text.dcm': ACCEPT,
  'truncated-in-meta.dcm': reject(CannotUnderstand),
  'truncated-in-header.dcm': reject(CannotUnderstand),
  'truncated-in-pixeldata.dcm': reject(CannotUnderstand),
  'truncated-in-sequence.dcm': reject(CannotUnderstand),
  'truncated-mid-element-header.dcm': reject(CannotUnderstand),
  'huge-length-pixeldata.dcm': reject(CannotUnderstand),
  'huge-length-ut-element.dcm': reject(CannotUnderstand),
  'huge-meta-group-length.dcm': reject(CannotUnderstand),
  'length-past-eof-short.dcm': reject(CannotUnderstand),
  'odd-length-element.dcm': ACCEPT,
  'no-study-uid.dcm': reject(DataSetDoesNotMatchSOPClass),
  'no-series-uid.dcm': reject(DataSetDoesNotMatchSOPClass),
  'no-sop-instance-uid.dcm': reject(DataSetDoesNotMatchSOPClass),
  'no-sop-class-uid.dcm': reject(DataSetDoesNotMatchSOPClass),
  'no-patient-id.dcm': ACCEPT,
  'uid-letters.dcm': reject(DataSetDoesNotMatchSOPClass),
  'uid-spaces.dcm': reject(DataSetDoesNotMatchSOPClass),
  'uid-leading-zero.dcm': reject(DataSetDoesNotMatchSOPClass),
  'uid-too-long-65.dcm': reject(DataSetDoesNotMatchSOPClass),
  'uid-trailing-dot.dcm': reject(DataSetDoesNotMatchSOPClass),
  'uid-empty-study.dcm': reject(DataSetDoesNotMatchSOPClass),
  'uid-path-traversal.dcm': reject(DataSetDoesNotMatchSOPClass),
  'meta-sop-uid-mismatch.dcm': ACCEPT,
  'meta-says-explicit-data-implicit.dcm': reject(CannotUnderstand),
  'meta-says-rle-data-raw.dcm': reject(TransferSyntaxNotSupported),
  'meta-unknown-transfer-syntax.dcm': reject(TransferSyntaxNotSupported),
  'invalid-vr-code.dcm': reject(CannotUnderstand),
  'deeply-nested-sequence-5000.dcm': reject(CannotUnderstand),
  'hostile-strings-xss-sql.dcm': ACCEPT,
  'overlong-values.dcm': ACCEPT,
  'duplicate-tag.dcm': reject(CannotUnderstand),
  'tags-out-of-order.dcm': ACCEPT,
  'trailing-garbage.dcm': ACCEPT,
};

/** The failure families bad/INDEX.tsv allows (0xA900, 0xC000 incl. C122, 0xA700). */
const inRejectFamily = (reason: number) => [0xa700, 0xa900, 0xc000, 0xc100].includes(reason & 0xff00);

t.test('bad/: every INDEX.tsv input is covered here', async (t) => {
  const index = readBadIndex();
  t.same(index.map((row) => row.file).sort(), Object.keys(BAD).sort(), 'the expectations list INDEX.tsv exactly');
  t.same(
    sharedFiles('bad')
      .map((path) => path.slice('bad/'.length))
      .sort(),
    Object.keys(BAD).sort(),
    'every file in bad/ is in INDEX.tsv',
  );
  for (const row of index) {
    const expected = row.expected.trim();
    if (BAD[row.file] === ACCEPT) {
      t.match(expected, /accept|ignore the tail/, `INDEX allows accepting ${row.file}: "${expected}"`);
    } else {
      t.match(expected, /reject/, `INDEX allows rejecting ${row.file}: "${expected}"`);
    }
  }
});

t.test('bad/: rejected inputs fail with a DicomParseError and a reason, never a crash', async (t) => {
  for (const [file, expected] of Object.entries(BAD)) {
    if (expected === ACCEPT) continue;
    const outcome = await describePath(`bad/${file}`);
    if (!('error' in outcome)) {
      t.fail(`bad/${file} must be rejected`);
      continue;
    }
    const { error } = outcome;
    // A RangeError (stack overflow, out-of-range read) or TypeError here would be a crash.
    t.type(error, DicomParseError, `bad/${file} fails as DicomParseError: ${errorText(error)}`);
    if (!(error instanceof DicomParseError)) continue;
    t.ok(inRejectFamily(error.reason), `STOW-5: bad/${file} reason ${hex(error.reason)} is in the 0xA900/0xC000/0xC122/0xA700 families`);
    t.equal(hex(error.reason), hex(expected.reason), `STOW-5: bad/${file} reason ${hex(expected.reason)}`);
  }
});

t.test('bad/deeply-nested-sequence-5000.dcm is refused without recursing 5000 levels', async (t) => {
  const started = performance.now();
  const outcome = await describePath('bad/deeply-nested-sequence-5000.dcm');
  const error = 'error' in outcome ? outcome.error : undefined;
  t.type(error, DicomParseError, `a DicomParseError, not a RangeError: ${errorText(error)}`);
  t.match(error, { reason: CannotUnderstand, message: /nested deeper/ }, 'STOW-5: 0xC000, nesting too deep');
  t.ok(performance.now() - started < 2000, 'refused quickly (generous bound for loaded CI machines)');
});

t.test('bad/: declared multi-GiB lengths fail fast without allocating', async (t) => {
  const huge = ['huge-length-pixeldata.dcm', 'huge-length-ut-element.dcm', 'huge-meta-group-length.dcm', 'length-past-eof-short.dcm'];
  globalThis.gc?.();
  const before = process.memoryUsage();
  const started = performance.now();
  for (let round = 0; round < 5; round++) {
    for (const file of huge) {
      const outcome = await describePath(`bad/${file}`);
      if (round === 0) t.type('error' in outcome ? outcome.error : undefined, DicomParseError, `bad/${file} is refused`);
    }
  }
  const elapsed = performance.now() - started;
  const after = process.memoryUsage();
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
  t.ok(after.rss - before.rss < 100 * 2 ** 20, `RSS grew by ${mb(after.rss - before.rss)} MB (< 100 MB)`);
  t.ok(after.arrayBuffers - before.arrayBuffers < 100 * 2 ** 20, `buffers grew by ${mb(after.arrayBuffers - before.arrayBuffers)} MB (< 100 MB)`);
  t.ok(elapsed < 5000, `20 refusals took ${Math.round(elapsed)} ms`);
});

t.test('bad/: inputs INDEX.tsv allows to be accepted are accepted, under the dataset UIDs', async (t) => {
  for (const [file, expected] of Object.entries(BAD)) {
    if (expected !== ACCEPT) continue;
    const outcome = await describePath(`bad/${file}`);
    if ('error' in outcome) {
      t.fail(`bad/${file} must be accepted: ${errorText(outcome.error)}`);
      continue;
    }
    const d = outcome.description;
    t.equal(d.studyInstanceUid, BAD_STUDY_UID, `STOW-8: bad/${file} is indexed in the bad-inputs study`);
    t.ok(isValidUid(d.sopInstanceUid), `DATA-1: bad/${file} SOP Instance UID is valid`);
    const datasetSop = d.metadata['00080018']?.Value?.[0];
    t.equal(d.sopInstanceUid, datasetSop, `STOW-8: bad/${file} is indexed under its dataset SOP Instance UID`);
    if (file !== 'meta-sop-uid-mismatch.dcm') t.same(d.warnings, [], `bad/${file} needs no warning`);
  }
});

t.test('bad/meta-sop-uid-mismatch.dcm: accepted with a warning, indexed by the dataset UID', async (t) => {
  const path = 'bad/meta-sop-uid-mismatch.dcm';
  const header = await readPart10Header(bufferByteSource(readShared(path)), OPTIONS);
  const metaElement = header.meta.get(Tag.MediaStorageSOPInstanceUID)!;
  const metaUid = elementString(header.metaBuffer, metaElement);
  const datasetUid = elementString(header.buffer, header.dataset.get(Tag.SOPInstanceUID)!);
  t.not(metaUid, datasetUid, 'the File Meta and dataset UIDs differ');

  const outcome = await describePath(path);
  if ('error' in outcome) return t.fail(errorText(outcome.error));
  const d = outcome.description;
  t.equal(d.sopInstanceUid, datasetUid, 'STOW-8: indexed under the dataset UID');
  t.not(d.sopInstanceUid, metaUid, 'STOW-8: never under the File Meta UID');
  t.equal(d.warnings.length, 1, 'STOW-8: one warning');
  t.match(d.warnings[0], /MediaStorageSOPInstanceUID/, 'STOW-8: the warning names (0002,0003)');
});

t.test('bad/: tolerated oddities keep the data intact', async (t) => {
  const outOfOrder = await describePath('bad/tags-out-of-order.dcm');
  if ('description' in outOfOrder) {
    t.same(outOfOrder.description.metadata['00080060'], { vr: 'CS', Value: ['MR'] }, 'JSON-2: the moved Modality is kept');
  } else t.fail(errorText(outOfOrder.error));

  const noPatient = await describePath('bad/no-patient-id.dcm');
  if ('description' in noPatient) {
    t.equal(noPatient.description.metadata['00100020'], undefined, 'no PatientID in the metadata');
  } else t.fail(errorText(noPatient.error));

  const trailing = await describePath('bad/trailing-garbage.dcm');
  if ('description' in trailing) {
    t.match(trailing.description.frames, { kind: 'native', count: 1 }, 'WADORS-5: trailing junk after Pixel Data leaves one frame');
    t.match(trailing.description.metadata['7FE00010'], { BulkDataURI: 'bulkdata/7FE00010' }, 'JSON-10: pixel data stays bulk data');
  } else t.fail(errorText(trailing.error));
});
