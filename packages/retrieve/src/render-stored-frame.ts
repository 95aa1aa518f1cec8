import { type DicomJsonDataset, frameCount } from '@tessera/dicom';
import { type DecodedFrame, PixelDecodeError, RenderParameterError, type RenderedImage, UnsupportedTransferSyntaxError, decodeFrame } from '@tessera/imaging';
import type { RetrievableInstance } from '@tessera/index';
import { renderingsPrefix } from '@tessera/blob-store';
import type { RetrieveDependencies } from './resolve-scope.js';
import { RetrieveError } from './retrieve-error.js';
import { frameBytes } from './stored-bytes.js';

/** Turns a decoded frame and the instance's metadata into an image (imaging's `renderFrame` or `thumbnail`, with options). */
export type FrameRenderer = (decoded: DecodedFrame, metadata: DicomJsonDataset) => Promise<RenderedImage>;

/**
 * Decodes frame `n` (1-based) of a stored instance and hands it with the instance's metadata to
 * `render`; the shared core of WADO-RS `/rendered`, `/thumbnail` and WADO-URI rendered requests.
 * Failures are retrieve errors: no pixel data `no-pixel-data`, no such frame `frame-not-found`, an
 * undecodable transfer syntax `not-decodable`, broken pixel data `pixel-data-unreadable`, a
 * parameter the image makes impossible `invalid-render-parameter`.
 */
export async function renderStoredFrame(
  deps: Pick<RetrieveDependencies, 'index' | 'blobs'>,
  row: RetrievableInstance,
  n: number,
  render: FrameRenderer,
): Promise<RenderedImage> {
  const count = renderableFrames(row);
  if (n > count) throw new RetrieveError('frame-not-found', `instance ${row.sopInstanceUid} has ${count} frames, not ${n}`, row.sopInstanceUid);
  const {
    rows: [text],
  } = await deps.index.retrieve.metadata({
    studyInstanceUid: row.studyInstanceUid,
    seriesInstanceUid: row.seriesInstanceUid,
    sopInstanceUid: row.sopInstanceUid,
  });
  if (!text) throw new RetrieveError('not-found', `no instance ${row.sopInstanceUid} is stored`, row.sopInstanceUid);
  const metadata = JSON.parse(text.metadata) as DicomJsonDataset;
  const chunks: Buffer[] = [];
  for await (const chunk of frameBytes(deps.blobs, row, n).body()) chunks.push(chunk);
  try {
    return await render(await decodeFrame(Buffer.concat(chunks), metadata, row.transferSyntaxUid), metadata);
  } catch (error) {
    throw renderError(error, row);
  }
}

/** The number of frames an instance has to render; none is `no-pixel-data`. */
export function renderableFrames(row: RetrievableInstance): number {
  const count = frameCount(row.frames ?? undefined);
  if (count === 0) throw new RetrieveError('no-pixel-data', `instance ${row.sopInstanceUid} has no pixel data to render`, row.sopInstanceUid);
  return count;
}

/** Maps imaging errors to retrieve errors (other errors pass through). */
function renderError(error: unknown, row: Pick<RetrievableInstance, 'sopInstanceUid' | 'transferSyntaxUid'>): unknown {
  if (error instanceof RenderParameterError) return new RetrieveError('invalid-render-parameter', error.message, row.sopInstanceUid);
  if (error instanceof UnsupportedTransferSyntaxError) {
    return new RetrieveError('not-decodable', `frames in transfer syntax ${row.transferSyntaxUid} cannot be rendered here`, row.sopInstanceUid);
  }
  if (error instanceof PixelDecodeError) {
    return new RetrieveError('pixel-data-unreadable', `the pixel data of ${row.sopInstanceUid} cannot be decoded: ${error.message}`, row.sopInstanceUid);
  }
  return error;
}

/**
 * A rendered image cached in the blob store (thumbnails), under a key derived from the instance's
 * blob key (which names its SHA-256), so a replaced instance never shows a stale image. `variant`
 * names what else the image depends on (frame, size, format).
 */
export async function cachedRendering(
  deps: Pick<RetrieveDependencies, 'blobs'>,
  row: RetrievableInstance,
  variant: string,
  render: () => Promise<RenderedImage>,
): Promise<{ body: Buffer; cached: boolean }> {
  const key = `${renderingsPrefix(row.blobKey)}${variant}`;
  if (await deps.blobs.head(key)) {
    const chunks: Buffer[] = [];
    for await (const chunk of await deps.blobs.get(key)) chunks.push(chunk as Buffer);
    return { body: Buffer.concat(chunks), cached: true };
  }
  const { body } = await render();
  await deps.blobs.put(key, body, body.length);
  return { body, cached: false };
}
