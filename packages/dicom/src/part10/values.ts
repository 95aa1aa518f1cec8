import { convertBytes } from 'dicom-character-set';
import { type Vr, NUMBER_WIDTH, isSingleValuedText, usesSpecificCharacterSet } from '../vr.js';
import type { DataElement } from './dataset.js';

/** Value bytes of an element (a view, not a copy). */
export const valueBytes = (buf: Buffer, element: DataElement): Buffer => buf.subarray(element.offset, element.offset + element.length);

/**
 * The value of a string element as one string, with DICOM padding removed (trailing spaces,
 * and the trailing NUL of UIDs; JSON-11). Text VRs are decoded with the Specific Character Set.
 */
export function elementString(buf: Buffer, element: DataElement, characterSet?: string): string {
  return decodeText(valueBytes(buf, element), element.vr, characterSet).replace(/[\0 ]+$/, '');
}

export function decodeText(bytes: Buffer, vr: Vr, characterSet: string | undefined): string {
  if (usesSpecificCharacterSet(vr) && characterSet !== undefined && characterSet !== '' && characterSet !== 'ISO_IR 6') {
    try {
      return convertBytes(characterSet, bytes, { vr });
    } catch {
      // Writers often return to ASCII with ESC ( B without declaring ISO 2022 IR 6 (pydicom accepts
      // that): retry with it added before giving up.
      if (/ISO 2022/.test(characterSet) && !/(^|\\)ISO 2022 IR 6(\\|$)/.test(characterSet)) {
        try {
          return convertBytes(`${characterSet}\\ISO 2022 IR 6`, bytes, { vr });
        } catch {
          // fall through
        }
      }
      // An unknown or broken (0008,0005): fall back as for an undeclared character set.
    }
  }
  return decodeUndeclared(bytes);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Text with no usable character set is ASCII by the standard; real files put UTF-8 or Latin-1
 * there. Valid UTF-8 is taken as UTF-8, anything else as Latin-1, so no byte is ever lost.
 */
function decodeUndeclared(bytes: Buffer): string {
  if (!bytes.some((b) => b > 0x7f)) return bytes.toString('latin1');
  try {
    return utf8.decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/** Multiple values of a string element; `undefined` stands for an empty value. */
export function elementStrings(buf: Buffer, element: DataElement, characterSet?: string): (string | undefined)[] {
  const text = decodeText(valueBytes(buf, element), element.vr, characterSet);
  const values = isSingleValuedText(element.vr) ? [text] : text.split('\\');
  return values.map((value) => {
    const trimmed = element.vr === 'UI' ? value.replace(/[\0 ]+$/, '') : value.replace(/[ \0]+$/, '');
    return trimmed === '' ? undefined : trimmed;
  });
}

/** Values of a fixed-width binary number element (US, SS, UL, SL, FL, FD, SV, UV). */
export function elementNumbers(buf: Buffer, element: DataElement): (number | bigint)[] {
  const width = NUMBER_WIDTH[element.vr];
  if (!width) return [];
  const bytes = valueBytes(buf, element);
  const le = element.littleEndian;
  const out: (number | bigint)[] = [];
  for (let at = 0; at + width <= bytes.length; at += width) {
    switch (element.vr) {
      case 'US':
        out.push(le ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
        break;
      case 'SS':
        out.push(le ? bytes.readInt16LE(at) : bytes.readInt16BE(at));
        break;
      case 'UL':
        out.push(le ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
        break;
      case 'SL':
        out.push(le ? bytes.readInt32LE(at) : bytes.readInt32BE(at));
        break;
      case 'FL':
        out.push(le ? bytes.readFloatLE(at) : bytes.readFloatBE(at));
        break;
      case 'FD':
        out.push(le ? bytes.readDoubleLE(at) : bytes.readDoubleBE(at));
        break;
      case 'SV':
        out.push(le ? bytes.readBigInt64LE(at) : bytes.readBigInt64BE(at));
        break;
      case 'UV':
        out.push(le ? bytes.readBigUInt64LE(at) : bytes.readBigUInt64BE(at));
        break;
      default:
        break;
    }
  }
  return out;
}

/** First value of an integer element, whether stored as US/UL/SS or as an IS string. */
export function elementInteger(buf: Buffer, element: DataElement | undefined): number | undefined {
  if (!element || element.length === 0) return undefined;
  if (element.vr === 'IS' || element.vr === 'DS') {
    const n = Number(elementString(buf, element).split('\\')[0]?.trim());
    return Number.isFinite(n) ? Math.trunc(n) : undefined;
  }
  const first = elementNumbers(buf, element)[0];
  return first === undefined ? undefined : Number(first);
}

/** Value bytes in little-endian order, as InlineBinary and bulk data are defined (JSON-9). */
export function littleEndianBytes(bytes: Buffer, vr: Vr, littleEndian: boolean): Buffer {
  const width = vr === 'OW' ? 2 : vr === 'OF' || vr === 'OL' ? 4 : vr === 'OD' || vr === 'OV' ? 8 : (NUMBER_WIDTH[vr] ?? 1);
  if (littleEndian || width === 1 || vr === 'AT') return littleEndian || vr !== 'AT' ? bytes : Buffer.from(bytes).swap16();
  const copy = Buffer.from(bytes);
  if (width === 2) return copy.swap16();
  if (width === 4) return copy.swap32();
  return copy.swap64();
}
