import t from 'tap';
import { HttpProblem } from '@tessera/http';
import { type WadoUriQuery, parseWadoUriRequest } from './wado-uri-request.js';

const UIDS = { studyUID: '1.2.3', seriesUID: '1.2.3.4', objectUID: '1.2.3.4.5' };
const SCOPE = { studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.4', sopInstanceUid: '1.2.3.4.5' };
const base = (extra: WadoUriQuery = {}): WadoUriQuery => ({ requestType: 'WADO', ...UIDS, ...extra });

/** What parsing gives: the parsed request, or the status and code of the problem. */
function outcome(query: WadoUriQuery): unknown {
  try {
    return parseWadoUriRequest(query);
  } catch (error) {
    if (error instanceof HttpProblem) return { status: error.status, code: error.code };
    throw error;
  }
}

t.test('parseWadoUriRequest: accepted requests (WADOURI-1/2/3/7)', async (t) => {
  const cases: Array<[string, WadoUriQuery, unknown]> = [
    ['WADOURI-2: no contentType → a rendered JPEG', base(), { scope: SCOPE, request: { kind: 'rendered', contentType: 'image/jpeg' } }],
    ['WADOURI-2: image/png', base({ contentType: 'image/png' }), { request: { kind: 'rendered', contentType: 'image/png' } }],
    ['WADOURI-2: image/* → JPEG', base({ contentType: 'image/*' }), { request: { kind: 'rendered', contentType: 'image/jpeg' } }],
    [
      'WADOURI-2: the first renderable type of a list',
      base({ contentType: 'image/jp2,image/gif' }),
      { request: { kind: 'rendered', contentType: 'image/gif' } },
    ],
    [
      'WADOURI-3: application/dicom without transferSyntax → Explicit VR LE by default',
      base({ contentType: 'application/dicom' }),
      { scope: SCOPE, request: { kind: 'dicom', transferSyntax: undefined } },
    ],
    ['WADOURI-3: transferSyntax=*', base({ contentType: 'application/dicom', transferSyntax: '*' }), { request: { kind: 'dicom', transferSyntax: '*' } }],
    [
      'WADOURI-3: a transfer syntax UID',
      base({ contentType: 'application/dicom', transferSyntax: '1.2.840.10008.1.2.4.50' }),
      { request: { kind: 'dicom', transferSyntax: '1.2.840.10008.1.2.4.50' } },
    ],
    ['WADOURI-7: legacy RequestType, any case (OHIF)', { RequestType: 'wado', ...UIDS, contentType: 'application/dicom' }, { request: { kind: 'dicom' } }],
    [
      'WADOURI-7: frame and frameNumber are ignored on a DICOM retrieval',
      base({ contentType: 'application/dicom', frame: '1', frameNumber: '2' }),
      { request: { kind: 'dicom' } },
    ],
    [
      'WADOURI-1: empty parameters (&&) are ignored',
      base({ contentType: ['application/dicom', ''], transferSyntax: '' }),
      { request: { kind: 'dicom', transferSyntax: undefined } },
    ],
  ];
  for (const [name, query, expected] of cases) t.match(outcome(query), expected, name);
});

t.test('parseWadoUriRequest: refused requests (WADOURI-1..5)', async (t) => {
  const cases: Array<[string, WadoUriQuery, number, string]> = [
    ['WADOURI-1: requestType missing', { ...UIDS }, 400, 'WADO_URI_REQUEST_TYPE'],
    ['WADOURI-1: requestType is case-sensitive', base({ requestType: 'wado' }), 400, 'WADO_URI_REQUEST_TYPE'],
    ['WADOURI-1: objectUID missing', { requestType: 'WADO', studyUID: '1.2.3', seriesUID: '1.2.3.4' }, 400, 'WADO_URI_PARAMETER'],
    ['WADOURI-1: an invalid UID', base({ seriesUID: '1.02.x' }), 400, 'INVALID_UID'],
    ['WADOURI-1: studyUID given twice', base({ studyUID: ['1.2.3', '1.2.4'] }), 400, 'WADO_URI_PARAMETER'],
    ['WADOURI-4: anonymize fails closed', base({ anonymize: 'yes' }), 400, 'WADO_URI_ANONYMIZE_UNSUPPORTED'],
    ['WADOURI-2: contentType that is not a media type', base({ contentType: ';;' }), 400, 'WADO_URI_CONTENT_TYPE'],
    ['WADOURI-2: application/dicom mixed with rendered types', base({ contentType: 'application/dicom,image/jpeg' }), 400, 'WADO_URI_CONTENT_TYPE'],
    ['WADOURI-3: parameters on application/dicom', base({ contentType: 'application/dicom; transfer-syntax=*' }), 400, 'WADO_URI_CONTENT_TYPE'],
    [
      'WADOURI-5: windowing on a DICOM retrieval',
      base({ contentType: 'application/dicom', windowCenter: '40', windowWidth: '400' }),
      400,
      'WADO_URI_PARAMETER',
    ],
    ['WADOURI-5: a presentation state on a DICOM retrieval', base({ contentType: 'application/dicom', presentationUID: '1.5' }), 400, 'WADO_URI_PARAMETER'],
    ['WADOURI-3: transferSyntax that is not a UID', base({ contentType: 'application/dicom', transferSyntax: 'jpeg' }), 400, 'WADO_URI_TRANSFER_SYNTAX'],
    ['WADOURI-2: no renderable type → 406', base({ contentType: 'video/mp4' }), 406, 'NOT_ACCEPTABLE'],
  ];
  for (const [name, query, status, code] of cases) t.same(outcome(query), { status, code }, `${name} → ${status} ${code}`);
});
