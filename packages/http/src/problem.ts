/**
 * A request that fails as a whole. Rendered once, by the server's error handler, as an RFC 9457
 * `application/problem+json` body; `code` is stable and listed in docs/errors.md.
 */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
