import type { DicomJsonDataset } from '../json/dicom-json.js';
import { toDicomJson } from '../json/to-dicom-json.js';
import { type Encoding, parseDataset } from '../part10/parse-dataset.js';
import { hasLongHeader, type Vr } from '../vr.js';
import { JSON_OPTIONS } from './converted-files.js';

/** Tiny datasets built element by element, for the to-dicom-json tests. */

/** Explicit VR element bytes (tests build tiny datasets with it). */
export function element(tag: number, vr: Vr, value: Buffer, littleEndian = true): Buffer {
  const long = hasLongHeader(vr);
  const header = Buffer.alloc(long ? 12 : 8);
  const u16 = (v: number, at: number) => (littleEndian ? header.writeUInt16LE(v, at) : header.writeUInt16BE(v, at));
  u16(tag >>> 16, 0);
  u16(tag & 0xffff, 2);
  header.write(vr, 4, 'latin1');
  if (long && littleEndian) header.writeUInt32LE(value.length, 8);
  else if (long) header.writeUInt32BE(value.length, 8);
  else u16(value.length, 6);
  return Buffer.concat([header, value]);
}

export function jsonOf(elements: Buffer[], encoding: Encoding, characterSet?: string): DicomJsonDataset {
  const bytes = Buffer.concat(elements);
  const { dataset } = parseDataset(bytes, bytes.length, 0, encoding);
  return toDicomJson(bytes, dataset, JSON_OPTIONS, characterSet).dataset;
}

export const LE: Encoding = { explicitVr: true, littleEndian: true };
export const BE: Encoding = { explicitVr: true, littleEndian: false };
export const latin = (text: string) => Buffer.from(text, 'latin1');
