import t from 'tap';
import { DicomJsonMembers, type DicomJsonDataset } from '@tessera/dicom';
import type { InstanceMatch, SeriesMatch, StudyMatch } from '@tessera/index';
import { type RenderContext, ResultDataset, emptyAttribute, renderInstance, renderSeries, renderStudy, resultsJson } from './search-results.js';

/** QIDO-RS result datasets from index matches, no database (digest QIDO-5..9, JSON-1, JSON-2, JSON-4). */

const study: StudyMatch = {
  studyInstanceUid: '1.2.3',
  attributes: DicomJsonMembers.from({
    '00080020': { vr: 'DA', Value: ['20240131'] },
    '00080201': { vr: 'SH', Value: ['+0100'] },
    '00081030': { vr: 'LO', Value: ['CT chest'] },
    '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] },
    '00100020': { vr: 'LO', Value: ['P-1'] },
  }),
  numberOfSeries: 2,
  numberOfInstances: 3,
  modalitiesInStudy: ['CT', 'SR'],
  sopClassesInStudy: ['1.2.840.10008.5.1.4.1.1.2'],
};
const series: SeriesMatch = {
  study,
  seriesInstanceUid: '1.2.3.1',
  numberOfInstances: 2,
  attributes: DicomJsonMembers.from({
    '00080060': { vr: 'CS', Value: ['CT'] },
    '0008103E': { vr: 'LO', Value: ['Axial'] },
    '00200011': { vr: 'IS', Value: [2] },
  }),
};
const instance = (fields: Partial<InstanceMatch> = {}): InstanceMatch => ({
  series,
  sopInstanceUid: '1.2.3.1.1',
  sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
  instanceNumber: 1,
  rows: 512,
  columns: 512,
  bitsAllocated: 16,
  numberOfFrames: null,
  transferSyntaxUid: '1.2.840.10008.1.2.1',
  ...fields,
});
const ctx = (includeFields: RenderContext['includeFields'] = []): RenderContext => ({ serviceUrl: 'https://pacs.test/dicomweb', includeFields });
const parsed = (result: ResultDataset): DicomJsonDataset => JSON.parse(result.toJson()) as DicomJsonDataset;
const keysOf = (result: ResultDataset) => Object.keys(parsed(result));

t.test('study results: the defaults of Table 10.6.3-3, zero-length when not stored (QIDO-6, QIDO-8, QIDO-9)', async (t) => {
  t.same(parsed(renderStudy(study, ctx())), {
    '00080020': { vr: 'DA', Value: ['20240131'] },
    '00080030': { vr: 'TM' },
    '00080050': { vr: 'SH' },
    '00080056': { vr: 'CS', Value: ['ONLINE'] },
    '00080061': { vr: 'CS', Value: ['CT', 'SR'] },
    '00080090': { vr: 'PN' },
    '00080201': { vr: 'SH', Value: ['+0100'] },
    '00081190': { vr: 'UR', Value: ['https://pacs.test/dicomweb/studies/1.2.3'] },
    '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] },
    '00100020': { vr: 'LO', Value: ['P-1'] },
    '00100030': { vr: 'DA' },
    '00100040': { vr: 'CS' },
    '0020000D': { vr: 'UI', Value: ['1.2.3'] },
    '00200010': { vr: 'SH' },
    '00201206': { vr: 'IS', Value: [2] },
    '00201208': { vr: 'IS', Value: [3] },
  });
  t.notOk('00081030' in parsed(renderStudy(study, ctx())), 'StudyDescription only when asked for');
});

t.test('includefield (QIDO-5): own and parent levels, never a deeper one', async (t) => {
  t.same(parsed(renderStudy(study, ctx(['00081030', '00080062', '0008103E'])))['00081030'], { vr: 'LO', Value: ['CT chest'] }, 'a stored study attribute');
  t.same(parsed(renderStudy(study, ctx(['00080062'])))['00080062'], { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] }, 'a computed one (QIDO-8)');
  t.notOk('0008103E' in parsed(renderStudy(study, ctx(['0008103E']))), 'a series attribute is not returned on a study');
  t.ok('00081030' in parsed(renderStudy(study, ctx('all'))), 'all: every stored study attribute');
  t.same(parsed(renderSeries(series, ctx(['00081030']), false))['00081030'], { vr: 'LO', Value: ['CT chest'] }, 'a study attribute on a series result');
  t.notOk('00081030' in parsed(renderSeries(series, ctx(['00181030']), false)), 'an attribute nobody has is left out');
});

t.test('series and instance results carry their parents (QIDO-7)', async (t) => {
  const alone = parsed(renderSeries(series, ctx(), false));
  t.same(
    Object.keys(alone),
    ['00080060', '00080201', '0008103E', '00081190', '0020000D', '0020000E', '00200011', '00201209'],
    'series defaults, in tag order (JSON-2)',
  );
  t.same(alone['00081190'], { vr: 'UR', Value: ['https://pacs.test/dicomweb/studies/1.2.3/series/1.2.3.1'] });
  t.same(alone['00201209'], { vr: 'IS', Value: [2] });
  const relational = parsed(renderSeries(series, ctx(), true));
  t.same(relational['00201208'], { vr: 'IS', Value: [3] }, '/series: study defaults too');
  t.same(relational['00081190'], alone['00081190'], 'the RetrieveURL is the series one');

  const own = parsed(renderInstance(instance(), ctx(), { study: false, series: false }));
  t.same(
    own,
    {
      '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
      '00080018': { vr: 'UI', Value: ['1.2.3.1.1'] },
      '00080056': { vr: 'CS', Value: ['ONLINE'] },
      '00080201': { vr: 'SH', Value: ['+0100'] },
      '00081190': { vr: 'UR', Value: ['https://pacs.test/dicomweb/studies/1.2.3/series/1.2.3.1/instances/1.2.3.1.1'] },
      '00083002': { vr: 'UI', Value: ['1.2.840.10008.1.2.1'] },
      '0020000D': { vr: 'UI', Value: ['1.2.3'] },
      '0020000E': { vr: 'UI', Value: ['1.2.3.1'] },
      '00200013': { vr: 'IS', Value: [1] },
      '00280010': { vr: 'US', Value: [512] },
      '00280011': { vr: 'US', Value: [512] },
      '00280100': { vr: 'US', Value: [16] },
    },
    'instance defaults (Table 10.6.3-5); NumberOfFrames left out when unknown',
  );
  const { '00280010': _rows, ...withoutRows } = own;
  t.same(
    parsed(renderInstance(instance({ instanceNumber: null, rows: null, numberOfFrames: 3 }), ctx(), { study: false, series: false })),
    { ...withoutRows, '00200013': { vr: 'IS' }, '00280008': { vr: 'IS', Value: [3] } },
    'InstanceNumber zero-length (R), Rows absent (C)',
  );
  const everything = keysOf(renderInstance(instance(), ctx(), { study: true, series: true }));
  for (const key of ['00100010', '00201208', '00080060', '00201209']) t.ok(everything.includes(key), `/instances: ${key}`);
});

t.test('includefield on instances: the instance metadata first, bulk data left out', async (t) => {
  const metadata: DicomJsonDataset = {
    '00081030': { vr: 'LO', Value: ['instance copy'] },
    '00180050': { vr: 'DS', Value: [1.25] },
    '7FE00010': { vr: 'OW', BulkDataURI: 'bulkdata/7FE00010' },
  };
  const listed = parsed(renderInstance(instance({ metadata }), ctx(['00180050', '7FE00010', '00081030']), { study: false, series: false }));
  t.same(listed['00180050'], { vr: 'DS', Value: [1.25] });
  t.notOk('7FE00010' in listed, 'an attribute that only holds bulk data is not returned');
  t.same(listed['00081030'], { vr: 'LO', Value: ['instance copy'] }, 'a listed key: own level first');
  const all = parsed(renderInstance(instance({ metadata }), ctx('all'), { study: false, series: false }));
  t.same(all['00081030'], { vr: 'LO', Value: ['CT chest'] }, 'all: a study attribute repeated in the instance keeps the study value');
  t.same(all['0008103E'], { vr: 'LO', Value: ['Axial'] }, 'all: series attributes too');
});

t.test('ResultDataset and resultsJson: tag order whatever the order set (JSON-1, JSON-2)', async (t) => {
  const result = new ResultDataset();
  result.set('00080020', '{"vr":"DA"}');
  result.set('00100010', '{"vr":"PN"}');
  result.set('00080020', '{"vr":"DA","Value":["20240131"]}');
  result.setIfAbsent('00100010', '{"vr":"XX"}');
  result.set('00080016', '{"vr":"UI"}');
  t.equal(
    result.toJson(),
    '{"00080016":{"vr":"UI"},"00080020":{"vr":"DA","Value":["20240131"]},"00100010":{"vr":"PN"}}',
    'sorted; a set key is replaced; setIfAbsent keeps the first',
  );
  t.ok(result.has('00080016'));
  t.notOk(result.has('00080030'));
  t.equal(resultsJson([]), '[]');
  t.equal(resultsJson([result, result]), `[${result.toJson()},${result.toJson()}]`);
});

/** Every key of a result's JSON text, as written (JSON.parse would hide a repeated one). */
const writtenKeys = (result: ResultDataset) => [...result.toJson().matchAll(/"([0-9A-F]{8})":\{/g)].map((m) => m[1]!);

// Regression: once a key was set out of tag order, ResultDataset.set's fast path ("greater than the
// last key: append") appended a key that was already there, so /instances (with study and series
// parents) wrote 00080056 and 0020000D twice and /series 0020000D twice.
t.test('each key is written once (JSON-2)', async (t) => {
  const result = new ResultDataset();
  result.set('00100010', '{"vr":"PN"}');
  result.set('00080020', '{"vr":"DA"}');
  result.set('00100010', '{"vr":"PN","Value":[{"Alphabetic":"A"}]}');
  t.same(writtenKeys(result), ['00080020', '00100010']);
  for (const keys of [writtenKeys(renderInstance(instance(), ctx(), { study: true, series: true })), writtenKeys(renderSeries(series, ctx(), true))]) {
    t.same(
      keys.filter((key, i) => keys.indexOf(key) !== i),
      [],
      'no key twice',
    );
  }
});

t.test('emptyAttribute: the dictionary VR, zero-length (JSON-4)', async (t) => {
  const cases: [string, string][] = [
    ['00081030', '{"vr":"LO"}'],
    ['00280106', '{"vr":"US"}'],
    ['7FE00010', '{"vr":"OW"}'],
    ['00091001', '{"vr":"UN"}'],
  ];
  for (const [key, json] of cases) t.equal(emptyAttribute(key), json, key);
});
