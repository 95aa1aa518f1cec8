import { TransferSyntax, transferSyntaxInfo } from '../uid.js';

/**
 * How a stored object is served in a requested transfer syntax (digest WADORS-3, NEG-7, D17):
 * - `as-is`: the stored bytes;
 * - `add-meta`: a File Meta, then the stored dataset (stored without File Meta, Explicit VR LE or compressed);
 * - `re-encode`: Explicit VR Little Endian re-encoding of Implicit VR LE, Explicit VR BE or Deflated;
 * - `decode`: compressed (encapsulated) pixel data decoded to native Explicit VR Little Endian. This
 *   package has no codecs: the caller that offers a decoder serves it (`encodeNativePixelPart10`).
 */
export type Part10Plan = { kind: 'as-is' | 'add-meta' | 're-encode' | 'decode'; transferSyntaxUid: string };

export interface PlanOptions {
  /**
   * Whether the caller can decode the pixel data of an object stored in this (encapsulated) transfer
   * syntax. Without it, Explicit VR LE is never planned for compressed data (406).
   */
  canDecode?: (transferSyntaxUid: string) => boolean;
}

/**
 * The plan for serving an object stored in `stored` when `requested` is asked: `*` (as stored),
 * a transfer syntax UID, or undefined (no parameter: Explicit VR LE, or the stored compressed syntax,
 * D17). Implicit VR LE and Explicit VR BE never leave the server (NEG-7): they, and deflated data,
 * are re-encoded to Explicit VR LE. Compressed data is decoded to Explicit VR LE only when that
 * syntax is asked by UID and `options.canDecode` accepts the stored syntax. Undefined = cannot be
 * produced (406).
 */
export function planPart10(
  stored: { transferSyntaxUid: string; hasFileMeta: boolean },
  requested: string | undefined,
  options: PlanOptions = {},
): Part10Plan | undefined {
  const info = transferSyntaxInfo(stored.transferSyntaxUid);
  if (!info) return undefined;
  const explicitLittle = TransferSyntax.ExplicitVRLittleEndian;
  const mustReencode = !info.encapsulated && (!info.explicitVr || !info.littleEndian || info.deflated);
  let target: string | undefined;
  if (requested === '*' || requested === undefined) target = mustReencode ? explicitLittle : info.encapsulated ? info.uid : explicitLittle;
  else if (requested === explicitLittle && !info.encapsulated) target = explicitLittle;
  else if (requested === explicitLittle && options.canDecode?.(info.uid) === true) return { kind: 'decode', transferSyntaxUid: explicitLittle };
  else if (requested === info.uid && !mustReencode) target = info.uid;
  if (target === undefined) return undefined;
  if (mustReencode) return { kind: 're-encode', transferSyntaxUid: target };
  return { kind: stored.hasFileMeta ? 'as-is' : 'add-meta', transferSyntaxUid: target };
}
