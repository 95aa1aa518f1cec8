import type { Test } from 'tap';
import { RenderParameterError } from '../errors.js';

/** Asserts fn throws RenderParameterError naming `parameterName` (→ HTTP 400). */
export function rejects(t: Pick<Test, 'ok' | 'fail'>, fn: () => unknown, parameterName: string, why: string): void {
  try {
    fn();
    t.fail(`${why}: accepted`);
  } catch (error) {
    t.ok(
      error instanceof RenderParameterError && error.parameterName === parameterName,
      `${why} → RenderParameterError(${parameterName}): ${(error as Error).message}`,
    );
  }
}
