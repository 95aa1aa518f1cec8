import t from 'tap';
import { FailureReason, Tag, WarningReason, tagKey } from '@tessera/dicom';
import type { InstanceResult } from './store-instances.js';
import { summarizeOutcome, toStoreResponse } from './store-response.js';

/** The Store Instances Response Module and its HTTP status, from result values alone (digest STOW-4..6, STOW-10). */

const urls = {
  study: (s: string) => `https://pacs.test/dicomweb/studies/${s}`,
  instance: (s: string, se: string, i: string) => `https://pacs.test/dicomweb/studies/${s}/series/${se}/instances/${i}`,
};
const CT = '1.2.840.10008.5.1.4.1.1.2';
const stored = (sop: string, study = '1.2.3', extra: Partial<Extract<InstanceResult, { kind: 'stored' }>> = {}): InstanceResult => ({
  kind: 'stored',
  sopClassUid: CT,
  sopInstanceUid: sop,
  studyInstanceUid: study,
  seriesInstanceUid: `${study}.1`,
  ...extra,
});
const failed = (reason: number, sop?: string): InstanceResult => ({
  kind: 'failed',
  reason,
  detail: `failed with ${reason}`,
  ...(sop ? { sopClassUid: CT, sopInstanceUid: sop } : {}),
});
const warned = (sop: string) => stored(sop, '1.2.3', { warning: { reason: WarningReason.DataSetDoesNotMatchSOPClass, detail: 'fewer frames' } });

const key = tagKey;

t.test('HTTP status from the results (digest STOW-6)', async (t) => {
  const cases: { name: string; results: InstanceResult[]; status: number }[] = [
    { name: 'all stored, no warning', results: [stored('1.1'), stored('1.2')], status: 200 },
    { name: 'a byte-identical re-send is a success (STOW-9)', results: [stored('1.1', '1.2.3', { duplicate: true })], status: 200 },
    { name: 'all stored, one with a warning (PROJECT: 202)', results: [stored('1.1'), warned('1.2')], status: 202 },
    { name: 'some stored, some failed', results: [stored('1.1'), failed(FailureReason.StudyInstanceUIDMismatch, '1.9')], status: 202 },
    { name: 'some stored, one unreadable part', results: [stored('1.1'), failed(FailureReason.CannotUnderstand)], status: 202 },
    { name: 'nothing stored, failures tied to instances', results: [failed(FailureReason.SOPClassNotSupported, '1.9')], status: 409 },
    {
      name: 'nothing stored, a mix of instance and other failures',
      results: [failed(FailureReason.CannotUnderstand), failed(FailureReason.DuplicateSOPInstance, '1.9')],
      status: 409,
    },
    {
      name: 'nothing stored, nothing readable (STOW-8)',
      results: [failed(FailureReason.CannotUnderstand), failed(FailureReason.CannotUnderstand)],
      status: 400,
    },
    { name: 'an empty outcome', results: [], status: 400 },
  ];
  for (const c of cases) t.equal(toStoreResponse({ results: c.results }, urls).status, c.status, `${c.name} → ${c.status}`);
});

t.test('the module: presence of each attribute (digest STOW-4)', async (t) => {
  const onlyStored = toStoreResponse({ results: [stored('1.1')] }, urls).body;
  t.same(Object.keys(onlyStored), [key(Tag.RetrieveURL), key(Tag.ReferencedSOPSequence)], 'stored only: RetrieveURL and ReferencedSOPSequence');

  const onlyFailed = toStoreResponse({ results: [failed(FailureReason.SOPClassNotSupported, '1.9')] }, urls).body;
  t.same(Object.keys(onlyFailed), [key(Tag.RetrieveURL), key(Tag.FailedSOPSequence)], 'failed only: RetrieveURL (Type 2, empty) and FailedSOPSequence');
  t.same(onlyFailed[key(Tag.RetrieveURL)], { vr: 'UR' }, 'RetrieveURL present without a Value when nothing was stored');

  const all = toStoreResponse(
    { results: [stored('1.1'), failed(FailureReason.StudyInstanceUIDMismatch, '1.9'), failed(FailureReason.CannotUnderstand)] },
    urls,
  ).body;
  t.same(Object.keys(all), ['00081190', '00081198', '00081199', '0008119A'], 'keys in tag order: RetrieveURL, Failed, Referenced, OtherFailures');
});

t.test('FailedSOPSequence and OtherFailuresSequence items (digest STOW-4, STOW-5)', async (t) => {
  const body = toStoreResponse({ results: [failed(FailureReason.StudyInstanceUIDMismatch, '1.9'), failed(FailureReason.CannotUnderstand)] }, urls).body;
  t.same(
    body[key(Tag.FailedSOPSequence)]?.Value,
    [
      {
        [key(Tag.ReferencedSOPClassUID)]: { vr: 'UI', Value: [CT] },
        [key(Tag.ReferencedSOPInstanceUID)]: { vr: 'UI', Value: ['1.9'] },
        [key(Tag.FailureReason)]: { vr: 'US', Value: [43265] },
        [key(Tag.TextValue)]: { vr: 'UT', Value: [`failed with ${0xa901}`] },
      },
    ],
    'an instance failure names its SOP Class and Instance, FailureReason as a JSON number (STOW-7: 43265)',
  );
  t.same(
    body[key(Tag.OtherFailuresSequence)]?.Value,
    [
      {
        [key(Tag.FailureReason)]: { vr: 'US', Value: [49152] },
        [key(Tag.TextValue)]: { vr: 'UT', Value: [`failed with ${0xc000}`] },
      },
    ],
    'a part without UIDs goes to OtherFailuresSequence (STOW-8)',
  );

  const noClass = toStoreResponse(
    { results: [{ kind: 'failed', sopInstanceUid: '1.8', reason: FailureReason.DataSetDoesNotMatchSOPClass, detail: 'no class' }] },
    urls,
  ).body;
  t.same(
    noClass[key(Tag.FailedSOPSequence)]?.Value?.[0],
    {
      [key(Tag.ReferencedSOPClassUID)]: { vr: 'UI' },
      [key(Tag.ReferencedSOPInstanceUID)]: { vr: 'UI', Value: ['1.8'] },
      [key(Tag.FailureReason)]: { vr: 'US', Value: [43264] },
      [key(Tag.TextValue)]: { vr: 'UT', Value: ['no class'] },
    },
    'a missing SOP Class UID is an empty UI element, not an absent one',
  );
});

t.test('ReferencedSOPSequence items and RetrieveURLs (digest STOW-4, STOW-10)', async (t) => {
  const body = toStoreResponse({ results: [stored('1.1'), warned('1.2')] }, urls).body;
  t.same(body[key(Tag.RetrieveURL)], { vr: 'UR', Value: ['https://pacs.test/dicomweb/studies/1.2.3'] }, 'one study: the study URL');
  t.same(
    body[key(Tag.ReferencedSOPSequence)]?.Value,
    [
      {
        [key(Tag.ReferencedSOPClassUID)]: { vr: 'UI', Value: [CT] },
        [key(Tag.ReferencedSOPInstanceUID)]: { vr: 'UI', Value: ['1.1'] },
        [key(Tag.RetrieveURL)]: { vr: 'UR', Value: ['https://pacs.test/dicomweb/studies/1.2.3/series/1.2.3.1/instances/1.1'] },
      },
      {
        [key(Tag.ReferencedSOPClassUID)]: { vr: 'UI', Value: [CT] },
        [key(Tag.ReferencedSOPInstanceUID)]: { vr: 'UI', Value: ['1.2'] },
        [key(Tag.RetrieveURL)]: { vr: 'UR', Value: ['https://pacs.test/dicomweb/studies/1.2.3/series/1.2.3.1/instances/1.2'] },
        [key(Tag.WarningReason)]: { vr: 'US', Value: [45063] },
        [key(Tag.TextValue)]: { vr: 'UT', Value: ['fewer frames'] },
      },
    ],
    'one item per stored instance, in order; WarningReason only where there is a warning',
  );

  const twoStudies = toStoreResponse({ results: [stored('1.1', '1.2.3'), stored('2.1', '2.2.2')] }, urls).body;
  t.same(twoStudies[key(Tag.RetrieveURL)], { vr: 'UR' }, 'two studies: RetrieveURL present, empty (STOW-10 PROJECT)');
});

t.test('summarizeOutcome: counts and reasons for the log line, never UIDs', async (t) => {
  const summary = summarizeOutcome({
    results: [
      stored('1.1'),
      stored('1.2', '1.2.3', { duplicate: true }),
      warned('1.3'),
      failed(FailureReason.CannotUnderstand),
      failed(FailureReason.CannotUnderstand, '1.9'),
    ],
  });
  t.same(summary, {
    stored: 3,
    duplicates: 1,
    warnings: 1,
    refused: 2,
    reasons: { 'B007 data set does not match its SOP class (stored anyway)': 1, 'C000 cannot understand (not a readable DICOM Part 10 instance)': 2 },
  });
  t.notMatch(JSON.stringify(summary), /1\.9|1\.2\.3/, 'no UID in the summary');
});
