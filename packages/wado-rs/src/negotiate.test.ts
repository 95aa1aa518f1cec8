import t from 'tap';
import { TransferSyntax, planPart10, transferSyntaxInfo } from '@tessera/dicom';
import { HttpProblem, parseAccept } from '@tessera/http';
import { type BulkChoice, type BulkOptions, negotiateBulk, negotiateInstances, negotiateMetadata } from './negotiate.js';

const EXPLICIT_LE = TransferSyntax.ExplicitVRLittleEndian;
const JPEG = TransferSyntax.JPEGBaseline8Bit;
type Stored = { transferSyntaxUid: string; hasFileMeta: boolean };
const NATIVE: Stored = { transferSyntaxUid: EXPLICIT_LE, hasFileMeta: true };
const IMPLICIT: Stored = { transferSyntaxUid: TransferSyntax.ImplicitVRLittleEndian, hasFileMeta: true };
const COMPRESSED: Stored = { transferSyntaxUid: JPEG, hasFileMeta: true };
const DICOM_MULTIPART = 'multipart/related; type="application/dicom"';

/** The status and code of the HttpProblem `fn` throws, or what it returns. */
function outcome<T>(fn: () => T): T | { status: number; code: string } {
  try {
    return fn();
  } catch (error) {
    if (error instanceof HttpProblem) return { status: error.status, code: error.code };
    throw error;
  }
}

const NOT_ACCEPTABLE = { status: 406, code: 'NOT_ACCEPTABLE' };
const MIXED = { status: 400, code: 'MIXED_MEDIA_TYPES' };

t.test('negotiateInstances: media type and transfer syntax of PS3.10 files (WADORS-2/3, NEG-4/5/6/7)', async (t) => {
  const withDecoder = (s: Stored, ts: string | undefined) => planPart10(s, ts, { canDecode: () => true });
  const withoutDecoder = (s: Stored, ts: string | undefined) => planPart10(s, ts);
  const cases: Array<[string, string | undefined, Stored[], boolean, typeof withDecoder, unknown]> = [
    [
      'WADORS-2: no Accept → multipart, Explicit VR LE as stored',
      undefined,
      [NATIVE],
      false,
      withoutDecoder,
      { multipart: true, plans: [{ kind: 'as-is', transferSyntaxUid: EXPLICIT_LE }] },
    ],
    ['NEG-4: */* → multipart', '*/*', [NATIVE], true, withoutDecoder, { multipart: true }],
    [
      'WADORS-2: multipart/related; type="application/dicom"',
      DICOM_MULTIPART,
      [NATIVE, NATIVE],
      false,
      withoutDecoder,
      { multipart: true, plans: [{ kind: 'as-is' }, { kind: 'as-is' }] },
    ],
    ['NEG-6: single-part application/dicom for one instance', 'application/dicom', [NATIVE], true, withoutDecoder, { multipart: false }],
    ['NEG-6: single-part application/dicom refused for a series', 'application/dicom', [NATIVE, NATIVE], false, withoutDecoder, NOT_ACCEPTABLE],
    [
      'NEG-6: octet-stream parts of instances are not offered',
      'multipart/related; type="application/octet-stream"',
      [NATIVE],
      true,
      withoutDecoder,
      NOT_ACCEPTABLE,
    ],
    [
      'WADORS-3: implicit VR is re-encoded to Explicit VR LE',
      DICOM_MULTIPART,
      [IMPLICIT],
      true,
      withoutDecoder,
      { plans: [{ kind: 're-encode', transferSyntaxUid: EXPLICIT_LE }] },
    ],
    [
      'NEG-7: transfer-syntax=* keeps compressed data as stored',
      `${DICOM_MULTIPART}; transfer-syntax=*`,
      [COMPRESSED],
      true,
      withoutDecoder,
      { plans: [{ kind: 'as-is', transferSyntaxUid: JPEG }] },
    ],
    [
      'NEG-7: Explicit VR LE of compressed data is decoded when a decoder exists',
      `${DICOM_MULTIPART}; transfer-syntax=${EXPLICIT_LE}`,
      [COMPRESSED],
      true,
      withDecoder,
      { plans: [{ kind: 'decode', transferSyntaxUid: EXPLICIT_LE }] },
    ],
    [
      'NEG-7: Explicit VR LE of compressed data without a decoder → 406',
      `${DICOM_MULTIPART}; transfer-syntax=${EXPLICIT_LE}`,
      [COMPRESSED],
      true,
      withoutDecoder,
      NOT_ACCEPTABLE,
    ],
    [
      'NEG-7: every instance must be producible in the asked syntax',
      `${DICOM_MULTIPART}; transfer-syntax=${JPEG}`,
      [COMPRESSED, NATIVE],
      false,
      withoutDecoder,
      NOT_ACCEPTABLE,
    ],
    [
      'NEG-1: a later acceptable entry is used when the first cannot be produced',
      `${DICOM_MULTIPART}; transfer-syntax=${TransferSyntax.JPEG2000Lossless}, ${DICOM_MULTIPART}; transfer-syntax=*;q=0.5`,
      [COMPRESSED],
      true,
      withoutDecoder,
      { multipart: true, plans: [{ kind: 'as-is', transferSyntaxUid: JPEG }] },
    ],
    ['NEG-5: DICOM and rendered types together → 400', 'application/dicom, image/jpeg', [NATIVE], true, withoutDecoder, MIXED],
  ];
  for (const [name, accept, stored, single, plan, expected] of cases) {
    t.match(
      outcome(() => negotiateInstances(parseAccept(accept), stored, single, plan)),
      expected,
      name,
    );
  }
});

t.test('negotiateMetadata: DICOM JSON or its XML form (WADORS-4)', async (t) => {
  const cases: Array<[string, string | undefined, unknown]> = [
    ['WADORS-4: no Accept → DICOM JSON', undefined, 'json'],
    ['WADORS-4: application/dicom+json', 'application/dicom+json', 'json'],
    ['WADORS-4: multipart XML', 'multipart/related; type="application/dicom+xml"', 'xml'],
    ['NEG-6: application/dicom is not metadata → 406', 'application/dicom', NOT_ACCEPTABLE],
    ['NEG-5: mixed families → 400', 'application/dicom+json, image/png', MIXED],
  ];
  for (const [name, accept, expected] of cases)
    t.same(
      outcome(() => negotiateMetadata(parseAccept(accept))),
      expected,
      name,
    );
});

t.test('negotiateBulk: frames and bulk data media types (WADORS-5/6/7, NEG-7/8)', async (t) => {
  const native = transferSyntaxInfo(EXPLICIT_LE);
  const jpeg = transferSyntaxInfo(JPEG);
  const NATIVE_PART = `application/octet-stream; transfer-syntax=${EXPLICIT_LE}`;
  const JPEG_PART = `image/jpeg; transfer-syntax=${JPEG}`;
  const OCTET_MULTIPART = 'multipart/related; type="application/octet-stream"';
  const cases: Array<[string, string | undefined, typeof native, boolean, BulkOptions, BulkChoice | typeof NOT_ACCEPTABLE]> = [
    ['WADORS-5: no Accept → multipart, native frames as octet-stream', undefined, native, false, {}, { multipart: true, partType: NATIVE_PART, decode: false }],
    [
      'WADORS-7: a bulk value (no stored syntax) is octet-stream, Explicit VR LE',
      OCTET_MULTIPART,
      undefined,
      true,
      {},
      { multipart: true, partType: NATIVE_PART, decode: false },
    ],
    [
      'WADORS-5: single-part octet-stream for one frame',
      'application/octet-stream',
      native,
      true,
      {},
      { multipart: false, partType: NATIVE_PART, decode: false },
    ],
    ['WADORS-5: single-part octet-stream refused for several frames', 'application/octet-stream', native, false, {}, NOT_ACCEPTABLE],
    [
      'WADORS-6: OHIF octet-stream; transfer-syntax=* keeps JPEG frames typed image/jpeg',
      `${OCTET_MULTIPART}; transfer-syntax=*`,
      jpeg,
      false,
      {},
      { multipart: true, partType: JPEG_PART, decode: false },
    ],
    [
      'NEG-8: the bulk media type of the stored syntax',
      'multipart/related; type="image/jpeg"',
      jpeg,
      false,
      {},
      { multipart: true, partType: JPEG_PART, decode: false },
    ],
    ['NEG-7: another compressed type → 406', 'multipart/related; type="image/jp2"', jpeg, false, {}, NOT_ACCEPTABLE],
    [
      'NEG-7: Explicit VR LE of JPEG frames is decoded when decodable',
      `${OCTET_MULTIPART}; transfer-syntax=${EXPLICIT_LE}`,
      jpeg,
      false,
      { decodable: true },
      { multipart: true, partType: NATIVE_PART, decode: true },
    ],
    ['NEG-7: Explicit VR LE of JPEG frames without a decoder → 406', `${OCTET_MULTIPART}; transfer-syntax=${EXPLICIT_LE}`, jpeg, false, {}, NOT_ACCEPTABLE],
    [
      'WADORS-7: decoded Pixel Data is one value, single part even for several frames',
      `application/octet-stream; transfer-syntax=${EXPLICIT_LE}`,
      jpeg,
      false,
      { decodable: true, decodedSingle: true },
      { multipart: false, partType: NATIVE_PART, decode: true },
    ],
    ['NEG-4: */* → multipart in the stored syntax', '*/*', jpeg, true, { decodable: true }, { multipart: true, partType: JPEG_PART, decode: false }],
    ['NEG-7: native data asked in a compressed syntax → 406', `${OCTET_MULTIPART}; transfer-syntax=${JPEG}`, native, false, {}, NOT_ACCEPTABLE],
  ];
  for (const [name, accept, stored, single, options, expected] of cases) {
    t.same(
      outcome(() => negotiateBulk(parseAccept(accept), stored, single, options)),
      expected,
      name,
    );
  }
  t.same(
    outcome(() => negotiateBulk(parseAccept('application/octet-stream, image/png'), native, true)),
    MIXED,
    'NEG-5: mixed families → 400',
  );
});
