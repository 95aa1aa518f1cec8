import { type DicomJsonDataset, Tag } from '@tessera/dicom';
import type { DecodedFrame } from './decode.js';
import { PixelDecodeError } from './errors.js';
import { attribute, frameNumbers, frameString, numbers } from './metadata.js';

export type VoiFunction = 'linear' | 'linear-exact' | 'sigmoid';

/** A VOI window (PS3.3 C.11.2.1.2) in modality units (after RescaleSlope/Intercept). */
export interface Window {
  center: number;
  width: number;
  function: VoiFunction;
}

/** 8-bit display pixels, interleaved: 1 channel (grey) or 3 (RGB). */
export interface DisplayImage {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
  /** The window applied to a greyscale image, and where it came from. */
  window?: Window & { source: 'parameter' | 'metadata' | 'min-max' };
}

export interface DisplayOptions {
  window?: Window;
  /** 1-based frame, to find per-frame windowing and rescale in enhanced multi-frame objects. */
  frameNumber?: number;
  /** Fetches palette LUT data that the metadata holds only as a BulkDataURI. */
  resolveBulkData?: (uri: string) => Promise<Uint8Array>;
}

/**
 * Maps a modality value x through a VOI window to [0, 255] (PS3.3 C.11.2.1.2.1 LINEAR,
 * C.11.2.1.3.2 LINEAR_EXACT, C.11.2.1.3.1 SIGMOID with ymin = 0, ymax = 255), unrounded.
 */
export function applyWindow(x: number, window: Window): number {
  const { center: c, width: w } = window;
  switch (window.function) {
    case 'linear': {
      if (x <= c - 0.5 - (w - 1) / 2) return 0;
      if (x > c - 0.5 + (w - 1) / 2) return 255;
      return ((x - (c - 0.5)) / (w - 1) + 0.5) * 255;
    }
    case 'linear-exact': {
      if (x <= c - w / 2) return 0;
      if (x > c + w / 2) return 255;
      return ((x - c) / w + 0.5) * 255;
    }
    case 'sigmoid':
      return 255 / (1 + Math.exp((-4 * (x - c)) / w));
  }
}

/** Whether a window can be applied: LINEAR needs width ≥ 1, the others width > 0. */
export const isUsableWindow = (window: Window): boolean =>
  Number.isFinite(window.center) && Number.isFinite(window.width) && (window.function === 'linear' ? window.width >= 1 : window.width > 0);

const VOI_FUNCTIONS: Record<string, VoiFunction> = { LINEAR: 'linear', LINEAR_EXACT: 'linear-exact', SIGMOID: 'sigmoid' };

/** The first WindowCenter/Width pair of the metadata (frame-aware), with its VOILUTFunction. */
export function metadataWindow(metadata: DicomJsonDataset, frameNumber = 1): Window | undefined {
  const center = frameNumbers(metadata, Tag.WindowCenter, frameNumber)[0];
  const width = frameNumbers(metadata, Tag.WindowWidth, frameNumber)[0];
  if (center === undefined || width === undefined) return undefined;
  const fn = VOI_FUNCTIONS[(frameString(metadata, Tag.VOILUTFunction, frameNumber) ?? 'LINEAR').toUpperCase()] ?? 'linear';
  const window = { center, width, function: fn };
  return isUsableWindow(window) ? window : undefined;
}

/** RescaleSlope and RescaleIntercept (frame-aware); identity when absent. */
export function modalityRescale(metadata: DicomJsonDataset, frameNumber = 1): { slope: number; intercept: number } {
  const slope = frameNumbers(metadata, Tag.RescaleSlope, frameNumber)[0];
  const intercept = frameNumbers(metadata, Tag.RescaleIntercept, frameNumber)[0];
  return { slope: slope === undefined || slope === 0 ? 1 : slope, intercept: intercept ?? 0 };
}

/**
 * The WADORS-8 pipeline up to 8-bit display values: Modality LUT (rescale) → VOI window (parameter,
 * else metadata, else min/max) → MONOCHROME1 inversion for greyscale; palette lookup for PALETTE
 * COLOR; RGB scaled to 8 bits.
 */
export async function toDisplayImage(decoded: DecodedFrame, metadata: DicomJsonDataset, options: DisplayOptions = {}): Promise<DisplayImage> {
  const { rows: height, columns: width, pixels } = decoded;
  const photometric = decoded.photometricInterpretation;
  const count = width * height;

  if (photometric === 'PALETTE COLOR') {
    if (decoded.samplesPerPixel !== 1) throw new PixelDecodeError('PALETTE COLOR with more than one sample per pixel');
    const luts = await Promise.all((['Red', 'Green', 'Blue'] as const).map((c) => paletteLut(metadata, c, options.resolveBulkData)));
    const data = new Uint8Array(count * 3);
    for (let i = 0; i < count; i++) {
      const v = pixels[i]!;
      for (let c = 0; c < 3; c++) {
        const lut = luts[c]!;
        const index = Math.min(Math.max(Math.round(v) - lut.first, 0), lut.values.length - 1);
        data[i * 3 + c] = lut.values[index]!;
      }
    }
    return { width, height, channels: 3, data };
  }

  if (decoded.samplesPerPixel === 3) {
    if (photometric !== 'RGB') throw new PixelDecodeError(`rendering ${photometric} colour data is not supported`);
    const data = new Uint8Array(count * 3);
    if (decoded.bitsAllocated === 8) data.set(pixels);
    else {
      const max = 2 ** decoded.bitsStored - 1;
      for (let i = 0; i < data.length; i++) data[i] = Math.round((Math.min(Math.max(pixels[i]!, 0), max) * 255) / max);
    }
    return { width, height, channels: 3, data };
  }

  if (photometric !== 'MONOCHROME1' && photometric !== 'MONOCHROME2') {
    throw new PixelDecodeError(`rendering photometric interpretation ${photometric} is not supported`);
  }
  const frameNumber = options.frameNumber ?? 1;
  const { slope, intercept } = modalityRescale(metadata, frameNumber);
  const modality = new Float64Array(count);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < count; i++) {
    const v = pixels[i]! * slope + intercept;
    modality[i] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  let window: DisplayImage['window'];
  if (options.window && isUsableWindow(options.window)) window = { ...options.window, source: 'parameter' };
  else {
    const fromMetadata = metadataWindow(metadata, frameNumber);
    window = fromMetadata
      ? { ...fromMetadata, source: 'metadata' }
      : { center: (min + max) / 2, width: Math.max(max - min, 1e-6), function: 'linear-exact', source: 'min-max' };
  }
  const invert = photometric === 'MONOCHROME1';
  const data = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const y = Math.round(applyWindow(modality[i]!, window));
    data[i] = invert ? 255 - y : y;
  }
  return { width, height, channels: 1, data, window };
}

interface PaletteLut {
  first: number;
  values: Uint8Array;
}

/** One palette colour LUT (PS3.3 C.7.6.3.1.5–6), reduced to 8-bit entries. */
async function paletteLut(metadata: DicomJsonDataset, colour: 'Red' | 'Green' | 'Blue', resolve?: (uri: string) => Promise<Uint8Array>): Promise<PaletteLut> {
  const descriptor = numbers(metadata, Tag[`${colour}PaletteColorLookupTableDescriptor`]);
  if (descriptor.length < 3) {
    const segmented = attribute(metadata, Tag[`Segmented${colour}PaletteColorLookupTableData`]);
    throw new PixelDecodeError(segmented ? 'segmented palette colour LUTs are not supported' : `${colour}PaletteColorLookupTableDescriptor is missing`);
  }
  const entries = descriptor[0] === 0 ? 65536 : descriptor[0]!;
  const first = descriptor[1]!;
  const bits = descriptor[2]!;
  const element = attribute(metadata, Tag[`${colour}PaletteColorLookupTableData`]);
  let raw: number[] | undefined;
  let bytes: Uint8Array | undefined;
  if (element?.Value?.length) raw = element.Value.map(Number);
  else if (element?.InlineBinary) bytes = Buffer.from(element.InlineBinary, 'base64');
  else if (element?.BulkDataURI) {
    if (!resolve) throw new PixelDecodeError(`${colour}PaletteColorLookupTableData is only available as BulkDataURI and no resolver was given`);
    bytes = await resolve(element.BulkDataURI);
  } else throw new PixelDecodeError(`${colour}PaletteColorLookupTableData is missing`);
  if (!raw) {
    const b = bytes!;
    // 8-bit entries may be packed one per byte or (commonly) one per 16-bit word.
    if (bits <= 8 && b.length < entries * 2) raw = Array.from(b.subarray(0, entries));
    else raw = Array.from({ length: Math.min(entries, Math.floor(b.length / 2)) }, (_, i) => b[i * 2]! | (b[i * 2 + 1]! << 8));
  }
  if (raw.length === 0) throw new PixelDecodeError(`${colour}PaletteColorLookupTableData is empty`);
  // 16-bit descriptors whose entries all fit in 8 bits are 8-bit tables in disguise (seen in the wild).
  const shift = bits > 8 && raw.some((v) => v > 255) ? bits - 8 : 0;
  return { first, values: Uint8Array.from(raw, (v) => Math.min(255, v >> shift)) };
}
