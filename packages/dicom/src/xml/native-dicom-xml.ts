import { lookupTag } from '../dictionary.js';
import type { DicomJsonAttribute, DicomJsonDataset, JsonValue, PersonNameValue } from '../json/dicom-json.js';
import { parseTagKey } from '../tag.js';
import { isSingleValuedText, isVr } from '../vr.js';

/**
 * DICOM JSON (PS3.18 Annex F) → the Native DICOM Model (PS3.19 §A.1), the XML form of a dataset
 * served as `application/dicom+xml` (PS3.18 §8.7.3.5): one `NativeDicomModel` document per
 * dataset, written as a string, so that a response of many datasets is produced one part at a time.
 *
 * - Attributes in the order of the JSON keys, which is tag order (JSON-2), with `tag`, `vr` and,
 *   when the dictionary knows the tag, `keyword`.
 * - Private data elements (odd group, element ≥ 0x1000) carry `privateCreator`, the value of their
 *   block's Private Creator element, and a tag of the form `gggg00ee` (PS3.19 Table A.1.5-2: the
 *   block is conveyed by the creator, not the tag). Without a Private Creator element in the same
 *   dataset, the tag is written as it is and `privateCreator` is left out.
 * - `Value number="n"` elements numbered from 1; an empty value of a multi-valued attribute (JSON
 *   `null`) is an empty `Value` element; `Item number="n"` for sequence items; `PersonName
 *   number="n"` with `Alphabetic` / `Ideographic` / `Phonetic` groups of `FamilyName`,
 *   `GivenName`, `MiddleName`, `NamePrefix`, `NameSuffix`. Empty components are left out except
 *   the last one, so `Doe^Jane^^` comes back as written; components past the fifth stay in
 *   `NameSuffix`, joined by `^`.
 * - `BulkData uri="…"` for a BulkDataURI, `InlineBinary` (base64) for inline binary values.
 *
 * Text is escaped for XML 1.0 (`&`, `<`, `>`; `"` in attributes; CR, and TAB / LF in attributes,
 * as character references so that parsers do not normalise them away). XML 1.0 cannot carry some
 * characters at all, even as references: C0 controls other than TAB, LF and CR (DICOM allows FF
 * in LT, ST and UT), unpaired surrogates, U+FFFE and U+FFFF. An attribute with such a character in
 * one of its values is written, whole, as `InlineBinary`: the UTF-8 bytes of its Value Field, values
 * joined by `\` and PN groups by `=` (the control characters are the same bytes as in the binary
 * encoding; the rest is UTF-8, as all served text is, JSON-12). Nothing is dropped or replaced, and
 * the document stays well-formed.
 */

/** The namespace of the Native DICOM Model (PS3.19 §A.1.6). */
export const NATIVE_DICOM_NAMESPACE = 'http://dicom.nema.org/PS3.19/models/NativeDICOM';

/** The media type of one Native DICOM Model document (PS3.18 §8.7.3.5). */
export const DICOM_XML = 'application/dicom+xml';

const HEAD = `<?xml version="1.0" encoding="UTF-8"?>\n<NativeDicomModel xmlns="${NATIVE_DICOM_NAMESPACE}" xml:space="preserve">`;

/** One dataset as a complete Native DICOM Model document (UTF-8 text). */
export function toNativeDicomXml(dataset: DicomJsonDataset): string {
  return `${HEAD}${datasetXml(dataset)}</NativeDicomModel>\n`;
}

/** The five components of a name group (PS3.5 §6.2.1.1), in order. */
export const NAME_COMPONENTS = ['FamilyName', 'GivenName', 'MiddleName', 'NamePrefix', 'NameSuffix'] as const;
/** The three component groups of a PN value, as in DICOM JSON (PS3.18 F.2.2). */
export const NAME_GROUPS = ['Alphabetic', 'Ideographic', 'Phonetic'] as const;

function datasetXml(dataset: DicomJsonDataset): string {
  let out = '';
  for (const key of Object.keys(dataset).sort()) out += attributeXml(dataset, key, dataset[key]!);
  return out;
}

function attributeXml(dataset: DicomJsonDataset, key: string, attr: DicomJsonAttribute): string {
  const tag = parseTagKey(key);
  let head = '<DicomAttribute';
  const creator = tag === undefined ? undefined : privateCreatorOf(dataset, tag);
  if (creator !== undefined) {
    head += ` tag="${key.slice(0, 4)}00${key.slice(6, 8).toUpperCase()}" vr="${escapeAttribute(attr.vr)}" privateCreator="${escapeAttribute(creator)}"`;
  } else {
    const keyword = tag === undefined || (tag >>> 16) % 2 === 1 ? undefined : lookupTag(tag)?.keyword;
    head += ` tag="${key.toUpperCase()}" vr="${escapeAttribute(attr.vr)}"`;
    if (keyword) head += ` keyword="${keyword}"`;
  }
  const body = contentXml(attr);
  return body === '' ? `${head}/>` : `${head}>${body}</DicomAttribute>`;
}

function contentXml(attr: DicomJsonAttribute): string {
  if (attr.BulkDataURI !== undefined) return `<BulkData uri="${escapeAttribute(attr.BulkDataURI)}"/>`;
  if (attr.InlineBinary !== undefined) return `<InlineBinary>${escapeText(attr.InlineBinary)}</InlineBinary>`;
  const values = attr.Value;
  if (values === undefined || values.length === 0) return '';
  if (attr.vr === 'SQ') {
    return values
      .map((item, i) => `<Item number="${i + 1}">${item !== null && typeof item === 'object' ? datasetXml(item as DicomJsonDataset) : ''}</Item>`)
      .join('');
  }
  if (values.some(notXmlSafe)) return `<InlineBinary>${Buffer.from(valueField(attr.vr, values), 'utf8').toString('base64')}</InlineBinary>`;
  if (attr.vr === 'PN') return values.map((value, i) => personNameXml(value as PersonNameValue | string | null, i + 1)).join('');
  return values.map((value, i) => (value === null ? `<Value number="${i + 1}"/>` : `<Value number="${i + 1}">${escapeText(textOf(value))}</Value>`)).join('');
}

function personNameXml(value: PersonNameValue | string | null, number: number): string {
  const name = typeof value === 'string' ? { Alphabetic: value } : value;
  if (name === null) return `<PersonName number="${number}"/>`;
  let out = '';
  for (const group of NAME_GROUPS) {
    const text = name[group];
    if (text === undefined) continue;
    const components = text.split('^');
    if (components.length > NAME_COMPONENTS.length) components.splice(4, components.length - 4, components.slice(4).join('^'));
    const last = components.length - 1;
    let inner = '';
    components.forEach((component, i) => {
      if (component === '' && i !== last) return;
      const element = NAME_COMPONENTS[i]!;
      inner += component === '' ? `<${element}/>` : `<${element}>${escapeText(component)}</${element}>`;
    });
    out += `<${group}>${inner}</${group}>`;
  }
  return `<PersonName number="${number}">${out}</PersonName>`;
}

/** A number as DICOM text (`-0` kept); strings as they are. */
function textOf(value: JsonValue): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'string') return value;
  // An object where a plain value belongs (not valid DICOM JSON): its JSON text, not "[object Object]".
  return JSON.stringify(value);
}

/** The values as one DICOM Value Field: `\` between values, PN groups joined by `=`. */
export function valueField(vr: string, values: readonly JsonValue[]): string {
  return values
    .map((value) => {
      if (value === null) return '';
      if (vr === 'PN' && typeof value === 'object') {
        const name = value as PersonNameValue;
        const groups = NAME_GROUPS.map((group) => name[group] ?? '');
        while (groups.length > 1 && groups.at(-1) === '') groups.pop();
        return groups.join('=');
      }
      return textOf(value);
    })
    .join(isVr(vr) && isSingleValuedText(vr) ? '' : '\\');
}

/** Odd group, element 0x1000 and above: a private data element of a reserved block (PS3.5 §7.8.1). */
const isPrivate = (tag: number): boolean => (tag >>> 16) % 2 === 1 && (tag & 0xffff) >= 0x1000;

/** The value of the Private Creator element that reserves this private element's block, if any. */
function privateCreatorOf(dataset: DicomJsonDataset, tag: number): string | undefined {
  if (!isPrivate(tag)) return undefined;
  const group = (tag >>> 16).toString(16).toUpperCase().padStart(4, '0');
  const block = ((tag >>> 8) & 0xff).toString(16).toUpperCase().padStart(2, '0');
  const creator = dataset[`${group}00${block}`]?.Value?.[0];
  return typeof creator === 'string' ? creator : undefined;
}

/** Characters XML 1.0 cannot carry (§2.2 Char), even as character references. */
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function notXmlSafe(value: JsonValue): boolean {
  if (typeof value === 'string') return NOT_XML_CHAR.test(value);
  if (value !== null && typeof value === 'object') return Object.values(value as PersonNameValue).some((v) => typeof v === 'string' && NOT_XML_CHAR.test(v));
  return false;
}

/** Whether a text can be written as XML 1.0 character data at all. */
export const isXmlText = (text: string): boolean => !NOT_XML_CHAR.test(text);

const TEXT_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#xD;' };
const ATTRIBUTE_ESCAPES: Record<string, string> = { ...TEXT_ESCAPES, '"': '&quot;', '\t': '&#x9;', '\n': '&#xA;' };

/** Character data: markup characters escaped, CR kept as a reference (parsers turn a raw CR into LF). */
export function escapeText(text: string): string {
  return /[&<>\r]/.test(text) ? text.replace(/[&<>\r]/g, (c) => TEXT_ESCAPES[c]!) : text;
}

/** A double-quoted attribute value: also `"`, and TAB / LF / CR, which parsers would turn into spaces. */
export function escapeAttribute(text: string): string {
  return /[&<>"\t\n\r]/.test(text) ? text.replace(/[&<>"\t\n\r]/g, (c) => ATTRIBUTE_ESCAPES[c]!) : text;
}
