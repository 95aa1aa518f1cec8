import type { Readable } from 'node:stream';
import type { BlobStore } from '@tessera/blob-store';
import { HttpProblem } from '@tessera/http';
import type { Index, RetrievableInstance, RetrieveScope } from '@tessera/index';

/** Collaborators of the Retrieve transaction (plugin options; tests pass their own). */
export interface RetrieveDependencies {
  index: Index;
  blobs: BlobStore;
  settings: {
    /** Largest header read into memory when an instance must be re-encoded. */
    maxHeaderBytes: number;
  };
}

/** What the HTTP layer passes in: the request's negotiation headers and the service base URL. */
export interface RetrieveRequest {
  accept?: string | string[];
  /** The `accept` query parameter (digest NEG-2). */
  acceptQuery?: string | string[];
  acceptEncoding?: string | string[];
  ifNoneMatch?: string | string[];
  /** Absolute DICOMweb base URL as the client sees it, e.g. `https://pacs.example/dicomweb`. */
  serviceUrl: string;
}

/** A framework-free answer: status, headers, and a body streamed by the caller. */
export interface RetrieveResponse {
  status: 200 | 304;
  headers: Record<string, string>;
  body?: Readable | Buffer;
}

export const instanceUrl = (serviceUrl: string, i: { studyInstanceUid: string; seriesInstanceUid: string; sopInstanceUid: string }): string =>
  `${serviceUrl}/studies/${i.studyInstanceUid}/series/${i.seriesInstanceUid}/instances/${i.sopInstanceUid}`;

/** The instances of a scope, or 404 naming the level that is not stored (digest WADORS-1, COMMON-6). */
export async function instancesOf(index: Index, scope: RetrieveScope): Promise<RetrievableInstance[]> {
  const rows = await index.retrieve.instances(scope);
  if (rows.length === 0) throw scopeNotFound(scope);
  return rows;
}

export function scopeNotFound(scope: RetrieveScope): HttpProblem {
  const what = scope.sopInstanceUid !== undefined
    ? `instance ${scope.sopInstanceUid} of series ${scope.seriesInstanceUid} of study ${scope.studyInstanceUid}`
    : scope.seriesInstanceUid !== undefined ? `series ${scope.seriesInstanceUid} of study ${scope.studyInstanceUid}` : `study ${scope.studyInstanceUid}`;
  return new HttpProblem(404, 'NOT_FOUND', `no ${what} is stored`);
}
