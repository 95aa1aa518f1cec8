import { TransferSyntax } from './uid.js';

/**
 * The DICOM transfer syntax of a JPEG codestream (ITU T.81, PS3.5 §A.4.1), read from its markers:
 * SOF0 baseline → 1.2.840.10008.1.2.4.50, SOF1 extended → .51, SOF3 lossless → .70 when the scan's
 * predictor is 1 (selection value 1), else .57. Undefined for other processes (progressive,
 * hierarchical, arithmetic) or when `bytes` (the start of the codestream) does not tell.
 * Used when a client sends an `image/jpeg` frame without a `transfer-syntax` parameter.
 */
export function jpegTransferSyntax(bytes: Buffer): string | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let pos = 2;
  let lossless = false;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) return undefined;
    const marker = bytes[pos + 1]!;
    if (marker === 0xff) {
      pos++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2;
      continue;
    }
    const length = bytes.readUInt16BE(pos + 2);
    if (marker === 0xc0) return TransferSyntax.JPEGBaseline8Bit;
    if (marker === 0xc1) return TransferSyntax.JPEGExtended12Bit;
    if (marker === 0xc3) lossless = true;
    else if (marker >= 0xc2 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return undefined;
    if (marker === 0xda) {
      if (!lossless) return undefined;
      const components = bytes[pos + 4];
      if (components === undefined) return undefined;
      const predictor = bytes[pos + 5 + 2 * components];
      if (predictor === undefined) return undefined;
      return predictor === 1 ? TransferSyntax.JPEGLosslessSV1 : TransferSyntax.JPEGLossless;
    }
    pos += 2 + length;
  }
  return undefined;
}
