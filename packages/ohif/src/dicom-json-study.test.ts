import t from 'tap';
import { DicomJsonMembers, type DicomJsonDataset } from '@tessera/dicom';
import type { InstanceMatch, SeriesMatch, StudyMatch } from '@tessera/index';
import { naturalize, toOhifDicomJson } from './dicom-json-study.js';
import type { StudyView } from './study-view.js';

/** OHIF v3's DICOM JSON (the `dicomjson` data source) from a study view, no database (digest WADOURI-7, §11). */

t.test('naturalize: keywords as keys, single values unwrapped, PN as Alphabetic, sequences as items', async (t) => {
  const dataset: DicomJsonDataset = {
    '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane', Ideographic: 'ドウ' }] },
    '00280030': { vr: 'DS', Value: [0.5, 0.25] },
    '00280010': { vr: 'US', Value: [512] },
    '00081030': { vr: 'LO', Value: [] },
    '00200037': { vr: 'DS' },
    '00091001': { vr: 'LO', Value: ['private'] },
    '7FE00010': { vr: 'OW', BulkDataURI: 'bulkdata/7FE00010' },
    '00281052': { vr: 'DS', Value: [null] },
    '00081115': { vr: 'SQ', Value: [{ '0020000E': { vr: 'UI', Value: ['1.2.3.4'] } }, { '00081150': { vr: 'UI', Value: ['1.2', '1.3'] } }] },
    '00100020': { vr: 'LO', Value: ['ID', null] },
    '00321032': { vr: 'PN', Value: [{}] },
  };
  t.same(
    naturalize(dataset),
    {
      PatientName: 'Doe^Jane',
      PixelSpacing: [0.5, 0.25],
      Rows: 512,
      RescaleIntercept: null,
      ReferencedSeriesSequence: [{ SeriesInstanceUID: '1.2.3.4' }, { ReferencedSOPClassUID: ['1.2', '1.3'] }],
      PatientID: ['ID', null],
      RequestingPhysician: '',
    },
    'empty, private and binary attributes are left out',
  );
});

const study: StudyMatch = {
  studyInstanceUid: '1.2.3',
  attributes: DicomJsonMembers.from({ '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] }, '00100040': { vr: 'CS', Value: ['F'] } }),
  numberOfSeries: 1,
  numberOfInstances: 2,
  modalitiesInStudy: ['MR'],
  sopClassesInStudy: [],
};
const series: SeriesMatch = {
  study,
  seriesInstanceUid: '1.2.3.1',
  attributes: DicomJsonMembers.from({
    '00080060': { vr: 'CS', Value: ['MR'] },
    '00200011': { vr: 'IS', Value: ['7'] },
    '00080021': { vr: 'DA', Value: ['20240131'] },
  }),
  numberOfInstances: 2,
};
const instance = (sop: string, fields: Partial<InstanceMatch>): InstanceMatch => ({
  series,
  sopInstanceUid: sop,
  sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
  instanceNumber: null,
  rows: null,
  columns: null,
  bitsAllocated: null,
  numberOfFrames: null,
  transferSyntaxUid: '1.2.840.10008.1.2.1',
  ...fields,
});
const view: StudyView = {
  study,
  series: [
    {
      uid: '1.2.3.1',
      attributes: series.attributes.dataset(),
      instances: [
        instance('1.2.3.1.1', { numberOfFrames: 1, metadata: { '00280010': { vr: 'US', Value: [64] }, '00080018': { vr: 'UI', Value: ['stale'] } } }),
        instance('1.2.3.1.2', { numberOfFrames: 3 }),
      ],
    },
  ],
};

t.test('the study document: study and series fields, one entry per frame', async (t) => {
  const [document] = toOhifDicomJson(view, 'https://pacs.test').studies;
  t.match(document, {
    StudyInstanceUID: '1.2.3',
    PatientName: 'Doe^Jane',
    PatientSex: 'F',
    PatientID: '',
    StudyDate: '',
    NumInstances: 2,
    NumOfSeries: 1,
    Modalities: 'MR',
  });
  const [s] = document!.series;
  t.match(
    s,
    { SeriesInstanceUID: '1.2.3.1', SeriesNumber: 7, Modality: 'MR', SeriesDate: '20240131', SeriesTime: '', SeriesDescription: '' },
    'an IS SeriesNumber as a number',
  );
  const wado = (sop: string) =>
    `dicomweb:https://pacs.test/wadouri/?requestType=WADO&studyUID=1.2.3&seriesUID=1.2.3.1&objectUID=${sop}&contentType=application%2Fdicom&transferSyntax=*`;
  t.same(
    s!.instances.map((i) => i.url),
    [wado('1.2.3.1.1'), `${wado('1.2.3.1.2')}&frame=1`, `${wado('1.2.3.1.2')}&frame=2`, `${wado('1.2.3.1.2')}&frame=3`],
    'the WADO-URI URL OHIF requests (WADOURI-7); a 3-frame instance listed three times with &frame=n',
  );
  t.same(
    s!.instances[0]!.metadata,
    { Rows: 64, SOPInstanceUID: '1.2.3.1.1', StudyInstanceUID: '1.2.3', SeriesInstanceUID: '1.2.3.1', SOPClassUID: '1.2.840.10008.5.1.4.1.1.4' },
    'the UIDs of the index win over the stored metadata',
  );
  t.same(
    s!.instances[1]!.metadata,
    { StudyInstanceUID: '1.2.3', SeriesInstanceUID: '1.2.3.1', SOPInstanceUID: '1.2.3.1.2', SOPClassUID: '1.2.840.10008.5.1.4.1.1.4' },
    'no metadata loaded: the UIDs alone',
  );
});
