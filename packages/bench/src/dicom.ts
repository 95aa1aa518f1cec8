import { randomBytes } from 'node:crypto';
import { encodeFileMeta, explicitElement, padToEven } from '@tessera/dicom';

/**
 * The benchmark's synthetic images (Explicit VR Little Endian), written with the production encoder
 * (File Meta and elements from @tessera/dicom). It knows only the attributes the generator writes,
 * so it needs no dictionary lookup per element.
 */

/** A fresh UID under the UUID-derived root 2.25 (PS3.5 §B.2). */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomBytes(16).toString('hex')}`).toString()}`;
}

type Vr = 'AE' | 'CS' | 'DA' | 'DS' | 'IS' | 'LO' | 'PN' | 'SH' | 'TM' | 'UI' | 'US' | 'UL' | 'OB';

/** One element through the production encoder, padded to even length (UI and OB with NUL, text with space). */
const element = (tag: number, vr: Vr, value: Buffer): Buffer => explicitElement(tag, vr, padToEven(value, vr === 'UI' || vr === 'OB' ? 0 : 0x20));

const text = (tag: number, vr: Vr, value: string | number) => element(tag, vr, Buffer.from(String(value), 'utf8'));
const us = (tag: number, value: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(value);
  return element(tag, 'US', b);
};

export interface ImageAttributes {
  sopClassUid: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  frameOfReferenceUid: string;
  studyDate: string;
  studyTime: string;
  accessionNumber: string;
  modality: string;
  referringPhysicianName: string;
  studyDescription: string;
  seriesDescription: string;
  patientName: string;
  patientId: string;
  patientBirthDate: string;
  patientSex: string;
  studyId: string;
  seriesNumber: number;
  instanceNumber: number;
  sliceLocation: number;
  rows: number;
  columns: number;
}

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

/** File meta + dataset up to and including the Pixel Data element header (native 16-bit, one frame). */
export function encodeImageHeader(a: ImageAttributes): Buffer {
  const spacing = (350 / a.columns).toFixed(4);
  const dataset = [
    text(0x00080005, 'CS', 'ISO_IR 192'),
    text(0x00080008, 'CS', 'ORIGINAL\\PRIMARY\\AXIAL'),
    text(0x00080016, 'UI', a.sopClassUid),
    text(0x00080018, 'UI', a.sopInstanceUid),
    text(0x00080020, 'DA', a.studyDate),
    text(0x00080021, 'DA', a.studyDate),
    text(0x00080030, 'TM', a.studyTime),
    text(0x00080031, 'TM', a.studyTime),
    text(0x00080050, 'SH', a.accessionNumber),
    text(0x00080060, 'CS', a.modality),
    text(0x00080070, 'LO', 'Tessera Bench Phantom'),
    text(0x00080090, 'PN', a.referringPhysicianName),
    text(0x00081030, 'LO', a.studyDescription),
    text(0x0008103e, 'LO', a.seriesDescription),
    text(0x00100010, 'PN', a.patientName),
    text(0x00100020, 'LO', a.patientId),
    text(0x00100030, 'DA', a.patientBirthDate),
    text(0x00100040, 'CS', a.patientSex),
    text(0x00180050, 'DS', '1.25'),
    text(0x00180060, 'DS', '120'),
    text(0x0020000d, 'UI', a.studyInstanceUid),
    text(0x0020000e, 'UI', a.seriesInstanceUid),
    text(0x00200010, 'SH', a.studyId),
    text(0x00200011, 'IS', a.seriesNumber),
    text(0x00200013, 'IS', a.instanceNumber),
    text(0x00200032, 'DS', `-175\\-175\\${a.sliceLocation.toFixed(2)}`),
    text(0x00200037, 'DS', '1\\0\\0\\0\\1\\0'),
    text(0x00200052, 'UI', a.frameOfReferenceUid),
    text(0x00201041, 'DS', a.sliceLocation.toFixed(2)),
    us(0x00280002, 1),
    text(0x00280004, 'CS', 'MONOCHROME2'),
    us(0x00280010, a.rows),
    us(0x00280011, a.columns),
    text(0x00280030, 'DS', `${spacing}\\${spacing}`),
    us(0x00280100, 16),
    us(0x00280101, 12),
    us(0x00280102, 11),
    us(0x00280103, 0),
    text(0x00281050, 'DS', '40'),
    text(0x00281051, 'DS', '400'),
    text(0x00281052, 'DS', '-1024'),
    text(0x00281053, 'DS', '1'),
  ];
  const meta = encodeFileMeta({
    mediaStorageSopClassUid: a.sopClassUid,
    mediaStorageSopInstanceUid: a.sopInstanceUid,
    transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN,
  });
  const pixelHeader = Buffer.alloc(12);
  pixelHeader.writeUInt16LE(0x7fe0, 0);
  pixelHeader.writeUInt16LE(0x0010, 2);
  pixelHeader.write('OW', 4, 'latin1');
  pixelHeader.writeUInt32LE(a.rows * a.columns * 2, 8);
  return Buffer.concat([meta, ...dataset, pixelHeader]);
}

/** Per-series phantom shape: one patient's body habitus and position. */
export interface Phantom {
  bodyA: number;
  bodyB: number;
  dx: number;
  dy: number;
}

const NOISE = (() => {
  // Gaussian-ish noise (sum of 3 uniforms), a fixed table sampled at a random offset per slice.
  const table = new Int16Array(1 << 16);
  for (let i = 0; i < table.length; i++) table[i] = Math.round((Math.random() + Math.random() + Math.random() - 1.5) * 24);
  return table;
})();

const smooth = (d: number, edge: number) => {
  // 1 inside, 0 outside, a soft edge of width `edge` (in normalised radius²).
  const v = (1 - d) / edge;
  return v <= 0 ? 0 : v >= 1 ? 1 : v * v * (3 - 2 * v);
};

/**
 * One axial slice of a CT-like phantom, stored values = HU + 1024 (12 bits): air, a body ellipse of
 * soft tissue with a fat rim, two lungs whose size follows z, a spine and a heart-like blob, with
 * smooth edges and noise. `z` runs 0..1 from the neck to the pelvis.
 */
export function phantomSlice(rows: number, columns: number, z: number, p: Phantom): Buffer {
  const out = Buffer.allocUnsafe(rows * columns * 2);
  const lung = Math.max(0, Math.sin(Math.PI * Math.min(1, z * 1.6)));
  const heart = Math.max(0, Math.sin(Math.PI * Math.min(1, Math.max(0, (z - 0.2) * 2.5))));
  const liver = Math.max(0, Math.sin(Math.PI * Math.min(1, Math.max(0, (z - 0.45) * 2.5))));
  let noise = Math.floor(Math.random() * NOISE.length);
  const cx = columns / 2 + p.dx;
  const cy = rows / 2 + p.dy;
  const sx = columns / 512;
  const sy = rows / 512;
  let o = 0;
  for (let y = 0; y < rows; y++) {
    const ny = (y - cy) / sy;
    const by = (ny * ny) / (p.bodyB * p.bodyB);
    for (let x = 0; x < columns; x++) {
      const nx = (x - cx) / sx;
      const body = (nx * nx) / (p.bodyA * p.bodyA) + by;
      let hu = -1000;
      if (body < 1.05) {
        const inBody = smooth(body, 0.05);
        const fat = 1 - smooth(body, 0.25) * 0.6; // subcutaneous fat rim
        hu = -1000 + inBody * (1000 + 40 - fat * 140 * 0.9);
        if (lung > 0) {
          const lx = (Math.abs(nx) - p.bodyA * 0.45) / (p.bodyA * 0.3 * lung + 1);
          const ly = (ny + p.bodyB * 0.1) / (p.bodyB * 0.6 * lung + 1);
          const l = smooth(lx * lx + ly * ly, 0.15);
          hu -= l * 820;
        }
        if (heart > 0) {
          const hx = (nx + p.bodyA * 0.08) / (p.bodyA * 0.28 * heart + 1);
          const hy = (ny + p.bodyB * 0.15) / (p.bodyB * 0.45 * heart + 1);
          hu += smooth(hx * hx + hy * hy, 0.2) * 820 * lung * 0.9;
        }
        if (liver > 0) {
          const vx = (nx + p.bodyA * 0.3) / (p.bodyA * 0.45 * liver + 1);
          const vy = (ny + p.bodyB * 0.05) / (p.bodyB * 0.55 * liver + 1);
          hu += smooth(vx * vx + vy * vy, 0.2) * 25;
        }
        const spx = nx / (p.bodyA * 0.09);
        const spy = (ny - p.bodyB * 0.62) / (p.bodyB * 0.13);
        const spine = spx * spx + spy * spy;
        if (spine < 1) hu += smooth(spine, 0.4) * 650 + (spine > 0.6 ? 250 : 0);
      }
      noise = (noise + 1) & 0xffff;
      let v = Math.round(hu + 1024 + NOISE[noise]!);
      if (v < 0) v = 0;
      else if (v > 4095) v = 4095;
      out[o++] = v & 0xff;
      out[o++] = v >>> 8;
    }
  }
  return out;
}
