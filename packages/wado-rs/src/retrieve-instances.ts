import { Readable } from 'node:stream';
import { acceptableMediaTypes, instanceUrl, primed, writeMultipart } from '@tessera/http';
import { type RetrieveDependencies, type RetrieveScope, encodeStoredPart10, planStoredPart10, resolveScope } from '@tessera/retrieve';
import { negotiateInstances } from './negotiate.js';
import type { RetrieveRequest, RetrieveResponse } from './retrieve-request.js';

/**
 * Retrieve Study / Series / Instance (PS3.18 §10.4.1.1.1-3, digest WADORS-2/3): one PS3.10 file per
 * instance, streamed part by part from the blob store. A part is opened only when the previous one
 * has been written, so memory does not grow with the number or size of instances.
 */
export async function retrieveInstances(deps: RetrieveDependencies, scope: RetrieveScope, request: RetrieveRequest): Promise<RetrieveResponse> {
  const entries = acceptableMediaTypes(request.acceptQuery, request.accept);
  const rows = await resolveScope(deps, scope);
  const single = scope.sopInstanceUid !== undefined;
  const { multipart, plans } = negotiateInstances(entries, rows, single, planStoredPart10);
  const open = (i: number) => encodeStoredPart10(deps, rows[i]!, plans[i]!);
  // The first part is opened, and its first bytes read, before answering: an object that is
  // missing or does not decode is a problem response, not a cut stream.
  const opened = await open(0);
  const first = { ...opened, body: await primed(opened.body) };

  if (!multipart) {
    const headers: Record<string, string> = {
      'content-type': `application/dicom; transfer-syntax=${first.transferSyntaxUid}`,
      'content-location': instanceUrl(request.serviceUrl, rows[0]!),
    };
    if (first.length !== undefined) headers['content-length'] = String(first.length);
    return { status: 200, headers, body: Readable.from(first.body, { objectMode: false }) };
  }

  async function* parts() {
    for (let i = 0; i < rows.length; i++) {
      const encoded = i === 0 ? first : await open(i);
      yield {
        contentType: `application/dicom; transfer-syntax=${encoded.transferSyntaxUid}`,
        contentLocation: instanceUrl(request.serviceUrl, rows[i]!),
        contentLength: encoded.length,
        body: () => encoded.body,
      };
    }
  }
  const { contentType, stream } = writeMultipart('application/dicom', parts());
  return { status: 200, headers: { 'content-type': contentType }, body: stream };
}
