import type { DicomJsonDataset } from './dicom-json.js';
import { stringifyDicomJsonAttribute } from './stringify-dicom-json.js';

/**
 * A DICOM JSON dataset kept as text, one top-level member per line, in tag order (digest JSON-2):
 *
 *     "00080020":{"vr":"DA","Value":["20160826"]}
 *     "00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^Jane"}]}
 *
 * This is how the index keeps study- and series-level attributes (values only, without bulk data),
 * so that a search result can copy an attribute's JSON as it is instead of parsing the stored
 * document and writing it again: at a million instances, parsing and re-serialising the ~700 studies
 * of a `PatientName=*son` answer cost twice as much as the query. Compact JSON never holds a raw line
 * break (JSON.stringify escapes control characters inside strings), so a line break is always a
 * member boundary and a member is found with one `indexOf`, even when a sequence item nested in
 * another member has the same tag.
 */
export class DicomJsonMembers {
  private parsed: DicomJsonDataset | undefined;

  /** `text` in the form described above (empty for an empty dataset), as written by `from`. */
  constructor(readonly text: string) {}

  /** Writes a dataset in member-per-line form. */
  static from(dataset: DicomJsonDataset): DicomJsonMembers {
    const keys = Object.keys(dataset).sort();
    return new DicomJsonMembers(keys.map((key) => `"${key}":${stringifyDicomJsonAttribute(dataset[key]!)}`).join('\n'));
  }

  /** The JSON text of the attribute with this key (`{"vr":…}`), or undefined. */
  get(key: string): string | undefined {
    const needle = needleOf(key);
    let start: number;
    if (this.text.startsWith(needle.first)) start = needle.first.length;
    else {
      start = this.text.indexOf(needle.later);
      if (start < 0) return undefined;
      start += needle.later.length;
    }
    const end = this.text.indexOf('\n', start);
    return this.text.slice(start, end < 0 ? undefined : end);
  }

  /** Every member as `[key, attribute JSON text]`, in tag order. */
  *entries(): IterableIterator<[string, string]> {
    if (this.text === '') return;
    for (const line of this.text.split('\n')) {
      const colon = line.indexOf(':');
      yield [line.slice(1, colon - 1), line.slice(colon + 1)];
    }
  }

  /** Every member's key, in tag order. */
  *keys(): IterableIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  /** The dataset as objects, parsed once on first use. */
  dataset(): DicomJsonDataset {
    this.parsed ??= this.text === '' ? {} : (JSON.parse(`{${this.text.replaceAll('\n', ',')}}`) as DicomJsonDataset);
    return this.parsed;
  }
}

/** The text that starts a member, first or later, by key; memoised for the few hundred keys that recur. */
const NEEDLES = new Map<string, { first: string; later: string }>();
function needleOf(key: string): { first: string; later: string } {
  let needle = NEEDLES.get(key);
  if (needle === undefined) {
    needle = { first: `"${key}":`, later: `\n"${key}":` };
    if (NEEDLES.size < 1024) NEEDLES.set(key, needle);
  }
  return needle;
}
