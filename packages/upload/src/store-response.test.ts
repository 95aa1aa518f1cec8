import t from 'tap';
import { parseStoreResponse } from './store-response.js';
import { parseRetryAfter } from './stow-client.js';

// The Store Instances Response (PS3.18 §10.5.3, Annex I; digest STOW-4/5/10) as a client reads it.

t.test('stored, stored with a warning, refused, and other failures', async (t) => {
  const answer = parseStoreResponse({
    '00081190': { vr: 'UR', Value: ['http://x/dicomweb/studies/1.2'] },
    '00081199': {
      vr: 'SQ',
      Value: [
        {
          '00081150': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
          '00081155': { vr: 'UI', Value: ['1.2.3'] },
          '00081190': { vr: 'UR', Value: ['http://x/i/1.2.3'] },
        },
        { '00081155': { vr: 'UI', Value: ['1.2.4'] }, '00081196': { vr: 'US', Value: [0xb007] }, '0040A160': { vr: 'UT', Value: ['fewer frames'] } },
      ],
    },
    '00081198': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: ['1.2.5'] }, '00081197': { vr: 'US', Value: [0xa7f0] } }] },
    '0008119A': { vr: 'SQ', Value: [{ '00081197': { vr: 'US', Value: [0xc000] }, '0040A160': { vr: 'UT', Value: ['not DICOM'] } }] },
  });
  t.same(answer.instances.get('1.2.3'), { kind: 'stored', sopInstanceUid: '1.2.3', retrieveUrl: 'http://x/i/1.2.3' });
  t.match(answer.instances.get('1.2.4'), { kind: 'stored', warning: /^B007 .*: fewer frames$/ });
  t.match(answer.instances.get('1.2.5'), { kind: 'refused', reason: /^A7F0 / });
  t.equal(answer.otherFailures.length, 1);
  t.match(answer.otherFailures[0], /^C000 .*: not DICOM$/);
});

t.test('odd answers: an array of one dataset, nothing, not an object', async (t) => {
  t.equal(parseStoreResponse([{ '00081199': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: ['9.9'] } }] } }]).instances.size, 1, 'a one-element array');
  t.equal(parseStoreResponse({}).instances.size, 0);
  t.equal(parseStoreResponse('text').instances.size, 0);
  t.equal(parseStoreResponse({ '00081199': { vr: 'SQ' } }).instances.size, 0, 'an empty sequence');
});

t.test('Retry-After: seconds or an HTTP date, capped', async (t) => {
  t.equal(parseRetryAfter('3'), 3000);
  t.equal(parseRetryAfter(undefined), undefined);
  t.equal(parseRetryAfter('soon'), undefined);
  t.equal(parseRetryAfter('100000'), 120_000, 'capped at two minutes');
  const inTwo = parseRetryAfter(new Date(Date.now() + 2000).toUTCString())!;
  t.ok(inTwo > 0 && inTwo <= 2000, 'a date two seconds ahead');
});
