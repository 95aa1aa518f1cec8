import t from 'tap';
import { TransferSyntax } from '@tessera/dicom';
import type { RetrievableInstance } from '@tessera/index';
import { planBulkData, planFrames } from './frame-plan.js';
import { RetrieveError } from './retrieve-error.js';
import { isPixelDataPath } from './stored-bytes.js';

const row = (extra: Partial<RetrievableInstance> = {}): RetrievableInstance => ({
  studyInstanceUid: '1.2',
  seriesInstanceUid: '1.2.3',
  sopInstanceUid: '1.2.3.4',
  sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
  transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
  hasFileMeta: true,
  size: 1000,
  blobKey: 'instances/x.dcm',
  frames: null,
  bulkData: [],
  ...extra,
});
const NATIVE = row({ frames: { kind: 'native', offset: 100, length: 50, count: 4, bitsAllocated: 16 } });
const ENCAPSULATED = row({
  transferSyntaxUid: TransferSyntax.JPEGBaseline8Bit,
  frames: {
    kind: 'encapsulated',
    frames: [
      [{ offset: 100, length: 10 }],
      [
        { offset: 120, length: 5 },
        { offset: 133, length: 7 },
      ],
    ],
  },
});
const NONE = row();

/** The reason of the RetrieveError `fn` throws, or what it returns. */
function outcome(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (error) {
    if (error instanceof RetrieveError) return error.reason;
    throw error;
  }
}

t.test('planFrames: frame numbers against the frame index (WADORS-5, D18)', async (t) => {
  const cases: Array<[string, RetrievableInstance, number[], unknown]> = [
    ['WADORS-5: frames within the count', NATIVE, [1, 4, 2], 4],
    ['WADORS-5: repeats are allowed', ENCAPSULATED, [2, 2], 2],
    ['WADORS-5: a frame beyond the count → frame-not-found', NATIVE, [1, 5], 'frame-not-found'],
    ['WADORS-5: no pixel data → no-frames', NONE, [1], 'no-frames'],
  ];
  for (const [name, instance, numbers, expected] of cases)
    t.equal(
      outcome(() => planFrames(instance, numbers)),
      expected,
      name,
    );
  t.throws(
    () => planFrames(NATIVE, [9]),
    { message: 'frame 9 does not exist: instance 1.2.3.4 has 4', sopInstanceUid: '1.2.3.4' },
    'the detail names the frame and the count',
  );
});

t.test('planBulkData: what a bulk data path names (WADORS-7)', async (t) => {
  const lut = { path: '00283006', vr: 'OW' as const, spans: [{ offset: 40, length: 8 }], littleEndian: true };
  const pixels = { path: '7FE00010', vr: 'OW' as const, spans: [{ offset: 100, length: 200 }], littleEndian: true };
  const withValues = row({ ...NATIVE, bulkData: [lut, pixels] });
  const cases: Array<[string, RetrievableInstance, string, unknown]> = [
    ['WADORS-7: a stored value', withValues, '00283006', { kind: 'value', ref: lut }],
    ['WADORS-7: native Pixel Data is one value', withValues, '7FE00010', { kind: 'value', ref: pixels }],
    ['WADORS-7: encapsulated Pixel Data is served as its frames', ENCAPSULATED, '7FE00010', { kind: 'frames', count: 2 }],
    ['WADORS-7: Float Pixel Data path of encapsulated frames', ENCAPSULATED, '7FE00008', { kind: 'frames', count: 2 }],
    ['WADORS-7: paths are upper-case hex, as the metadata writes them', ENCAPSULATED, '7fe00010', 'bulk-data-not-found'],
    ['WADORS-7: no value at that path', withValues, '00420011', 'bulk-data-not-found'],
    ['WADORS-7: no Pixel Data value without pixel data', NONE, '7FE00010', 'bulk-data-not-found'],
  ];
  for (const [name, instance, path, expected] of cases)
    t.same(
      outcome(() => planBulkData(instance, path)),
      expected,
      name,
    );
});

t.test('isPixelDataPath: the three top-level pixel data elements (WADORS-7)', async (t) => {
  for (const path of ['7FE00010', '7FE00008', '7FE00009']) t.ok(isPixelDataPath(path), path);
  for (const path of ['7FE00001', '00880200/0/7FE00010', '7fe00010', '']) t.notOk(isPixelDataPath(path), path || '(empty)');
});
