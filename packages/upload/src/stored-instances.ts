import { Tag, tagKey } from '@tessera/dicom';
import type { StowTarget } from './stow-client.js';

export type StoredInstances = { kind: 'known'; sopInstanceUids: Set<string> } | { kind: 'unknown'; reason: string };

const PAGE = 1000;

/**
 * The SOP Instance UIDs the server already holds in `studies`, from QIDO-RS (PS3.18 §10.6:
 * `GET {root}/studies/{study}/instances`, paged with limit/offset until a page brings nothing new).
 * Needs the read scope: when a search fails (a write-only key, a server without QIDO) the answer is
 * "unknown" with the reason, and the upload goes on without it.
 */
export async function findStoredInstances(target: StowTarget, studies: readonly string[], concurrency: number): Promise<StoredInstances> {
  const held = new Set<string>();
  let failure: string | undefined;
  let next = 0;
  const root = target.url.replace(/\/+$/, '');
  const headers: Record<string, string> = { accept: 'application/dicom+json' };
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  const searchStudy = async (study: string) => {
    for (let offset = 0; ; offset += PAGE) {
      const url = `${root}/studies/${encodeURIComponent(study)}/instances?includefield=${tagKey(Tag.SOPInstanceUID)}&limit=${PAGE}&offset=${offset}`;
      let response: Response;
      try {
        response = await fetch(url, { headers });
      } catch (error) {
        throw new Error(`QIDO-RS search failed: ${(error as Error).message}`);
      }
      // No match: 204 (PS3.18 §10.6.3.2), or 404 from servers that treat an unknown study as a missing resource.
      if (response.status === 204 || response.status === 404) {
        await response.body?.cancel();
        return;
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`QIDO-RS search answered HTTP ${response.status}`);
      }
      const text = await response.text();
      const items = text ? (JSON.parse(text) as Record<string, { Value?: unknown[] }>[]) : [];
      let added = 0;
      for (const item of Array.isArray(items) ? items : []) {
        const sop = item[tagKey(Tag.SOPInstanceUID)]?.Value?.[0];
        if (typeof sop === 'string' && !held.has(sop)) {
          held.add(sop);
          added++;
        }
      }
      // A server that caps the page below PAGE, or ignores offset, ends here too.
      if (added === 0) return;
    }
  };
  const worker = async () => {
    while (next < studies.length && failure === undefined) {
      const study = studies[next++]!;
      try {
        await searchStudy(study);
      } catch (error) {
        failure ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, studies.length)) }, worker));
  return failure === undefined ? { kind: 'known', sopInstanceUids: held } : { kind: 'unknown', reason: failure };
}
