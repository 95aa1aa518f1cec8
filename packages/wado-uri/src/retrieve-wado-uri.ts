import { Readable } from 'node:stream';
import type { BlobStore } from '@tessera/blob-store';
import { encodePart10, isValidUid, planPart10, rangedByteSource } from '@tessera/dicom';
import { HttpProblem, parseAccept, warningHeader } from '@tessera/http';
import { type RenderedContentType, parseWadoUriRenderParams, renderFrame } from '@tessera/imaging';
import type { Index } from '@tessera/index';
import { canDecodeStored, encodeDecodedPart10, frameCount, renderProblem, renderStoredFrame } from '@tessera/stored-objects';

export interface WadoUriDependencies {
  index: Index;
  blobs: BlobStore;
  settings: { maxHeaderBytes: number };
}

export type WadoUriQuery = Record<string, string | string[] | undefined>;

export interface WadoUriResponse {
  headers: Record<string, string>;
  body: Readable;
}

const DICOM = 'application/dicom';
/** Parameters of the rendered transaction that make no sense on a DICOM retrieval (WADOURI-5, -7). */
const RENDERING_ONLY = ['windowCenter', 'windowWidth', 'presentationUID', 'presentationSeriesUID'];

/**
 * WADO-URI Retrieve DICOM Instance (PS3.18 §9.4, digest WADOURI-1..7): the PS3.10 file of one
 * instance, as stored (`transferSyntax=*`), or in Explicit VR Little Endian (absent or
 * `1.2.840.10008.1.2.1`); Implicit VR LE, Explicit VR BE and deflated objects are always re-encoded.
 * Compressed objects are served as stored when the parameter is absent (D17) and decoded to Explicit
 * VR LE when `transferSyntax=1.2.840.10008.1.2.1` asks it and a decoder exists.
 *
 * Leniency (documented in docs/conformance.md): besides `requestType=WADO` (exact), the legacy
 * `RequestType` spelling is accepted with its value compared case-insensitively; `frame` and
 * `frameNumber` are ignored (OHIF); empty parameters (`&&`) are ignored. The Accept header is not
 * consulted: `contentType` decides (OHIF's loader sends a multipart Accept to WADO-URI).
 */
export async function retrieveWadoUri(deps: WadoUriDependencies, query: WadoUriQuery): Promise<WadoUriResponse> {
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
  const studyInstanceUid = uid('studyUID');
  const seriesInstanceUid = uid('seriesUID');
  const sopInstanceUid = uid('objectUID');
  if (query.anonymize !== undefined) {
    // Fail closed: de-identification is not implemented, so never return the original (WADOURI-4).
    throw bad('WADO_URI_ANONYMIZE_UNSUPPORTED', 'anonymize is not supported; the object is not returned (PS3.18 chapter 9)');
  }

  const contentType = one('contentType');
  const types = contentType === undefined ? [] : parseAccept(contentType);
  if (contentType !== undefined && types.length === 0) throw bad('WADO_URI_CONTENT_TYPE', `contentType '${contentType}' is not a media type list`);
  const dicom = types.find((t) => t.mediaType === DICOM);
  if (dicom && types.length > 1) throw bad('WADO_URI_CONTENT_TYPE', 'contentType mixes application/dicom with rendered types (PS3.18 §9.1.2.2.1)');
  if (!dicom) return retrieveRenderedInstance(deps, query, { studyInstanceUid, seriesInstanceUid, sopInstanceUid }, types.map((t) => t.mediaType));
  if (Object.keys(dicom.parameters).length > 0) {
    throw bad('WADO_URI_CONTENT_TYPE', 'contentType must not carry parameters (transfer-syntax, charset) in WADO-URI (PS3.18 §9.4.1.2.3)');
  }
  for (const name of RENDERING_ONLY) {
    if (query[name] !== undefined) throw bad('WADO_URI_PARAMETER', `${name} applies to rendered images only, not to contentType=application/dicom (PS3.18 §9.5.1.2)`);
  }

  const transferSyntax = one('transferSyntax');
  if (transferSyntax !== undefined && transferSyntax !== '*' && !isValidUid(transferSyntax)) {
    throw bad('WADO_URI_TRANSFER_SYNTAX', `transferSyntax must be one transfer syntax UID or *, not '${transferSyntax}' (PS3.18 §9.4.1.2.3)`);
  }
  const [row] = await deps.index.retrieve.instances({ studyInstanceUid, seriesInstanceUid, sopInstanceUid });
  if (!row) throw new HttpProblem(404, 'NOT_FOUND', `no instance ${sopInstanceUid} of series ${seriesInstanceUid} of study ${studyInstanceUid} is stored`);
  const plan = planPart10(row, transferSyntax, { canDecode: () => canDecodeStored(row) });
  if (!plan) {
    throw new HttpProblem(406, 'NOT_ACCEPTABLE',
      `instance ${sopInstanceUid} is stored as ${row.transferSyntaxUid}; it is available with transferSyntax=*, ${row.transferSyntaxUid === '1.2.840.10008.1.2.1' ? '' : 'the stored syntax, '}or 1.2.840.10008.1.2.1 when uncompressed or decodable (PS3.18 §9.4.1.2.3)`);
  }
  const source = rangedByteSource(row.size, (start, end) => deps.blobs.get(row.blobKey, { start, end }));
  const encoded = plan.kind === 'decode' ? await encodeDecodedPart10(deps.blobs, row, plan, deps.settings) : await encodePart10(source, plan, deps.settings);
  const headers: Record<string, string> = { 'content-type': DICOM };
  if (encoded.length !== undefined) headers['content-length'] = String(encoded.length);
  return { headers, body: Readable.from(encoded.body, { objectMode: false }) };
}

const bad = (code: string, detail: string) => new HttpProblem(400, code, detail);

const RENDERED: RenderedContentType[] = ['image/jpeg', 'image/png', 'image/gif'];

/**
 * WADO-URI Retrieve Rendered Instance (PS3.18 §9.5, digest WADOURI-2/5/6): one image (never
 * multipart) of one frame, JPEG by default, with rows/columns/region/windowCenter+windowWidth/
 * imageQuality/frameNumber. A multi-frame object renders its first frame unless frameNumber says
 * otherwise (PROJECT, as Orthanc); objects without pixel data cannot be rendered here (406).
 */
async function retrieveRenderedInstance(
  deps: WadoUriDependencies, query: WadoUriQuery, scope: { studyInstanceUid: string; seriesInstanceUid: string; sopInstanceUid: string }, requested: string[],
): Promise<WadoUriResponse> {
  const contentType = requested.length === 0
    ? 'image/jpeg'
    : requested.map((type) => (type === 'image/*' || type === '*/*' ? 'image/jpeg' : type)).find((type): type is RenderedContentType => RENDERED.includes(type as RenderedContentType));
  if (!contentType) throw new HttpProblem(406, 'NOT_ACCEPTABLE', `rendered WADO-URI responses are available as ${RENDERED.join(', ')}, not ${requested.join(', ')} (PS3.18 §9.1.2.2.1)`);
  const [row] = await deps.index.retrieve.instances(scope);
  if (!row) throw new HttpProblem(404, 'NOT_FOUND', `no instance ${scope.sopInstanceUid} of series ${scope.seriesInstanceUid} of study ${scope.studyInstanceUid} is stored`);
  if (frameCount(row) === 0) throw new HttpProblem(406, 'NOT_ACCEPTABLE', `instance ${scope.sopInstanceUid} has no pixel data; ask contentType=application/dicom (PS3.18 §9.1.2.2.1)`);
  let params;
  try {
    params = parseWadoUriRenderParams(query, { numberOfFrames: frameCount(row) });
  } catch (error) {
    throw renderProblem(error, row);
  }
  const image = await renderStoredFrame(deps, row, params.frameNumber ?? 1, (decoded, metadata) => renderFrame(decoded, metadata, {
    contentType, quality: params.quality, region: params.region, rows: params.rows, columns: params.columns, window: params.window,
  }));
  const headers: Record<string, string> = { 'content-type': image.contentType, 'content-length': String(image.body.length) };
  const warning = warningHeader('tessera', params.warnings);
  if (warning) headers.warning = warning;
  return { headers, body: Readable.from([image.body]) };
}
