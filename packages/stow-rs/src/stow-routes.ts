import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { DICOM_XML, isValidUid, toNativeDicomXml } from '@tessera/dicom';
import { HttpProblem, instanceUrl, negotiateDicomModel, noteAuditedStudies, parseAccept, parseMediaType, readMultipart, studyUrl } from '@tessera/http';
import { metadataBulkInstances } from './metadata-bulk.js';
import { BodyAbortedError, type BodyTimeout, BodyTimeoutError, guardBody, watchBodySignal } from './body-timeout.js';
import { PartTooLargeError } from './spool.js';
import { type StoreDependencies, type StoreOutcome, type StorePart, storeInstances } from './store-instances.js';
import { summarizeOutcome, toStoreResponse } from './store-response.js';

export interface StowRoutesOptions extends StoreDependencies {
  /** Largest accepted request body (digest STOW-6: 413 above it). */
  maxBodyBytes: number;
  /** How slowly a client may send the body before the request fails (408). */
  bodyTimeout: BodyTimeout;
  /** The DICOMweb service base URL as the client sees it, e.g. `https://pacs.example/dicomweb`. */
  serviceUrl(request: FastifyRequest): string;
  /** Told what each request did (the server's metrics); counts and reasons, never UIDs. */
  observer?: StowObserver;
}

/** What a STOW-RS request did, for whoever counts (the server's /metrics). */
export interface StowObserver {
  /** A request answered with a Store Instances Response: every instance stored or refused. */
  outcome(outcome: StoreOutcome): void;
  /** A request that failed as a whole, by its problem code (e.g. `PART_TOO_LARGE`). */
  failed(code: string): void;
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
    // While the upload is stored the server may not read the socket for a while (a chunk being
    // written): the body timeout judges the client instead of the idle timeout, restored for the answer.
    // (inject()'s simulated socket has no timeout.)
    const socket = request.raw.socket as (typeof request.raw.socket & { server?: { timeout?: number } }) | undefined;
    const setIdleTimeout = typeof socket?.setTimeout === 'function' ? (ms: number) => socket.setTimeout(ms) : () => {};
    setIdleTimeout(0);
    const parts = requestParts(request, options);
    let outcome;
    try {
      outcome = await storeInstances(parts, options, { studyInstanceUid });
    } catch (error) {
      const problem =
        error instanceof PartTooLargeError
          ? new HttpProblem(413, 'PART_TOO_LARGE', error.message)
          : error instanceof BodyTimeoutError
            ? new HttpProblem(408, 'BODY_TIMEOUT', `${error.message}; the request is abandoned`, { connection: 'close' })
            : // Nobody reads this answer; the log line says why the request ended.
              error instanceof BodyAbortedError
              ? new HttpProblem(400, 'REQUEST_ABORTED', error.message)
              : error;
      if (error instanceof BodyTimeoutError) request.log.info({ timeoutMs: error.timeoutMs, minBytes: error.minBytes }, 'STOW-RS request body timed out');
      if (error instanceof BodyAbortedError) request.log.info('STOW-RS upload abandoned: the client closed the connection');
      // One line per request, also when it fails as a whole (earlier chunks may have been stored).
      const code = problem instanceof HttpProblem ? `${problem.status} ${problem.code}` : 'internal error';
      options.observer?.failed(problem instanceof HttpProblem ? problem.code : 'INTERNAL_ERROR');
      request.log.info({ stow: { failed: code } }, `STOW-RS request failed as a whole: ${code}`);
      throw problem;
    } finally {
      setIdleTimeout(socket?.server?.timeout ?? 0);
    }
    if (outcome.results.length === 0) {
      options.observer?.failed('NO_PARTS');
      request.log.info({ stow: { failed: '400 NO_PARTS' } }, 'STOW-RS request failed as a whole: 400 NO_PARTS');
      throw new HttpProblem(400, 'NO_PARTS', 'the request holds no DICOM instance');
    }
    // Nothing stored, and only for want of space: the request as a whole could not be served.
    if (outcome.results.every((r) => r.kind === 'failed' && r.storageFull)) {
      options.observer?.failed('STORAGE_FULL');
      request.log.info({ stow: { failed: '503 STORAGE_FULL' } }, 'STOW-RS request failed as a whole: 503 STORAGE_FULL');
      throw new HttpProblem(503, 'STORAGE_FULL', 'the archive storage is full; nothing was stored; retry later', { 'retry-after': '5' });
    }
    noteAuditedStudies(
      request,
      outcome.results.flatMap((r) => (r.kind === 'stored' ? [r.studyInstanceUid] : [])),
    );
    const base = options.serviceUrl(request);
    const { status, body } = toStoreResponse(outcome, {
      study: (s) => studyUrl(base, s),
      instance: (s, se, i) => instanceUrl(base, { studyInstanceUid: s, seriesInstanceUid: se, sopInstanceUid: i }),
    });
    logOutcome(request, outcome, status);
    options.observer?.outcome(outcome);
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
  const reasons = Object.entries(summary.reasons)
    .map(([reason, n]) => `${reason} ×${n}`)
    .join('; ');
  request.log.info(
    { stow: { status, ...summary } },
    `STOW-RS ${status}: stored ${summary.stored} (${summary.duplicates} duplicate), refused ${summary.refused}${reasons ? ` (${reasons})` : ''}`,
  );
  if (summary.refused + summary.warnings > 0 && (request.log.level === 'debug' || request.log.level === 'trace')) {
    const items = outcome.results
      .filter((r) => r.kind === 'failed' || r.warning)
      .map((r) =>
        r.kind === 'failed'
          ? { sopInstanceUid: r.sopInstanceUid, failureReason: r.reason, detail: r.detail }
          : { sopInstanceUid: r.sopInstanceUid, warningReason: r.warning!.reason, detail: r.warning!.detail },
      );
    request.log.debug({ stow: { items } }, 'STOW-RS refusals and warnings');
  }
}

/**
 * The instances of a STOW request: the parts of a multipart/related body, one application/dicom
 * body, or the datasets of a metadata + bulk data request (`metadata-bulk.ts`).
 */
async function* requestParts(request: FastifyRequest<{ Params: { study?: string } }>, options: StowRoutesOptions): AsyncGenerator<StorePart> {
  const { maxBodyBytes, settings, bodyTimeout } = options;
  const mediaType = parseMediaType(request.headers['content-type']);
  const raw = request.body as Readable | undefined;
  if (!raw || request.headers['content-length'] === '0') {
    throw new HttpProblem(400, 'EMPTY_BODY', 'the request has no body; STOW-RS needs at least one DICOM instance');
  }
  if (mediaType?.type === 'application/dicom') {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > maxBodyBytes) throw new HttpProblem(413, 'BODY_TOO_LARGE', `the request body is larger than the limit of ${maxBodyBytes} bytes`);
    yield guardBody(raw, bodyTimeout);
    return;
  }
  const rootType = mediaType?.parameters.type?.toLowerCase();
  if (mediaType?.type === 'multipart/related' && rootType === 'application/dicom+json') {
    const study = request.params.study;
    const guard = watchBodySignal(raw, bodyTimeout);
    try {
      yield* metadataBulkInstances(readMultipart(raw, request.headers, { maxTotalBytes: maxBodyBytes, signal: guard.signal }), {
        spoolDir: settings.spoolDir,
        maxPartBytes: settings.maxPartBytes,
        maxMetadataBytes: settings.maxHeaderBytes,
        requestUrl: `${options.serviceUrl(request)}/studies${study === undefined ? '' : `/${study}`}`,
      });
    } finally {
      guard.stop();
    }
    return;
  }
  if (mediaType?.type !== 'multipart/related' || (rootType !== undefined && rootType !== 'application/dicom')) {
    throw new HttpProblem(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `STOW-RS accepts multipart/related; type="application/dicom", multipart/related; type="application/dicom+json" (metadata and bulk data) or application/dicom, not ${request.headers['content-type'] ?? 'no Content-Type'}`,
    );
  }
  // The body timeout watches the socket's stream as readMultipart reads it (no stream in between).
  const guard = watchBodySignal(raw, bodyTimeout);
  try {
    for await (const part of readMultipart(raw, request.headers, { maxTotalBytes: maxBodyBytes, signal: guard.signal })) {
      const partType = parseMediaType(part.contentType)?.type;
      if (partType !== undefined && partType !== 'application/dicom' && partType !== 'application/octet-stream') {
        part.resume();
        throw new HttpProblem(415, 'UNSUPPORTED_PART_TYPE', `a part has Content-Type ${part.contentType}; only application/dicom parts are accepted`);
      }
      yield part;
    }
  } finally {
    guard.stop();
  }
}
