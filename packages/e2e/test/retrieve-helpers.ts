import { FailureReason } from '@tessera/dicom';
import { type BackendName, type TestServer, readManifest, readShared, sharedFiles, startTestServer } from '@tessera/testkit';

/** Helpers of the WADO-RS / WADO-URI tests: a strict multipart/related reader and shared-data rounds. */

export interface Part {
  headers: Record<string, string>;
  body: Buffer;
}

/** Splits a multipart/related response body; fails unless it ends with `--boundary--` (NEG-9). */
export function parseMultipart(contentTypeHeader: unknown, payload: Buffer): { type: string | undefined; parts: Part[] } {
  const contentType = typeof contentTypeHeader === 'string' ? contentTypeHeader : undefined;
  const boundary = /boundary="?([^";]+)"?/.exec(contentType ?? '')?.[1];
  if (!boundary || !/^multipart\/related/i.test(contentType ?? '')) throw new Error(`not multipart/related: ${contentType}`);
  const type = /type="?([^";]+)"?/.exec(contentType ?? '')?.[1];
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let pos = payload.indexOf(delimiter);
  if (pos !== 0) throw new Error('body does not start with the boundary');
  for (;;) {
    const after = pos + delimiter.length;
    if (payload.subarray(after, after + 2).toString() === '--') {
      if (
        payload
          .subarray(after + 2)
          .toString()
          .replace(/\r\n$/, '') !== ''
      )
        throw new Error('bytes after the closing boundary');
      return { type, parts };
    }
    const headerEnd = payload.indexOf('\r\n\r\n', after);
    const headers: Record<string, string> = {};
    for (const line of payload
      .subarray(after + 2, headerEnd)
      .toString('latin1')
      .split('\r\n')) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const start = headerEnd + 4;
    const declared = headers['content-length'];
    const next = declared !== undefined ? start + Number(declared) : payload.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), start);
    if (payload.subarray(next, next + 2 + delimiter.length).toString('latin1') !== `\r\n--${boundary}`)
      throw new Error('part does not end with CRLF + boundary');
    parts.push({ headers, body: payload.subarray(start, next) });
    pos = next + 2;
  }
}

export const transferSyntaxOf = (contentType: unknown): string | undefined => /transfer-syntax="?([^";,\s]+)"?/.exec(String(contentType ?? ''))?.[1];

export async function upload(server: TestServer, bytes: Buffer): Promise<{ status: number; body: any }> {
  const res = await server.app.inject({ method: 'POST', url: '/dicomweb/studies', headers: { 'content-type': 'application/dicom' }, payload: bytes });
  return { status: res.statusCode, body: JSON.parse(res.body) };
}

/** The path part of the RetrieveURL of the first stored instance of a STOW answer. */
export function storedPath(body: any): string | undefined {
  const url = body?.['00081199']?.Value?.[0]?.['00081190']?.Value?.[0] as string | undefined;
  return url?.replace(/^https?:\/\/[^/]+/, '');
}

/** Shared files by round: files that share a SOP Instance UID go to separate stores (as stow-shared-data). */
export function sharedRounds(filter: (path: string) => boolean = () => true): string[][] {
  const manifest = readManifest();
  const rounds: string[][] = [];
  const seen = new Map<string, number>();
  for (const path of sharedFiles().filter((p) => !p.startsWith('bad/') && filter(p))) {
    const sop = manifest.get(path)?.sopUid ?? '';
    const round = sop ? (seen.get(sop) ?? 0) : 0;
    if (sop) seen.set(sop, round + 1);
    (rounds[round] ??= []).push(path);
  }
  return rounds;
}

/**
 * Uploads every real file of the shared data (those `filter` keeps), each round of
 * `sharedRounds` into a fresh server, and calls `each` for every file STOW stored.
 */
export async function forEachStoredRealFile(
  backend: BackendName,
  filter: ((path: string) => boolean) | undefined,
  each: (server: TestServer, path: string, bytes: Buffer, url: string) => Promise<void>,
): Promise<void> {
  for (const files of sharedRounds(filter)) {
    const server = await startTestServer(backend);
    try {
      for (const path of files) {
        const bytes = readShared(path);
        const stored = await upload(server, bytes);
        if (stored.status !== 200 && stored.status !== 202) continue;
        await each(server, path, bytes, storedPath(stored.body)!);
      }
    } finally {
      await server.close();
    }
  }
}

export { FailureReason };

/** Every BulkDataURI in a DICOM JSON value (recursively through sequences). */
export function bulkDataUris(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) bulkDataUris(v, out);
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'BulkDataURI' && typeof v === 'string') out.push(v);
      else bulkDataUris(v, out);
    }
  }
  return out;
}
