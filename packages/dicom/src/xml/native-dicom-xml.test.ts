import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { readShared, sharedFiles } from '@tessera/test-data';
import type { DicomJsonDataset } from '../json/dicom-json.js';
import { toDicomJson } from '../json/to-dicom-json.js';
import { type DescribeOptions, describeInstance } from '../part10/describe-instance.js';
import { bufferByteSource } from '../part10/file-source.js';
import { readPart10Header } from '../part10/read-part10.js';
import { fromNativeDicomXml } from '../testing/from-native-dicom-xml.js';
import { NATIVE_DICOM_NAMESPACE, toNativeDicomXml } from './native-dicom-xml.js';

/**
 * The Native DICOM Model writer (PS3.19 §A.1; PS3.18 §8.7.3.5 for application/dicom+xml; digest
 * WADORS-4, QIDO-2, STOW-4 name the XML forms): cases of each rule, then every file of the shared
 * corpus through DICOM JSON → XML → DICOM JSON, validated against the RELAX NG grammar of the model.
 */

const SCHEMA = fileURLToPath(new URL('./native-dicom-model.rng', import.meta.url));
const roundTrip = (ds: DicomJsonDataset) => fromNativeDicomXml(toNativeDicomXml(ds));

t.test('document: declaration, namespace, xml:space, tag / vr / keyword, values numbered from 1', async (t) => {
  const xml = toNativeDicomXml({
    '00080060': { vr: 'CS', Value: ['CT'] },
    '00080008': { vr: 'CS', Value: ['ORIGINAL', null, 'AXIAL'] },
    '00200013': { vr: 'IS', Value: [7] },
    '00280030': { vr: 'DS', Value: [0.5, -0] },
    '00100020': { vr: 'LO' },
  });
  t.ok(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n'), 'XML declaration, UTF-8');
  t.match(xml, `<NativeDicomModel xmlns="${NATIVE_DICOM_NAMESPACE}" xml:space="preserve">`);
  t.match(
    xml,
    '<DicomAttribute tag="00080008" vr="CS" keyword="ImageType"><Value number="1">ORIGINAL</Value><Value number="2"/><Value number="3">AXIAL</Value></DicomAttribute>',
    'a null value of a multi-valued attribute is an empty Value, numbering goes on',
  );
  t.match(xml, '<DicomAttribute tag="00100020" vr="LO" keyword="PatientID"/>', 'zero-length attribute: no Value element');
  t.match(xml, '<Value number="2">-0</Value>', 'negative zero kept');
  t.ok(xml.indexOf('tag="00080008"') < xml.indexOf('tag="00080060"') && xml.indexOf('tag="00200013"') < xml.indexOf('tag="00280030"'), 'tag order');
  t.strictSame(fromNativeDicomXml(xml)['00280030'], { vr: 'DS', Value: [0.5, -0] });
});

t.test('escaping: markup characters, CR, attribute whitespace; characters XML 1.0 cannot carry', async (t) => {
  const ds: DicomJsonDataset = {
    '0008103E': { vr: 'LO', Value: ['a & b <c> "d" \'e\' ]]>'] },
    '00204000': { vr: 'LT', Value: ['line 1\r\nline 2\ttab'] },
    '00081030': { vr: 'LO', Value: ['page\fbreak', 'ok'] },
    '00180015': { vr: 'CS', Value: ['\u0000'] },
    '7FE00010': { vr: 'OW', BulkDataURI: 'https://h/x?a=1&b="2"\t' },
  };
  const xml = toNativeDicomXml(ds);
  t.match(xml, '<Value number="1">a &amp; b &lt;c&gt; "d" \'e\' ]]&gt;</Value>');
  t.match(xml, 'line 1&#xD;\nline 2\ttab', 'CR as a reference, so a parser does not turn CR LF into LF');
  t.match(xml, '<BulkData uri="https://h/x?a=1&amp;b=&quot;2&quot;&#x9;"/>');
  t.notMatch(xml, /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/, 'no character XML 1.0 forbids');
  t.match(
    xml,
    `<DicomAttribute tag="00081030" vr="LO" keyword="StudyDescription"><InlineBinary>${Buffer.from('page\fbreak\\ok').toString('base64')}</InlineBinary>`,
    'an attribute with a form feed is its UTF-8 Value Field as InlineBinary',
  );
  t.strictSame(roundTrip(ds), ds, 'and every value comes back unchanged');
});

t.test('PersonName: groups and components, empty components, trailing carets, more than five', async (t) => {
  const ds: DicomJsonDataset = {
    '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' }] },
    '00081070': {
      vr: 'PN',
      Value: [{ Alphabetic: 'Doe^^Bob^Dr.^Jr.' }, null, { Alphabetic: 'Roe^Jane^^' }, { Ideographic: '王^小東' }, { Alphabetic: 'a^b^c^d^e^f' }],
    },
  };
  const xml = toNativeDicomXml(ds);
  t.match(
    xml,
    '<PersonName number="1"><Alphabetic><FamilyName>Yamada</FamilyName><GivenName>Tarou</GivenName></Alphabetic><Ideographic><FamilyName>山田</FamilyName><GivenName>太郎</GivenName></Ideographic><Phonetic><FamilyName>やまだ</FamilyName><GivenName>たろう</GivenName></Phonetic></PersonName>',
  );
  t.match(
    xml,
    '<PersonName number="1"><Alphabetic><FamilyName>Doe</FamilyName><MiddleName>Bob</MiddleName><NamePrefix>Dr.</NamePrefix><NameSuffix>Jr.</NameSuffix></Alphabetic></PersonName><PersonName number="2"/>',
  );
  t.match(xml, '<Alphabetic><FamilyName>Roe</FamilyName><GivenName>Jane</GivenName><NamePrefix/></Alphabetic>', 'the last, empty, component is kept');
  t.match(xml, '<PersonName number="4"><Ideographic>', 'a name with only an ideographic group');
  t.match(xml, '<NameSuffix>e^f</NameSuffix>', 'components past the fifth stay in NameSuffix');
  t.strictSame(roundTrip(ds), ds);
});

t.test('sequences, private attributes, binary values', async (t) => {
  const ds: DicomJsonDataset = {
    '00081115': { vr: 'SQ', Value: [{ '0020000E': { vr: 'UI', Value: ['1.2.3'] } }, {}] },
    '00081140': { vr: 'SQ' },
    '00090010': { vr: 'LO', Value: ['ACME 1.0'] },
    '00090011': { vr: 'LO', Value: ['OTHER'] },
    '00090012': { vr: 'LO' },
    '00091015': { vr: 'UN', InlineBinary: 'AAEC' },
    '00091215': { vr: 'LO', Value: ['no value in the creator element'] },
    '00091102': { vr: 'SQ', Value: [{ '00290010': { vr: 'LO', Value: ['inner'] }, '00291001': { vr: 'LO' } }] },
    '00091120': { vr: 'US', Value: [65535, 1] },
    '00190011': { vr: 'LO', Value: ['GEMS'] },
    '00191001': { vr: 'UL', Value: [1] },
    '00280008': { vr: 'IS', Value: [1] },
  };
  const xml = toNativeDicomXml(ds);
  t.match(
    xml,
    '<DicomAttribute tag="00081115" vr="SQ" keyword="ReferencedSeriesSequence"><Item number="1"><DicomAttribute tag="0020000E" vr="UI" keyword="SeriesInstanceUID"><Value number="1">1.2.3</Value></DicomAttribute></Item><Item number="2"></Item></DicomAttribute>',
  );
  t.match(
    xml,
    '<DicomAttribute tag="00090010" vr="LO"><Value number="1">ACME 1.0</Value></DicomAttribute>',
    'a Private Creator element: its own tag, no keyword',
  );
  t.match(
    xml,
    '<DicomAttribute tag="00090015" vr="UN" privateCreator="ACME 1.0"><InlineBinary>AAEC</InlineBinary></DicomAttribute>',
    'a private data element: gggg00ee and its creator (PS3.19 Table A.1.5-2)',
  );
  t.match(
    xml,
    '<DicomAttribute tag="00090020" vr="US" privateCreator="OTHER"><Value number="1">65535</Value><Value number="2">1</Value></DicomAttribute>',
    'block 11 → creator OTHER',
  );
  t.match(xml, '<DicomAttribute tag="00090002" vr="SQ" privateCreator="OTHER"><Item number="1">', 'a private sequence');
  t.match(xml, '<DicomAttribute tag="00091215" vr="LO"><Value', 'a creator element without value: tag as it is');
  t.match(xml, '<DicomAttribute tag="00191001" vr="UL"><Value number="1">1</Value>', 'no creator in the dataset: tag as it is');
  t.match(xml, '<DicomAttribute tag="00290001" vr="LO" privateCreator="inner"/>', 'creators are looked up in the item that holds the element');
  t.strictSame(roundTrip(ds), ds);
});

t.test('fromNativeDicomXml refuses documents that do not follow the model', async (t) => {
  const wrap = (inner: string) => `<NativeDicomModel xmlns="${NATIVE_DICOM_NAMESPACE}" xml:space="preserve">${inner}</NativeDicomModel>`;
  t.throws(() => fromNativeDicomXml(wrap('<DicomAttribute tag="00100010" vr="PN"><Value number="1">x</Value>')), 'not well-formed');
  t.throws(
    () => fromNativeDicomXml(wrap('<DicomAttribute tag="00100010" vr="PN"><Value number="1">x</Value></DicomAttribute>')),
    /Value in a DicomAttribute of vr PN/,
  );
  t.throws(() => fromNativeDicomXml(wrap('<DicomAttribute tag="00080008" vr="CS"><Value number="2">x</Value></DicomAttribute>')), /number="2" where 1 was due/);
  t.throws(() => fromNativeDicomXml(wrap('<DicomAttribute tag="0008000a" vr="CS"/>')), /upper-case hex/);
  t.throws(() => fromNativeDicomXml(wrap('<DicomAttribute tag="00091001" vr="LO" privateCreator="X"/>')), /gggg00ee/);
  t.throws(() => fromNativeDicomXml('<NativeDicomModel xml:space="preserve"/>'), /namespace/);
  t.throws(
    () => fromNativeDicomXml(wrap('<DicomAttribute tag="00080060" vr="CS"><Value number="1">\u000c</Value></DicomAttribute>')),
    'a form feed is not XML 1.0',
  );
});

// ---------------------------------------------------------------------------------------------
// Every file of the shared corpus

const OPTIONS: DescribeOptions = { maxHeaderBytes: 64 * 1024 * 1024, inlineBinaryMaxBytes: 1024 };

/** The file's DICOM JSON as the server stores it (describeInstance), or as toDicomJson writes it when STOW would refuse the file. */
async function dicomJsonOf(path: string): Promise<DicomJsonDataset | undefined> {
  const file = readShared(path);
  let header;
  try {
    header = await readPart10Header(bufferByteSource(file), OPTIONS);
  } catch {
    return undefined; // not readable as DICOM at all (bad/ inputs): no dataset to convert
  }
  try {
    return (await describeInstance(bufferByteSource(file), OPTIONS)).metadata;
  } catch {
    return toDicomJson(header.buffer, header.dataset, { inlineBinaryMaxBytes: 1024, bulkDataUri: (p) => `bulkdata/${p}` }).dataset;
  }
}

t.test('every file of the corpus: JSON → XML → JSON is the identity, and the XML follows the model', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-native-xml-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const written: string[] = [];
  const seen = { files: 0, privateCreators: 0, personNames: 0, items: 0, inlineText: 0, bulkData: 0 };
  for (const path of sharedFiles()) {
    const json = await dicomJsonOf(path);
    if (!json) continue;
    seen.files += 1;
    const xml = toNativeDicomXml(json);
    seen.privateCreators += xml.split(' privateCreator="').length - 1;
    seen.personNames += xml.split('<PersonName ').length - 1;
    seen.items += xml.split('<Item ').length - 1;
    seen.bulkData += xml.split('<BulkData ').length - 1;
    seen.inlineText += [...xml.matchAll(/vr="(?!OB|OD|OF|OL|OV|OW|UN)[A-Z]{2}"[^>]*><InlineBinary>/g)].length;
    let back: DicomJsonDataset;
    try {
      back = fromNativeDicomXml(xml);
    } catch (error) {
      t.fail(`${path}: ${(error as Error).message}`);
      continue;
    }
    t.strictSame(back, json, `${path}: same DICOM JSON after the round trip`);
    const file = join(dir, `${written.length}.xml`);
    writeFileSync(file, xml);
    written.push(file);
  }
  t.ok(seen.files > 250, `${seen.files} files converted`);
  t.comment(
    `corpus through XML: ${seen.files} files, ${seen.personNames} PersonName, ${seen.items} Item, ${seen.privateCreators} privateCreator, ${seen.bulkData} BulkData, ${seen.inlineText} text attributes as InlineBinary`,
  );
  t.ok(
    seen.privateCreators > 0 && seen.personNames > 0 && seen.items > 0 && seen.bulkData > 0,
    'the corpus exercises private attributes, names, sequences and bulk data',
  );

  // Schema-level check: xmllint (Debian libxml2-utils, installed by .ci/run) against the RELAX NG grammar.
  const xmllint = spawnSync('xmllint', ['--version']);
  if (xmllint.error) {
    if (process.env.CI) t.fail('xmllint is missing (apt-get install libxml2-utils)');
    else t.comment('SKIPPED: xmllint not installed, the RELAX NG validation did not run (the structural checks of fromNativeDicomXml did)');
    return;
  }
  for (let i = 0; i < written.length; i += 100) {
    const batch = written.slice(i, i + 100);
    const run = spawnSync('xmllint', ['--noout', '--relaxng', SCHEMA, ...batch], { encoding: 'utf8' });
    const failures = run.stderr.split('\n').filter((line) => line !== '' && !line.endsWith(' validates'));
    t.equal(run.status, 0, `xmllint --relaxng: files ${i + 1}-${i + batch.length} validate`);
    t.strictSame(failures, [], 'no validation message');
  }
  // The grammar is not a rubber stamp: a document breaking the model fails it.
  const broken = join(dir, 'broken.xml');
  writeFileSync(broken, toNativeDicomXml({ '00080060': { vr: 'CS', Value: ['CT'] } }).replace('vr="CS"', 'vr="XX"'));
  t.throws(() => execFileSync('xmllint', ['--noout', '--relaxng', SCHEMA, broken], { stdio: 'pipe' }), 'xmllint rejects an unknown vr');
});
