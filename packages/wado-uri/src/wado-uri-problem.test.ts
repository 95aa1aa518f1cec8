import t from 'tap';
import { HttpProblem } from '@tessera/http';
import { RenderParameterError } from '@tessera/imaging';
import { RetrieveError, type RetrieveErrorReason } from '@tessera/retrieve';
import { toHttpProblem, transferSyntaxNotAcceptable } from './wado-uri-problem.js';

t.test('toHttpProblem: WADO-URI answers of typed retrieve failures (WADOURI-2/3/5/6)', async (t) => {
  const cases: Array<[RetrieveErrorReason, number, string, string]> = [
    ['not-found', 404, 'NOT_FOUND', 'WADOURI-1: an instance that is not stored'],
    ['frame-not-found', 404, 'FRAME_NOT_FOUND', 'WADOURI-5: a frame beyond the last'],
    ['not-decodable', 406, 'NOT_ACCEPTABLE', 'WADOURI-3: no decoder for the stored syntax'],
    ['pixel-data-unreadable', 422, 'PIXEL_DATA_UNREADABLE', 'WADOURI-3: pixel data that does not decode'],
    ['invalid-render-parameter', 400, 'INVALID_RENDER_PARAMETER', 'WADOURI-5: a parameter the image makes impossible'],
  ];
  for (const [reason, status, code, why] of cases) {
    t.match(
      toHttpProblem(new RetrieveError(reason, `detail of ${reason}`, '1.2.3')),
      { status, code, message: `detail of ${reason}` },
      `${why} → ${status} ${code}`,
    );
  }
  const noPixels = toHttpProblem(new RetrieveError('no-pixel-data', 'instance 1.2.3 has no pixel data to render', '1.2.3'));
  t.ok(noPixels instanceof HttpProblem, 'a problem');
  t.match(
    noPixels,
    { status: 406, code: 'NOT_ACCEPTABLE', message: /^instance 1\.2\.3 has no pixel data; ask contentType=application\/dicom/ },
    "WADOURI-2: an object without pixel data cannot be rendered: 406 pointing to application/dicom (not WADO-RS's 404)",
  );
  t.match(
    toHttpProblem(new RenderParameterError('rows', 'is not a positive integer')),
    { status: 400, code: 'INVALID_RENDER_PARAMETER' },
    'WADOURI-5: ill-formed parameter → 400',
  );
  const other = new Error('boom');
  t.equal(toHttpProblem(other), other, 'other errors pass through');
});

t.test('transferSyntaxNotAcceptable: the 406 of WADOURI-3 names what is available', async (t) => {
  t.match(transferSyntaxNotAcceptable({ sopInstanceUid: '1.2.3', transferSyntaxUid: '1.2.840.10008.1.2.4.50' }), {
    status: 406,
    code: 'NOT_ACCEPTABLE',
    message: /stored as 1\.2\.840\.10008\.1\.2\.4\.50; it is available with transferSyntax=\*, the stored syntax, or 1\.2\.840\.10008\.1\.2\.1/,
  });
  t.notMatch(
    transferSyntaxNotAcceptable({ sopInstanceUid: '1.2.3', transferSyntaxUid: '1.2.840.10008.1.2.1' }).message,
    /the stored syntax/,
    'an Explicit VR LE object does not list its syntax twice',
  );
});
