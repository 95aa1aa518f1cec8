import { isValidUid } from '@tessera/dicom';
import { HttpProblem } from './problem.js';

/**
 * A UID taken from a path segment: syntactically invalid → 400, so that "not found" (404) always
 * means a well-formed UID that is not stored (digest COMMON-6).
 */
export function uidParam(value: string | undefined, name: string): string {
  if (value === undefined || !isValidUid(value)) {
    throw new HttpProblem(400, 'INVALID_UID', `${name} '${value ?? ''}' is not a valid UID (PS3.5 §9.1)`);
  }
  return value;
}
