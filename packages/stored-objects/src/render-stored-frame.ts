import type { BlobStore } from '@tessera/blob-store';
import type { DicomJsonDataset } from '@tessera/dicom';
import { HttpProblem } from '@tessera/http';
import {
  type DecodedFrame, PixelDecodeError, RenderParameterError, type RenderedImage, UnsupportedTransferSyntaxError, decodeFrame,
} from '@tessera/imaging';
import type { Index, RetrievableInstance } from '@tessera/index';
import { frameBytes, frameCount } from './stored-bytes.js';

/**
 * Decodes frame `n` (1-based) of a stored instance and hands it with the instance's metadata to
 * `render`; the shared core of WADO-RS `/rendered`, `/thumbnail` and WADO-URI rendered requests.
 * Failures become problems: no pixel data or no such frame 404, an undecodable transfer syntax 406,
 * broken pixel data 422, an impossible parameter 400.
 */
export async function renderStoredFrame(
  deps: { index: Index; blobs: BlobStore }, row: RetrievableInstance, n: number,
  render: (decoded: DecodedFrame, metadata: DicomJsonDataset) => Promise<RenderedImage>,
): Promise<RenderedImage> {
  const count = frameCount(row);
  if (count === 0) throw new HttpProblem(404, 'NO_PIXEL_DATA', `instance ${row.sopInstanceUid} has no pixel data to render`);
  if (n > count) throw new HttpProblem(404, 'FRAME_NOT_FOUND', `instance ${row.sopInstanceUid} has ${count} frames, not ${n}`);
  const { rows: [text] } = await deps.index.retrieve.metadata({ studyInstanceUid: row.studyInstanceUid, seriesInstanceUid: row.seriesInstanceUid, sopInstanceUid: row.sopInstanceUid });
  const metadata = JSON.parse(text!.metadata) as DicomJsonDataset;
  const chunks: Buffer[] = [];
  for await (const chunk of frameBytes(deps.blobs, row, n).body()) chunks.push(chunk);
  try {
    return await render(await decodeFrame(Buffer.concat(chunks), metadata, row.transferSyntaxUid), metadata);
  } catch (error) {
    throw renderProblem(error, row);
  }
}

/** Maps imaging errors to problems (other errors pass through). */
export function renderProblem(error: unknown, row?: Pick<RetrievableInstance, 'sopInstanceUid' | 'transferSyntaxUid'>): unknown {
  if (error instanceof RenderParameterError) return new HttpProblem(400, 'INVALID_RENDER_PARAMETER', error.message);
  if (error instanceof UnsupportedTransferSyntaxError) return new HttpProblem(406, 'NOT_ACCEPTABLE', `frames in transfer syntax ${row?.transferSyntaxUid ?? ''} cannot be rendered here`);
  if (error instanceof PixelDecodeError) return new HttpProblem(422, 'PIXEL_DATA_UNREADABLE', `the pixel data of ${row?.sopInstanceUid ?? 'the instance'} cannot be decoded: ${error.message}`);
  return error;
}
