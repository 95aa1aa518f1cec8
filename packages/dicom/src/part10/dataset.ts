import type { TagNumber } from '../tag.js';
import type { Vr } from '../vr.js';

export const UNDEFINED_LENGTH = 0xffffffff;

/** A byte range in the stored object (or in the inflated dataset of a deflated one). */
export interface Span {
  offset: number;
  length: number;
}

/**
 * One element as parsed: where its value sits, not the decoded value. Values are decoded on demand
 * (`./values.ts`) so that parsing stays cheap and large values are never copied.
 */
export interface DataElement {
  tag: TagNumber;
  vr: Vr;
  /** Offset of the value bytes in the buffer the dataset was parsed from. */
  offset: number;
  /** Value length, or UNDEFINED_LENGTH for undefined-length sequences and encapsulated pixel data. */
  length: number;
  /** Items of a sequence (SQ, or UN holding an implicit-VR sequence). */
  items?: Dataset[];
  /** Fragments of encapsulated pixel data nested inside a sequence (e.g. an icon image). */
  fragments?: Span[];
  /** Byte order of this element's value (sequences inside UN are always little endian). */
  littleEndian: boolean;
}

/** Elements of one dataset or sequence item, keyed by tag. */
export type Dataset = Map<TagNumber, DataElement>;
