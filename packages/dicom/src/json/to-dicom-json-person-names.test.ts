import t from 'tap';
import { convertSharedFiles } from '../testing/converted-files.js';
import { readManifestEntries } from '../testing/manifest.js';
import type { DicomJsonDataset, PersonNameValue } from './dicom-json.js';

/** Person names and character sets (digest JSON-6, JSON-12), checked against pydicom's reading in MANIFEST.tsv. */

const { files: converted, get, everyAttribute } = await convertSharedFiles();
const manifest = readManifestEntries();

const personName = (text: string): PersonNameValue => {
  const groups = ['Alphabetic', 'Ideographic', 'Phonetic'] as const;
  const value: PersonNameValue = {};
  text.split('=').forEach((group, index) => {
    if (group !== '') value[groups[index]!] = group;
  });
  return value;
};

t.test('JSON-6: PN values are component-group objects', async (t) => {
  everyAttribute(t, 'JSON-6: PN value is null or an object of groups', ({ attr }) => {
    if (attr.vr !== 'PN' || !attr.Value) return undefined;
    for (const v of attr.Value) {
      if (v === null) continue;
      if (typeof v !== 'object') return `bare ${typeof v}`;
      const entries = Object.entries(v);
      if (entries.length === 0) return 'empty object';
      for (const [group, text] of entries) {
        if (!['Alphabetic', 'Ideographic', 'Phonetic'].includes(group)) return `unknown group ${group}`;
        if (typeof text !== 'string' || text === '' || text.includes('=')) return `${group}: ${JSON.stringify(text)}`;
      }
    }
    return undefined;
  });
});

t.test("JSON-6/JSON-12: charset samples give pydicom's patient names (MANIFEST.tsv)", async (t) => {
  const samples = [
    'charset/chrArab.dcm',
    'charset/chrFren.dcm',
    'charset/chrFrenMulti.dcm',
    'charset/chrGerm.dcm',
    'charset/chrGreek.dcm',
    'charset/chrH31.dcm',
    'charset/chrH32.dcm',
    'charset/chrHbrw.dcm',
    'charset/chrI2.dcm',
    'charset/chrJapMulti.dcm',
    'charset/chrJapMultiExplicitIR6.dcm',
    'charset/chrKoreanMulti.dcm',
    'charset/chrRuss.dcm',
    'charset/chrX1.dcm',
    'charset/chrX2.dcm',
    'charset/iso-ir-13-katakana-mr.dcm',
    'charset/iso2022-ir13-ir87-ct-j2k.dcm',
    'charset/latin2-sr-MarekLatin2.dcm',
  ];
  for (const path of samples) {
    const row = manifest.get(path)!;
    const name = get(path).metadata['00100010'];
    t.same(name, { vr: 'PN', Value: [personName(row.patientName)] }, `JSON-6: ${path} (${row.charset}) PatientName = ${row.patientName}`);
  }
  t.same(get('charset/chrFren.dcm').metadata['00100010']?.Value, [{ Alphabetic: 'Buc^Jérôme' }], 'JSON-12: ISO_IR 100 → UTF-8 Buc^Jérôme');
  t.same(
    get('charset/chrH31.dcm').metadata['00100010']?.Value,
    [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' }],
    'JSON-6: \\ISO 2022 IR 87 (empty first value = default repertoire) gives three groups',
  );
  t.same(
    get('charset/chrI2.dcm').metadata['00100010']?.Value,
    [{ Alphabetic: 'Hong^Gildong', Ideographic: '洪^吉洞', Phonetic: '홍^길동' }],
    'JSON-6: \\ISO 2022 IR 149 Korean groups',
  );
  t.same(get('edge/minimal/sc-jpeg-lossless-tiny.dcm').metadata['00100010']?.Value, [{ Alphabetic: 'Issue^^' }], 'JSON-6: empty components are kept');
  // Character set declared in a sequence item, and ESC ( B used without declaring ISO 2022 IR 6.
  for (const path of ['charset/chrSQEncoding.dcm', 'charset/chrSQEncoding1.dcm']) {
    const item = get(path).metadata['00321064']?.Value?.[0] as DicomJsonDataset | undefined;
    t.same(
      item?.['00100010']?.Value,
      [{ Alphabetic: 'ﾔﾏﾀﾞ^ﾀﾛｳ', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' }],
      `JSON-12: ${path} PN inside a sequence item`,
    );
  }
});

t.test("JSON-6: every accepted file's PatientName matches MANIFEST.tsv", async (t) => {
  const failures: string[] = [];
  let compared = 0;
  for (const file of converted) {
    const row = manifest.get(file.path);
    if (!row || !file.description || row.patientName === '') continue;
    const value = file.metadata['00100010']?.Value?.[0] as PersonNameValue | undefined;
    const written = [value?.Alphabetic ?? '', value?.Ideographic ?? '', value?.Phonetic ?? ''].join('=').replace(/=+$/, '');
    compared++;
    if (written !== row.patientName.replace(/=+$/, '')) failures.push(`${file.path}: ${JSON.stringify(written)} ≠ ${JSON.stringify(row.patientName)}`);
  }
  t.same(failures, [], `JSON-6: ${compared} patient names as pydicom reads them`);
});

t.test('JSON-12: UTF-8 label and no ISO 2022 escapes', async (t) => {
  for (const file of converted) {
    if (file.hadCharset) {
      if (JSON.stringify(file.metadata['00080005']) !== '{"vr":"CS","Value":["ISO_IR 192"]}') t.fail(`JSON-12: ${file.path} (0008,0005) is not ISO_IR 192`);
    } else if (file.metadata['00080005']) t.fail(`JSON-12: ${file.path} gained a (0008,0005)`);
  }
  t.pass(`JSON-12: (0008,0005) is "ISO_IR 192" in the ${converted.filter((c) => c.hadCharset).length} files that had one`);
  everyAttribute(t, 'JSON-12: no ESC (0x1B) in any string', ({ attr }) => {
    const strings = (attr.Value ?? []).flatMap((v) =>
      typeof v === 'string' ? [v] : v !== null && typeof v === 'object' && attr.vr === 'PN' ? Object.values(v) : [],
    );
    return strings.some((s) => typeof s === 'string' && s.includes('\x1b')) ? 'ESC' : undefined;
  });
});
