import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createBrotliCompress, createGzip, constants as zlib } from 'node:zlib';
import { DICOM_XML, type DicomJsonDataset, toNativeDicomXml } from '@tessera/dicom';
import { acceptableMediaTypes, acceptedEncodings, type DicomModelForm, instanceUrl, type ResponsePart, writeMultipart } from '@tessera/http';
import { type InstanceMetadataText, type RetrieveDependencies, type RetrieveScope, resolveMetadata, scopeVersion } from '@tessera/retrieve';
import { negotiateMetadata } from './negotiate.js';
import type { RetrieveRequest, RetrieveResponse } from './retrieve-request.js';

/** Bodies smaller than this are not worth compressing. */
const COMPRESS_MIN_BYTES = 1024;

/**
 * Retrieve Study / Series / Instance Metadata (PS3.18 §10.4.1.1.4-6, digest WADORS-4, JSON-1): one
 * JSON array, one object per instance, made from the DICOM JSON stored at ingest, never from blobs.
 * The stored texts are concatenated without being parsed; their relative BulkDataURIs
 * (`bulkdata/<path>`) are made absolute by a string replacement.
 *
 * Conditional GET: the ETag fingerprints the scope's instances (count, last update, rows) and the
 * base URL; If-None-Match → 304 without loading any metadata. gzip or br when Accept-Encoding allows.
 */
export async function retrieveMetadata(deps: RetrieveDependencies, scope: RetrieveScope, request: RetrieveRequest): Promise<RetrieveResponse> {
  const form = negotiateMetadata(acceptableMediaTypes(request.acceptQuery, request.accept));
  const vary = 'Accept, Accept-Encoding';
  const etagOf = (version: string) => metadataEtag(version, request.serviceUrl, form);
  if (request.ifNoneMatch !== undefined) {
    // Conditional GET: a cheap aggregate query, no metadata loaded for a 304.
    const version = await scopeVersion(deps, scope);
    const etag = etagOf(version.version);
    if (etagMatches(request.ifNoneMatch, etag)) return { status: 304, headers: { etag, vary } };
  }
  const { rows, version } = await resolveMetadata(deps, scope);
  const etag = etagOf(version.version);
  if (form === 'xml') return metadataXml(rows, request, { etag, vary });
  const chunks = metadataChunks(rows, request.serviceUrl);
  const headers: Record<string, string> = { 'content-type': 'application/dicom+json; charset=utf-8', etag, vary };
  const size = chunks.reduce((n, c) => n + c.length, 0);
  const [encoding] = size >= COMPRESS_MIN_BYTES ? acceptedEncodings(request.acceptEncoding, ['gzip', 'br']) : [];
  if (encoding === undefined) return { status: 200, headers, body: Buffer.from(chunks.join('')) };
  headers['content-encoding'] = encoding;
  const compressor =
    encoding === 'br' ? createBrotliCompress({ params: { [zlib.BROTLI_PARAM_QUALITY]: 4, [zlib.BROTLI_PARAM_SIZE_HINT]: size } }) : createGzip({ level: 6 });
  return { status: 200, headers, body: Readable.from(chunks).pipe(compressor) };
}

/**
 * `[`, each instance's stored JSON with absolute BulkDataURIs, `,` between, `]`.
 *
 * Why the replacement is safe: the stored text is JSON.stringify output, where every `"` inside a
 * string value is written `\"`. The needle `"BulkDataURI":"` has a `"` right after `I` and right
 * before `:`, so it cannot occur inside a string value: it only matches the BulkDataURI member of
 * an attribute object, whose value starts with `bulkdata/` (digest JSON-10).
 */
export function metadataChunks(rows: InstanceMetadataText[], serviceUrl: string): string[] {
  const chunks: string[] = ['['];
  rows.forEach((row, i) => {
    if (i > 0) chunks.push(',');
    chunks.push(absoluteMetadata(row, serviceUrl));
  });
  chunks.push(']');
  return chunks;
}

const BULK_NEEDLE = '"BulkDataURI":"bulkdata/';

/** One instance's stored DICOM JSON text with absolute BulkDataURIs (see above for why this is safe). */
function absoluteMetadata(row: InstanceMetadataText, serviceUrl: string): string {
  const text = row.metadata;
  if (!text.includes(BULK_NEEDLE)) return text;
  const base = JSON.stringify(`${instanceUrl(serviceUrl, row)}/bulkdata/`).slice(1, -1);
  return text.replaceAll(BULK_NEEDLE, `"BulkDataURI":"${base}`);
}

/**
 * The XML form (PS3.18 §10.4.4, digest WADORS-4): `multipart/related;
 * type="application/dicom+xml"`, one Native DICOM Model document (PS3.19 §A.1) per instance, in the
 * order of the JSON array. Each part is converted from the stored JSON when the writer reaches it,
 * so one instance's XML at a time is in memory besides the rows the JSON path loads too. Compressed
 * like the JSON when Accept-Encoding allows (an XML dataset is always above the 1 KiB threshold).
 */
function metadataXml(rows: InstanceMetadataText[], request: RetrieveRequest, headers: { etag: string; vary: string }): RetrieveResponse {
  function* parts(): Generator<ResponsePart> {
    for (const row of rows) {
      yield { contentType: DICOM_XML, body: () => Buffer.from(toNativeDicomXml(JSON.parse(absoluteMetadata(row, request.serviceUrl)) as DicomJsonDataset)) };
    }
  }
  const { contentType, stream } = writeMultipart(DICOM_XML, parts());
  const out: Record<string, string> = { 'content-type': contentType, ...headers };
  const [encoding] = acceptedEncodings(request.acceptEncoding, ['gzip', 'br']);
  if (encoding === undefined) return { status: 200, headers: out, body: stream };
  out['content-encoding'] = encoding;
  const compressor = encoding === 'br' ? createBrotliCompress({ params: { [zlib.BROTLI_PARAM_QUALITY]: 4 } }) : createGzip({ level: 6 });
  stream.on('error', (error) => compressor.destroy(error));
  return { status: 200, headers: out, body: stream.pipe(compressor) };
}

/**
 * The weak entity tag of a scope's metadata: the scope's version (count, last update, rows) and the
 * base URL its BulkDataURIs name. The two forms are different representations: their entity tags
 * differ (RFC 9110 §8.8.3).
 */
export function metadataEtag(version: string, serviceUrl: string, form: DicomModelForm): string {
  return `W/"${createHash('sha256')
    .update(`${version}\n${serviceUrl}${form === 'xml' ? '\nxml' : ''}`)
    .digest('base64url')
    .slice(0, 27)}"`;
}

/** If-None-Match: `*` or a list of entity tags, compared weakly (RFC 9110 §13.1.2). */
export function etagMatches(header: string | string[] | undefined, etag: string): boolean {
  const text = Array.isArray(header) ? header.join(',') : header;
  if (!text) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return text.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(etag));
}
