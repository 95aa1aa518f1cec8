/** The frame's transfer syntax has no decoder here (video, JPIP, unknown UIDs): answer 406 or 501, not 500. */
export class UnsupportedTransferSyntaxError extends Error {
  override readonly name = 'UnsupportedTransferSyntaxError';
  constructor(
    readonly transferSyntaxUid: string,
    detail?: string,
  ) {
    super(`cannot decode pixel data in transfer syntax ${transferSyntaxUid}${detail ? `: ${detail}` : ''}`);
  }
}

/** The pixel data or its description is unusable (corrupt codestream, missing Rows, short frame…). */
export class PixelDecodeError extends Error {
  override readonly name = 'PixelDecodeError';
}

/** A rendering query parameter is missing, ill-formed or not allowed here: the request is a 400. */
export class RenderParameterError extends Error {
  override readonly name = 'RenderParameterError';
  constructor(
    readonly parameterName: string,
    message: string,
  ) {
    super(`${parameterName}: ${message}`);
  }
}
