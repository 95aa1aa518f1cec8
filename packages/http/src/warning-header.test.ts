import t from 'tap';
import { WARNING_HEADER_MAX_BYTES, warningHeader } from './warning-header.js';

/** The one bounded Warning header field (issue #21 item 11; digest COMMON-2). */

const AGENT = 'http://127.0.0.1:8080/dicomweb';
const split = (field: string) => field.split(/, (?=299 )/);

t.test('few warnings: every one, in order, in one field', async (t) => {
  t.equal(warningHeader(AGENT, []), undefined, 'no warnings, no header');
  t.equal(warningHeader(AGENT, ['a', 'b']), `299 ${AGENT}: a, 299 ${AGENT}: b`);
  t.equal(warningHeader(AGENT, ['PatientName=\u00e9\u0000']), `299 ${AGENT}: PatientName=??`, 'printable ASCII only');
});

t.test('many warnings: bounded, the first kept, the rest counted', async (t) => {
  const texts = [
    'There are 5 additional results that can be requested',
    ...Array.from({ length: 1000 }, (_, i) => `The query parameter unknown${i} is not supported and was ignored`),
  ];
  const field = warningHeader(AGENT, texts)!;
  t.ok(field.length <= WARNING_HEADER_MAX_BYTES, `${field.length} bytes ≤ ${WARNING_HEADER_MAX_BYTES}`);
  const values = split(field);
  t.equal(values[0], `299 ${AGENT}: ${texts[0]}`, 'the first text is kept whole');
  t.equal(values[1], `299 ${AGENT}: ${texts[1]}`, 'then as many as fit, in order');
  const shown = values.length - 1;
  t.equal(values.at(-1), `299 ${AGENT}: ${texts.length - shown} more warnings were left out`, 'the last value counts the others');
  for (const v of values) t.match(v, /^299 \S+: [\x20-\x7e]+$/, 'each value is 299 <agent>: <text>');
});

t.test('a long text or a tiny bound', async (t) => {
  const long = 'x'.repeat(5000);
  const one = warningHeader(AGENT, [long])!;
  t.ok(one.length < 300, 'one text is cut to 200 characters');
  t.match(one, /\.\.\.$/, 'and says so');
  const tight = warningHeader(AGENT, [long, long, long], 150)!;
  t.ok(tight.length <= 150, `a 150-byte bound holds (${tight.length})`);
  t.match(tight, /2 more warnings were left out$/);
});
