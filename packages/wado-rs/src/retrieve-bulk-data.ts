import { Readable } from 'node:stream';
import { transferSyntaxInfo } from '@tessera/dicom';
import { acceptableMediaTypes, instanceUrl, primed, writeMultipart } from '@tessera/http';
import {
  type InstanceScope,
  type RetrieveDependencies,
  bulkBytes,
  canDecodeStored,
  openStoredDecodedFrames,
  planBulkData,
  resolveInstance,
} from '@tessera/retrieve';
import { type BulkChoice, negotiateBulk } from './negotiate.js';
import { framesResponse } from './retrieve-frames.js';
import type { BulkDataRequest, RetrieveResponse } from './retrieve-request.js';

/**
 * Retrieve Bulkdata (PS3.18 §10.4.1.1.5, digest WADORS-7, JSON-10): `GET {BulkDataURI}` for every
 * BulkDataURI the metadata emits, `…/instances/{i}/bulkdata/<tag path>`. The value bytes, little
 * endian, as one `application/octet-stream` part (default) or a single-part body when Accept asks
 * `application/octet-stream`. Uncompressed Pixel Data is all frames concatenated. Encapsulated
 * Pixel Data is not one value: it is served as its frames, one part per frame, each typed with the
 * bulk media type of the stored syntax (as Retrieve Frames does); single part only for one frame.
 * Asked with `transfer-syntax=1.2.840.10008.1.2.1` and a decoder for its syntax, it is decoded into
 * the native value instead: all frames, decoded one at a time, in one part or a single-part body.
 */
export async function retrieveBulkData(deps: RetrieveDependencies, scope: InstanceScope, request: BulkDataRequest): Promise<RetrieveResponse> {
  const entries = acceptableMediaTypes(request.acceptQuery, request.accept);
  const row = await resolveInstance(deps, scope);
  const location = `${instanceUrl(request.serviceUrl, row)}/bulkdata/${request.path}`;
  const plan = planBulkData(row, request.path);

  if (plan.kind === 'frames') {
    const numbers = Array.from({ length: plan.count }, (_, i) => i + 1);
    const choice = negotiateBulk(entries, transferSyntaxInfo(row.transferSyntaxUid), plan.count === 1, {
      decodable: canDecodeStored(row),
      decodedSingle: true,
    });
    if (choice.decode) {
      const pixels = (await openStoredDecodedFrames(deps, row)).pixelData();
      return valueResponse(choice, location, { length: pixels.length, body: () => pixels.body });
    }
    const frames = `${instanceUrl(request.serviceUrl, row)}/frames`;
    return framesResponse(deps, row, numbers, choice, (n) => (choice.multipart ? `${frames}/${n}` : location));
  }
  // Values are served little endian, uncompressed: octet-stream with the Explicit VR LE syntax.
  const choice = negotiateBulk(entries, undefined, true);
  return valueResponse(choice, location, bulkBytes(deps.blobs, row, plan.ref));
}

/**
 * One bulk data value: a single-part body, or one `application/octet-stream` part. Its first bytes
 * are read before answering, so a stored object that cannot be read is a problem, not a cut stream.
 */
async function valueResponse(choice: BulkChoice, location: string, bytes: { length: number; body: () => AsyncIterable<Buffer> }): Promise<RetrieveResponse> {
  const body = await primed(bytes.body());
  if (!choice.multipart) {
    return {
      status: 200,
      headers: { 'content-type': choice.partType, 'content-length': String(bytes.length), 'content-location': location },
      body: Readable.from(body, { objectMode: false }),
    };
  }
  const { contentType, stream } = writeMultipart('application/octet-stream', [
    { contentType: choice.partType, contentLocation: location, contentLength: bytes.length, body: () => body },
  ]);
  return { status: 200, headers: { 'content-type': contentType }, body: stream };
}
