import t from 'tap';
import { BE, LE, element, jsonOf } from '../testing/built-elements.js';
import { convertSharedFiles, walk } from '../testing/converted-files.js';
import type { DicomJsonDataset } from './dicom-json.js';

/** Binary values: InlineBinary and BulkDataURI (digest JSON-9, JSON-10), on every shared file and on built datasets. */

const { files: converted, get, everyAttribute } = await convertSharedFiles();

/** Where an element's value starts for each header layout: explicit short, explicit long, implicit. */
function valueHeaderMatches(bytes: Buffer, offset: number, tagKey: string, length: number, littleEndian: boolean): boolean {
  const group = Number.parseInt(tagKey.slice(0, 4), 16);
  const element = Number.parseInt(tagKey.slice(4), 16);
  const u16 = (at: number) => (littleEndian ? bytes.readUInt16LE(at) : bytes.readUInt16BE(at));
  const u32 = (at: number) => (littleEndian ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const tagAt = (at: number) => at >= 0 && u16(at) === group && u16(at + 2) === element;
  const shortExplicit = tagAt(offset - 8) && /^[A-Z]{2}$/.test(bytes.toString('latin1', offset - 4, offset - 2)) && u16(offset - 2) === length;
  const longExplicit = tagAt(offset - 12) && /^[A-Z]{2}$/.test(bytes.toString('latin1', offset - 8, offset - 6)) && u32(offset - 4) === length;
  const implicit = tagAt(offset - 8) && u32(offset - 4) === length;
  // UN values are little endian whatever the transfer syntax.
  return shortExplicit || longExplicit || implicit || (!littleEndian && valueHeaderMatches(bytes, offset, tagKey, length, true));
}

t.test('JSON-10: pixel data and binary values over 1 KiB are bulk data', async (t) => {
  const PIXEL = new Set(['7FE00008', '7FE00009', '7FE00010']);
  everyAttribute(t, 'JSON-10: top-level pixel data is BulkDataURI bulkdata/<tag>', ({ key, attr, path }, file) => {
    if (!PIXEL.has(key) || path !== key || !file.description) return undefined;
    return attr.BulkDataURI === `bulkdata/${key}` && !('Value' in attr) && !('InlineBinary' in attr) ? undefined : JSON.stringify(attr);
  });
  everyAttribute(t, 'JSON-9: InlineBinary is base64 of at most 1024 bytes', ({ attr }) => {
    if (attr.InlineBinary === undefined) return undefined;
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(attr.InlineBinary)) return 'not base64';
    const size = Buffer.from(attr.InlineBinary, 'base64').length;
    return size > 1024 ? `${size} bytes inline` : undefined;
  });
  everyAttribute(t, 'JSON-9: InlineBinary only for binary VRs', ({ attr }) =>
    attr.InlineBinary !== undefined && !['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN'].includes(attr.vr) ? attr.vr : undefined,
  );
  everyAttribute(t, 'JSON-10: BulkDataURI allowed for the VR', ({ attr }) =>
    attr.BulkDataURI !== undefined &&
    !['DS', 'FL', 'FD', 'IS', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SL', 'SS', 'ST', 'SV', 'UC', 'UL', 'UN', 'US', 'UT', 'UV'].includes(attr.vr)
      ? attr.vr
      : undefined,
  );
  everyAttribute(t, 'JSON-10: every BulkDataURI has a bulk data reference', ({ attr, path }, file) => {
    if (attr.BulkDataURI === undefined) return undefined;
    if (attr.BulkDataURI !== `bulkdata/${path}`) return `URI ${attr.BulkDataURI}`;
    const encapsulated = file.description?.frames?.kind === 'encapsulated' && path === '7FE00010';
    return encapsulated || file.bulkData.some((ref) => ref.path === path) ? undefined : 'no reference';
  });

  const failures: string[] = [];
  let checked = 0;
  for (const file of converted) {
    for (const ref of file.bulkData) {
      const visit = [...walk(file.metadata)].find((v) => v.path === ref.path);
      if (visit?.attr.BulkDataURI !== `bulkdata/${ref.path}`) failures.push(`${file.path} ${ref.path}: reference without BulkDataURI`);
      const key = ref.path.split('/').at(-1)!;
      for (const span of ref.spans) {
        checked++;
        if (span.offset + span.length > file.bytes.length) failures.push(`${file.path} ${ref.path}: span past the end`);
        else if (ref.spans.length === 1 && !valueHeaderMatches(file.bytes, span.offset, key, span.length, file.littleEndian)) {
          failures.push(`${file.path} ${ref.path}: no (${key}) header declaring ${span.length} bytes before offset ${span.offset}`);
        }
      }
      const size = ref.spans.reduce((sum, span) => sum + span.length, 0);
      if (!key.startsWith('7FE0') && size <= 1024) failures.push(`${file.path} ${ref.path}: ${size} bytes should be inline`);
    }
  }
  t.same(failures.slice(0, 20), [], `JSON-10: ${checked} bulk data spans are exactly their element's value in the file`);

  const overlay = get('studies/patient-with-2-studies/TEST_1_study_1234.dcm');
  t.same(overlay.metadata['60003000'], { vr: 'OW', BulkDataURI: 'bulkdata/60003000' }, 'JSON-10: 32 KiB OverlayData → BulkDataURI');
  const icon = get('edge/private/mr-siemens-overlay-icon-csa.dcm');
  const iconItem = icon.metadata['00880200']?.Value?.[0] as DicomJsonDataset;
  t.same(iconItem['7FE00010'], { vr: 'OW', BulkDataURI: 'bulkdata/00880200/0/7FE00010' }, 'JSON-10: icon pixel data inside a sequence item');
  const ecg = get('non-image/other/ecg-12lead-waveform.dcm');
  const waveform = ecg.bulkData.find((ref) => ref.path === '54000100/0/54001010')!;
  t.equal(waveform.spans[0]!.length, 240000, 'JSON-10: WaveformData reference covers the 240000-byte value');
});

t.test('JSON-9: InlineBinary holds little-endian bytes whatever the transfer syntax', async (t) => {
  const ow = (le: boolean) => element(0x00283006, 'OW', Buffer.from(le ? [1, 0, 2, 0, 3, 0] : [0, 1, 0, 2, 0, 3]), le);
  t.same(jsonOf([ow(true)], LE)['00283006'], { vr: 'OW', InlineBinary: 'AQACAAMA' }, 'JSON-9: OW 01 00 02 00 03 00 → "AQACAAMA"');
  t.same(jsonOf([ow(false)], BE)['00283006'], { vr: 'OW', InlineBinary: 'AQACAAMA' }, 'JSON-9: the same OW from big endian → "AQACAAMA"');

  const floats = Buffer.alloc(8);
  floats.writeFloatBE(1.5, 0);
  floats.writeFloatBE(-2, 4);
  const expected = Buffer.alloc(8);
  expected.writeFloatLE(1.5, 0);
  expected.writeFloatLE(-2, 4);
  t.same(
    jsonOf([element(0x00640009, 'OF', floats, false)], BE)['00640009'],
    { vr: 'OF', InlineBinary: expected.toString('base64') },
    'JSON-9: OF swapped per 4-byte value',
  );

  const numbers = Buffer.alloc(4);
  numbers.writeUInt16BE(512, 0);
  numbers.writeUInt16BE(7, 2);
  t.same(jsonOf([element(0x00280010, 'US', numbers, false)], BE)['00280010'], { vr: 'US', Value: [512, 7] }, 'JSON-5: big-endian US values');
  const at = Buffer.from([0x00, 0x18, 0x10, 0x63]);
  t.same(jsonOf([element(0x00280009, 'AT', at, false)], BE)['00280009'], { vr: 'AT', Value: ['00181063'] }, 'JSON-7: big-endian AT');
  t.same(
    jsonOf([element(0x00280009, 'AT', Buffer.from([0x18, 0x00, 0x63, 0x10]))], LE)['00280009'],
    { vr: 'AT', Value: ['00181063'] },
    'JSON-7: little-endian AT',
  );

  const ob = jsonOf([element(0x00420011, 'OB', Buffer.alloc(1025, 7))], LE)['00420011'];
  t.same(ob, { vr: 'OB', BulkDataURI: 'bulkdata/00420011' }, 'JSON-10: 1025 bytes → BulkDataURI');
  const small = jsonOf([element(0x00420011, 'OB', Buffer.alloc(1024, 7))], LE)['00420011'];
  t.equal(Buffer.from(small!.InlineBinary!, 'base64').length, 1024, 'JSON-9: 1024 bytes stay inline');
});

t.test('JSON-9: big-endian and little-endian twins give the same metadata', async (t) => {
  const pairs = [
    ['multiframe/enhanced-mr-emri_small-10fr-bigendian.dcm', 'multiframe/enhanced-mr-emri_small-10fr.dcm'],
    ['transfer-syntax/ct-one-image/ct_1.2.840.10008.1.2.2.dcm', 'transfer-syntax/ct-one-image/ct_1.2.840.10008.1.2.1.dcm'],
    ['transfer-syntax/small/mr-small_1.2.840.10008.1.2.2_explicit-be.dcm', 'transfer-syntax/small/mr-small_1.2.840.10008.1.2.1_explicit-le.dcm'],
    ['edge/no-meta/explicit-be-no-meta.dcm', 'edge/no-meta/explicit-le-no-meta.dcm'],
  ];
  for (const [bigPath, littlePath] of pairs) {
    const big = get(bigPath!);
    const little = get(littlePath!);
    t.equal(big.littleEndian, false, `${bigPath} is big endian`);
    // The metadata excludes group 0002, so no transfer-syntax-dependent attribute remains.
    t.same(big.metadata, little.metadata, `JSON-9: ${bigPath} metadata = ${littlePath}'s`);
  }
  const big = get('multiframe/enhanced-mr-emri_small-10fr-bigendian.dcm').metadata;
  t.same(big['00280010'], { vr: 'US', Value: [64] }, 'JSON-5: Rows from big endian');
  t.same(big['00280011'], { vr: 'US', Value: [64] }, 'JSON-5: Columns from big endian');
  t.same(big['00280100'], { vr: 'US', Value: [16] }, 'JSON-5: BitsAllocated from big endian');
  const fds = [...walk(big)].filter((v) => v.attr.vr === 'FD' && v.attr.Value);
  t.ok(fds.length > 0, `${fds.length} FD attributes in the big-endian file`);
  const little = get('multiframe/enhanced-mr-emri_small-10fr.dcm').metadata;
  const littleFds = new Map([...walk(little)].map((v) => [v.path, v.attr]));
  for (const fd of fds) t.same(fd.attr, littleFds.get(fd.path), `JSON-9: FD ${fd.path} = ${JSON.stringify(fd.attr.Value)}`);
  const ct = get('transfer-syntax/ct-one-image/ct_1.2.840.10008.1.2.2.dcm').metadata;
  t.same(ct['00280120'], { vr: 'SS', Value: [-32768] }, 'JSON-5: big-endian SS PixelPaddingValue');
});
