import t from 'tap';
import { DicomJsonMembers, type DicomJsonDataset } from '@tessera/dicom';
import type { InstanceMatch, SeriesMatch, StudyMatch } from '@tessera/index';
import { toLegacyStudy } from './legacy-study.js';
import type { StudyView } from './study-view.js';

/** OHIF's legacy standalone JSON (`/ohif/study/{s}/series`) from a study view, no database. */

const study: StudyMatch = {
  studyInstanceUid: '1.2.3',
  attributes: DicomJsonMembers.from({
    '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane', Ideographic: 'ドウ^ジェーン' }] },
    '00100020': { vr: 'LO', Value: ['P-1'] },
    '00080020': { vr: 'DA', Value: ['20240131'] },
    '00080030': { vr: 'TM', Value: ['101500'] },
    '00081030': { vr: 'LO', Value: ['CT chest'] },
  }),
  numberOfSeries: 2,
  numberOfInstances: 3,
  modalitiesInStudy: ['CT', 'SR'],
  sopClassesInStudy: [],
};
const series = (uid: string, attributes: DicomJsonDataset): SeriesMatch => ({
  study,
  seriesInstanceUid: uid,
  attributes: DicomJsonMembers.from(attributes),
  numberOfInstances: 1,
});
const instance = (s: SeriesMatch, sop: string, fields: Partial<InstanceMatch> = {}): InstanceMatch => ({
  series: s,
  sopInstanceUid: sop,
  sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
  instanceNumber: null,
  rows: null,
  columns: null,
  bitsAllocated: null,
  numberOfFrames: null,
  transferSyntaxUid: '1.2.840.10008.1.2.1',
  ...fields,
});
const ct = series('1.2.3.1', { '0008103E': { vr: 'LO', Value: ['Axial'] }, '00200011': { vr: 'IS', Value: [2] }, '00080060': { vr: 'CS', Value: ['CT'] } });
const sr = series('1.2.3.2', {});
const view: StudyView = {
  study,
  series: [
    {
      uid: ct.seriesInstanceUid,
      attributes: ct.attributes.dataset(),
      instances: [instance(ct, '1.2.3.1.1', { instanceNumber: 1, rows: 512, columns: 256, numberOfFrames: 3 }), instance(ct, '1.2.3.1.2')],
    },
    { uid: sr.seriesInstanceUid, attributes: sr.attributes.dataset(), instances: [instance(sr, '1.2.3.2.1')] },
  ],
};

t.test('keys, nesting and values of the legacy document', async (t) => {
  const document = toLegacyStudy(view, 'https://pacs.test/tessera');
  t.match(document.transactionId, /^[0-9a-f-]{36}$/, 'a transaction id per document');
  t.not(toLegacyStudy(view, 'https://pacs.test').transactionId, document.transactionId, 'a new one each time');
  t.same(
    document.studies,
    [
      {
        studyInstanceUid: '1.2.3',
        patientName: 'Doe^Jane',
        patientId: 'P-1',
        studyDate: '20240131',
        studyTime: '101500',
        studyDescription: 'CT chest',
        accessionNumber: '',
        modalities: 'CT\\SR',
        seriesList: [
          {
            seriesInstanceUid: '1.2.3.1',
            seriesDescription: 'Axial',
            seriesNumber: 2,
            modality: 'CT',
            instances: [
              {
                sopInstanceUid: '1.2.3.1.1',
                instanceNumber: 1,
                rows: 512,
                columns: 256,
                numberOfFrames: 3,
                url: 'dicomweb://pacs.test/tessera/wadouri/?RequestType=wado&studyUID=1.2.3&seriesUID=1.2.3.1&objectUID=1.2.3.1.1&contentType=application/dicom',
              },
              {
                sopInstanceUid: '1.2.3.1.2',
                instanceNumber: null,
                rows: 0,
                columns: 0,
                numberOfFrames: 1,
                url: 'dicomweb://pacs.test/tessera/wadouri/?RequestType=wado&studyUID=1.2.3&seriesUID=1.2.3.1&objectUID=1.2.3.1.2&contentType=application/dicom',
              },
            ],
          },
          {
            seriesInstanceUid: '1.2.3.2',
            seriesDescription: '',
            seriesNumber: null,
            modality: '',
            instances: [
              {
                sopInstanceUid: '1.2.3.2.1',
                instanceNumber: null,
                rows: 0,
                columns: 0,
                numberOfFrames: 1,
                url: 'dicomweb://pacs.test/tessera/wadouri/?RequestType=wado&studyUID=1.2.3&seriesUID=1.2.3.2&objectUID=1.2.3.2.1&contentType=application/dicom',
              },
            ],
          },
        ],
      },
    ],
    'PN as its Alphabetic group; absent attributes as empty strings, null numbers, 0 rows, 1 frame',
  );
});

t.test('instance URLs: the dicomweb: scheme in place of http or https, on the public base URL', async (t) => {
  for (const [base, prefix] of [
    ['http://10.0.0.5:8080', 'dicomweb://10.0.0.5:8080/wadouri/?'],
    ['https://pacs.test', 'dicomweb://pacs.test/wadouri/?'],
  ]) {
    const url = toLegacyStudy(view, base!).studies[0]!.seriesList[0]!.instances[0]!.url;
    t.ok(url.startsWith(prefix!), `${base} → ${url}`);
  }
});
