import type { Readable } from 'node:stream';
import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { statusHex, statusName } from '@tessera/dicom';
import { HttpProblem, noteAuditedStudies } from '@tessera/http';
import { PartTooLargeError } from './spool.js';
import { type InstanceResult, type StoreDependencies, storeInstances } from './store-instances.js';
import { toStoreResponse } from './store-response.js';
import { UPLOAD_PAGE_POLICY, uploadPageHtml } from './upload-page.js';

export interface UploadRoutesOptions extends StoreDependencies {
  /** Largest accepted request body (413 above it), as for STOW-RS. */
  maxBodyBytes: number;
  /** The hosted viewer's link to a study, or undefined when no viewer is hosted. */
  viewerUrl(request: FastifyRequest, studyInstanceUid: string): string | undefined;
}

/** One file's result in the JSON answer of `POST /api/upload`. */
export interface UploadFileResult {
  /** The file name the browser sent (as given; only echoed back). */
  name: string;
  result: 'stored' | 'already present' | 'refused';
  studyInstanceUid?: string;
  sopInstanceUid?: string;
  /** FailureReason or WarningReason as `A900 <name>: <detail>`. */
  reason?: string;
  warning?: string;
  viewerUrl?: string;
}

/** Files per request at most (the page sends one per request; a form may send several). */
const MAX_FILES = 1000;

/**
 * The browser upload (issue #16): `GET /upload`, a small page, and `POST /api/upload`, which takes
 * `multipart/form-data` (what a browser form or FormData sends) through @fastify/multipart and
 * streams every file part into the same transaction as STOW-RS (`storeInstances`): the same
 * spooling with its size limit (bounded memory), the same checks, the same duplicate rules, and
 * the same status codes (200 all stored, 202 some refused or a warning, 409 none stored, 400
 * nothing readable). The answer is JSON, one entry per file in the order sent, with the study's
 * viewer link. @fastify/multipart is registered inside this plugin only, so no other route parses
 * multipart/form-data.
 */
export const uploadRoutes: FastifyPluginAsync<UploadRoutesOptions> = async (app: FastifyInstance, options) => {
  const page = uploadPageHtml();
  app.get('/upload', async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('content-security-policy', UPLOAD_PAGE_POLICY(page)).header('cache-control', 'no-cache').send(page.html),
  );

  await app.register(fastifyMultipart, {
    // The page sends each file's path in its folder as the name; it is only echoed back in the answer.
    preservePath: true,
    // The spool enforces the part limit itself (PartTooLargeError → 413); one byte more here lets it.
    limits: { fileSize: options.settings.maxPartBytes + 1, files: MAX_FILES, fields: 20, fieldSize: 4096, parts: MAX_FILES + 20, headerPairs: 50 },
  });

  app.post('/api/upload', async (request, reply) => {
    if (!request.isMultipart()) {
      throw new HttpProblem(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `the upload takes multipart/form-data (STOW-RS at /dicomweb/studies takes multipart/related), not ${request.headers['content-type'] ?? 'no Content-Type'}`,
      );
    }
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > options.maxBodyBytes)
      throw new HttpProblem(413, 'BODY_TOO_LARGE', `the request body is larger than the limit of ${options.maxBodyBytes} bytes`);
    const names: string[] = [];
    async function* parts(): AsyncGenerator<Readable> {
      for await (const part of request.files()) {
        names.push(part.filename || `file ${names.length + 1}`);
        yield part.file;
      }
    }
    let outcome;
    try {
      outcome = await storeInstances(parts(), options, {});
    } catch (error) {
      if (error instanceof PartTooLargeError) throw new HttpProblem(413, 'PART_TOO_LARGE', error.message);
      throw error;
    }
    if (outcome.results.length === 0) throw new HttpProblem(400, 'NO_FILES', 'the request holds no file');
    if (outcome.results.every((r) => r.kind === 'failed' && r.storageFull)) {
      throw new HttpProblem(503, 'STORAGE_FULL', 'the archive storage is full; nothing was stored; retry later');
    }
    noteAuditedStudies(
      request,
      outcome.results.flatMap((r) => (r.kind === 'stored' ? [r.studyInstanceUid] : [])),
    );
    // The status as STOW-RS gives it for the same instances (PS3.18 §10.5.3).
    const { status } = toStoreResponse(outcome, { study: () => '', instance: () => '' });
    const files = outcome.results.map((r, i) => toFileResult(names[i] ?? `file ${i + 1}`, r, (study) => options.viewerUrl(request, study)));
    request.log.info(
      { upload: { status, files: files.length, refused: files.filter((f) => f.result === 'refused').length } },
      `upload ${status}: ${files.length} file(s)`,
    );
    return reply.code(status).type('application/json').send({ files });
  });
};

const reasonText = (code: number, detail: string) => `${statusHex(code)} ${statusName(code)}: ${detail}`;

function toFileResult(name: string, r: InstanceResult, viewerUrl: (study: string) => string | undefined): UploadFileResult {
  if (r.kind === 'failed') {
    return { name, result: 'refused', ...(r.sopInstanceUid ? { sopInstanceUid: r.sopInstanceUid } : {}), reason: reasonText(r.reason, r.detail) };
  }
  const link = viewerUrl(r.studyInstanceUid);
  return {
    name,
    result: r.duplicate ? 'already present' : 'stored',
    studyInstanceUid: r.studyInstanceUid,
    sopInstanceUid: r.sopInstanceUid,
    ...(r.warning ? { warning: reasonText(r.warning.reason, r.warning.detail) } : {}),
    ...(link ? { viewerUrl: link } : {}),
  };
}
