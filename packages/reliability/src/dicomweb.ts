import http from 'node:http';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { ctInstance, encodeInstance, newUid, readManifest, testDataPath } from '@tessera/testkit';

/** One instance to upload: its bytes and UIDs. */
export interface Instance {
  study: string;
  series: string;
  sop: string;
  bytes: Buffer;
  /** Served as stored by WADO-RS with transfer-syntax=* (Implicit VR, Big Endian and Deflated objects are re-encoded). */
  asStored: boolean;
  origin: 'real' | 'generated';
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  ms: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/**
 * One HTTP request with a deadline: resolves with the answer, or rejects on a connection error or
 * once `deadlineMs` passes (the socket is then destroyed; `error.message` starts with 'deadline').
 */
export function request(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer; deadlineMs?: number; agent?: http.Agent | false } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(url, {
      method: options.method ?? 'GET',
      agent: options.agent ?? agent,
      headers: { ...(options.headers ?? {}), ...(options.body ? { 'content-length': String(options.body.length) } : {}) },
    });
    const timer = setTimeout(() => {
      req.destroy(new Error(`deadline: no complete answer within ${options.deadlineMs} ms`));
    }, options.deadlineMs ?? 60_000);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: performance.now() - started });
      });
      res.on('error', (e) => {
        clearTimeout(timer);
        // The status line had come: the server cut the body short (a streamed answer whose source failed).
        reject(Object.assign(e, { afterStatus: res.statusCode }));
      });
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(options.body);
  });
}

/** A multipart/related body of application/dicom parts, in memory. */
export function multipart(parts: Buffer[]): { contentType: string; body: Buffer } {
  const boundary = `reliability-${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const part of parts) chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), part, Buffer.from('\r\n'));
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { contentType: `multipart/related; type="application/dicom"; boundary=${boundary}`, body: Buffer.concat(chunks) };
}

export interface StowResult extends Answer {
  /** SOP Instance UIDs in ReferencedSOPSequence (stored). */
  stored: string[];
  /** SOP Instance UIDs in FailedSOPSequence. */
  failed: string[];
  /** problem+json code, if any. */
  code?: string;
}

type Json = Record<string, { Value?: unknown[] } | undefined>;

export async function stow(base: string, parts: Buffer[], deadlineMs = 60_000): Promise<StowResult> {
  const { contentType, body } = multipart(parts);
  const answer = await request(`${base}/dicomweb/studies`, {
    method: 'POST',
    headers: { 'content-type': contentType, accept: 'application/dicom+json' },
    body,
    deadlineMs,
  });
  let json: Json & { code?: string } = {};
  try {
    json = JSON.parse(answer.body.toString('utf8')) as Json;
  } catch {
    // not JSON
  }
  const uids = (tag: string) => ((json[tag]?.Value ?? []) as Json[]).map((item) => String((item['00081155']?.Value ?? [])[0]));
  return { ...answer, stored: uids('00081199'), failed: uids('00081198'), code: typeof json.code === 'string' ? json.code : undefined };
}

/** WADO-RS retrieve of one instance as stored (transfer-syntax=*): the single part's bytes, or undefined. */
export async function retrieveInstance(
  base: string,
  i: { study: string; series: string; sop: string },
  deadlineMs = 60_000,
): Promise<{ status: number; bytes?: Buffer }> {
  const answer = await request(`${base}/dicomweb/studies/${i.study}/series/${i.series}/instances/${i.sop}`, {
    headers: { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
    deadlineMs,
  });
  if (answer.status !== 200) return { status: answer.status };
  const boundary = /boundary="?([^";]+)"?/.exec(String(answer.headers['content-type']))?.[1];
  if (!boundary) return { status: answer.status };
  const start = answer.body.indexOf('\r\n\r\n');
  const end = answer.body.lastIndexOf(`\r\n--${boundary}--`);
  if (start < 0 || end < start) return { status: answer.status };
  return { status: 200, bytes: answer.body.subarray(start + 4, end) };
}

/** Every instance in the index through QIDO-RS (paged): study, series and SOP Instance UIDs. */
export async function listInstances(base: string): Promise<{ study: string; series: string; sop: string }[]> {
  const all: { study: string; series: string; sop: string }[] = [];
  const seen = new Set<string>();
  for (let offset = 0; ; offset += 1000) {
    const answer = await request(`${base}/dicomweb/instances?limit=1000&offset=${offset}&includefield=0020000D&includefield=0020000E`, {
      headers: { accept: 'application/dicom+json' },
    });
    if (answer.status === 204) break;
    if (answer.status !== 200) throw new Error(`QIDO /instances → ${answer.status}: ${answer.body.toString().slice(0, 300)}`);
    const rows = JSON.parse(answer.body.toString('utf8')) as Json[];
    for (const row of rows) {
      const v = (tag: string) => String((row[tag]?.Value ?? [])[0]);
      const sop = v('00080018');
      if (seen.has(sop)) continue;
      seen.add(sop);
      all.push({ study: v('0020000D'), series: v('0020000E'), sop });
    }
    if (rows.length < 1000) break;
  }
  return all;
}

const REENCODED = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99']);

/**
 * The real test files (packages/test-data) that parse, with a SOP Instance UID of their own, up to
 * `maxBytes` each.
 */
export function realInstances(maxBytes = 3_000_000): Instance[] {
  const rows = [...readManifest().values()].filter((r) => r.sopUid && r.studyUid && r.seriesUid);
  const count = new Map<string, number>();
  for (const r of rows) count.set(r.sopUid, (count.get(r.sopUid) ?? 0) + 1);
  const out: Instance[] = [];
  for (const r of rows) {
    if (count.get(r.sopUid) !== 1) continue;
    const bytes = readFileSync(testDataPath(r.path));
    if (bytes.length > maxBytes) continue;
    // Only files with a Part 10 preamble are kept as sent (others get a File Meta on retrieval).
    const part10 = bytes.length > 132 && bytes.toString('latin1', 128, 132) === 'DICM';
    out.push({ study: r.studyUid, series: r.seriesUid, sop: r.sopUid, bytes, asStored: part10 && !REENCODED.has(r.transferSyntax), origin: 'real' });
  }
  return out;
}

/** A generated CT instance with fresh UIDs (a small 16-bit image, size varying). */
export function generatedInstance(study = newUid(), series = newUid()): Instance {
  const side = [16, 64, 128, 256][Math.floor(Math.random() * 4)]!;
  const spec = ctInstance({ StudyInstanceUID: study, SeriesInstanceUID: series }, { rows: side, columns: side, frames: 1 });
  return { study, series, sop: String(spec.attributes.SOPInstanceUID), bytes: encodeInstance(spec), asStored: true, origin: 'generated' };
}
