import { Readable } from 'node:stream';
import { warningHeader } from '@tessera/http';
import { renderFrame } from '@tessera/imaging';
import {
  type InstanceScope,
  type RetrieveDependencies,
  encodeStoredPart10,
  planStoredPart10,
  renderStoredFrame,
  renderableFrames,
  resolveInstance,
  wholePart10,
} from '@tessera/retrieve';
import type { WadoUriRequest } from './wado-uri-request.js';
import { parseWadoUriRenderParams } from './wado-uri-render-params.js';
import { transferSyntaxNotAcceptable } from './wado-uri-problem.js';

export interface WadoUriResponse {
  headers: Record<string, string>;
  body: Readable | Buffer;
  /** A Buffer body lent by a BufferPool: call once the response has been written out ('finish'). */
  release?: () => void;
}

/**
 * WADO-URI (PS3.18 §9, digest WADOURI-1..7) for one parsed request. Failures are HttpProblems
 * (406 for an impossible transfer syntax) or the retrieve package's typed errors, which the route
 * maps with `toHttpProblem`.
 */
export function retrieveWadoUri(deps: RetrieveDependencies, scope: InstanceScope, request: WadoUriRequest): Promise<WadoUriResponse> {
  return request.kind === 'dicom' ? retrieveDicomInstance(deps, scope, request.transferSyntax) : retrieveRenderedInstance(deps, scope, request);
}

/**
 * Retrieve DICOM Instance (PS3.18 §9.4, digest WADOURI-1..4): the PS3.10 file of one instance, as
 * stored (`transferSyntax=*`), or in Explicit VR Little Endian (absent or `1.2.840.10008.1.2.1`);
 * Implicit VR LE, Explicit VR BE and deflated objects are always re-encoded. Compressed objects are
 * served as stored when the parameter is absent (D17) and decoded to Explicit VR LE when
 * `transferSyntax=1.2.840.10008.1.2.1` asks it and a decoder exists.
 */
async function retrieveDicomInstance(deps: RetrieveDependencies, scope: InstanceScope, transferSyntax: string | undefined): Promise<WadoUriResponse> {
  const row = await resolveInstance(deps, scope);
  const plan = planStoredPart10(row, transferSyntax);
  if (!plan) throw transferSyntaxNotAcceptable(row);
  // A small object served as stored is read whole before answering: one buffer, one write.
  const whole = wholePart10(deps.blobs, row, plan);
  if (whole) {
    const { bytes, release } = await whole.read();
    return { headers: { 'content-type': 'application/dicom', 'content-length': String(bytes.length) }, body: bytes, release };
  }
  const encoded = await encodeStoredPart10(deps, row, plan);
  const headers: Record<string, string> = { 'content-type': 'application/dicom' };
  if (encoded.length !== undefined) headers['content-length'] = String(encoded.length);
  return { headers, body: Readable.from(encoded.body, { objectMode: false }) };
}

/**
 * Retrieve Rendered Instance (PS3.18 §9.5, digest WADOURI-2/5/6): one image (never multipart) of
 * one frame, JPEG by default, with rows/columns/region/windowCenter+windowWidth/imageQuality/
 * frameNumber. A multi-frame object renders its first frame unless frameNumber says otherwise
 * (PROJECT, as Orthanc); objects without pixel data cannot be rendered here (406).
 */
async function retrieveRenderedInstance(
  deps: RetrieveDependencies,
  scope: InstanceScope,
  request: Extract<WadoUriRequest, { kind: 'rendered' }>,
): Promise<WadoUriResponse> {
  const row = await resolveInstance(deps, scope);
  const numberOfFrames = renderableFrames(row);
  const params = parseWadoUriRenderParams(request.query, { numberOfFrames });
  const image = await renderStoredFrame(deps, row, params.frameNumber ?? 1, (decoded, metadata) =>
    renderFrame(decoded, metadata, {
      contentType: request.contentType,
      quality: params.quality,
      region: params.region,
      rows: params.rows,
      columns: params.columns,
      window: params.window,
    }),
  );
  const headers: Record<string, string> = { 'content-type': image.contentType, 'content-length': String(image.body.length) };
  const warning = warningHeader('tessera', params.warnings);
  if (warning) headers.warning = warning;
  return { headers, body: image.body };
}
