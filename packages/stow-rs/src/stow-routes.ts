import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { DICOM_XML, isValidUid, toNativeDicomXml } from '@tessera/dicom';
import { HttpProblem, negotiateDicomModel, parseAccept, parseMediaType, readMultipart } from '@tessera/http';
import { metadataBulkInstances } from './metadata-bulk.js';
import { PartTooLargeError } from './spool.js';
import { type StoreDependencies, type StoreOutcome, type StorePart, storeInstances, summarizeOutcome, toStoreResponse } from './store-instances.js';

export interface StowRoutesOptions extends StoreDependencies {
  /** Largest accepted request body (digest STOW-6: 413 above it). */
  maxBodyBytes: number;
  /** The DICOMweb service base URL as the client sees it, e.g. `https://pacs.example/dicomweb`. */
  serviceUrl(request: FastifyRequest): string;
}

/**
 * STOW-RS routes (PS3.18 §10.5): `POST /studies` and `POST /studies/{study}`. The body streams
 * straight from the socket into the store transaction; fastify never buffers it.
 */
export const stowRoutes: FastifyPluginAsync<StowRoutesOptions> = async (app: FastifyInstance, options) => {
  // Pass the raw stream through; the limits are ours (bodyLimit does not apply to a passed stream).
  app.addContentTypeParser(['multipart/related', 'application/dicom'], (_request, payload, done) => done(null, payload));

  const handler = async (request: FastifyRequest<{ Params: { study?: string } }>, reply: import('fastify').FastifyReply) => {
    const studyInstanceUid = request.params.study;
    if (studyInstanceUid !== undefined && !isValidUid(studyInstanceUid)) {
      throw new HttpProblem(400, 'INVALID_UID', `'${studyInstanceUid}' is not a valid StudyInstanceUID`);
    }
    // STOW-12: the response module as DICOM JSON (default) or as its XML form (PS3.18 §10.5.3, §10.5.4), decided before the body is read.
    const form = negotiateDicomModel(parseAccept(request.headers.accept), 'single');
    if (form === undefined) {
      throw new HttpProblem(406, 'NOT_ACCEPTABLE', 'the Store Instances response is available as application/dicom+json or application/dicom+xml');
    }
    const parts = requestParts(request, options);
    let outcome;
    try {
      outcome = await storeInstances(parts, options, { studyInstanceUid });
    } catch (error) {
      const problem = error instanceof PartTooLargeError ? new HttpProblem(413, 'PART_TOO_LARGE', error.message) : error;
      // One line per request, also when it fails as a whole (earlier chunks may have been stored).
      const code = problem instanceof HttpProblem ? `${problem.status} ${problem.code}` : 'internal error';
      request.log.info({ stow: { failed: code } }, `STOW-RS request failed as a whole: ${code}`);
      throw problem;
    }
    if (outcome.results.length === 0) {
      request.log.info({ stow: { failed: '400 NO_PARTS' } }, 'STOW-RS request failed as a whole: 400 NO_PARTS');
      throw new HttpProblem(400, 'NO_PARTS', 'the request holds no DICOM instance');
    }
    const base = options.serviceUrl(request);
    const { status, body } = toStoreResponse(outcome, {
      study: (s) => `${base}/studies/${s}`,
      instance: (s, se, i) => `${base}/studies/${s}/series/${se}/instances/${i}`,
    });
    logOutcome(request, outcome, status);
    if (form === 'xml') return reply.code(status).type(DICOM_XML).send(toNativeDicomXml(body));
    return reply.code(status).type('application/dicom+json').send(body);
  };
  app.post('/studies', handler);
  app.post('/studies/:study', handler);
};

/**
 * The request's outcome in one info line: counts and reason codes with their fixed names, and the
 * request id (fastify adds `reqId`). No patient data and no UIDs; those, with each instance's full
 * reason, only at debug level.
 */
function logOutcome(request: FastifyRequest, outcome: StoreOutcome, status: number): void {
  const summary = summarizeOutcome(outcome);
  const reasons = Object.entries(summary.reasons).map(([reason, n]) => `${reason} ×${n}`).join('; ');
  request.log.info({ stow: { status, ...summary } },
    `STOW-RS ${status}: stored ${summary.stored} (${summary.duplicates} duplicate), refused ${summary.refused}${reasons ? ` (${reasons})` : ''}`);
  if (summary.refused + summary.warnings > 0 && (request.log.level === 'debug' || request.log.level === 'trace')) {
    const items = outcome.results.filter((r) => r.kind === 'failed' || r.warning).map((r) => r.kind === 'failed'
      ? { sopInstanceUid: r.sopInstanceUid, failureReason: r.reason, detail: r.detail }
      : { sopInstanceUid: r.sopInstanceUid, warningReason: r.warning!.reason, detail: r.warning!.detail });
    request.log.debug({ stow: { items } }, 'STOW-RS refusals and warnings');
  }
}

/**
 * The instances of a STOW request: the parts of a multipart/related body, one application/dicom
 * body, or the datasets of a metadata + bulk data request (`metadata-bulk.ts`).
 */
async function* requestParts(request: FastifyRequest<{ Params: { study?: string } }>, options: StowRoutesOptions): AsyncGenerator<StorePart> {
  const { maxBodyBytes, settings } = options;
  const mediaType = parseMediaType(request.headers['content-type']);
  const body = request.body as Readable | undefined;
  if (!body || request.headers['content-length'] === '0') {
    throw new HttpProblem(400, 'EMPTY_BODY', 'the request has no body; STOW-RS needs at least one DICOM instance');
  }
  if (mediaType?.type === 'application/dicom') {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > maxBodyBytes) throw new HttpProblem(413, 'BODY_TOO_LARGE', `the request body is larger than the limit of ${maxBodyBytes} bytes`);
    yield body;
    return;
  }
  const rootType = mediaType?.parameters.type?.toLowerCase();
  if (mediaType?.type === 'multipart/related' && rootType === 'application/dicom+json') {
    const study = request.params.study;
    yield* metadataBulkInstances(readMultipart(body, request.headers, { maxTotalBytes: maxBodyBytes }), {
      spoolDir: settings.spoolDir, maxPartBytes: settings.maxPartBytes, maxMetadataBytes: settings.maxHeaderBytes,
      requestUrl: `${options.serviceUrl(request)}/studies${study === undefined ? '' : `/${study}`}`,
    });
    return;
  }
  if (mediaType?.type !== 'multipart/related' || (rootType !== undefined && rootType !== 'application/dicom')) {
    throw new HttpProblem(415, 'UNSUPPORTED_MEDIA_TYPE',
      `STOW-RS accepts multipart/related; type="application/dicom", multipart/related; type="application/dicom+json" (metadata and bulk data) or application/dicom, not ${request.headers['content-type'] ?? 'no Content-Type'}`);
  }
  for await (const part of readMultipart(body, request.headers, { maxTotalBytes: maxBodyBytes })) {
    const partType = parseMediaType(part.contentType)?.type;
    if (partType !== undefined && partType !== 'application/dicom' && partType !== 'application/octet-stream') {
      part.resume();
      throw new HttpProblem(415, 'UNSUPPORTED_PART_TYPE', `a part has Content-Type ${part.contentType}; only application/dicom parts are accepted`);
    }
    yield part;
  }
}
