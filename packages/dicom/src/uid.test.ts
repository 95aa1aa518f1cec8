import t from 'tap';
import { TransferSyntax, isValidUid, transferSyntaxInfo } from './uid.js';

t.test('DATA-1: valid UIDs', async (t) => {
  const valid = [
    '1.2.840.10008.1.2.1', // the digest's example
    '0',
    '0.0',
    '1.0.2',
    '2.25.333480926215357352056482087636797681', // UUID-derived, as the bad/ study
    '1.2.3', // syntactically fine, however poor (studies/patient-with-2-studies)
    `1.${'2'.repeat(62)}`, // exactly 64 characters
  ];
  for (const uid of valid) t.ok(isValidUid(uid), `DATA-1: ${JSON.stringify(uid)} (${uid.length} chars) is valid`);
  t.equal(`1.${'2'.repeat(62)}`.length, 64, 'the longest example has 64 characters');
});

t.test('DATA-1: invalid UIDs', async (t) => {
  const invalid: [string, string][] = [
    ['1.2.04', 'component with a leading zero'],
    ['01.2', 'first component with a leading zero'],
    ['00', 'zero written twice'],
    ['1..2', 'empty component'],
    ['1.2.', 'trailing dot'],
    ['.1.2', 'leading dot'],
    [`1.${'2'.repeat(63)}`, '65 characters'],
    ['1.2.a', 'letter'],
    ['1.2.840.ABC.7.x', 'letters (bad/uid-letters.dcm)'],
    ['', 'empty'],
    ['1.2.3 4.5', 'inner space (bad/uid-spaces.dcm)'],
    ['1.2.3 ', 'trailing pad space: padding is not part of the UID'],
    ['1.2.3\0', 'trailing NUL pad: padding is not part of the UID'],
    ['-1.2', 'sign'],
    ['1.+2', 'sign inside'],
    ['1,2', 'comma'],
    ['１.２', 'full-width digits'],
    ['../../etc/passwd', 'path traversal (bad/uid-path-traversal.dcm)'],
    ['dccc9599087131742838cc1162a630fea87ba9bf61ac09bfda90d4adfa5ddaed', 'hex digest (edge/vr/invalid-sequence-in-jpeg-ll.dcm)'],
  ];
  for (const [uid, why] of invalid) t.notOk(isValidUid(uid), `DATA-1: ${JSON.stringify(uid)} is invalid: ${why}`);
  t.equal(`1.${'2'.repeat(63)}`.length, 65, 'the too-long example has 65 characters');
});

t.test('DATA-3: transfer syntaxes and their bulk media types', async (t) => {
  const expected: [string, string][] = [
    [TransferSyntax.ExplicitVRLittleEndian, 'application/octet-stream'],
    [TransferSyntax.JPEGBaseline8Bit, 'image/jpeg'],
    [TransferSyntax.JPEGExtended12Bit, 'image/jpeg'],
    [TransferSyntax.JPEGLossless, 'image/jpeg'],
    [TransferSyntax.JPEGLosslessSV1, 'image/jpeg'],
    [TransferSyntax.JPEGLSLossless, 'image/jls'],
    [TransferSyntax.JPEGLSNearLossless, 'image/jls'],
    [TransferSyntax.JPEG2000Lossless, 'image/jp2'],
    [TransferSyntax.JPEG2000, 'image/jp2'],
    ['1.2.840.10008.1.2.4.92', 'image/jpx'],
    ['1.2.840.10008.1.2.4.93', 'image/jpx'],
    ['1.2.840.10008.1.2.4.201', 'image/jphc'],
    ['1.2.840.10008.1.2.4.202', 'image/jphc'],
    ['1.2.840.10008.1.2.4.203', 'image/jphc'],
    [TransferSyntax.RLELossless, 'image/dicom-rle'],
    ['1.2.840.10008.1.2.4.100', 'video/mpeg'],
    ['1.2.840.10008.1.2.4.101', 'video/mpeg'],
    ['1.2.840.10008.1.2.4.102', 'video/mp4'],
    ['1.2.840.10008.1.2.4.107', 'video/H265'],
  ];
  for (const [uid, mediaType] of expected) {
    t.equal(transferSyntaxInfo(uid)?.bulkMediaType, mediaType, `DATA-3: ${uid} → ${mediaType}`);
  }

  const implicit = transferSyntaxInfo(TransferSyntax.ImplicitVRLittleEndian);
  t.match(implicit, { explicitVr: false, littleEndian: true, encapsulated: false, deflated: false }, 'DATA-3: Implicit VR Little Endian');
  const bigEndian = transferSyntaxInfo(TransferSyntax.ExplicitVRBigEndian);
  t.match(bigEndian, { explicitVr: true, littleEndian: false, encapsulated: false }, 'DATA-3: Explicit VR Big Endian');
  const deflated = transferSyntaxInfo(TransferSyntax.DeflatedExplicitVRLittleEndian);
  t.match(
    deflated,
    { explicitVr: true, littleEndian: true, encapsulated: false, deflated: true },
    'DATA-3: Deflated Explicit VR LE is inflated, not encapsulated',
  );
  t.equal(transferSyntaxInfo(TransferSyntax.RLELossless)?.encapsulated, true, 'DATA-3: RLE pixel data is encapsulated');

  t.equal(transferSyntaxInfo('1.2.3.4.5.6.7.8.9.10'), undefined, 'DATA-3: an unknown transfer syntax (bad/meta-unknown-transfer-syntax.dcm) has no entry');
  t.equal(transferSyntaxInfo('1.2.840.10008.1.2.1 '), undefined, 'DATA-1: a padded UID is not looked up as the bare one');
});
