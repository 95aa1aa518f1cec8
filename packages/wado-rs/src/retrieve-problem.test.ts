import t from 'tap';
import { HttpProblem } from '@tessera/http';
import { RenderParameterError } from '@tessera/imaging';
import { RetrieveError, type RetrieveErrorReason } from '@tessera/retrieve';
import { toHttpProblem } from './retrieve-problem.js';

t.test('toHttpProblem: WADO-RS answers of typed retrieve failures (WADORS-10)', async (t) => {
  const cases: Array<[RetrieveErrorReason, number, string, string]> = [
    ['not-found', 404, 'NOT_FOUND', 'COMMON-6: an unknown study, series or instance'],
    ['no-frames', 404, 'NO_FRAMES', 'WADORS-5: frames of an instance without pixel data'],
    ['frame-not-found', 404, 'FRAME_NOT_FOUND', 'WADORS-5: a frame beyond NumberOfFrames'],
    ['no-pixel-data', 404, 'NO_PIXEL_DATA', 'WADORS-8: nothing to render'],
    ['bulk-data-not-found', 404, 'BULK_DATA_NOT_FOUND', 'WADORS-7: no value at that path'],
    ['not-decodable', 406, 'NOT_ACCEPTABLE', 'NEG-7: no decoder for the stored syntax'],
    ['pixel-data-unreadable', 422, 'PIXEL_DATA_UNREADABLE', 'WADORS-3: the stored pixel data does not decode'],
    ['invalid-render-parameter', 400, 'INVALID_RENDER_PARAMETER', 'WADORS-8: a parameter the image makes impossible'],
  ];
  for (const [reason, status, code, why] of cases) {
    const problem = toHttpProblem(new RetrieveError(reason, `detail of ${reason}`, '1.2.3'));
    t.ok(problem instanceof HttpProblem, `${why}: a problem`);
    t.match(problem, { status, code, message: `detail of ${reason}` }, `${why} → ${status} ${code}, detail kept`);
  }
  t.match(
    toHttpProblem(new RenderParameterError('viewport', 'must be vw,vh')),
    { status: 400, code: 'INVALID_RENDER_PARAMETER', message: 'viewport: must be vw,vh' },
    'WADORS-8: an ill-formed parameter → 400',
  );
  const other = new Error('socket hang up');
  t.equal(toHttpProblem(other), other, 'other errors pass through to the server error handler');
  const problem = new HttpProblem(400, 'INVALID_UID', 'x');
  t.equal(toHttpProblem(problem), problem, 'problems pass through');
});
