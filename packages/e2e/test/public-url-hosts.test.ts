import { request } from 'node:http';
import t, { type Test } from 'tap';
import { backendNames, ctInstance, encodeInstance, startTestServer, type TestServer } from '@tessera/testkit';

/**
 * Only trusted or configured hosts shape the URLs the server emits (issue #21 item 13): STOW
 * RetrieveURLs, QIDO RetrieveURLs, metadata BulkDataURIs, the OHIF JSON, the viewer's app-config.js
 * and WADO-URI Content-Location. Requests go over real sockets with a forged Host header.
 */

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request over a real socket with the headers as given (fetch would not send a forged Host). */
function send(server: TestServer, path: string, headers: Record<string, string>, body?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method: body ? 'POST' : 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Every URL the server emits for one stored instance, given the request headers. */
async function emittedUrls(t: Test, server: TestServer, headers: Record<string, string>): Promise<string[]> {
  const spec = ctInstance({}, { rows: 8, columns: 8, frames: 1 });
  const a = spec.attributes;
  const stow = await send(server, '/dicomweb/studies', { ...headers, 'content-type': 'application/dicom' }, encodeInstance(spec));
  t.equal(stow.status, 200, 'STOW 200');
  const stowJson = JSON.parse(stow.body);
  const urls: string[] = [stowJson['00081190'].Value[0], stowJson['00081199'].Value[0]['00081190'].Value[0]];
  const qido = await send(server, `/dicomweb/studies?StudyInstanceUID=${a.StudyInstanceUID}`, { ...headers, accept: 'application/dicom+json' });
  urls.push(JSON.parse(qido.body)[0]['00081190'].Value[0]);
  const ohif = await send(server, `/ohif/dicomjson/studies/${a.StudyInstanceUID}`, headers);
  urls.push(JSON.parse(ohif.body).studies[0].series[0].instances[0].url.replace(/^dicomweb:/, ''));
  const legacy = await send(server, `/ohif/study/${a.StudyInstanceUID}/series`, headers);
  urls.push(...[...legacy.body.matchAll(/"(?:dicomweb:)?(https?:\/\/[^"]+)"/g)].map((m) => m[1]!));
  const config = await send(server, '/app-config.js', headers);
  urls.push(...[...config.body.matchAll(/"(?:qido|wado|wadoUri)Root": "([^"]+)"/g)].map((m) => m[1]!));
  const wadoUri = await send(
    server,
    `/wadouri?requestType=WADO&studyUID=${a.StudyInstanceUID}&seriesUID=${a.SeriesInstanceUID}&objectUID=${a.SOPInstanceUID}&contentType=application%2Fdicom`,
    headers,
  );
  urls.push(String(wadoUri.headers['content-location']));
  return urls;
}

function allStartWith(t: Test, urls: string[], base: string, what: string) {
  t.ok(urls.length >= 8, `${urls.length} emitted URLs checked`);
  const wrong = urls.filter((u) => !u.startsWith(`${base}/`));
  t.same(wrong, [], `${what}: every URL starts with ${base}/`);
}

for (const backend of backendNames()) {
  t.test(`${backend}: no PUBLIC_URL, no ALLOWED_HOSTS`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const port = new URL(server.url).port;
    allStartWith(t, await emittedUrls(t, server, { host: 'evil.example' }), server.url, 'a forged Host is ignored');
    allStartWith(t, await emittedUrls(t, server, { host: `evil.example:${port}` }), server.url, 'a forged Host with the right port is ignored');
    allStartWith(t, await emittedUrls(t, server, { host: 'localhost:1' }), server.url, 'localhost on another port is ignored');
    allStartWith(
      t,
      await emittedUrls(t, server, { host: 'evil.example', 'x-forwarded-host': 'evil.example', forwarded: 'host=evil.example;proto=https' }),
      server.url,
      'forwarding headers are ignored without TRUST_PROXY',
    );
    allStartWith(t, await emittedUrls(t, server, { host: `localhost:${port}` }), `http://localhost:${port}`, 'this server by its loopback name is honoured');
  });

  t.test(`${backend}: ALLOWED_HOSTS`, async (t) => {
    const server = await startTestServer(backend, { ALLOWED_HOSTS: 'pacs.example.org, Viewer.Example.org:8443' });
    t.teardown(() => server.close());
    allStartWith(t, await emittedUrls(t, server, { host: 'pacs.example.org' }), 'http://pacs.example.org', 'a listed host');
    allStartWith(
      t,
      await emittedUrls(t, server, { host: 'viewer.example.org:8443' }),
      'http://viewer.example.org:8443',
      'a listed host:port, compared without case',
    );
    allStartWith(t, await emittedUrls(t, server, { host: 'viewer.example.org:9999' }), server.url, 'a listed host on another port is not listed');
    allStartWith(t, await emittedUrls(t, server, { host: 'evil.example' }), server.url, 'an unlisted host is ignored');
  });

  t.test(`${backend}: TRUST_PROXY with ALLOWED_HOSTS`, async (t) => {
    const server = await startTestServer(backend, { TRUST_PROXY: 'true', ALLOWED_HOSTS: 'pacs.example.org' });
    t.teardown(() => server.close());
    allStartWith(
      t,
      await emittedUrls(t, server, {
        host: 'internal:8080',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'pacs.example.org',
        'x-forwarded-prefix': '/tessera',
      }),
      'https://pacs.example.org/tessera',
      'a listed forwarded host',
    );
    allStartWith(
      t,
      await emittedUrls(t, server, { host: 'internal:8080', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' }),
      `https://${server.url.slice('http://'.length)}`,
      "an unlisted forwarded host is ignored (the proxy's proto still counts)",
    );
  });
}

t.test('ALLOWED_HOSTS is validated at start', async (t) => {
  const { loadConfig } = await import('@tessera/server');
  t.same(loadConfig({ ALLOWED_HOSTS: 'a.example, B.example:80,[::1]:8080' }).allowedHosts, ['a.example', 'b.example:80', '[::1]:8080']);
  t.same(loadConfig({}).allowedHosts, [], 'empty by default');
  t.throws(() => loadConfig({ ALLOWED_HOSTS: 'https://a.example' }), /ALLOWED_HOSTS/, 'a URL is not a host');
  t.throws(() => loadConfig({ ALLOWED_HOSTS: 'a.example/x' }), /ALLOWED_HOSTS/);
});
