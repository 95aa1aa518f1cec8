import { createRequire } from 'node:module';
import type dcmjsModule from 'dcmjs';
import { type TagNumber, parseTagKey } from './tag.js';

// dcmjs's ESM entry fails under tap's loader (ERR_REQUIRE_CYCLE_MODULE): load the CJS build.
const dcmjs = createRequire(import.meta.url)('dcmjs') as typeof dcmjsModule;

export interface DictionaryEntry {
  tag: TagNumber;
  keyword: string;
  /** The dictionary VR; ambiguous ones keep dcmjs's codes: `xs` (US or SS), `ox` (OB or OW). */
  vr: string;
  vm: string;
}

const byTag = new Map<TagNumber, DictionaryEntry>();
const byKeyword = new Map<string, DictionaryEntry>();
/** Repeating-group entries such as `(60xx,3000)`: masked tag → entry. */
const repeating = new Map<TagNumber, DictionaryEntry>();

for (const [keyword, raw] of Object.entries(dcmjs.data.DicomMetaDictionary.nameMap)) {
  const match = /^\(([0-9A-Fa-fx]{4}),([0-9A-Fa-fx]{4})\)$/.exec(raw.tag);
  if (!match || raw.version === 'PrivateTag') continue;
  const hex = `${match[1]}${match[2]}`;
  const isRepeating = hex.includes('x');
  const tag = parseTagKey(hex.replace(/x/g, '0'));
  if (tag === undefined) continue;
  const entry: DictionaryEntry = { tag, keyword, vr: raw.vr, vm: raw.vm };
  byKeyword.set(keyword, entry);
  if (isRepeating) repeating.set(tag, entry);
  else byTag.set(tag, entry);
}

export function lookupTag(tag: TagNumber): DictionaryEntry | undefined {
  return byTag.get(tag) ?? repeating.get((tag & 0xff00ffff) >>> 0) ?? repeating.get((tag & 0xffffff00) >>> 0);
}

export function lookupKeyword(keyword: string): DictionaryEntry | undefined {
  return byKeyword.get(keyword);
}
