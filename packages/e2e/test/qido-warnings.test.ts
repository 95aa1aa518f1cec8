import { request } from 'node:http';
import t from 'tap';
import { backendNames, startTestServer } from '@tessera/testkit';
import { ROOT, instance, search, store } from './qido-support.js';

/**
 * Warning 299 headers stay bounded (digest COMMON-2, QIDO-12; issue #21 item 11): one `Warning`
 * field, at most 1 KiB, whatever the number of ignored parameters; the "additional results" count
 * always in it.
 */

/** The raw response head over a real socket: header names as sent, repeats kept. */
function rawHead(url: string): Promise<{ status: number; raw: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'application/dicom+json' }, maxHeaderSize: 1 << 20 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, raw: res.rawHeaders }));
    });
    req.on('error', reject);
    req.end();
  });
}

for (const backend of backendNames()) {
  t.test(backend, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const issuer = 'WARN-ISSUER';
    await store(
      t,
      server,
      [1, 2, 3].map(() => instance({ IssuerOfPatientID: issuer })),
    );

    t.test('1,000 unknown parameters: one Warning field of at most 1 KiB', async (t) => {
      const unknown = Array.from({ length: 1000 }, (_, i) => `u${i}=x`).join('&');
      const { status, raw } = await rawHead(`${server.url}${ROOT}/studies?IssuerOfPatientID=${issuer}&limit=1&${unknown}`);
      t.equal(status, 200);
      t.equal(raw.filter((v, i) => i % 2 === 0 && v.toLowerCase() === 'warning').length, 1, 'one Warning header field');
      const value = raw[raw.findIndex((v, i) => i % 2 === 0 && v.toLowerCase() === 'warning') + 1]!;
      t.ok(value.length <= 1024, `the field is ${value.length} bytes`);
      const headBytes = raw.reduce((n, v) => n + v.length + 2, 0);
      t.ok(headBytes < 2048, `the whole response head is ${headBytes} bytes`);
      const values = value.split(/, (?=299 )/);
      t.match(values[0], /^299 http:\/\/[^ ]+\/dicomweb: There are 2 additional results that can be requested$/, 'QIDO-12: the count comes first');
      t.match(values[1], /parameter u0 is not supported/, 'COMMON-2: then the ignored parameters, in order');
      const left = /: (\d+) more warnings were left out$/.exec(values.at(-1)!);
      t.ok(left, 'the last value says how many were left out');
      t.equal(Number(left?.[1]) + values.length - 2, 1000, 'shown + left out = the 1,000 ignored parameters');
    });

    t.test('a few warnings are all listed', async (t) => {
      const answer = await search(server, `/studies?IssuerOfPatientID=${issuer}&foo=1&bar=2`);
      t.equal(answer.status, 200);
      t.equal(typeof answer.headers.warning, 'string', 'one header field');
      t.equal(answer.warnings.length, 2);
      t.match(answer.warnings[0], /foo/);
      t.match(answer.warnings[1], /bar/);
    });
  });
}
