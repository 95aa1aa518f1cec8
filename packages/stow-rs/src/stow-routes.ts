import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { isValidUid } from '@tessera/dicom';
import { HttpProblem, parseMediaType, readMultipart } from '@tessera/http';
import { BodyAbortedError, type BodyTimeout, BodyTimeoutError, guardBody } from './body-timeout.js';
import { PartTooLargeError } from './spool.js';
import { type StoreDependencies, storeInstances, toStoreResponse } from './store-instances.js';

export interface StowRoutesOptions extends StoreDependencies {
  /** Largest accepted request body (digest STOW-6: 413 above it). */
  maxBodyBytes: number;
  /** How slowly a client may send the body before the request fails (408). */
  bodyTimeout: BodyTimeout;
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
    // STOW-12: the response module is JSON; a client that accepts only XML cannot be served.
    const accept = request.headers.accept;
    if (accept && !/(\*\/\*|application\/(\*|json|dicom\+json))/i.test(accept)) {
      throw new HttpProblem(406, 'NOT_ACCEPTABLE', 'the Store Instances response is available as application/dicom+json only');
    }
    // While the upload is stored the server may not read the socket for a while (a chunk being
    // written): the body timeout judges the client instead of the idle timeout, restored for the answer.
    // (inject()'s simulated socket has no timeout.)
    const socket = request.raw.socket as (typeof request.raw.socket & { server?: { timeout?: number } }) | undefined;
    const setIdleTimeout = typeof socket?.setTimeout === 'function' ? (ms: number) => socket.setTimeout(ms) : () => {};
    setIdleTimeout(0);
    const parts = requestParts(request, options.maxBodyBytes, options.bodyTimeout);
    let outcome;
    try {
      outcome = await storeInstances(parts, options, { studyInstanceUid });
    } catch (error) {
      if (error instanceof PartTooLargeError) throw new HttpProblem(413, 'PART_TOO_LARGE', error.message);
      if (error instanceof BodyTimeoutError) {
        request.log.info({ timeoutMs: error.timeoutMs, minBytes: error.minBytes }, 'STOW-RS request body timed out');
        throw new HttpProblem(408, 'BODY_TIMEOUT', `${error.message}; the request is abandoned`, { connection: 'close' });
      }
      if (error instanceof BodyAbortedError) {
        // Nobody reads this answer; the log says why the request ended.
        request.log.info('STOW-RS upload abandoned: the client closed the connection');
        throw new HttpProblem(400, 'REQUEST_ABORTED', error.message);
      }
      throw error;
    } finally {
      setIdleTimeout(socket?.server?.timeout ?? 0);
    }
    if (outcome.results.length === 0) throw new HttpProblem(400, 'NO_PARTS', 'the request holds no DICOM instance');
    // Nothing stored, and only for want of space: the request as a whole could not be served.
    if (outcome.results.every((r) => r.kind === 'failed' && r.storageFull)) {
      throw new HttpProblem(503, 'STORAGE_FULL', 'the archive storage is full; nothing was stored; retry later');
    }
    const base = options.serviceUrl(request);
    const { status, body } = toStoreResponse(outcome, {
      study: (s) => `${base}/studies/${s}`,
      instance: (s, se, i) => `${base}/studies/${s}/series/${se}/instances/${i}`,
    });
    return reply.code(status).type('application/dicom+json').send(body);
  };
  app.post('/studies', handler);
  app.post('/studies/:study', handler);
};

/** The instances of a STOW request: the parts of a multipart/related body, or one application/dicom body. */
async function* requestParts(request: FastifyRequest, maxBodyBytes: number, bodyTimeout: BodyTimeout): AsyncGenerator<Readable> {
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
  if (mediaType?.type !== 'multipart/related' || (rootType !== undefined && rootType !== 'application/dicom')) {
    throw new HttpProblem(415, 'UNSUPPORTED_MEDIA_TYPE',
      `STOW-RS accepts multipart/related; type="application/dicom" or application/dicom, not ${request.headers['content-type'] ?? 'no Content-Type'}`);
  }
  const body = guardBody(raw, bodyTimeout);
  for await (const part of readMultipart(body, request.headers, { maxTotalBytes: maxBodyBytes })) {
    const partType = parseMediaType(part.contentType)?.type;
    if (partType !== undefined && partType !== 'application/dicom' && partType !== 'application/octet-stream') {
      part.resume();
      throw new HttpProblem(415, 'UNSUPPORTED_PART_TYPE', `a part has Content-Type ${part.contentType}; only application/dicom parts are accepted`);
    }
    yield part;
  }
}
