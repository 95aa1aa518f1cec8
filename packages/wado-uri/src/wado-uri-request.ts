import { isValidUid } from '@tessera/dicom';
import { HttpProblem, parseAccept } from '@tessera/http';
import type { RenderedContentType } from '@tessera/imaging';
import type { InstanceScope } from '@tessera/retrieve';

export type WadoUriQuery = Record<string, string | string[] | undefined>;

/**
 * What a WADO-URI request asks of its instance: the PS3.10 file (`transferSyntax`: a UID, `*` or
 * absent) or a rendered image of the chosen media type (its rendering parameters are parsed once
 * the instance's frame count is known).
 */
export type WadoUriRequest = { kind: 'dicom'; transferSyntax?: string } | { kind: 'rendered'; contentType: RenderedContentType; query: WadoUriQuery };

const DICOM = 'application/dicom';
/** Parameters of the rendered transaction that make no sense on a DICOM retrieval (WADOURI-5, -7). */
const RENDERING_ONLY = ['windowCenter', 'windowWidth', 'presentationUID', 'presentationSeriesUID'];
const RENDERED: RenderedContentType[] = ['image/jpeg', 'image/png', 'image/gif'];

const bad = (code: string, detail: string) => new HttpProblem(400, code, detail);

/**
 * Parses the query of a WADO-URI request (PS3.18 §9.4, §9.5; digest WADOURI-1..7): 400 for a
 * missing or malformed parameter, 406 for a contentType that offers nothing we render.
 *
 * Leniency (documented in docs/conformance.md): besides `requestType=WADO` (exact), the legacy
 * `RequestType` spelling is accepted with its value compared case-insensitively; `frame` and
 * `frameNumber` are ignored on DICOM retrievals (OHIF); empty parameters (`&&`) are ignored. The
 * Accept header is not consulted: `contentType` decides (OHIF's loader sends a multipart Accept to
 * WADO-URI).
 */
export function parseWadoUriRequest(query: WadoUriQuery): { scope: InstanceScope; request: WadoUriRequest } {
  const one = (name: string): string | undefined => {
    const value = query[name];
    if (Array.isArray(value)) {
      const present = value.filter((v) => v !== '');
      if (present.length > 1) throw bad('WADO_URI_PARAMETER', `${name} is given ${present.length} times; it takes one value`);
      return present[0];
    }
    return value === '' ? undefined : value;
  };
  const requestType = one('requestType');
  const legacyRequestType = one('RequestType');
  if (requestType !== undefined ? requestType !== 'WADO' : legacyRequestType?.toUpperCase() !== 'WADO') {
    throw bad('WADO_URI_REQUEST_TYPE', `requestType must be WADO, not ${JSON.stringify(requestType ?? legacyRequestType ?? null)} (PS3.18 Table 9.4.1-2)`);
  }
  const uid = (name: string): string => {
    const value = one(name);
    if (value === undefined) throw bad('WADO_URI_PARAMETER', `${name} is required (PS3.18 Table 9.4.1-2)`);
    if (!isValidUid(value)) throw bad('INVALID_UID', `${name} '${value}' is not a valid UID (PS3.5 §9.1)`);
    return value;
  };
  const scope: InstanceScope = { studyInstanceUid: uid('studyUID'), seriesInstanceUid: uid('seriesUID'), sopInstanceUid: uid('objectUID') };
  if (query.anonymize !== undefined) {
    // Fail closed: de-identification is not implemented, so never return the original (WADOURI-4).
    throw bad('WADO_URI_ANONYMIZE_UNSUPPORTED', 'anonymize is not supported; the object is not returned (PS3.18 chapter 9)');
  }

  const contentType = one('contentType');
  const types = contentType === undefined ? [] : parseAccept(contentType);
  if (contentType !== undefined && types.length === 0) throw bad('WADO_URI_CONTENT_TYPE', `contentType '${contentType}' is not a media type list`);
  const dicom = types.find((t) => t.mediaType === DICOM);
  if (dicom && types.length > 1) throw bad('WADO_URI_CONTENT_TYPE', 'contentType mixes application/dicom with rendered types (PS3.18 §9.1.2.2.1)');
  if (!dicom) return { scope, request: { kind: 'rendered', contentType: renderedType(types.map((t) => t.mediaType)), query } };
  if (Object.keys(dicom.parameters).length > 0) {
    throw bad('WADO_URI_CONTENT_TYPE', 'contentType must not carry parameters (transfer-syntax, charset) in WADO-URI (PS3.18 §9.4.1.2.3)');
  }
  for (const name of RENDERING_ONLY) {
    if (query[name] !== undefined)
      throw bad('WADO_URI_PARAMETER', `${name} applies to rendered images only, not to contentType=application/dicom (PS3.18 §9.5.1.2)`);
  }
  const transferSyntax = one('transferSyntax');
  if (transferSyntax !== undefined && transferSyntax !== '*' && !isValidUid(transferSyntax)) {
    throw bad('WADO_URI_TRANSFER_SYNTAX', `transferSyntax must be one transfer syntax UID or *, not '${transferSyntax}' (PS3.18 §9.4.1.2.3)`);
  }
  return { scope, request: { kind: 'dicom', transferSyntax } };
}

/** The rendered media type of a contentType list (absent, `image/*` or `*\/*`: JPEG), else 406 (WADOURI-2). */
function renderedType(requested: string[]): RenderedContentType {
  const contentType =
    requested.length === 0
      ? 'image/jpeg'
      : requested
          .map((type) => (type === 'image/*' || type === '*/*' ? 'image/jpeg' : type))
          .find((type): type is RenderedContentType => RENDERED.includes(type as RenderedContentType));
  if (!contentType)
    throw new HttpProblem(
      406,
      'NOT_ACCEPTABLE',
      `rendered WADO-URI responses are available as ${RENDERED.join(', ')}, not ${requested.join(', ')} (PS3.18 §9.1.2.2.1)`,
    );
  return contentType;
}
