import { inflateRawSync, inflateSync } from 'node:zlib';
import { type DicomJsonDataset, Tag } from '@tessera/dicom';
import { CODEC_PHOTOMETRICS, type NativeDecoder, decodeNative } from './codecs.js';
import { PixelDecodeError, UnsupportedTransferSyntaxError } from './errors.js';
import { attribute, firstNumber, firstString } from './metadata.js';

export type PixelArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/** One decoded frame: samples pixel-interleaved (R,G,B,R,…), integers masked/sign-extended to BitsStored. */
export interface DecodedFrame extends Omit<PixelDescription, 'planarConfiguration'> {
  /** After decoding: YBR_* colour (JPEG, J2K ICT/RCT, native/RLE YBR_FULL[_422]) is converted to RGB. */
  photometricInterpretation: string;
  /** Always 0: colour samples are interleaved after decoding, whatever the stored configuration. */
  planarConfiguration: 0;
  pixels: PixelArray;
  transferSyntaxUid: string;
}

/** The stored pixel description (Image Pixel module, PS3.3 C.7.6.3) as the decoder needs it. */
export interface PixelDescription {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: number;
  photometricInterpretation: string;
  planarConfiguration: number;
  isFloat: boolean;
}

export function pixelDescription(metadata: DicomJsonDataset): PixelDescription {
  const rows = firstNumber(metadata, Tag.Rows);
  const columns = firstNumber(metadata, Tag.Columns);
  const isFloat = attribute(metadata, Tag.FloatPixelData) !== undefined || attribute(metadata, Tag.DoubleFloatPixelData) !== undefined;
  const bitsAllocated =
    firstNumber(metadata, Tag.BitsAllocated) ?? (attribute(metadata, Tag.DoubleFloatPixelData) ? 64 : attribute(metadata, Tag.FloatPixelData) ? 32 : undefined);
  if (!rows || !columns || !bitsAllocated) throw new PixelDecodeError('Rows, Columns and BitsAllocated are required to decode pixel data');
  const samplesPerPixel = firstNumber(metadata, Tag.SamplesPerPixel) ?? 1;
  if (samplesPerPixel !== 1 && samplesPerPixel !== 3) throw new PixelDecodeError(`SamplesPerPixel ${samplesPerPixel} is not supported (1 or 3)`);
  if (![1, 8, 16, 32, 64].includes(bitsAllocated)) throw new PixelDecodeError(`BitsAllocated ${bitsAllocated} is not supported`);
  const bitsStored = Math.min(firstNumber(metadata, Tag.BitsStored) ?? bitsAllocated, bitsAllocated);
  return {
    rows,
    columns,
    samplesPerPixel,
    bitsAllocated,
    bitsStored,
    pixelRepresentation: firstNumber(metadata, Tag.PixelRepresentation) ?? 0,
    photometricInterpretation: (firstString(metadata, Tag.PhotometricInterpretation) || (samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2')).toUpperCase(),
    planarConfiguration: firstNumber(metadata, Tag.PlanarConfiguration) ?? 0,
    isFloat,
  };
}

type Codec =
  | { kind: 'native'; bigEndian: boolean; deflated: boolean }
  | { kind: 'wasm'; decoder: NativeDecoder; family: 'jpeg' | 'jpeg-ls' | 'j2k' | 'rle' | 'jxl'; lossless: boolean };

const PREFIX = '1.2.840.10008.1.2';
const JPEG_LOSSLESS = new Set(['57', '58', '65', '66', '70'].map((n) => `${PREFIX}.4.${n}`));

function codecFor(uid: string): Codec | undefined {
  if (uid === PREFIX || uid === `${PREFIX}.1` || uid === `${PREFIX}.1.99`) return { kind: 'native', bigEndian: false, deflated: false };
  if (uid === `${PREFIX}.2`) return { kind: 'native', bigEndian: true, deflated: false };
  if (uid === `${PREFIX}.8.1`) return { kind: 'native', bigEndian: false, deflated: true };
  if (uid === `${PREFIX}.5`) return { kind: 'wasm', decoder: 'decodeRle', family: 'rle', lossless: true };
  const match = /^1\.2\.840\.10008\.1\.2\.4\.(\d+)$/.exec(uid);
  if (!match) return undefined;
  const n = Number(match[1]);
  if ((n >= 50 && n <= 66) || n === 70) return { kind: 'wasm', decoder: 'decodeJpeg', family: 'jpeg', lossless: JPEG_LOSSLESS.has(uid) };
  if (n === 80 || n === 81) return { kind: 'wasm', decoder: 'decodeJpegLs', family: 'jpeg-ls', lossless: n === 80 };
  if (n >= 90 && n <= 93) return { kind: 'wasm', decoder: 'decodeJpeg2000', family: 'j2k', lossless: n === 90 || n === 92 };
  if (n >= 201 && n <= 203) return { kind: 'wasm', decoder: 'decodeHtJpeg2000', family: 'j2k', lossless: n !== 203 };
  if (n >= 110 && n <= 112) return { kind: 'wasm', decoder: 'decodeJpegXl', family: 'jxl', lossless: n !== 112 };
  return undefined;
}

/** Whether decodeFrame can decode frames of this transfer syntax. */
export const canDecode = (transferSyntaxUid: string): boolean => codecFor(transferSyntaxUid) !== undefined;

/** Whether the transfer syntax is lossless (native syntaxes included). */
export function isLosslessTransferSyntax(transferSyntaxUid: string): boolean {
  const codec = codecFor(transferSyntaxUid);
  return codec !== undefined && (codec.kind === 'native' || codec.lossless);
}

/**
 * Decodes one frame: native little-endian frame bytes (big endian and Deflated Image Frame
 * Compression too), or the codestream of one frame of an encapsulated transfer syntax, decoded by
 * the dcmjs-codecs WASM module (libjpeg-turbo, CharLS, OpenJPEG, OpenJPH, libjxl, RLE).
 */
export async function decodeFrame(frameBytes: Uint8Array, metadata: DicomJsonDataset, transferSyntaxUid: string): Promise<DecodedFrame> {
  const codec = codecFor(transferSyntaxUid);
  if (!codec) throw new UnsupportedTransferSyntaxError(transferSyntaxUid);
  const pixel = pixelDescription(metadata);
  const { rows, columns, samplesPerPixel } = pixel;
  let bytes: Uint8Array;
  let photometric = pixel.photometricInterpretation;
  let bitsAllocated = pixel.bitsAllocated;
  let planar = samplesPerPixel === 3 && pixel.planarConfiguration === 1;

  if (codec.kind === 'native') {
    bytes = frameBytes;
    if (codec.deflated) bytes = inflate(frameBytes);
    if (codec.bigEndian) bytes = swapBytes(bytes, bitsAllocated);
    if (samplesPerPixel === 3 && /^YBR_(FULL|PARTIAL)_422$/.test(photometric) && bitsAllocated === 8) {
      bytes = expand422(bytes, rows, columns);
      photometric = 'YBR_FULL';
      planar = false;
    }
  } else {
    if (pixel.isFloat || bitsAllocated > 16)
      throw new UnsupportedTransferSyntaxError(transferSyntaxUid, `BitsAllocated ${bitsAllocated} in an encapsulated syntax`);
    // JPEG decoders convert YCbCr to RGB (always for lossy processes; for lossless only when the
    // stored data is not declared RGB, since an RGB lossless stream has no colour transform).
    const convertColorspaceToRgb = codec.family === 'jpeg' && samplesPerPixel === 3 && (!codec.lossless || photometric !== 'RGB');
    let out;
    try {
      out = await decodeNative({
        decoder: codec.decoder,
        encoded: frameBytes,
        convertColorspaceToRgb,
        width: columns,
        height: rows,
        bitsAllocated,
        bitsStored: pixel.bitsStored,
        samplesPerPixel,
        pixelRepresentation: pixel.pixelRepresentation,
        planarConfiguration: planar ? 1 : 0,
        photometricInterpretation: CODEC_PHOTOMETRICS.has(photometric) ? photometric : samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2',
      });
    } catch (error) {
      throw new PixelDecodeError(`cannot decode ${transferSyntaxUid} frame: ${(error as Error).message}`);
    }
    bytes = out.bytes;
    const expectedSamples = rows * columns * samplesPerPixel;
    // The codestream decides the sample size (e.g. an 8-bit JPEG in a BitsAllocated 16 object).
    if (bytes.length === expectedSamples) bitsAllocated = 8;
    else if (bytes.length === expectedSamples * 2) bitsAllocated = 16;
    if (samplesPerPixel === 3) {
      if (codec.family === 'jpeg') photometric = 'RGB';
      if (codec.family === 'j2k' && (photometric === 'YBR_ICT' || photometric === 'YBR_RCT')) photometric = 'RGB';
      if (codec.family === 'jxl' && photometric !== 'YBR_FULL') photometric = 'RGB';
    }
    // RLE output follows PlanarConfiguration; the JPEG-family decoders output interleaved samples
    // unless asked for planar (dcmjs-codecs re-interleaves after its decoders in the same way).
  }

  const bitsStored = Math.min(pixel.bitsStored, bitsAllocated);
  const sampleCount = rows * columns * samplesPerPixel;
  let pixels: PixelArray;
  if (bitsAllocated === 1) {
    pixels = unpackBits(bytes, sampleCount);
  } else {
    const needed = sampleCount * (bitsAllocated / 8);
    if (bytes.length < needed)
      throw new PixelDecodeError(`frame holds ${bytes.length} bytes, ${needed} expected for ${rows}x${columns}x${samplesPerPixel} at ${bitsAllocated} bits`);
    pixels = typedPixels(bytes.subarray(0, needed), bitsAllocated, pixel.pixelRepresentation, bitsStored, pixel.isFloat);
  }
  if (planar) pixels = interleave(pixels);
  if (samplesPerPixel === 3 && photometric === 'YBR_FULL' && bitsAllocated === 8) {
    ybrFullToRgb(pixels as Uint8Array);
    photometric = 'RGB';
  }
  return {
    rows,
    columns,
    samplesPerPixel,
    bitsAllocated: bitsAllocated === 1 ? 1 : bitsAllocated,
    bitsStored,
    pixelRepresentation: pixel.pixelRepresentation,
    photometricInterpretation: photometric,
    planarConfiguration: 0,
    isFloat: pixel.isFloat,
    pixels,
    transferSyntaxUid,
  };
}

function inflate(bytes: Uint8Array): Uint8Array {
  try {
    return inflateRawSync(bytes);
  } catch {
    try {
      return inflateSync(bytes);
    } catch (error) {
      throw new PixelDecodeError(`cannot inflate a deflated frame: ${(error as Error).message}`);
    }
  }
}

function swapBytes(bytes: Uint8Array, bitsAllocated: number): Uint8Array {
  const size = bitsAllocated / 8;
  if (size <= 1 || !Number.isInteger(size)) return bytes;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i + size <= bytes.length; i += size) for (let j = 0; j < size; j++) out[i + j] = bytes[i + size - 1 - j]!;
  return out;
}

/** 1-bit frames: pixel n is bit n % 8 (least significant first) of byte n / 8 (PS3.5 §8.1.1). */
function unpackBits(bytes: Uint8Array, count: number): Uint8Array {
  if (bytes.length * 8 < count) throw new PixelDecodeError(`1-bit frame holds ${bytes.length} bytes, ${Math.ceil(count / 8)} expected`);
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) out[i] = (bytes[i >> 3]! >> (i & 7)) & 1;
  return out;
}

/** Copies little-endian samples into an aligned typed array, keeping only the BitsStored bits. */
function typedPixels(bytes: Uint8Array, bitsAllocated: number, pixelRepresentation: number, bitsStored: number, isFloat: boolean): PixelArray {
  // new Uint8Array(view) copies (Buffer#slice would share the whole file's memory), aligned for 16/32/64-bit views.
  const copy = new Uint8Array(bytes).buffer;
  if (isFloat) return bitsAllocated === 64 ? new Float64Array(copy) : new Float32Array(copy);
  const signed = pixelRepresentation === 1;
  const pixels: PixelArray =
    bitsAllocated === 8
      ? signed
        ? new Int8Array(copy)
        : new Uint8Array(copy)
      : bitsAllocated === 16
        ? signed
          ? new Int16Array(copy)
          : new Uint16Array(copy)
        : bitsAllocated === 32
          ? signed
            ? new Int32Array(copy)
            : new Uint32Array(copy)
          : new Float64Array(copy);
  if (bitsStored < bitsAllocated && bitsAllocated <= 32) {
    const shift = 32 - bitsStored;
    const mask = bitsStored === 32 ? 0xffffffff : 2 ** bitsStored - 1;
    for (let i = 0; i < pixels.length; i++) {
      const raw = pixels[i]!;
      pixels[i] = signed ? (raw << shift) >> shift : (raw & mask) >>> 0;
    }
  }
  return pixels;
}

function interleave(planar: PixelArray): PixelArray {
  const n = planar.length / 3;
  const out = new (planar.constructor as new (length: number) => PixelArray)(planar.length);
  for (let i = 0; i < n; i++) {
    out[i * 3] = planar[i]!;
    out[i * 3 + 1] = planar[n + i]!;
    out[i * 3 + 2] = planar[2 * n + i]!;
  }
  return out;
}

/** Native YBR_FULL_422: Y1 Y2 Cb Cr for each horizontal pair of pixels → Y Cb Cr per pixel. */
function expand422(bytes: Uint8Array, rows: number, columns: number): Uint8Array {
  const out = new Uint8Array(rows * columns * 3);
  const pairs = Math.floor((rows * columns) / 2);
  if (bytes.length < pairs * 4) throw new PixelDecodeError(`YBR_FULL_422 frame holds ${bytes.length} bytes, ${pairs * 4} expected`);
  for (let p = 0; p < pairs; p++) {
    const [y1, y2, cb, cr] = [bytes[p * 4]!, bytes[p * 4 + 1]!, bytes[p * 4 + 2]!, bytes[p * 4 + 3]!];
    out.set([y1, cb, cr, y2, cb, cr], p * 6);
  }
  return out;
}

/** YBR_FULL → RGB in place (PS3.3 C.7.6.3.1.2, ITU-R BT.601 full range). */
function ybrFullToRgb(pixels: Uint8Array): void {
  const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));
  for (let i = 0; i + 2 < pixels.length; i += 3) {
    const y = pixels[i]!;
    const cb = pixels[i + 1]! - 128;
    const cr = pixels[i + 2]! - 128;
    pixels[i] = clamp(y + 1.402 * cr);
    pixels[i + 1] = clamp(y - 0.344136 * cb - 0.714136 * cr);
    pixels[i + 2] = clamp(y + 1.772 * cb);
  }
}
