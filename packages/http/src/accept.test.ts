import t from 'tap';
import { acceptableMediaTypes, acceptedEncodings, assertOneFamily, parseAccept } from './accept.js';

/** The status of the HttpProblem `fn` throws (undefined if it does not throw). */
function statusOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { status?: number }).status;
  }
  return undefined;
}

t.test('NEG-1: q-values, specificity, header order', async (t) => {
  const entries = parseAccept(
    'image/*;q=0.5, multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50, multipart/related; type=application/dicom; transfer-syntax=1.2.840.10008.1.2.4.57; q=0.5, */*;q=0.1',
  );
  t.same(
    entries.map((e) => [e.mediaType, e.parameters['transfer-syntax'] ?? '', e.q]),
    [
      ['multipart/related', '1.2.840.10008.1.2.4.50', 1],
      ['multipart/related', '1.2.840.10008.1.2.4.57', 0.5],
      ['image/*', '', 0.5],
      ['*/*', '', 0.1],
    ],
    'highest q first; at equal q the more specific range first',
  );
  t.same(
    parseAccept('text/plain, application/json').map((e) => e.mediaType),
    ['text/plain', 'application/json'],
    'ties keep header order',
  );
});

t.test('COMMON-1 / NEG-9: case-insensitive names, quoted and unquoted values', async (t) => {
  const [a] = parseAccept('MULTIPART/Related; TYPE="Application/DICOM"; Transfer-Syntax="*"');
  t.equal(a!.mediaType, 'multipart/related');
  t.same(a!.parameters, { type: 'application/dicom', 'transfer-syntax': '*' });
  const [b] = parseAccept('multipart/related; type=application/octet-stream; transfer-syntax=*');
  t.same(b!.parameters, { type: 'application/octet-stream', 'transfer-syntax': '*' });
});

t.test('DATA-3: legacy names', async (t) => {
  t.equal(parseAccept('image/x-dicom-rle')[0]!.mediaType, 'image/dicom-rle');
  t.equal(parseAccept('multipart/related; type="image/x-jls"')[0]!.parameters.type, 'image/jls');
});

t.test('NEG-1: invalid entries and q=0 are ignored; NEG-3: missing Accept is */*', async (t) => {
  t.same(
    parseAccept('garbage, application/dicom+json;q=2, image/png;q=0').map((e) => e.mediaType),
    [],
  );
  t.same(
    parseAccept(undefined).map((e) => e.mediaType),
    ['*/*'],
  );
  t.same(
    parseAccept('').map((e) => e.mediaType),
    ['*/*'],
  );
  t.same(
    parseAccept('*').map((e) => e.mediaType),
    ['*/*'],
    'bare * read as */*',
  );
  t.same(
    parseAccept('*/*;q=0.8').map((e) => [e.mediaType, e.q]),
    [['*/*', 0.8]],
  );
});

t.test('NEG-2: the accept query parameter, covered by the header', async (t) => {
  t.same(
    acceptableMediaTypes('image/png', 'image/*').map((e) => e.mediaType),
    ['image/png'],
  );
  t.same(
    acceptableMediaTypes(undefined, 'image/*').map((e) => e.mediaType),
    ['image/*'],
    'header alone without the parameter',
  );
  t.equal(
    statusOf(() => acceptableMediaTypes('image/png', 'application/dicom')),
    406,
  );
  t.equal(
    statusOf(() => acceptableMediaTypes('image/*', '*/*')),
    400,
    'no wildcards in the parameter',
  );
});

t.test('NEG-5: DICOM and rendered types together → 400', async (t) => {
  t.equal(
    statusOf(() => assertOneFamily(parseAccept('application/dicom+json, image/jpeg'))),
    400,
  );
  t.doesNotThrow(() => assertOneFamily(parseAccept('application/dicom+json, */*')));
  t.doesNotThrow(() => assertOneFamily(parseAccept('multipart/related; type="image/jpeg"')), 'a multipart of image parts is a DICOM bulk type');
});

t.test('Accept-Encoding', async (t) => {
  t.same(acceptedEncodings('gzip, deflate, br', ['gzip', 'br']), ['gzip', 'br']);
  t.same(acceptedEncodings('br;q=1, gzip;q=0.5', ['gzip', 'br']), ['br', 'gzip']);
  t.same(acceptedEncodings('gzip;q=0', ['gzip', 'br']), []);
  t.same(acceptedEncodings('*', ['gzip']), ['gzip']);
  t.same(acceptedEncodings(undefined, ['gzip']), []);
});
