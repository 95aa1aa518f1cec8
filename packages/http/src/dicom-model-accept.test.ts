import t from 'tap';
import { parseAccept } from './accept.js';
import { negotiateDicomModel } from './dicom-model-accept.js';

/** DICOM JSON or Native DICOM Model XML (digest QIDO-2, WADORS-4, STOW-4, STOW-12, NEG-1, NEG-3, NEG-6). */

const multipart = (accept: string | undefined) => negotiateDicomModel(parseAccept(accept), 'multipart');
const single = (accept: string | undefined) => negotiateDicomModel(parseAccept(accept), 'single');

t.test('QIDO-2 / WADORS-4: multipart/related; type="application/dicom+xml" is the XML form', async (t) => {
  t.equal(multipart('multipart/related; type="application/dicom+xml"'), 'xml');
  t.equal(multipart('MULTIPART/RELATED; TYPE=application/dicom+xml'), 'xml', 'NEG-1: names case-insensitive, quotes optional');
  t.equal(multipart('multipart/related'), 'xml', 'the only multipart form of these resources');
  t.equal(multipart('multipart/*'), 'xml');
  t.equal(multipart('multipart/related; type="application/dicom"'), undefined, 'another root type → none (406)');
  t.equal(multipart('application/dicom+xml'), undefined, 'a bare document is not the form of a list');
});

t.test('JSON stays the default', async (t) => {
  for (const accept of [undefined, '', '*/*', 'application/*', 'application/json', 'application/dicom+json; charset=utf-8']) {
    t.equal(multipart(accept), 'json', `"${accept}" → json`);
    t.equal(single(accept), 'json', `"${accept}" → json (STOW)`);
  }
  t.equal(multipart('multipart/related; type="application/dicom+xml", application/dicom+json'), 'json', 'same q: JSON, whatever the order and specificity');
  t.equal(multipart('multipart/related; type="application/dicom+xml", */*;q=0.1'), 'xml', 'a higher q wins');
  t.equal(multipart('application/dicom+json;q=0.2, multipart/related; type="application/dicom+xml";q=0.9'), 'xml');
  t.equal(multipart('application/dicom+json;q=0, multipart/related; type="application/dicom+xml";q=0'), undefined, 'q=0 refuses');
  t.equal(multipart('image/jpeg'), undefined);
});

t.test('STOW-4 / STOW-12: the Store Instances response as application/dicom+xml', async (t) => {
  t.equal(single('application/dicom+xml'), 'xml');
  t.equal(single('application/dicom+xml, application/dicom+json;q=0.5'), 'xml');
  t.equal(single('multipart/related; type="application/dicom+xml"'), undefined, 'one dataset is not multipart');
  t.equal(single('text/html'), undefined);
});
