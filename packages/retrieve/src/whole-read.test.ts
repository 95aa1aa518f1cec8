import { randomBytes } from 'node:crypto';
import t from 'tap';
import { createBlobStore } from '@tessera/blob-store';
import { DicomParseError, TransferSyntax } from '@tessera/dicom';
import type { RetrievableInstance } from '@tessera/index';
import { WHOLE_READ_MAX_BYTES, wholeFrame, wholePart10, wholeReadBuffers } from './whole-read.js';

const blobs = createBlobStore({ kind: 'filesystem', root: t.testdir() });
const bytes = randomBytes(4000);
const KEY = 'instances/whole.dcm';

const row = (transferSyntaxUid: string, frames: RetrievableInstance['frames'], size = bytes.length): RetrievableInstance => ({
  studyInstanceUid: '1.2',
  seriesInstanceUid: '1.2.3',
  sopInstanceUid: '1.2.3.4',
  sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
  transferSyntaxUid,
  hasFileMeta: true,
  size,
  blobKey: KEY,
  frames,
  bulkData: [],
});
const EXPLICIT_LE = TransferSyntax.ExplicitVRLittleEndian;
const NATIVE = row(EXPLICIT_LE, { kind: 'native', offset: 1000, length: 1000, count: 3, bitsAllocated: 16 });

t.before(() => blobs.put(KEY, bytes, bytes.length));

t.test('wholePart10: the stored object between the given head and trailer, for an as-is plan', async (t) => {
  const whole = wholePart10(blobs, NATIVE, { kind: 'as-is', transferSyntaxUid: EXPLICIT_LE })!;
  t.equal(whole.length, bytes.length);
  t.ok((await whole.read()).bytes.equals(bytes), 'the object alone');
  const { bytes: body } = await whole.read(Buffer.from('head:'), Buffer.from(':tail'));
  t.ok(body.equals(Buffer.concat([Buffer.from('head:'), bytes, Buffer.from(':tail')])), 'framed in one buffer');
});

t.test('wholePart10: nothing for plans that change the bytes, or objects too large to hold', async (t) => {
  for (const kind of ['add-meta', 're-encode', 'decode'] as const) {
    t.equal(wholePart10(blobs, NATIVE, { kind, transferSyntaxUid: EXPLICIT_LE }), undefined, kind);
  }
  const large = row(EXPLICIT_LE, null, WHOLE_READ_MAX_BYTES + 1);
  t.equal(wholePart10(blobs, large, { kind: 'as-is', transferSyntaxUid: EXPLICIT_LE }), undefined, 'over WHOLE_READ_MAX_BYTES');
});

t.test('an object shorter than the index says fails before anything is sent', async (t) => {
  const short = row(EXPLICIT_LE, null, bytes.length + 10);
  const free = wholeReadBuffers.free;
  await t.rejects(wholePart10(blobs, short, { kind: 'as-is', transferSyntaxUid: EXPLICIT_LE })!.read(), DicomParseError);
  t.equal(wholeReadBuffers.free, free + 1, 'its buffer went back to the pool (nothing was sent)');
});

t.test('reads borrow from the pool: a buffer given back serves the next read', async (t) => {
  const whole = wholePart10(blobs, NATIVE, { kind: 'as-is', transferSyntaxUid: EXPLICIT_LE })!;
  const first = await whole.read();
  first.release();
  const second = await whole.read();
  t.equal(second.bytes.buffer, first.bytes.buffer, 'the same memory');
  t.ok(second.bytes.equals(bytes));
  const third = await whole.read();
  t.not(third.bytes.buffer, second.bytes.buffer, 'a buffer still lent is not lent again');
  second.release();
  third.release();
});

t.test('wholeFrame: a native little-endian frame, or the fragments of an encapsulated one in order', async (t) => {
  t.ok((await wholeFrame(blobs, NATIVE, 2)!.read()).bytes.equals(bytes.subarray(2000, 3000)), 'native frame 2');
  const jpeg = row(TransferSyntax.JPEGBaseline8Bit, {
    kind: 'encapsulated',
    frames: [
      [
        { offset: 100, length: 50 },
        { offset: 300, length: 20 },
      ],
    ],
  });
  const frame = wholeFrame(blobs, jpeg, 1)!;
  t.equal(frame.length, 70);
  t.ok((await frame.read()).bytes.equals(Buffer.concat([bytes.subarray(100, 150), bytes.subarray(300, 320)])), 'two fragments, concatenated');
});

t.test('wholeFrame: nothing where the stored bytes are not the answer (deflated, big endian)', async (t) => {
  t.equal(wholeFrame(blobs, row(TransferSyntax.DeflatedExplicitVRLittleEndian, { kind: 'deflated', offset: 0, length: 100, count: 1 }), 1), undefined);
  t.equal(wholeFrame(blobs, row(TransferSyntax.ExplicitVRBigEndian, { kind: 'native', offset: 0, length: 100, count: 1, bitsAllocated: 16 }), 1), undefined);
});
