import type { Readable } from 'node:stream';

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

/** Retrieve Frames: the parsed `{frameList}` (1-based, in the requested order). */
export interface FramesRequest extends RetrieveRequest {
  frames: number[];
}

/** Retrieve Bulkdata: the tag path after `bulkdata/`. */
export interface BulkDataRequest extends RetrieveRequest {
  path: string;
}

/** Rendered and thumbnail resources: the query (rendering parameters) and, on a frames URL, its frame list. */
export interface RenderRequest extends RetrieveRequest {
  query: Record<string, unknown>;
  frames?: number[];
}

/** A framework-free answer: status, headers, and a body streamed by the caller. */
export interface RetrieveResponse {
  status: 200 | 304;
  headers: Record<string, string>;
  body?: Readable | Buffer;
  /**
   * A Buffer body lent by a BufferPool: call once the response has been written out (the HTTP
   * response's 'finish'), never before. Not calling it is safe (the buffer is then collected).
   */
  release?: () => void;
}
