import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type ClientRequest, type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Tag, tagKey } from '@tessera/dicom';
import { type StoreAnswer, parseStoreResponse } from './store-response.js';

/** Where to send and with what credential. */
export interface StowTarget {
  /** The DICOMweb service root, e.g. `http://127.0.0.1:8080/dicomweb` (STOW-RS posts to `{root}/studies`). */
  url: string;
  /** Sent as `Authorization: Bearer <token>` (an API key or an OIDC access token). */
  token?: string;
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** The first wait; each further wait doubles, up to maxDelayMs (with up to 25 % jitter). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 500, maxDelayMs: 30_000 };

/** A part of a request body: a file streamed from disk when the request reaches it. */
export interface BodyFile {
  path: string;
  size: number;
}

export type BatchOutcome =
  /** The server answered with a Store Instances Response (200, 202, 409, or a 400 that has one). */
  | { kind: 'answered'; status: number; answer: StoreAnswer; attempts: number }
  /** The request failed as a whole: an HTTP error without a response module, or no answer at all. */
  | { kind: 'failed'; status?: number; message: string; unreachable: boolean; attempts: number };

export interface SendOptions {
  retry?: RetryPolicy;
  /** Bytes of file content sent (negative when an attempt is abandoned and will be sent again). */
  onBytes?(delta: number): void;
  /** Said before each wait for a retry. */
  onRetry?(note: { attempt: number; delayMs: number; why: string }): void;
  /** Idle time after which an attempt is abandoned (a stalled connection). */
  idleTimeoutMs?: number;
}

/** HTTP statuses worth another attempt: the server is busy, restarting or briefly unable (RFC 9110 §15.6). */
const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const TRANSIENT_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);
/** Errors that mean "nobody there" rather than "the connection broke". */
const UNREACHABLE_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const STOW_ACCEPT = 'application/dicom+json';
/** The longest wait a Retry-After header may impose. */
const MAX_RETRY_AFTER_MS = 120_000;

/**
 * Sends `files` in one STOW-RS request (PS3.18 §10.5): `multipart/related; type="application/dicom"`,
 * one part per file with its Content-Length, and a Content-Length for the whole body (some servers,
 * Orthanc among them, do not take chunked uploads). The body is streamed from disk part by part:
 * memory stays bounded whatever the batch size. Transient failures (connection errors, 408, 429, 5xx,
 * honouring Retry-After) are retried with exponential backoff; the body is re-read from disk.
 */
export async function sendBatch(target: StowTarget, files: readonly BodyFile[], options: SendOptions = {}): Promise<BatchOutcome> {
  const retry = options.retry ?? DEFAULT_RETRY;
  let last: { status?: number; message: string; unreachable: boolean; retryAfterMs?: number } | undefined;
  for (let attempt = 1; attempt <= retry.attempts; attempt++) {
    if (attempt > 1 && last) {
      const backoff = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 2));
      const delayMs = last.retryAfterMs ?? Math.round(backoff * (1 + Math.random() * 0.25));
      options.onRetry?.({ attempt, delayMs, why: last.message });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
    const result = await attemptOnce(target, files, options);
    if (result.kind === 'response') {
      if (result.json !== undefined && (result.status < 300 || result.status === 409 || (result.status === 400 && hasResponseModule(result.json)))) {
        return { kind: 'answered', status: result.status, answer: parseStoreResponse(result.json), attempts: attempt };
      }
      const message = `HTTP ${result.status}${result.detail ? `: ${result.detail}` : ''}`;
      if (!TRANSIENT_STATUS.has(result.status)) return { kind: 'failed', status: result.status, message, unreachable: false, attempts: attempt };
      last = { status: result.status, message, unreachable: false, ...(result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs }) };
    } else {
      last = { message: result.message, unreachable: result.unreachable };
      if (!result.transient) return { kind: 'failed', message: result.message, unreachable: result.unreachable, attempts: attempt };
    }
  }
  return {
    kind: 'failed',
    ...(last?.status === undefined ? {} : { status: last.status }),
    message: last?.message ?? 'no attempt made',
    unreachable: last?.unreachable ?? false,
    attempts: retry.attempts,
  };
}

type Attempt =
  | { kind: 'response'; status: number; json?: unknown; detail?: string; retryAfterMs?: number }
  | { kind: 'error'; message: string; transient: boolean; unreachable: boolean };

async function attemptOnce(target: StowTarget, files: readonly BodyFile[], options: SendOptions): Promise<Attempt> {
  const boundary = `tessera-upload-${randomUUID()}`;
  const { body, length } = multipartBody(files, boundary);
  const url = new URL(`${target.url.replace(/\/+$/, '')}/studies`);
  const headers: Record<string, string> = {
    'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
    'content-length': String(length),
    accept: STOW_ACCEPT,
  };
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  let sent = 0;
  const counted = async function* (source: AsyncIterable<Chunk>) {
    for await (const chunk of source) {
      yield chunk;
      if (chunk.fileBytes) {
        sent += chunk.length;
        options.onBytes?.(chunk.length);
      }
    }
  };
  return new Promise<Attempt>((resolve) => {
    let settled = false;
    let request: ClientRequest | undefined;
    const finish = (attempt: Attempt) => {
      if (settled) return;
      settled = true;
      // Answered before the whole body was sent (an early 413/503): stop sending it.
      if (request && !request.writableFinished) request.destroy();
      // Bytes of an attempt that gets no Store Instances Response are sent again (or never stored).
      if (attempt.kind === 'error' || attempt.json === undefined) options.onBytes?.(-sent);
      resolve(attempt);
    };
    try {
      request = send(url, { method: 'POST', headers, timeout: options.idleTimeoutMs ?? 300_000 });
    } catch (error) {
      finish({ kind: 'error', message: (error as Error).message, transient: false, unreachable: true });
      return;
    }
    const sending = request;
    sending.on('timeout', () => sending.destroy(Object.assign(new Error('no progress on the connection (timed out)'), { code: 'ETIMEDOUT' })));
    sending.on('response', (response: IncomingMessage) => {
      void readResponse(response).then(finish, (error: unknown) => finish(errorAttempt(error)));
    });
    sending.on('error', (error) => finish(errorAttempt(error)));
    // A server may answer (413, 401, 503) before it has read the body: the write error that follows is not the outcome.
    pipeline(Readable.from(counted(body)), sending).catch((error: unknown) => {
      setTimeout(() => finish(errorAttempt(error)), 1000).unref();
    });
  });
}

function errorAttempt(error: unknown): Attempt {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const message = `${(error as Error).message}${code && !(error as Error).message.includes(code) ? ` (${code})` : ''}`;
  return { kind: 'error', message, transient: TRANSIENT_ERRORS.has(code) || /socket hang up/.test(message), unreachable: UNREACHABLE_ERRORS.has(code) };
}

async function readResponse(response: IncomingMessage): Promise<Attempt> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    // A Store Instances Response lists every instance of the batch: a few hundred bytes each.
    if (size < 64 * 2 ** 20) chunks.push(chunk);
    size += chunk.length;
  }
  const status = response.statusCode ?? 0;
  const text = Buffer.concat(chunks).toString('utf8');
  const type = String(response.headers['content-type'] ?? '');
  let json: unknown;
  let detail: string | undefined;
  if (/json/i.test(type) && text) {
    try {
      json = JSON.parse(text);
    } catch {
      detail = 'the answer is not valid JSON';
    }
  }
  if (type.includes('problem+json') && json && typeof json === 'object') {
    const problem = json as { title?: string; detail?: string };
    detail = problem.detail ?? problem.title;
    json = undefined;
  } else if (json === undefined && !detail && text && status >= 400) {
    detail = text.replace(/\s+/g, ' ').trim().slice(0, 300);
  }
  const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
  return {
    kind: 'response',
    status,
    ...(json === undefined ? {} : { json }),
    ...(detail ? { detail } : {}),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

/** Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP date; capped so a server cannot park the upload. */
export function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  const ms = /^\d+$/.test(text.trim()) ? Number(text.trim()) * 1000 : Date.parse(text) - Date.now();
  return Number.isFinite(ms) ? Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms)) : undefined;
}

function hasResponseModule(json: unknown): boolean {
  const dataset: unknown = Array.isArray(json) ? json[0] : json;
  const sequences = [Tag.FailedSOPSequence, Tag.ReferencedSOPSequence, Tag.OtherFailuresSequence].map(tagKey);
  return !!dataset && typeof dataset === 'object' && sequences.some((key) => key in dataset);
}

type Chunk = Buffer & { fileBytes?: boolean };

/** The multipart/related body (RFC 2387) and its exact length; files are opened one at a time as the body reaches them. */
export function multipartBody(files: readonly BodyFile[], boundary: string): { body: AsyncIterable<Chunk>; length: number } {
  const head = (file: BodyFile) => Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\nContent-Length: ${file.size}\r\n\r\n`, 'latin1');
  const tail = Buffer.from(`--${boundary}--\r\n`, 'latin1');
  const crlf = Buffer.from('\r\n', 'latin1');
  const length = files.reduce((sum, file) => sum + head(file).length + file.size + crlf.length, 0) + tail.length;
  async function* body(): AsyncGenerator<Chunk> {
    for (const file of files) {
      yield head(file);
      let read = 0;
      for await (const chunk of createReadStream(file.path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
        read += chunk.length;
        // A file that grew since it was measured would break the declared lengths: send what was measured.
        const part: Chunk = read > file.size ? chunk.subarray(0, Math.max(0, chunk.length - (read - file.size))) : chunk;
        part.fileBytes = true;
        if (part.length) yield part;
        if (read >= file.size) break;
      }
      if (read < file.size) throw new Error(`${file.path} became shorter while it was sent`);
      yield crlf;
    }
    yield tail;
  }
  return { body: body(), length };
}
