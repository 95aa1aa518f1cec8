import t from 'tap';
import { convertSharedFiles } from '../testing/converted-files.js';
import type { DicomJsonDataset } from './dicom-json.js';
import { stringifyDicomJson } from './stringify-dicom-json.js';

/** DICOM JSON keys and their written order (digest JSON-1, JSON-2), on every shared file. */

const { files: converted, everyAttribute } = await convertSharedFiles();

t.test('the shared files are converted', async (t) => {
  t.ok(converted.length >= 250, `${converted.length} files converted`);
  t.ok(converted.filter((c) => c.description).length >= 220, 'most of them accepted by describeInstance');
});

t.test('JSON-2: keys are 8 uppercase hex digits, no group lengths, no group 0002', async (t) => {
  everyAttribute(t, 'JSON-2: key syntax', ({ key }) => (/^[0-9A-F]{8}$/.test(key) ? undefined : 'not 8 uppercase hex digits'));
  everyAttribute(t, 'JSON-2: no gggg0000', ({ key }) => (key.endsWith('0000') ? 'group length' : undefined));
  everyAttribute(t, 'JSON-2: no group 0002', ({ key }) => (key.startsWith('0002') ? 'File Meta element' : undefined));
});

/** The keys of every JSON object in `text`, in the order they are written, per object. */
function writtenKeyOrders(text: string): string[][] {
  // Rename the tag keys so JSON.parse keeps them in written order (integer-like keys would be reordered).
  const renamed = JSON.parse(text.replace(/(?<!\\)"([0-9A-F]{8})":/g, '"k$1":')) as unknown;
  const orders: string[][] = [];
  const visit = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value !== null && typeof value === 'object') {
      const keys = Object.keys(value).filter((key) => key.startsWith('k'));
      if (keys.length) orders.push(keys.map((key) => key.slice(1)));
      Object.values(value).forEach(visit);
    }
  };
  visit(renamed);
  return orders;
}

/** The plain definition of the JSON-2 text: keys sorted at every level, `vr` first, then Value, BulkDataURI, InlineBinary. */
function referenceText(ds: DicomJsonDataset): string {
  return `{${Object.keys(ds)
    .sort()
    .map((key) => {
      const attr = ds[key]!;
      const parts = [`"vr":${JSON.stringify(attr.vr)}`];
      if (attr.Value !== undefined) {
        parts.push(
          `"Value":[${attr.Value.map((v) => (attr.vr === 'SQ' && v !== null && typeof v === 'object' ? referenceText(v as DicomJsonDataset) : JSON.stringify(v))).join(',')}]`,
        );
      }
      if (attr.BulkDataURI !== undefined) parts.push(`"BulkDataURI":${JSON.stringify(attr.BulkDataURI)}`);
      if (attr.InlineBinary !== undefined) parts.push(`"InlineBinary":${JSON.stringify(attr.InlineBinary)}`);
      return `${JSON.stringify(key)}:{${parts.join(',')}}`;
    })
    .join(',')}}`;
}

t.test('JSON-2: stringifyDicomJson (native fast path and string writer) gives the reference text for every file', async (t) => {
  const failures = converted.filter((file) => stringifyDicomJson(file.metadata) !== referenceText(file.metadata)).map((file) => file.path);
  t.same(failures, [], `${converted.length} files`);
  const reordered: DicomJsonDataset = { '00100010': { Value: [{ Ideographic: 'x', Alphabetic: 'a' }], vr: 'PN' }, '00080005': { vr: 'CS' } };
  t.equal(
    stringifyDicomJson(reordered),
    '{"00080005":{"vr":"CS"},"00100010":{"vr":"PN","Value":[{"Ideographic":"x","Alphabetic":"a"}]}}',
    'vr is written first whatever the attribute object order',
  );
  t.equal(stringifyDicomJson([reordered, reordered]), `[${referenceText(reordered)},${referenceText(reordered)}]`, 'JSON-1: arrays');
});

t.test('JSON-2: stringifyDicomJson writes attributes in ascending tag order', async (t) => {
  // Keys of all decimal digits are array-index-like: a plain object lists them first.
  const dataset: DicomJsonDataset = {
    '00080005': { vr: 'CS', Value: ['ISO_IR 192'] },
    '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^John' }] },
    '30060010': { vr: 'SQ', Value: [{ '30060012': { vr: 'SQ' }, '0020000D': { vr: 'UI', Value: ['1.2.3'] } }] },
    '7FE00010': { vr: 'OW', BulkDataURI: 'bulkdata/7FE00010' },
  };
  t.same(Object.keys(dataset).slice(0, 1), ['30060010'], 'JSON-2: a plain object does not keep tag order (why the writer exists)');
  const text = stringifyDicomJson(dataset);
  t.equal(
    text,
    '{"00080005":{"vr":"CS","Value":["ISO_IR 192"]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^John"}]},' +
      '"30060010":{"vr":"SQ","Value":[{"0020000D":{"vr":"UI","Value":["1.2.3"]},"30060012":{"vr":"SQ"}}]},' +
      '"7FE00010":{"vr":"OW","BulkDataURI":"bulkdata/7FE00010"}}',
    'JSON-2: keys sorted at every level',
  );
  t.equal(stringifyDicomJson([dataset]), `[${text}]`, 'JSON-1: an array of datasets');
  t.same(JSON.parse(text), dataset, 'the text parses back to the same dataset');

  const failures: string[] = [];
  for (const file of converted) {
    if (JSON.stringify(JSON.parse(file.written)) !== JSON.stringify(file.metadata)) failures.push(`${file.path}: does not round-trip`);
    for (const keys of writtenKeyOrders(file.written)) {
      if (keys.join() !== [...keys].sort().join()) failures.push(`${file.path}: ${keys.join(' ')}`);
    }
  }
  t.same(failures.slice(0, 10), [], `JSON-2: written keys ascending in ${converted.length} files`);
});
