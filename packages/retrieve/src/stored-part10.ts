import { type EncodedPart10, type Part10Plan, encodePart10, planPart10 } from '@tessera/dicom';
import type { RetrievableInstance } from '@tessera/index';
import { canDecodeStored, encodeDecodedPart10 } from './decoded-pixels.js';
import type { RetrieveDependencies } from './resolve-scope.js';
import { blobSource } from './stored-bytes.js';

/**
 * The transfer syntax plan of a stored instance served as a PS3.10 file (digest WADORS-3,
 * WADOURI-3, NEG-7): `requested` is a transfer syntax UID, `*` or absent. Compressed data is
 * decoded to Explicit VR LE only when a decoder exists for it. Undefined: not producible.
 */
export function planStoredPart10(row: RetrievableInstance, requested: string | undefined): Part10Plan | undefined {
  return planPart10(row, requested, { canDecode: () => canDecodeStored(row) });
}

/**
 * A stored instance as a PS3.10 file following `plan`: as stored, with a File Meta added,
 * re-encoded to Explicit VR LE, or with its frames decoded one at a time (frame 1 is decoded before
 * this returns, so a codestream that does not decode fails before any byte is sent).
 */
export function encodeStoredPart10(deps: Pick<RetrieveDependencies, 'blobs' | 'settings'>, row: RetrievableInstance, plan: Part10Plan): Promise<EncodedPart10> {
  return plan.kind === 'decode' ? encodeDecodedPart10(deps.blobs, row, plan, deps.settings) : encodePart10(blobSource(deps.blobs, row), plan, deps.settings);
}
