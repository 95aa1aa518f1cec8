import t from 'tap';
import { studyOfDicomJsonLink, studyOfLegacyLink } from './legacy-link.js';

const STUDY = '1.3.6.1.4.1.5962.1.1.0.0.0.1196533885.18148.0.1';

t.test("this server's legacy study JSON, in every form a link carries it", async (t) => {
  const base = 'http://pacs.example:8080';
  const page = `${base}/viewer`;
  t.equal(studyOfLegacyLink(`${base}/ohif/study/${STUDY}/series`, page, base), STUDY, 'absolute');
  t.equal(studyOfLegacyLink(`${base}/ohif/study/${STUDY}/series/`, page, base), STUDY, 'trailing slash');
  t.equal(studyOfLegacyLink(`/ohif/study/${STUDY}/series`, page, base), STUDY, 'host-relative');
  t.equal(studyOfLegacyLink(`ohif/study/${STUDY}/series`, page, base), STUDY, 'relative to /viewer');
  t.equal(studyOfLegacyLink(`//pacs.example:8080/ohif/study/${STUDY}/series`, page, base), STUDY, 'scheme-relative');
  t.equal(studyOfLegacyLink(`HTTP://PACS.EXAMPLE:8080/ohif/study/${STUDY}/series?x=1`, page, base), STUDY, 'case of scheme and host, a query');
  t.equal(studyOfLegacyLink(`http://pacs.example:8080/ohif/study/${STUDY.replaceAll('.', '%2E')}/series`, page, base), STUDY, 'percent-encoded UID');
});

t.test('behind a path prefix (PUBLIC_URL=https://host/tessera)', async (t) => {
  const base = 'https://host.example/tessera';
  const page = `${base}/viewer`;
  t.equal(studyOfLegacyLink(`${base}/ohif/study/${STUDY}/series`, page, base), STUDY, 'absolute');
  t.equal(studyOfLegacyLink(`/tessera/ohif/study/${STUDY}/series`, page, base), STUDY, 'host-relative with the prefix');
  t.equal(studyOfLegacyLink(`ohif/study/${STUDY}/series`, page, base), STUDY, 'relative');
  t.equal(studyOfLegacyLink(`/ohif/study/${STUDY}/series`, page, base), undefined, 'the host root is not this server');
  t.equal(studyOfLegacyLink(`https://host.example/tesseract/ohif/study/${STUDY}/series`, page, base), undefined, 'a longer prefix');
  t.equal(studyOfLegacyLink(`ohif/study/${STUDY}/series`, `${base}/viewer/`, base), undefined, 'relative to /viewer/ lands under /viewer/');
});

t.test('anything else is not recognised (never fetched, never redirected to)', async (t) => {
  const base = 'http://pacs.example:8080';
  const page = `${base}/viewer`;
  for (const url of [
    `http://evil.example/ohif/study/${STUDY}/series`,
    `https://pacs.example:8080/ohif/study/${STUDY}/series`,
    `http://pacs.example:8081/ohif/study/${STUDY}/series`,
    `http://user:pw@pacs.example:8080/ohif/study/${STUDY}/series`,
    `http://pacs.example:8080/ohif/study/${STUDY}/series/1.2.3`,
    `http://pacs.example:8080/ohif/dicomjson/studies/${STUDY}`,
    `http://pacs.example:8080/ohif/study/${STUDY}/series/../../../evil`,
    `http://pacs.example:8080/ohif/study/not-a-uid/series`,
    `http://pacs.example:8080/ohif/study/%E0%A4%A/series`,
    `http://pacs.example:8080/ohif/study/${'1.'.repeat(40)}1/series`,
    `javascript:alert(1)`,
    `dicomweb://pacs.example:8080/ohif/study/${STUDY}/series`,
    'http://[::1',
    '',
  ])
    t.equal(studyOfLegacyLink(url, page, base), undefined, url || '(empty)');
});

t.test('a DICOM JSON link of this server (the hosted viewer with sign-in opens it through dicomweb)', async (t) => {
  const base = 'https://host.example/tessera';
  const page = `${base}/viewer/dicomjson`;
  t.equal(studyOfDicomJsonLink(`${base}/ohif/dicomjson/studies/${STUDY}`, page, base), STUDY, 'absolute');
  t.equal(studyOfDicomJsonLink(`/tessera/ohif/dicomjson/studies/${STUDY}`, page, base), STUDY, 'host-relative with the prefix');
  t.equal(studyOfDicomJsonLink(`https://evil.example/tessera/ohif/dicomjson/studies/${STUDY}`, page, base), undefined, 'another host');
  t.equal(studyOfDicomJsonLink(`${base}/ohif/study/${STUDY}/series`, page, base), undefined, 'the legacy route is not this one');
  t.equal(studyOfDicomJsonLink(`${base}/ohif/dicomjson/studies/not-a-uid`, page, base), undefined, 'a malformed UID');
});
