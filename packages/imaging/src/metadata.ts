import type { DicomJsonAttribute, DicomJsonDataset } from '@tessera/dicom';

/** Tags the imaging pipeline reads from an instance's DICOM JSON metadata (8-hex keys). */
export const ImageTag = {
  SamplesPerPixel: '00280002',
  PhotometricInterpretation: '00280004',
  NumberOfFrames: '00280008',
  PlanarConfiguration: '00280006',
  Rows: '00280010',
  Columns: '00280011',
  BitsAllocated: '00280100',
  BitsStored: '00280101',
  HighBit: '00280102',
  PixelRepresentation: '00280103',
  WindowCenter: '00281050',
  WindowWidth: '00281051',
  RescaleIntercept: '00281052',
  RescaleSlope: '00281053',
  VOILUTFunction: '00281056',
  RedPaletteColorLookupTableDescriptor: '00281101',
  GreenPaletteColorLookupTableDescriptor: '00281102',
  BluePaletteColorLookupTableDescriptor: '00281103',
  RedPaletteColorLookupTableData: '00281201',
  GreenPaletteColorLookupTableData: '00281202',
  BluePaletteColorLookupTableData: '00281203',
  SharedFunctionalGroupsSequence: '52009229',
  PerFrameFunctionalGroupsSequence: '52009230',
  FloatPixelData: '7FE00008',
  DoubleFloatPixelData: '7FE00009',
} as const;

export const attribute = (dataset: DicomJsonDataset, tag: string): DicomJsonAttribute | undefined =>
  dataset[tag] ?? dataset[tag.toLowerCase()];

/** All values of a numeric attribute (IS/DS may arrive as numbers or numeric strings). */
export function numbers(dataset: DicomJsonDataset, tag: string): number[] {
  const values = attribute(dataset, tag)?.Value ?? [];
  const out: number[] = [];
  for (const value of values) {
    const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
    if (Number.isFinite(n)) out.push(n);
  }
  return out;
}

export const firstNumber = (dataset: DicomJsonDataset, tag: string): number | undefined => numbers(dataset, tag)[0];

export function firstString(dataset: DicomJsonDataset, tag: string): string | undefined {
  const value = attribute(dataset, tag)?.Value?.[0];
  return typeof value === 'string' ? value.trim() : undefined;
}

/**
 * Looks a tag up for one frame (1-based): top level first, then the frame's item of the Per-Frame
 * Functional Groups Sequence, then the Shared Functional Groups — in both, inside any functional
 * group macro (e.g. Frame VOI LUT, Pixel Value Transformation). Enhanced multi-frame objects keep
 * WindowCenter and RescaleSlope there rather than at the top level (PS3.3 C.7.6.16).
 */
export function frameAttribute(dataset: DicomJsonDataset, tag: string, frameNumber = 1): DicomJsonAttribute | undefined {
  const top = attribute(dataset, tag);
  if (top && (top.Value?.length ?? 0) > 0) return top;
  const groups = [
    attribute(dataset, ImageTag.PerFrameFunctionalGroupsSequence)?.Value?.[frameNumber - 1],
    attribute(dataset, ImageTag.SharedFunctionalGroupsSequence)?.Value?.[0],
  ];
  for (const group of groups) {
    if (!group || typeof group !== 'object') continue;
    for (const macro of Object.values(group as DicomJsonDataset)) {
      const item = macro.vr === 'SQ' ? macro.Value?.[0] : undefined;
      if (!item || typeof item !== 'object') continue;
      const found = attribute(item as DicomJsonDataset, tag);
      if (found && (found.Value?.length ?? 0) > 0) return found;
    }
  }
  return undefined;
}

export function frameNumbers(dataset: DicomJsonDataset, tag: string, frameNumber = 1): number[] {
  const found = frameAttribute(dataset, tag, frameNumber);
  return found ? numbers({ [tag]: found }, tag) : [];
}

export function frameString(dataset: DicomJsonDataset, tag: string, frameNumber = 1): string | undefined {
  const value = frameAttribute(dataset, tag, frameNumber)?.Value?.[0];
  return typeof value === 'string' ? value.trim() : undefined;
}
