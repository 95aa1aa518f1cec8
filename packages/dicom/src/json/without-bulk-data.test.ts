import t from 'tap';
import type { DicomJsonDataset } from './dicom-json.js';
import { valuesOnly, withoutBulkData } from './without-bulk-data.js';

t.test('valuesOnly drops BulkDataURI and InlineBinary attributes at any depth and keeps everything else', async (t) => {
  const dataset: DicomJsonDataset = {
    '00080020': { vr: 'DA', Value: ['20260101'] },
    '00091010': { vr: 'OB', InlineBinary: 'AAECAw==' },
    '00420011': { vr: 'OB', BulkDataURI: 'bulkdata/00420011' },
    '00400275': {
      vr: 'SQ',
      Value: [
        { '00401001': { vr: 'SH', Value: ['RP1'] }, '7FE00010': { vr: 'OB', BulkDataURI: 'bulkdata/x' } },
        { '00081110': { vr: 'SQ', Value: [{ '00081150': { vr: 'UI', Value: ['1.2'] }, '00091011': { vr: 'UN', InlineBinary: 'AA==' } }] } },
      ],
    },
    '00321060': { vr: 'LO' },
  };
  t.same(valuesOnly(dataset), {
    '00080020': { vr: 'DA', Value: ['20260101'] },
    '00400275': {
      vr: 'SQ',
      Value: [{ '00401001': { vr: 'SH', Value: ['RP1'] } }, { '00081110': { vr: 'SQ', Value: [{ '00081150': { vr: 'UI', Value: ['1.2'] } }] } }],
    },
    '00321060': { vr: 'LO' },
  });
  t.equal(withoutBulkData({ vr: 'OW', BulkDataURI: 'b' }), undefined);
  const plain = { vr: 'LO', Value: ['BulkDataURI'] };
  t.equal(withoutBulkData(plain), plain, 'an attribute without bulk data is returned as it is');
  t.same(dataset['00091010'], { vr: 'OB', InlineBinary: 'AAECAw==' }, 'the input is not changed');
});
