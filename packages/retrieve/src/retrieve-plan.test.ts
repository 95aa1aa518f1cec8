import t from 'tap';
import { TransferSyntax } from '@tessera/dicom';
import type { RetrievableInstance } from '@tessera/index';
import { canDecodeStored } from './decoded-pixels.js';
import { scopeNotFound } from './resolve-scope.js';
import { planStoredPart10 } from './stored-part10.js';

const row = (transferSyntaxUid: string, frames: RetrievableInstance['frames'], hasFileMeta = true): RetrievableInstance => ({
  studyInstanceUid: '1.2',
  seriesInstanceUid: '1.2.3',
  sopInstanceUid: '1.2.3.4',
  sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
  transferSyntaxUid,
  hasFileMeta,
  size: 1000,
  blobKey: 'instances/x.dcm',
  frames,
  bulkData: [],
});
const EXPLICIT_LE = TransferSyntax.ExplicitVRLittleEndian;
const ENCAPSULATED = { kind: 'encapsulated' as const, frames: [[{ offset: 100, length: 10 }]] };
const JPEG = row(TransferSyntax.JPEGBaseline8Bit, ENCAPSULATED);
const JPEG_UNLOCATED = row(TransferSyntax.JPEGBaseline8Bit, null);
const NATIVE = row(EXPLICIT_LE, { kind: 'native', offset: 100, length: 50, count: 1, bitsAllocated: 16 });
const NO_META = row(EXPLICIT_LE, null, false);
const UNKNOWN = row('1.2.3.999', ENCAPSULATED);

t.test('canDecodeStored: compressed, located and with a decoder (NEG-7)', async (t) => {
  t.ok(canDecodeStored(JPEG), 'JPEG baseline with located frames');
  t.notOk(canDecodeStored(JPEG_UNLOCATED), 'frames not located at ingest');
  t.notOk(canDecodeStored(NATIVE), 'native data needs no decoding');
  t.notOk(canDecodeStored(UNKNOWN), 'no decoder for an unknown syntax');
});

t.test('planStoredPart10: the PS3.10 plan of a stored instance (WADORS-3, WADOURI-3, NEG-7, D17)', async (t) => {
  const cases: Array<[string, RetrievableInstance, string | undefined, unknown]> = [
    ['WADORS-3: Explicit VR LE as stored', NATIVE, undefined, { kind: 'as-is', transferSyntaxUid: EXPLICIT_LE }],
    ['WADORS-3: no File Meta → one is added', NO_META, '*', { kind: 'add-meta', transferSyntaxUid: EXPLICIT_LE }],
    ['D17: compressed without a parameter → as stored', JPEG, undefined, { kind: 'as-is', transferSyntaxUid: TransferSyntax.JPEGBaseline8Bit }],
    ['NEG-7: compressed asked in Explicit VR LE → decoded', JPEG, EXPLICIT_LE, { kind: 'decode', transferSyntaxUid: EXPLICIT_LE }],
    ['NEG-7: unlocated frames cannot be decoded', JPEG_UNLOCATED, EXPLICIT_LE, undefined],
    ['NEG-7: no encoder to another compressed syntax', JPEG, TransferSyntax.JPEG2000Lossless, undefined],
  ];
  for (const [name, instance, requested, expected] of cases) t.same(planStoredPart10(instance, requested), expected, name);
});

t.test('scopeNotFound: names the level that is not stored (COMMON-6)', async (t) => {
  const cases: Array<[Parameters<typeof scopeNotFound>[0], string]> = [
    [{ studyInstanceUid: '1.2' }, 'no study 1.2 is stored'],
    [{ studyInstanceUid: '1.2', seriesInstanceUid: '1.2.3' }, 'no series 1.2.3 of study 1.2 is stored'],
    [{ studyInstanceUid: '1.2', seriesInstanceUid: '1.2.3', sopInstanceUid: '1.2.3.4' }, 'no instance 1.2.3.4 of series 1.2.3 of study 1.2 is stored'],
  ];
  for (const [scope, message] of cases) t.match(scopeNotFound(scope), { reason: 'not-found', message }, message);
});
