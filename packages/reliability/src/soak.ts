import http from 'node:http';
import { type Instance, generatedInstance, listInstances, realInstances, request, stow } from './dicomweb.js';
import { median } from './kill9.js';
import type { RunOptions, ScenarioResult } from './report.js';
import { type BackendName, ServerProcess, gc, openFds, openStorage, rssMb, sleep } from './server.js';

/**
 * Scenario 4, soak: mixed load (70 % WADO-RS, 20 % QIDO-RS, 10 % STOW-RS) from 32 connections for
 * 10 minutes (short: 60 s). Zero 5xx, resident memory and open file descriptors flat after the
 * warm-up (under 10 % growth; judged in the full form only: a short run cannot show a leak), and as
 * many blobs as index rows at the end.
 */
export async function soak(backend: BackendName, options: RunOptions): Promise<ScenarioResult> {
  const started = performance.now();
  const seconds = options.soakSeconds ?? (options.short ? 60 : 600);
  const failures: string[] = [];
  const storage = await openStorage(backend, { postgresAdminUrl: options.postgresAdminUrl });
  const server = await ServerProcess.create(storage.env);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const statuses = new Map<string, number>();
  const stored: Instance[] = [];
  const samples: { t: number; rss: number; fds: number }[] = [];
  let requests = 0;
  let errors = 0;
  let fiveHundreds = 0;
  try {
    await server.start();
    // Data to read: real files and generated ones.
    const real = realInstances(1_000_000).slice(0, 40);
    for (const i of real) if ((await stow(server.url, [i.bytes])).stored.includes(i.sop)) stored.push(i);
    for (let k = 0; k < 4; k++) {
      const batch = Array.from({ length: 10 }, () => generatedInstance());
      const res = await stow(
        server.url,
        batch.map((i) => i.bytes),
      );
      stored.push(...batch.filter((i) => res.stored.includes(i.sop)));
    }
    const end = performance.now() + seconds * 1000;
    const worker = async () => {
      while (performance.now() < end) {
        const r = Math.random();
        let what: string;
        try {
          let answer;
          if (r < 0.7) {
            what = 'wado';
            const i = stored[Math.floor(Math.random() * stored.length)]!;
            answer = await request(`${server.url}/dicomweb/studies/${i.study}/series/${i.series}/instances/${i.sop}`, {
              headers: { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
              agent,
            });
          } else if (r < 0.9) {
            what = 'qido';
            const path = ['/dicomweb/studies?limit=20', '/dicomweb/series?Modality=CT&limit=20', `/dicomweb/instances?StudyInstanceUID=${stored[0]!.study}`][
              Math.floor(Math.random() * 3)
            ]!;
            answer = await request(`${server.url}${path}`, { headers: { accept: 'application/dicom+json' }, agent });
          } else {
            what = 'stow';
            const i = generatedInstance();
            answer = await stow(server.url, [i.bytes]);
            if (answer.stored.includes(i.sop)) stored.push(i);
          }
          requests++;
          const key = `${what} ${answer.status}`;
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
          if (answer.status >= 500) {
            fiveHundreds++;
            if (fiveHundreds <= 5) failures.push(`${what} answered ${answer.status}: ${answer.body.toString().slice(0, 200)}`);
          }
        } catch (error) {
          errors++;
          if (errors <= 5) failures.push(`a request failed without an answer: ${(error as Error).message}`);
        }
      }
    };
    const sampler = (async () => {
      while (performance.now() < end) {
        const [rss, fds] = await Promise.all([rssMb(server.pid), openFds(server.pid)]);
        if (rss !== undefined && fds !== undefined) samples.push({ t: performance.now(), rss, fds });
        await sleep(1000);
      }
    })();
    const loadStart = performance.now();
    await Promise.all([...Array.from({ length: 32 }, worker), sampler]);
    const wallS = (performance.now() - loadStart) / 1000;
    // Growth: the last tenth of the samples against the tenth right after the warm-up (the first fifth).
    const after = samples.filter((s) => s.t >= loadStart + seconds * 200 && s.t < loadStart + seconds * 300);
    const last = samples.slice(-Math.max(1, Math.floor(samples.length / 10)));
    const growth = (pick: (s: { rss: number; fds: number }) => number) => {
      const base = median(after.map(pick));
      return base > 0 ? ((median(last.map(pick)) - base) / base) * 100 : NaN;
    };
    const rssGrowth = growth((s) => s.rss);
    const fdGrowth = growth((s) => s.fds);
    if (!options.short) {
      if (!(rssGrowth < 10)) failures.push(`resident memory grew ${rssGrowth.toFixed(1)} % after the warm-up`);
      if (!(fdGrowth < 10)) failures.push(`open file descriptors grew ${fdGrowth.toFixed(1)} % after the warm-up`);
    }
    if (!server.running) failures.push(`the server process died: ${server.output.join('').slice(-1500)}`);
    const rows = await listInstances(server.url);
    await server.stop();
    const blobs = await gc(storage.env, false);
    if (blobs.examined !== rows.length || blobs.orphans !== 0)
      failures.push(`${blobs.examined} blobs (${blobs.orphans} orphans) for ${rows.length} index rows`);
    return {
      scenario: '4 soak',
      backend,
      failures,
      seconds: (performance.now() - started) / 1000,
      figures: {
        'duration s': seconds,
        connections: 32,
        requests,
        'requests/s': requests / wallS,
        '5xx': fiveHundreds,
        'errors without answer': errors,
        statuses: [...statuses]
          .sort()
          .map(([s, n]) => `${s}×${n}`)
          .join(' '),
        'RSS MB after warm-up': median(after.map((s) => s.rss)),
        'RSS MB at end': median(last.map((s) => s.rss)),
        'RSS growth %': rssGrowth,
        'fds after warm-up': median(after.map((s) => s.fds)),
        'fds at end': median(last.map((s) => s.fds)),
        'fd growth %': fdGrowth,
        'index rows': rows.length,
        blobs: blobs.examined,
      },
    };
  } finally {
    agent.destroy();
    await server.stop().catch(() => {});
    await storage.close();
  }
}
