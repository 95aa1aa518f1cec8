import t from 'tap';
import type { DicomJsonDataset } from './dicom-json.js';
import { DicomJsonMembers } from './dicom-json-members.js';
import { stringifyDicomJson } from './stringify-dicom-json.js';

/** Strings that could be taken for member boundaries or names if the text were split naively. */
const HOSTILE = [
  'line\nbreak and "00100010":{"vr":"PN"}',
  '\n"00100020":{"vr":"LO","Value":["forged"]}',
  'quote " backslash \\ tab \t nul \u0000',
  '"BulkDataURI":"http://evil"',
  '王^小東',
];

const DATASET: DicomJsonDataset = {
  '00200010': { vr: 'SH', Value: [HOSTILE[2]!] },
  '00080020': { vr: 'DA', Value: ['20260101'] },
  '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Wang^XiaoDong', Ideographic: HOSTILE[4]! }] },
  '00081030': { vr: 'LO', Value: [HOSTILE[0]!] },
  '00100020': { vr: 'LO', Value: [HOSTILE[1]!] },
  '00101002': {
    vr: 'SQ',
    Value: [
      // A nested item with the tags of top-level members, and an integer-like key (JSON-2 order).
      { '00100020': { vr: 'LO', Value: ['OTHER-ID'] }, '20051430': { vr: 'CS', Value: ['X'] }, '00100021': { vr: 'LO', Value: [HOSTILE[3]!] } },
    ],
  },
  '00321060': { vr: 'LO' },
};

t.test('from writes one compact member per line in tag order, and parses back to the dataset (JSON-2)', async (t) => {
  const members = DicomJsonMembers.from(DATASET);
  const lines = members.text.split('\n');
  t.equal(lines.length, Object.keys(DATASET).length, 'a raw line break only between members, never inside a value');
  t.same(
    lines.map((line) => line.slice(1, 9)),
    Object.keys(DATASET).sort(),
    'members in tag order',
  );
  t.equal(`{${lines.join(',')}}`, stringifyDicomJson(DATASET), 'the lines joined are the canonical DICOM JSON of the dataset');
  t.same(members.dataset(), DATASET);
  t.same(new DicomJsonMembers(members.text).dataset(), DATASET, 'from the stored text alone');
});

t.test('get finds a top-level member, first, inner and last, never one nested in a sequence item', async (t) => {
  const members = DicomJsonMembers.from(DATASET);
  for (const key of Object.keys(DATASET)) {
    t.same(JSON.parse(members.get(key)!), DATASET[key], `${key}`);
  }
  t.equal(members.get('00080020'), '{"vr":"DA","Value":["20260101"]}', 'the exact stored text');
  t.equal(members.get('20051430'), undefined, 'a key only inside a sequence item is not a member');
  t.equal(members.get('00100021'), undefined);
  t.equal(members.get('00080021'), undefined, 'an absent key');
  t.same(JSON.parse(members.get('00100020')!).Value, [HOSTILE[1]], 'a value that looks like a member line is not one');
});

t.test('entries lists every member in tag order', async (t) => {
  const members = DicomJsonMembers.from(DATASET);
  const entries = [...members.entries()];
  t.same(
    entries.map(([key]) => key),
    Object.keys(DATASET).sort(),
  );
  for (const [key, json] of entries) t.same(JSON.parse(json), DATASET[key], key);
});

t.test('an empty dataset is empty text', async (t) => {
  const members = DicomJsonMembers.from({});
  t.equal(members.text, '');
  t.same(members.dataset(), {});
  t.same([...members.entries()], []);
  t.equal(members.get('00080020'), undefined);
});
