import { TransferSyntax } from '@tessera/dicom';
import { HttpProblem } from '@tessera/http';
import { RenderParameterError } from '@tessera/imaging';
import { RetrieveError } from '@tessera/retrieve';

/**
 * WADO-URI's mapping of typed failures to problems. As WADO-RS's, except that an instance without
 * pixel data cannot be rendered: a 406 that points to contentType=application/dicom, since WADO-URI
 * has one resource for both (PS3.18 §9.1.2.2.1). Anything else passes through.
 */
export function toHttpProblem(error: unknown): unknown {
  if (error instanceof RenderParameterError) return new HttpProblem(400, 'INVALID_RENDER_PARAMETER', error.message);
  if (!(error instanceof RetrieveError)) return error;
  switch (error.reason) {
    case 'not-found':
      return new HttpProblem(404, 'NOT_FOUND', error.message);
    case 'no-frames':
      return new HttpProblem(404, 'NO_FRAMES', error.message);
    case 'frame-not-found':
      return new HttpProblem(404, 'FRAME_NOT_FOUND', error.message);
    case 'bulk-data-not-found':
      return new HttpProblem(404, 'BULK_DATA_NOT_FOUND', error.message);
    case 'no-pixel-data':
      return new HttpProblem(
        406,
        'NOT_ACCEPTABLE',
        `instance ${error.sopInstanceUid ?? ''} has no pixel data; ask contentType=application/dicom (PS3.18 §9.1.2.2.1)`,
      );
    case 'not-decodable':
      return new HttpProblem(406, 'NOT_ACCEPTABLE', error.message);
    case 'pixel-data-unreadable':
      return new HttpProblem(422, 'PIXEL_DATA_UNREADABLE', error.message);
    case 'invalid-render-parameter':
      return new HttpProblem(400, 'INVALID_RENDER_PARAMETER', error.message);
  }
}

/** The 406 of a PS3.10 file whose stored syntax cannot be served as asked (WADOURI-3). */
export function transferSyntaxNotAcceptable(row: { sopInstanceUid: string; transferSyntaxUid: string }): HttpProblem {
  return new HttpProblem(
    406,
    'NOT_ACCEPTABLE',
    `instance ${row.sopInstanceUid} is stored as ${row.transferSyntaxUid}; it is available with transferSyntax=*, ${row.transferSyntaxUid === TransferSyntax.ExplicitVRLittleEndian ? '' : 'the stored syntax, '}or ${TransferSyntax.ExplicitVRLittleEndian} when uncompressed or decodable (PS3.18 §9.4.1.2.3)`,
  );
}
