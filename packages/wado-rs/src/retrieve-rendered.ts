import { frameCount } from '@tessera/dicom';
import { HttpProblem, acceptableMediaTypes, instanceUrl, rangeCovers, warningHeader, writeMultipart } from '@tessera/http';
import { THUMBNAIL_SIZE, type RenderedContentType, renderFrame, thumbnail } from '@tessera/imaging';
import { type RetrieveDependencies, type RetrieveScope, RetrieveError, cachedRendering, renderStoredFrame, resolveScope } from '@tessera/retrieve';
import { parseRenderedParams } from './rendered-params.js';
import type { RenderRequest, RetrieveResponse } from './retrieve-request.js';

/*
 * Rendered and thumbnail resources (PS3.18 §10.4.1.1.3-4, digest WADORS-8/9): frames decoded with
 * @tessera/imaging's WASM codecs, windowed and encoded as JPEG (default), PNG or GIF. Thumbnails are
 * cached in the blob store (the retrieve package's `cachedRendering`), so a replaced instance never
 * shows a stale thumbnail.
 */

const RENDERED_TYPES: RenderedContentType[] = ['image/jpeg', 'image/png', 'image/gif'];

/** The rendered media type the request accepts (NEG-2/3/4: `accept` query first, `*\/*` → JPEG), else 406. */
export function negotiateRendered(request: Pick<RenderRequest, 'accept' | 'query'>): RenderedContentType {
  const entries = acceptableMediaTypes(request.query.accept as string | string[] | undefined, request.accept);
  if (entries.length === 0) return 'image/jpeg';
  const sorted = [...entries].sort((a, b) => b.q - a.q);
  for (const entry of sorted) {
    if (entry.q === 0) continue;
    const type = RENDERED_TYPES.find((t) => rangeCovers(entry, t));
    if (type) return type;
  }
  throw new HttpProblem(406, 'NOT_ACCEPTABLE', `rendered images are available as ${RENDERED_TYPES.join(', ')}`);
}

/** `…/rendered` on a study, series, instance or frame list (`request.frames`). */
export async function retrieveRendered(deps: RetrieveDependencies, scope: RetrieveScope, request: RenderRequest): Promise<RetrieveResponse> {
  const params = parseRenderedParams(request.query, 'rendered');
  const contentType = negotiateRendered(request);
  const rows = await resolveScope(deps, scope);
  const options = { contentType, quality: params.quality, viewport: params.viewport, window: params.window, iccprofile: params.iccprofile };
  const headers: Record<string, string> = {};
  const warning = warningHeader(request.serviceUrl, params.warnings);
  if (warning) headers.warning = warning;

  // One image: an instance (its first frame, D23) or a single frame. Several: multipart/related.
  const frames = request.frames;
  const single = scope.sopInstanceUid !== undefined && (frames === undefined || frames.length === 1);
  if (single) {
    const row = rows[0]!;
    const image = await renderStoredFrame(deps, row, frames?.[0] ?? 1, (decoded, metadata) => renderFrame(decoded, metadata, options));
    return { status: 200, headers: { ...headers, 'content-type': image.contentType, 'content-length': String(image.body.length) }, body: image.body };
  }
  const targets = frames
    ? frames.map((n) => ({ row: rows[0]!, n }))
    : rows.filter((row) => frameCount(row.frames ?? undefined) > 0).map((row) => ({ row, n: 1 }));
  if (targets.length === 0) throw new RetrieveError('no-pixel-data', 'nothing in scope has pixel data to render');
  const multipart = writeMultipart(
    contentType,
    targets.map(({ row, n }) => ({
      contentType,
      contentLocation: `${instanceUrl(request.serviceUrl, row)}${frames ? `/frames/${n}` : ''}/rendered`,
      body: async () => (await renderStoredFrame(deps, row, n, (decoded, metadata) => renderFrame(decoded, metadata, options))).body,
    })),
  );
  return { status: 200, headers: { ...headers, 'content-type': multipart.contentType }, body: multipart.stream };
}

/** `…/thumbnail`: one small JPEG (or PNG/GIF) of a representative frame, cached in the blob store. */
export async function retrieveThumbnail(deps: RetrieveDependencies, scope: RetrieveScope, request: RenderRequest): Promise<RetrieveResponse> {
  const params = parseRenderedParams(request.query, 'thumbnail');
  const contentType = negotiateRendered(request);
  const rows = (await resolveScope(deps, scope)).filter((row) => frameCount(row.frames ?? undefined) > 0);
  if (rows.length === 0) throw new RetrieveError('no-pixel-data', 'nothing in scope has pixel data to show');
  // A series or study is shown by its middle image, which is usually the most telling.
  const row = rows[Math.floor(rows.length / 2)]!;
  const n = request.frames?.[0] ?? Math.ceil(frameCount(row.frames ?? undefined) / 2);
  const size = params.viewport ? `${params.viewport.vw}x${params.viewport.vh}` : 'default';
  const { body, cached } = await cachedRendering(deps, row, `${n}-${size}.${contentType.split('/')[1]}`, () =>
    renderStoredFrame(deps, row, n, (decoded, metadata) =>
      contentType === 'image/jpeg'
        ? thumbnail(decoded, metadata, params.viewport)
        : renderFrame(decoded, metadata, { contentType, maxSize: { width: THUMBNAIL_SIZE, height: THUMBNAIL_SIZE }, viewport: params.viewport }),
    ),
  );
  return { status: 200, headers: { 'content-type': contentType, 'content-length': String(body.length), 'x-thumbnail-cache': cached ? 'hit' : 'miss' }, body };
}
