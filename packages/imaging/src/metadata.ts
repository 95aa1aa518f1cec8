import { type DicomJsonAttribute, type DicomJsonDataset, Tag, type TagNumber, attributeOf, firstValue, numbersOf, tagKey } from '@tessera/dicom';

/*
 * What the imaging pipeline reads from an instance's DICOM JSON metadata, by `Tag.…`, through the
 * readers of `@tessera/dicom`; the frame-aware look-ups of enhanced multi-frame objects live here.
 */

export const attribute = (dataset: DicomJsonDataset, tag: TagNumber): DicomJsonAttribute | undefined => attributeOf(dataset, tag);

/** All values of a numeric attribute (IS/DS may arrive as numbers or numeric strings). */
export const numbers = (dataset: DicomJsonDataset, tag: TagNumber): number[] => numbersOf(dataset, tag);

/** The first numeric value (values that are not numbers are skipped). */
export const firstNumber = (dataset: DicomJsonDataset, tag: TagNumber): number | undefined => numbersOf(dataset, tag)[0];

/** The first value when it is a string, trimmed. */
export function firstString(dataset: DicomJsonDataset, tag: TagNumber): string | undefined {
  const value = firstValue(dataset, tag);
  return typeof value === 'string' ? value.trim() : undefined;
}

/**
 * Looks a tag up for one frame (1-based): top level first, then the frame's item of the Per-Frame
 * Functional Groups Sequence, then the Shared Functional Groups — in both, inside any functional
 * group macro (e.g. Frame VOI LUT, Pixel Value Transformation). Enhanced multi-frame objects keep
 * WindowCenter and RescaleSlope there rather than at the top level (PS3.3 C.7.6.16).
 */
export function frameAttribute(dataset: DicomJsonDataset, tag: TagNumber, frameNumber = 1): DicomJsonAttribute | undefined {
  const top = attribute(dataset, tag);
  if (top && (top.Value?.length ?? 0) > 0) return top;
  const groups = [
    attribute(dataset, Tag.PerFrameFunctionalGroupsSequence)?.Value?.[frameNumber - 1],
    attribute(dataset, Tag.SharedFunctionalGroupsSequence)?.Value?.[0],
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

export function frameNumbers(dataset: DicomJsonDataset, tag: TagNumber, frameNumber = 1): number[] {
  const found = frameAttribute(dataset, tag, frameNumber);
  return found ? numbersOf({ [tagKey(tag)]: found }, tag) : [];
}

export function frameString(dataset: DicomJsonDataset, tag: TagNumber, frameNumber = 1): string | undefined {
  const value = frameAttribute(dataset, tag, frameNumber)?.Value?.[0];
  return typeof value === 'string' ? value.trim() : undefined;
}
