import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpProblem } from '@tessera/http';
import { redactShareToken } from './request-log.js';

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance: string;
  requestId: string;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Errors from storage adapters that mean "try again later", whatever the backend (stable `code`s). */
const UNAVAILABLE_CODES = new Set(['INDEX_UNAVAILABLE', 'BLOB_STORE_UNAVAILABLE']);

/** `extensions`: RFC 9457 extension members, after the standard ones. */
export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  code: string,
  detail: string,
  extensions: Record<string, string> = {},
): FastifyReply {
  const body: Problem & Record<string, string | number> = {
    // RFC 9457 §4.2.1: no type URI of our own (none that is sure to resolve); `code` says which problem.
    type: 'about:blank',
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    instance: redactShareToken(request.url),
    requestId: String(request.id),
    ...extensions,
  };
  return reply.code(status).type('application/problem+json').send(body);
}

/**
 * The one place errors become responses (RFC 9457 problem+json). Client errors say what was wrong;
 * server errors are logged with their stack and answered without internals.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | HttpProblem | Error, request, reply) => {
    if (error instanceof HttpProblem) {
      reply.headers(error.headers);
      return sendProblem(request, reply, error.status, error.code, error.message);
    }
    const code = (error as { code?: string }).code;
    if (code === 'INDEX_OUTCOME_UNKNOWN') {
      request.log.error({ err: error }, 'index commit unconfirmed');
      reply.header('retry-after', '5');
      return sendProblem(
        request,
        reply,
        503,
        code,
        'the index database stopped answering while the upload was being committed, so whether it was stored is unknown; send it again (re-sending identical instances is safe)',
      );
    }
    if (code === 'BLOB_NOT_FOUND') {
      // The index refers to bytes the blob store does not have: a fault of the archive, not of the request.
      request.log.error({ err: error }, 'indexed instance without its stored data');
      return sendProblem(
        request,
        reply,
        503,
        'INSTANCE_DATA_MISSING',
        'the stored data of this instance cannot be read; the error is logged under this requestId',
      );
    }
    if (code === 'BLOB_STORE_FULL') {
      request.log.error({ err: error }, 'storage full');
      reply.header('retry-after', '5');
      return sendProblem(request, reply, 503, 'STORAGE_FULL', 'the archive storage is full; retry later');
    }
    if (code && UNAVAILABLE_CODES.has(code)) {
      request.log.error({ err: error }, 'storage unavailable');
      reply.header('retry-after', '5');
      return sendProblem(request, reply, 503, code, 'the archive storage is temporarily unavailable; retry later');
    }
    const status = (error as FastifyError).statusCode;
    if (status && status >= 400 && status < 500) {
      return sendProblem(request, reply, status, code ?? 'BAD_REQUEST', error.message);
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(request, reply, 500, 'INTERNAL', 'the server failed to process the request; the error is logged under this requestId');
  });
  app.setNotFoundHandler((request, reply) => sendProblem(request, reply, 404, 'NOT_FOUND', `no resource at ${request.method} ${request.url.split('?')[0]}`));
}
