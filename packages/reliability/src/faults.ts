import { type FaultProxy, startFaultProxy } from '@tessera/testkit';
import { type Answer, type Instance, generatedInstance, request, retrieveInstance, stow } from './dicomweb.js';
import { median } from './kill9.js';
import { type PrivatePostgres, postgresBin, startPrivatePostgres } from './private-postgres.js';
import type { RunOptions, ScenarioResult } from './report.js';
import { type BackendName, ServerProcess, openStorage, sleep } from './server.js';

/** A request still unanswered after this is a hang. */
const DEADLINE_MS = 25_000;

interface Fault {
  name: string;
  inject(): void | Promise<void>;
  /** The dependency is back when this resolves. */
  restore(): void | Promise<void>;
}

/**
 * Scenario 2, dependency faults: TCP fault proxies in front of PostgreSQL (a private throwaway
 * cluster) and of the S3 server (blackhole, reset, added delay), and kill -9 / SIGSTOP of that
 * PostgreSQL. Every request ends within its deadline with 2xx or 503 + Retry-After, the server never
 * crashes, nothing unacknowledged is reported stored, and 2xx comes back soon after the dependency,
 * without a restart. PostgreSQL + S3 only: the embedded back end has no dependency to lose.
 */
export async function dependencyFaults(backend: BackendName, options: RunOptions): Promise<ScenarioResult> {
  const started = performance.now();
  if (backend !== 'postgres-s3') {
    return { scenario: '2 dependency faults', backend, failures: [], seconds: 0, figures: { skipped: 'the embedded back end has no network dependency' } };
  }
  if (process.getuid?.() !== 0 || !postgresBin()) {
    return {
      scenario: '2 dependency faults',
      backend,
      failures: [],
      seconds: 0,
      figures: { skipped: 'needs root and /usr/lib/postgresql/*/bin for a private PostgreSQL cluster' },
    };
  }
  const windowMs = options.short ? 3_000 : 10_000;
  const failures: string[] = [];
  const figures: Record<string, number | string> = {};
  let pg: PrivatePostgres | undefined;
  let pgProxy: FaultProxy | undefined;
  let s3Proxy: FaultProxy | undefined;
  let server: ServerProcess | undefined;
  const storage = await openStorage(backend, { postgresAdminUrl: options.postgresAdminUrl });
  const acknowledged = new Map<string, Instance>();
  /** Instances whose upload was refused with a definite outcome (not "outcome unknown"). */
  const refused = new Map<string, Instance>();
  let requests = 0;
  let midBody = 0;
  let maxMs = 0;
  const statuses = new Map<string, number>();
  try {
    pg = await startPrivatePostgres();
    pgProxy = await startFaultProxy({ host: '127.0.0.1', port: pg.port });
    const s3Url = new URL(storage.env.S3_ENDPOINT!);
    s3Proxy = await startFaultProxy({ host: s3Url.hostname, port: Number(s3Url.port) });
    server = await ServerProcess.create({
      ...storage.env,
      DATABASE_URL: pgProxy.via(pg.url),
      S3_ENDPOINT: `http://127.0.0.1:${s3Proxy.port}`,
      DATABASE_STATEMENT_TIMEOUT_MS: '2000',
      S3_REQUEST_TIMEOUT_MS: '2000',
      DATABASE_POOL_SIZE: '8',
    });
    await server.start();
    const srv = server;
    const pgP = pgProxy;
    const s3P = s3Proxy;
    const privatePg = pg;

    /** One request of the mix (STOW, WADO-RS, QIDO-RS), checked: 2xx, or 503 with Retry-After, within the deadline. */
    const one = async (fault: string) => {
      const r = Math.random();
      let answer: Answer;
      let what = '';
      try {
        if (r < 0.4 || acknowledged.size === 0) {
          what = 'stow';
          const instance = generatedInstance();
          const res = await stow(srv.url, [instance.bytes], DEADLINE_MS);
          answer = res;
          if (res.status === 200 && res.stored.includes(instance.sop)) acknowledged.set(instance.sop, instance);
          else if (res.status === 503 && res.code !== 'INDEX_OUTCOME_UNKNOWN') refused.set(instance.sop, instance);
        } else if (r < 0.7) {
          what = 'wado';
          const list = [...acknowledged.values()];
          const i = list[Math.floor(Math.random() * list.length)]!;
          answer = await request(`${srv.url}/dicomweb/studies/${i.study}/series/${i.series}/instances/${i.sop}`, {
            headers: { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
            deadlineMs: DEADLINE_MS,
          });
        } else {
          what = 'qido';
          answer = await request(`${srv.url}/dicomweb/studies?limit=10`, { headers: { accept: 'application/dicom+json' }, deadlineMs: DEADLINE_MS });
        }
      } catch (error) {
        // A retrieval streamed after its 200 can only be cut short when the blob store fails under it
        // (the status is sent): the client sees an incomplete answer, never a complete wrong one. Counted,
        // not a failure; anything else without an answer (a hang past the deadline, a reset before the
        // status) is.
        const afterStatus = (error as { afterStatus?: number }).afterStatus;
        if (what === 'wado' && afterStatus === 200) {
          midBody++;
          return undefined;
        }
        failures.push(`${fault}: a request failed without an answer: ${(error as Error).message}`);
        return undefined;
      } finally {
        requests++;
      }
      maxMs = Math.max(maxMs, answer.ms);
      const key = `${what} ${answer.status}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      const ok = (answer.status >= 200 && answer.status < 300) || (answer.status === 503 && answer.headers['retry-after'] !== undefined);
      if (!ok)
        failures.push(
          `${fault}: ${what} answered ${answer.status}${answer.status === 503 ? ' without Retry-After' : ''}: ${answer.body.toString().slice(0, 200)}`,
        );
      return answer;
    };

    // Some data to retrieve before the faults start.
    for (let i = 0; i < 5; i++) await one('warm-up');

    let resetTimer: NodeJS.Timeout | undefined;
    const faults: Fault[] = [
      { name: 'postgres blackhole', inject: () => pgP.blackhole(), restore: () => pgP.pass() },
      {
        name: 'postgres reset (every 200 ms)',
        inject: () => void (resetTimer = setInterval(() => pgP.reset(), 200)),
        restore: () => clearInterval(resetTimer),
      },
      { name: 'postgres delay (+3 s a chunk)', inject: () => pgP.delay(3_000), restore: () => pgP.pass() },
      { name: 'S3 blackhole', inject: () => s3P.blackhole(), restore: () => s3P.pass() },
      {
        name: 'S3 reset (every 200 ms)',
        inject: () => void (resetTimer = setInterval(() => s3P.reset(), 200)),
        restore: () => clearInterval(resetTimer),
      },
      { name: 'S3 delay (+3 s a chunk)', inject: () => s3P.delay(3_000), restore: () => s3P.pass() },
      { name: 'postgres kill -9', inject: () => privatePg.kill9(), restore: () => privatePg.start() },
      { name: 'postgres SIGSTOP', inject: () => privatePg.freeze(), restore: () => privatePg.thaw() },
    ];
    const recoveries: number[] = [];
    for (const fault of faults) {
      let stop = false;
      const workers = Array.from({ length: 4 }, async () => {
        while (!stop) await one(fault.name);
      });
      await sleep(300);
      await fault.inject();
      await sleep(windowMs);
      stop = true;
      await fault.restore();
      const back = performance.now();
      // Time to recover: from the dependency's return to the first STOW stored and QIDO answered.
      let recovered: number | undefined;
      while (performance.now() - back < 30_000) {
        const a = await one(`${fault.name} (recovery)`);
        if (a && a.status === 200) {
          const q = await request(`${srv.url}/dicomweb/studies?limit=1`, { headers: { accept: 'application/dicom+json' }, deadlineMs: DEADLINE_MS }).catch(
            () => undefined,
          );
          if (q && q.status === 200) {
            recovered = performance.now() - back;
            break;
          }
        }
        await sleep(20);
      }
      await Promise.all(workers);
      if (recovered === undefined) failures.push(`${fault.name}: no 2xx within 30 s of the dependency coming back`);
      else {
        recoveries.push(recovered);
        figures[`${fault.name}: recover ms`] = Math.round(recovered);
        if (!options.short && recovered > 1_000) failures.push(`${fault.name}: 2xx only ${Math.round(recovered)} ms after the dependency came back (> 1 s)`);
      }
      if (!srv.running) {
        failures.push(`${fault.name}: the server process died: ${srv.output.join('').slice(-1500)}`);
        break;
      }
    }
    // Nothing acknowledged is lost; nothing refused is stored.
    let lost = 0;
    let retried = 0;
    for (const i of acknowledged.values()) {
      // A 503 is "retry later", not a loss: retried a few times (the proxies may still drain delayed bytes).
      let got = await retrieveInstance(srv.url, i);
      for (let attempt = 0; attempt < 5 && got.status === 503; attempt++) {
        retried++;
        await sleep(1000);
        got = await retrieveInstance(srv.url, i);
      }
      if (got.status !== 200 || !got.bytes?.equals(i.bytes)) {
        lost++;
        if (lost <= 5) failures.push(`acknowledged ${i.sop} not retrievable byte for byte (${got.status})`);
      }
    }
    figures['final retrievals retried after 503'] = retried;
    figures['retrievals cut short after their 200 (blob store failed mid-body)'] = midBody;
    let refusedButStored = 0;
    for (const i of refused.values()) {
      const a = await request(`${srv.url}/dicomweb/instances?SOPInstanceUID=${i.sop}`, { headers: { accept: 'application/dicom+json' } });
      if (a.status === 200 && a.body.includes(i.sop)) {
        refusedButStored++;
        failures.push(`${i.sop} was refused with 503 but is indexed`);
      }
    }
    Object.assign(figures, {
      'fault window s': windowMs / 1000,
      requests,
      statuses: [...statuses]
        .sort()
        .map(([s, n]) => `${s}×${n}`)
        .join(' '),
      'slowest answer ms': Math.round(maxMs),
      acknowledged: acknowledged.size,
      lost,
      'refused (503)': refused.size,
      'refused but stored': refusedButStored,
      'recover ms (median)': Math.round(median(recoveries)),
      'recover ms (max)': Math.round(Math.max(...recoveries)),
      'server restarts': srv.starts - 1,
    });
  } finally {
    await server?.stop().catch(() => {});
    await pgProxy?.close();
    await s3Proxy?.close();
    await pg?.close().catch(() => {});
    await storage.close();
  }
  return { scenario: '2 dependency faults', backend, failures, seconds: (performance.now() - started) / 1000, figures };
}
