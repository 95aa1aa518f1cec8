import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { TransferSyntax, type Vr, encodeFileMeta, explicitElement, lookupKeyword, padToEven } from '@tessera/dicom';

/** A fresh UID under the UUID-derived root 2.25 (PS3.5 §B.2). */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomBytes(16).toString('hex')}`).toString()}`;
}

export type AttributeValue = string | number | Buffer | undefined;

export interface InstanceSpec {
  /** Attributes by keyword; strings for text VRs (use `\` for several values), numbers for US/UL/IS. */
  attributes: Record<string, AttributeValue>;
  /** Native 16-bit pixel data to append after the header, generated as it is read. */
  pixels?: { rows: number; columns: number; frames: number };
}

/** A CT-like instance spec with fresh UIDs, overridable per attribute. */
export function ctInstance(overrides: Record<string, AttributeValue> = {}, pixels?: InstanceSpec['pixels']): InstanceSpec {
  return {
    attributes: {
      SOPClassUID: '1.2.840.10008.5.1.4.1.1.2',
      SOPInstanceUID: newUid(),
      StudyInstanceUID: newUid(),
      SeriesInstanceUID: newUid(),
      Modality: 'CT',
      PatientName: 'Test^Patient',
      PatientID: 'TEST-1',
      StudyDate: '20240101',
      StudyTime: '120000',
      SeriesNumber: 1,
      InstanceNumber: 1,
      ...(pixels
        ? {
            Rows: pixels.rows,
            Columns: pixels.columns,
            BitsAllocated: 16,
            BitsStored: 16,
            HighBit: 15,
            PixelRepresentation: 0,
            SamplesPerPixel: 1,
            PhotometricInterpretation: 'MONOCHROME2',
            NumberOfFrames: pixels.frames,
          }
        : {}),
      ...overrides,
    },
    pixels,
  };
}

/** Encodes one element in Explicit VR Little Endian. */
export function encodeElement(tag: number, vr: Vr, value: Buffer): Buffer {
  return explicitElement(tag, vr, padToEven(value, vr === 'UI' || vr === 'OB' || vr === 'UN' ? 0 : 0x20));
}

function encodeValue(vr: Vr, value: Exclude<AttributeValue, undefined>): Buffer {
  if (Buffer.isBuffer(value)) return value;
  switch (vr) {
    case 'US': {
      const b = Buffer.alloc(2);
      b.writeUInt16LE(Number(value));
      return b;
    }
    case 'UL': {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(Number(value));
      return b;
    }
    case 'SS': {
      const b = Buffer.alloc(2);
      b.writeInt16LE(Number(value));
      return b;
    }
    default:
      return Buffer.from(String(value), vr === 'PN' || vr === 'LO' || vr === 'SH' || vr === 'LT' || vr === 'ST' || vr === 'UT' ? 'utf8' : 'latin1');
  }
}

/** File Meta + dataset up to (and including the header of) Pixel Data, in Explicit VR Little Endian. */
export function encodeHeader(spec: InstanceSpec): Buffer {
  const elements = Object.entries(spec.attributes)
    .filter(([, v]) => v !== undefined)
    .map(([keyword, value]) => {
      const entry = lookupKeyword(keyword);
      if (!entry) throw new Error(`unknown keyword ${keyword}`);
      const vr = (entry.vr === 'xs' ? 'US' : entry.vr) as Vr;
      return { tag: entry.tag, bytes: encodeElement(entry.tag, vr, encodeValue(vr, value!)) };
    })
    .sort((a, b) => a.tag - b.tag);
  const hasCharset = elements.some((e) => e.tag === 0x00080005);
  const dataset = [...(hasCharset ? [] : [{ tag: 0x00080005, bytes: encodeElement(0x00080005, 'CS', Buffer.from('ISO_IR 192')) }]), ...elements]
    .sort((a, b) => a.tag - b.tag)
    .map((e) => e.bytes);
  const meta = encodeFileMeta({
    mediaStorageSopClassUid: String(spec.attributes.SOPClassUID ?? ''),
    mediaStorageSopInstanceUid: String(spec.attributes.SOPInstanceUID ?? ''),
    transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
  });
  const parts = [meta, ...dataset];
  if (spec.pixels) {
    const { rows, columns, frames } = spec.pixels;
    const header = Buffer.alloc(12);
    header.writeUInt16LE(0x7fe0, 0);
    header.writeUInt16LE(0x0010, 2);
    header.write('OW', 4, 'latin1');
    header.writeUInt32LE(rows * columns * 2 * frames, 8);
    parts.push(header);
  }
  return Buffer.concat(parts);
}

/** The whole instance in memory (small instances). */
export function encodeInstance(spec: InstanceSpec): Buffer {
  const chunks: Buffer[] = [];
  for (const chunk of instanceChunks(spec)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The instance as a stream, generating pixel data frame by frame (any size, bounded memory). */
export function instanceStream(spec: InstanceSpec): Readable {
  return Readable.from(instanceChunks(spec), { objectMode: false });
}

/** Byte length of the encoded instance. */
export function instanceLength(spec: InstanceSpec): number {
  const p = spec.pixels;
  return encodeHeader(spec).length + (p ? p.rows * p.columns * 2 * p.frames : 0);
}

function* instanceChunks(spec: InstanceSpec): Generator<Buffer> {
  yield encodeHeader(spec);
  const p = spec.pixels;
  if (!p) return;
  // A few distinct gradient frames, repeated: cheap to make at any size, with bounded memory.
  const patterns = Array.from({ length: Math.min(p.frames, 4) }, (_, k) => {
    const bytes = Buffer.alloc(p.rows * p.columns * 2);
    for (let i = 0; i < p.rows * p.columns; i++) bytes.writeUInt16LE((i + k * 7) & 0x0fff, i * 2);
    return bytes;
  });
  for (let frame = 0; frame < p.frames; frame++) yield patterns[frame % patterns.length]!;
}
