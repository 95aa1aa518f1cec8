import { SaxesParser, type SaxesTagNS } from 'saxes';
import type { DicomJsonAttribute, DicomJsonDataset, JsonValue, PersonNameValue } from '../json/dicom-json.js';
import { personName } from '../json/to-dicom-json.js';
import { isSingleValuedText, isVr } from '../vr.js';
import { NAME_COMPONENTS, NAME_GROUPS, NATIVE_DICOM_NAMESPACE } from '../xml/native-dicom-xml.js';

/**
 * The inverse of `toNativeDicomXml`, for tests: a Native DICOM Model document (PS3.19 §A.1) back
 * into DICOM JSON, with the value typing of the project's DICOM JSON (IS/DS and the binary number
 * VRs as JSON numbers where they are numbers, JSON-5). The document is read by saxes, a conforming
 * XML 1.0 parser that rejects anything not well-formed, and checked against the structure of the
 * model on the way: element names and namespace, the attributes each element may have, `tag` as 8
 * upper-case hex digits, `vr` a known VR, `number` counting 1, 2, 3… in each attribute, content
 * of one kind only per DicomAttribute, Item only in SQ, PersonName only in PN. Any deviation
 * throws an Error naming it.
 */
export function fromNativeDicomXml(xml: string): DicomJsonDataset {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: Frame[] = [];
  let root: DicomJsonDataset | undefined;
  let text = '';
  let error: Error | undefined;
  const fail = (message: string): never => {
    throw new Error(`${message} (line ${parser.line}, column ${parser.column})`);
  };

  parser.on('error', (e) => {
    error ??= e;
  });
  parser.on('text', (t) => {
    text += t;
  });
  parser.on('opentag', (tag) => {
    if (tag.uri !== NATIVE_DICOM_NAMESPACE) fail(`element ${tag.name} is not in the Native DICOM Model namespace`);
    const parent = stack.at(-1);
    const top = text;
    text = '';
    if (top.trim() !== '' && parent?.kind !== 'component') fail(`text ${JSON.stringify(top.slice(0, 20))} between elements`);
    const local = tag.local;
    if (parent === undefined) {
      if (local !== 'NativeDicomModel' || root !== undefined) fail(`root element ${local}`);
      if (tag.attributes['xml:space']?.value !== 'preserve') fail('NativeDicomModel without xml:space="preserve"');
      allowAttributes(tag, ['xml:space'], fail);
      root = {};
      stack.push({ kind: 'dataset', dataset: root, creators: new Map() });
      return;
    }
    switch (parent.kind) {
      case 'dataset': {
        if (local !== 'DicomAttribute') fail(`${local} in a dataset`);
        allowAttributes(tag, ['tag', 'vr', 'keyword', 'privateCreator'], fail);
        const tagText = tag.attributes.tag?.value ?? fail('DicomAttribute without tag');
        if (!/^[0-9A-F]{8}$/.test(tagText)) fail(`tag "${tagText}" is not 8 upper-case hex digits`);
        const vr = tag.attributes.vr?.value ?? fail(`DicomAttribute ${tagText} without vr`);
        if (!isVr(vr)) fail(`unknown vr "${vr}"`);
        const creator = tag.attributes.privateCreator?.value;
        let key = tagText;
        if (creator !== undefined) {
          const group = tagText.slice(0, 4);
          if (Number.parseInt(group, 16) % 2 === 0 || tagText.slice(4, 6) !== '00')
            fail(`privateCreator on tag ${tagText}, which is not of the form gggg00ee with an odd group`);
          const block = parent.creators.get(`${group}:${creator}`) ?? fail(`no Private Creator "${creator}" in group ${group} before ${tagText}`);
          key = `${group}${block}${tagText.slice(6)}`;
        }
        if (key in parent.dataset) fail(`attribute ${key} twice`);
        stack.push({ kind: 'attribute', key, attr: { vr }, creatorFrom: parent, content: undefined, count: 0 });
        return;
      }
      case 'attribute': {
        const content =
          local === 'Value' || local === 'PersonName' || local === 'Item' || local === 'InlineBinary' || local === 'BulkData'
            ? local
            : fail(`${local} in DicomAttribute ${parent.key}`);
        if (parent.content !== undefined && (parent.content !== content || content === 'InlineBinary' || content === 'BulkData')) {
          fail(`${content} after ${parent.content} in DicomAttribute ${parent.key}`);
        }
        parent.content = content;
        const { vr } = parent.attr;
        if ((content === 'Item') !== (vr === 'SQ') && content !== 'BulkData' && content !== 'InlineBinary') fail(`${content} in a DicomAttribute of vr ${vr}`);
        if (content === 'PersonName' && vr !== 'PN') fail(`PersonName in a DicomAttribute of vr ${vr}`);
        if (content === 'Value' && vr === 'PN') fail('Value in a DicomAttribute of vr PN');
        if (content === 'BulkData') {
          allowAttributes(tag, ['uri'], fail);
          parent.attr.BulkDataURI = tag.attributes.uri?.value ?? fail('BulkData without uri');
          stack.push({ kind: 'leaf', name: 'BulkData' });
          return;
        }
        if (content === 'InlineBinary') {
          allowAttributes(tag, [], fail);
          stack.push({ kind: 'inline', attribute: parent });
          return;
        }
        allowAttributes(tag, ['number'], fail);
        parent.count += 1;
        if (tag.attributes.number?.value !== String(parent.count)) fail(`${content} number="${tag.attributes.number?.value}" where ${parent.count} was due`);
        if (content === 'Item') {
          const item: DicomJsonDataset = {};
          (parent.attr.Value ??= []).push(item);
          stack.push({ kind: 'dataset', dataset: item, creators: new Map() });
        } else if (content === 'PersonName') {
          stack.push({ kind: 'name', attribute: parent, groups: {} });
        } else {
          stack.push({ kind: 'value', attribute: parent });
        }
        return;
      }
      case 'name': {
        if (!(NAME_GROUPS as readonly string[]).includes(local) || local in parent.groups) fail(`${local} in PersonName`);
        allowAttributes(tag, [], fail);
        const order = NAME_GROUPS.indexOf(local as (typeof NAME_GROUPS)[number]);
        if (Object.keys(parent.groups).some((g) => NAME_GROUPS.indexOf(g as (typeof NAME_GROUPS)[number]) > order)) fail(`${local} out of order`);
        const components: string[] = [];
        parent.groups[local as (typeof NAME_GROUPS)[number]] = components;
        stack.push({ kind: 'group', components, last: -1 });
        return;
      }
      case 'group': {
        const index = NAME_COMPONENTS.indexOf(local as (typeof NAME_COMPONENTS)[number]);
        if (index < 0 || index <= parent.last) fail(`${local} in a name group (or out of order)`);
        allowAttributes(tag, [], fail);
        parent.last = index;
        stack.push({ kind: 'component', group: parent, index });
        return;
      }
      default:
        fail(`${local} inside ${parent.kind === 'leaf' ? parent.name : parent.kind}`);
    }
  });
  parser.on('closetag', () => {
    const frame = stack.pop()!;
    const content = text;
    text = '';
    if (frame.kind !== 'value' && frame.kind !== 'component' && frame.kind !== 'inline' && content.trim() !== '') fail(`text in ${frame.kind}`);
    switch (frame.kind) {
      case 'attribute': {
        const { attr, key } = frame;
        frame.creatorFrom.dataset[key] = attr;
        if (attr.vr === 'LO' && /^[0-9A-F]{4}00[1-9A-F][0-9A-F]$/.test(key) && Number.parseInt(key.slice(0, 4), 16) % 2 === 1) {
          const value = attr.Value?.[0];
          if (typeof value === 'string' && !frame.creatorFrom.creators.has(`${key.slice(0, 4)}:${value}`))
            frame.creatorFrom.creators.set(`${key.slice(0, 4)}:${value}`, key.slice(6));
        }
        return;
      }
      case 'value':
        (frame.attribute.attr.Value ??= []).push(content === '' ? null : typed(frame.attribute.attr.vr, content));
        return;
      case 'inline': {
        const { attr } = frame.attribute;
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(content)) fail('InlineBinary is not base64');
        if (isVr(attr.vr) && ['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN'].includes(attr.vr)) {
          attr.InlineBinary = content;
        } else {
          // A text attribute written as the UTF-8 bytes of its Value Field (see toNativeDicomXml).
          const field = Buffer.from(content, 'base64').toString('utf8');
          const values = isVr(attr.vr) && isSingleValuedText(attr.vr) ? [field] : field.split('\\');
          attr.Value = values.map((v) => (v === '' ? null : attr.vr === 'PN' ? personName(v) : typed(attr.vr, v)));
        }
        return;
      }
      case 'component':
        frame.group.components[frame.index] = content;
        return;
      case 'group':
        return;
      case 'name': {
        const name: PersonNameValue = {};
        for (const group of NAME_GROUPS) {
          const components = frame.groups[group];
          if (components === undefined) continue;
          name[group] = Array.from({ length: components.length }, (_, i) => components[i] ?? '').join('^');
        }
        (frame.attribute.attr.Value ??= []).push(Object.keys(name).length ? name : null);
        return;
      }
      default:
        return;
    }
  });

  parser.write(xml).close();
  if (error) throw error;
  if (!root) throw new Error('no NativeDicomModel element');
  return root;
}

type Frame =
  | { kind: 'dataset'; dataset: DicomJsonDataset; creators: Map<string, string> }
  | { kind: 'attribute'; key: string; attr: DicomJsonAttribute; creatorFrom: Extract<Frame, { kind: 'dataset' }>; content: string | undefined; count: number }
  | { kind: 'value'; attribute: Extract<Frame, { kind: 'attribute' }> }
  | { kind: 'inline'; attribute: Extract<Frame, { kind: 'attribute' }> }
  | { kind: 'name'; attribute: Extract<Frame, { kind: 'attribute' }>; groups: Partial<Record<(typeof NAME_GROUPS)[number], string[]>> }
  | { kind: 'group'; components: string[]; last: number }
  | { kind: 'component'; group: Extract<Frame, { kind: 'group' }>; index: number }
  | { kind: 'leaf'; name: string };

function allowAttributes(tag: SaxesTagNS, allowed: string[], fail: (message: string) => never): void {
  for (const name of Object.keys(tag.attributes)) {
    if (name === 'xmlns') continue;
    if (!allowed.includes(name)) fail(`attribute ${name} on ${tag.local}`);
  }
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A value's text as the project's DICOM JSON types it (JSON-5): numbers where they are numbers. */
function typed(vr: string, text: string): JsonValue {
  switch (vr) {
    case 'IS':
    case 'DS':
    case 'FL':
    case 'FD': {
      const n = Number(text);
      return Number.isFinite(n) && NUMBER.test(text) ? n : text;
    }
    case 'SL':
    case 'SS':
    case 'UL':
    case 'US':
    case 'SV':
    case 'UV': {
      const n = Number(text);
      return /^-?\d+$/.test(text) && Number.isSafeInteger(n) ? n : text;
    }
    default:
      return text;
  }
}
