import { HttpProblem } from '@tessera/http';
import { RenderParameterError } from '@tessera/imaging';
import { RetrieveError, type RetrieveErrorReason } from '@tessera/retrieve';

/** The HTTP answer of each retrieve failure (PS3.18 §10.4.1.2, digest WADORS-10): status and problem code. */
export const RETRIEVE_PROBLEMS: Readonly<Record<RetrieveErrorReason, { status: number; code: string }>> = {
  'not-found': { status: 404, code: 'NOT_FOUND' },
  'no-frames': { status: 404, code: 'NO_FRAMES' },
  'frame-not-found': { status: 404, code: 'FRAME_NOT_FOUND' },
  'no-pixel-data': { status: 404, code: 'NO_PIXEL_DATA' },
  'bulk-data-not-found': { status: 404, code: 'BULK_DATA_NOT_FOUND' },
  'not-decodable': { status: 406, code: 'NOT_ACCEPTABLE' },
  'pixel-data-unreadable': { status: 422, code: 'PIXEL_DATA_UNREADABLE' },
  'invalid-render-parameter': { status: 400, code: 'INVALID_RENDER_PARAMETER' },
};

/**
 * WADO-RS's mapping of typed failures to problems: a RetrieveError by its reason, an ill-formed
 * rendering parameter 400. Anything else passes through to the server's error handler.
 */
export function toHttpProblem(error: unknown): unknown {
  if (error instanceof RetrieveError) {
    const { status, code } = RETRIEVE_PROBLEMS[error.reason];
    return new HttpProblem(status, code, error.message);
  }
  if (error instanceof RenderParameterError) return new HttpProblem(400, 'INVALID_RENDER_PARAMETER', error.message);
  return error;
}
