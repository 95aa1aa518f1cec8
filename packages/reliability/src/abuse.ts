import { type Socket, connect } from 'node:net';
import { ctInstance, encodeInstance } from '@tessera/testkit';
import { generatedInstance, request, stow } from './dicomweb.js';
import { median } from './kill9.js';
import type { RunOptions, ScenarioResult } from './report.js';
import { type BackendName, ServerProcess, openFds, openStorage, rssMb, sleep } from './server.js';

/**
 * Scenario 6, slow and abusive clients: slowloris uploads (a byte a second), clients that stop
 * reading a large retrieve, a request with 10,000 headers, a 1 MB URL. The server's memory and
 * connections stay bounded and it keeps serving others: a probe (QIDO-RS + WADO-RS) runs
 * throughout, and every probe must answer 200 (its latency is reported, not judged).
 */
export async function abuse(backend: BackendName, options: RunOptions): Promise<ScenarioResult> {
  const started = performance.now();
  const seconds = options.short ? 15 : 60;
  const failures: string[] = [];
  const figures: Record<string, number | string> = {};
  const storage = await openStorage(backend, { postgresAdminUrl: options.postgresAdminUrl });
  // Tight limits so abusers are cut off within the run: a stalled body after 5 s, a silent connection after 10 s.
  const server = await ServerProcess.create({ ...storage.env, HTTP_BODY_TIMEOUT_MS: '5000', HTTP_IDLE_TIMEOUT_MS: '10000' });
  const sockets = new Set<Socket>();
  const open = () => {
    const socket = connect(server.port, '127.0.0.1');
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    return socket;
  };
  try {
    await server.start();
    // A large instance to retrieve (about 20 MB) and a small one to probe.
    const largeSpec = ctInstance({}, { rows: 1024, columns: 1024, frames: 10 });
    const large = encodeInstance(largeSpec);
    const stored = await stow(server.url, [large]);
    if (stored.status !== 200) throw new Error(`could not store the large instance: ${stored.status}`);
    const probeInstance = generatedInstance();
    await stow(server.url, [probeInstance.bytes]);
    const idleRss = (await rssMb(server.pid)) ?? NaN;
    const idleFds = (await openFds(server.pid)) ?? NaN;

    const end = performance.now() + seconds * 1000;
    const counts = { slowloris: 0, stalledReaders: 0, manyHeaders: 0, hugeUrls: 0 };
    const answers = new Map<string, number>();
    const note = (what: string, status: string) => answers.set(`${what} ${status}`, (answers.get(`${what} ${status}`) ?? 0) + 1);

    // Slowloris uploads: 50 connections announcing a 1 MB STOW body and sending one byte a second.
    const slowloris = Array.from({ length: 50 }, async () => {
      while (performance.now() < end) {
        counts.slowloris++;
        const socket = open();
        socket.write(
          `POST /dicomweb/studies HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/related; type="application/dicom"; boundary=b\r\nContent-Length: 1000000\r\n\r\n--b\r\n`,
        );
        let answer = '';
        socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
        while (!socket.destroyed && !socket.readableEnded && performance.now() < end) {
          socket.write('x');
          await sleep(1000);
        }
        note('slowloris', /^HTTP\/1\.1 (\d+)/.exec(answer)?.[1] ?? (socket.destroyed || socket.readableEnded ? 'closed' : 'open at end'));
        socket.destroy();
      }
    });
    // Clients that ask for the large instance and never read: 20 connections.
    const stalledReaders = Array.from({ length: 20 }, async () => {
      while (performance.now() < end) {
        counts.stalledReaders++;
        const socket = open();
        socket.write(
          `GET /dicomweb/studies/${String(largeSpec.attributes.StudyInstanceUID)}/series/${String(largeSpec.attributes.SeriesInstanceUID)}/instances/${String(largeSpec.attributes.SOPInstanceUID)} HTTP/1.1\r\nHost: x\r\nAccept: multipart/related; type="application/dicom"; transfer-syntax=*\r\n\r\n`,
        );
        socket.pause(); // read nothing
        while (!socket.destroyed && performance.now() < end) {
          await sleep(500);
          if (socket.readableEnded) break;
        }
        note('stalled reader', socket.destroyed || socket.readableEnded ? 'closed by server' : 'open at end');
        socket.destroy();
      }
    });
    // Header floods and huge URLs, one after the other.
    const malformed = (async () => {
      const headers = Array.from({ length: 10_000 }, (_, i) => `X-Flood-${i}: ${'v'.repeat(8)}\r\n`).join('');
      const hugeUrl = `/dicomweb/studies?PatientName=${'A'.repeat(1024 * 1024)}`;
      while (performance.now() < end) {
        for (const [what, text] of [
          ['10,000 headers', `GET /dicomweb/studies HTTP/1.1\r\nHost: x\r\n${headers}\r\n`],
          ['1 MB URL', `GET ${hugeUrl} HTTP/1.1\r\nHost: x\r\n\r\n`],
        ] as const) {
          if (what === '10,000 headers') counts.manyHeaders++;
          else counts.hugeUrls++;
          const socket = open();
          let answer = '';
          socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
          socket.write(text);
          const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
          await Promise.race([closed, sleep(10_000)]);
          const status = /^HTTP\/1\.1 (\d+)/.exec(answer)?.[1] ?? (socket.destroyed ? 'closed' : 'no answer in 10 s');
          note(what, status);
          if (status.startsWith('5') || status === 'no answer in 10 s') failures.push(`${what}: ${status}`);
          socket.destroy();
        }
        await sleep(500);
      }
    })();
    // The probe: another client, served throughout.
    const latencies: number[] = [];
    let probeFailures = 0;
    let peakRss = idleRss;
    let peakFds = idleFds;
    const probe = (async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          const q = await request(`${server.url}/dicomweb/studies?limit=5`, {
            headers: { accept: 'application/dicom+json' },
            deadlineMs: 30_000,
            agent: false,
          });
          const w = await request(`${server.url}/dicomweb/studies/${probeInstance.study}/series/${probeInstance.series}/instances/${probeInstance.sop}`, {
            headers: { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
            deadlineMs: 30_000,
            agent: false,
          });
          if (q.status !== 200 || w.status !== 200) {
            probeFailures++;
            failures.push(`probe answered ${q.status}/${w.status}`);
          } else latencies.push(performance.now() - t0);
        } catch (error) {
          probeFailures++;
          failures.push(`probe failed: ${(error as Error).message}`);
        }
        peakRss = Math.max(peakRss, (await rssMb(server.pid)) ?? 0);
        peakFds = Math.max(peakFds, (await openFds(server.pid)) ?? 0);
        await sleep(200);
      }
    })();
    await Promise.all([...slowloris, ...stalledReaders, malformed, probe]);
    for (const s of sockets) s.destroy();
    if (!server.running) failures.push(`the server process died: ${server.output.join('').slice(-1500)}`);
    await sleep(1000);
    const afterFds = (await openFds(server.pid)) ?? NaN;
    Object.assign(figures, {
      'duration s': seconds,
      'slowloris uploads': counts.slowloris,
      'stalled readers (20 MB instance)': counts.stalledReaders,
      '10,000-header requests': counts.manyHeaders,
      '1 MB URLs': counts.hugeUrls,
      answers: [...answers]
        .sort()
        .map(([k, n]) => `${k}×${n}`)
        .join(', '),
      probes: latencies.length + probeFailures,
      'probe failures': probeFailures,
      'probe ms p50': median(latencies),
      'probe ms max': Math.max(...latencies),
      'RSS MB idle': idleRss,
      'RSS MB peak': peakRss,
      'fds idle': idleFds,
      'fds peak': peakFds,
      'fds after': afterFds,
    });
    if (!(afterFds <= idleFds + 5)) failures.push(`${afterFds} file descriptors open after the abusers left (${idleFds} idle)`);
  } finally {
    for (const s of sockets) s.destroy();
    await server.stop().catch(() => {});
    await storage.close();
  }
  return { scenario: '6 slow and abusive clients', backend, failures, seconds: (performance.now() - started) / 1000, figures };
}
