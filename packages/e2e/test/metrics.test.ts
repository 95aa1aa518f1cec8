import t from 'tap';
import { statusHex } from '@tessera/dicom';
import { VERSION } from '@tessera/server';
import { backendNames, ctInstance, encodeInstance, multipartBuffer, newUid, startTestServer } from '@tessera/testkit';
import { bearer, createKey } from './access/access-fixture.js';

/**
 * Issue #16 (Describe and observe): `/metrics` in the Prometheus text format. After a STOW-RS and a
 * QIDO-RS request the counters moved by exactly what the requests did, the request histogram is
 * labelled by route pattern (never a URL, so no UID anywhere), storage calls are timed, and the
 * PostgreSQL pool is reported; on every back end. `/healthz` carries the release version.
 */

type Sample = { name: string; labels: Record<string, string>; value: number };

function parse(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

/** The sum of the samples named `name` whose labels include `labels`. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);
}

for (const backend of backendNames()) {
  t.test(`${backend}: /metrics after STOW-RS and QIDO-RS`, async (t) => {
    const server = await startTestServer(backend);
    t.teardown(() => server.close());
    const scrape = async () => {
      const response = await server.app.inject({ url: '/metrics' });
      t.equal(response.statusCode, 200, 'scraped');
      t.match(response.headers['content-type'], /^text\/plain; version=0\.0\.4/, 'Prometheus text format');
      return response.body;
    };
    const before = parse(await scrape());

    const studyUid = newUid();
    const instance = ctInstance({ StudyInstanceUID: studyUid, PatientName: 'Metrics^Test' });
    const bytes = encodeInstance(instance);
    const notDicom = Buffer.from('not a DICOM file, only words '.repeat(8));
    const { contentType, payload } = await multipartBuffer([bytes, notDicom]);
    const stow = await server.app.inject({ method: 'POST', url: '/dicomweb/studies', headers: { 'content-type': contentType }, payload });
    t.equal(stow.statusCode, 202, 'one stored, one refused (STOW-6)');
    const refusedReason = stow.json<Record<string, { Value: Record<string, { Value: number[] }>[] }>>()['0008119A']!.Value[0]!['00081197']!.Value[0]!;
    const again = await server.app.inject({ method: 'POST', url: '/dicomweb/studies', headers: { 'content-type': 'application/dicom' }, payload: bytes });
    t.equal(again.statusCode, 200, 'the byte-identical re-send is a success');
    const empty = await server.app.inject({
      method: 'POST',
      url: '/dicomweb/studies',
      headers: { 'content-type': 'application/dicom', 'content-length': '0' },
    });
    t.equal(empty.statusCode, 400, 'an empty body fails as a whole');
    const qido = await server.app.inject({ url: `/dicomweb/studies?StudyInstanceUID=${studyUid}` });
    t.equal(qido.statusCode, 200, 'QIDO-RS finds the study');
    const series = await server.app.inject({ url: `/dicomweb/studies/${studyUid}/series` });
    t.equal(series.statusCode, 200, 'QIDO-RS lists its series');

    const text = await scrape();
    const after = parse(text);
    const delta = (name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(before, name, labels);

    t.equal(delta('tessera_stow_instances_stored_total', { duplicate: 'false' }), 1, 'one instance stored');
    t.equal(delta('tessera_stow_instances_stored_total', { duplicate: 'true' }), 1, 'one byte-identical re-send');
    t.equal(delta('tessera_stow_bytes_stored_total'), bytes.length, 'its bytes, once');
    t.equal(
      delta('tessera_stow_failures_total', { scope: 'instance', reason: statusHex(refusedReason) }),
      1,
      `one instance refused with ${statusHex(refusedReason)}`,
    );
    t.equal(delta('tessera_stow_failures_total', { scope: 'instance' }), 1, 'and no other');
    t.equal(delta('tessera_stow_failures_total', { scope: 'request', reason: 'EMPTY_BODY' }), 1, 'one request failed as a whole (EMPTY_BODY)');

    const requests = 'tessera_http_request_duration_seconds_count';
    t.equal(delta(requests, { method: 'POST', route: '/dicomweb/studies', status_class: '2xx' }), 2, 'two STOW-RS requests answered 2xx');
    t.equal(delta(requests, { method: 'POST', route: '/dicomweb/studies', status_class: '4xx' }), 1, 'one answered 4xx');
    t.equal(delta(requests, { method: 'GET', route: '/dicomweb/studies', status_class: '2xx' }), 1, 'one QIDO-RS study search');
    t.equal(delta(requests, { method: 'GET', route: '/dicomweb/studies/:study/series', status_class: '2xx' }), 1, 'the series search, by its route pattern');
    t.ok(
      after.some((s) => s.name === 'tessera_http_request_duration_seconds_bucket' && s.labels.route === '/dicomweb/studies' && s.labels.le === '+Inf'),
      'the histogram has buckets labelled by route',
    );

    t.equal(delta('tessera_blob_store_operation_duration_seconds_count', { operation: 'putFile' }), 1, 'one blob written (the re-send writes none)');
    t.ok(delta('tessera_index_operation_duration_seconds_count') >= 4, 'index calls timed');
    t.ok(
      after.some((s) => s.name === 'tessera_index_operation_duration_seconds_count' && s.labels.operation!.startsWith('search.') && s.value > 0),
      'the searches among them',
    );
    t.equal(delta('tessera_index_operation_errors_total') + delta('tessera_blob_store_operation_errors_total'), 0, 'no storage call failed');
    t.equal(value(after, 'tessera_build_info', { version: VERSION }), 1, 'the release');
    t.ok(value(after, 'process_resident_memory_bytes') > 0, 'process metrics');
    t.ok(value(after, 'nodejs_eventloop_lag_seconds') >= 0 && after.some((s) => s.name === 'nodejs_eventloop_lag_seconds'), 'Node.js metrics');
    if (backend === 'embedded')
      t.notOk(
        after.some((s) => s.name === 'tessera_index_pool_connections'),
        'PGlite has no pool',
      );
    else {
      t.ok(value(after, 'tessera_index_pool_connections', { state: 'total' }) >= 1, 'the pool has connections');
      t.ok(
        after.some((s) => s.name === 'tessera_index_pool_connections' && s.labels.state === 'waiting'),
        'and reports waiting queries',
      );
    }

    const uids = [studyUid, instance.attributes.SeriesInstanceUID as string, instance.attributes.SOPInstanceUID as string];
    t.same(
      uids.filter((uid) => text.includes(uid)),
      [],
      'no UID of the stored instance in the output',
    );
    t.notMatch(text, /\d+(\.\d+){4,}/, 'nothing shaped like a UID at all');
    t.notMatch(text, /Metrics\^Test/, 'no patient data');
  });
}

t.test('/metrics takes the admin scope; METRICS_ENABLED=false removes it; /healthz carries the version', async (t) => {
  const server = await startTestServer('embedded', { AUTH_MODE: 'apikey' });
  t.teardown(() => server.close());
  t.equal((await server.app.inject({ url: '/metrics' })).statusCode, 401, 'no credential: 401');
  const reader = await createKey(server.index, 'reader', ['read']);
  t.equal((await server.app.inject({ url: '/metrics', headers: bearer(reader) })).statusCode, 403, 'read scope: 403');
  const admin = await createKey(server.index, 'operator', ['admin']);
  t.equal((await server.app.inject({ url: '/metrics', headers: bearer(admin) })).statusCode, 200, 'admin scope: 200');
  const health = await server.app.inject({ url: '/healthz' });
  t.same(health.json(), { status: 'ok', version: VERSION }, '/healthz: status and version');
  t.match(VERSION, /^\d+\.\d+\.\d+$/, 'a release version');

  const off = await startTestServer('embedded', { METRICS_ENABLED: 'false' });
  t.teardown(() => off.close());
  t.equal((await off.app.inject({ url: '/metrics' })).statusCode, 404, 'metrics off: no /metrics');
  t.equal((await off.app.inject({ url: '/dicomweb/studies' })).statusCode, 204, 'the services work as before');
});
