import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Entry, Manifest, StudyInfo } from './data.js';
import { type Client, type RequestSpec, type Sample, median, percentile, runAll } from './load.js';
import { cpuSeconds, memory, resetPeakRss } from './server-process.js';

/** What one measured operation reports. */
export interface OpResult {
  phase: string;
  op: string;
  description: string;
  clients: number;
  rounds: number;
  requests: number;
  errors: number;
  p50Ms: number;
  p95Ms: number;
  ttfbP50Ms: number;
  ttfbP95Ms: number;
  /** Medians over the rounds. */
  requestsPerS: number;
  mbPerS: number;
  instancesPerS?: number;
  /** Server CPU (user + system) per request, milliseconds. */
  cpuMsPerOp?: number;
  /** CPU of the PostgreSQL backends of the server's database per request, milliseconds (PostgreSQL back ends only). */
  databaseCpuMsPerOp?: number;
  /** Server peak resident memory during this operation, MB. */
  peakRssMb?: number;
  target?: Target;
  met?: boolean;
  measured?: number;
  firstError?: string;
  /** Epoch milliseconds of the measured part (to cut a server --cpu-prof profile by operation). */
  startedAt: number;
  endedAt: number;
}

export interface Target {
  metric: 'p50Ms' | 'p95Ms' | 'ttfbP50Ms' | 'mbPerS' | 'instancesPerS' | 'peakRssMb';
  cmp: '<=' | '>=' | '<';
  value: number;
  label: string;
}

export interface Paths {
  dicomweb: string;
  wadouri?: string;
  ohif?: string;
}

export interface PhaseContext {
  client: Client;
  pid?: number;
  /** CPU seconds used so far by the server's database (its PostgreSQL backends), when it has one of its own. */
  databaseCpu?: () => number | undefined;
  paths: Paths;
  manifest: Manifest;
  clients: number;
  rounds: number;
  quick: boolean;
  log(line: string): void;
}

export const ACCEPT_DICOM = 'multipart/related; type="application/dicom"; transfer-syntax=*';
export const ACCEPT_FRAMES = 'multipart/related; type="application/octet-stream"; transfer-syntax=*';
const OHIF_STUDY_LIST = '/studies?limit=101&offset=0&fuzzymatching=false&includefield=00081030%2C00080060%2C00080090%2C00100030';

/**
 * Measures one operation: a short warm-up (not counted), then `rounds` rounds of the requests
 * `make(round)` returns, `clients` at a time. Latency percentiles are over every request of every
 * round; throughput is the median of the rounds'.
 */
export async function measure(
  ctx: PhaseContext,
  phase: string,
  op: string,
  description: string,
  make: (round: number) => RequestSpec[],
  options: { clients?: number; rounds?: number; instancesPerRequest?: number; warmup?: number; target?: Target } = {},
): Promise<OpResult> {
  const clients = options.clients ?? 1;
  const rounds = options.rounds ?? ctx.rounds;
  const warm = make(-1).slice(0, options.warmup ?? 3);
  if (warm.length) await runAll(ctx.client, warm, 1);
  resetPeakRss(ctx.pid);
  const startedAt = Date.now();
  const cpu0 = cpuSeconds(ctx.pid);
  const db0 = ctx.databaseCpu?.();
  const samples: Sample[] = [];
  const perRound: { rps: number; mbps: number; ips: number }[] = [];
  const errors: string[] = [];
  for (let round = 0; round < rounds; round++) {
    const requests = make(round);
    const run = await runAll(ctx.client, requests, clients);
    samples.push(...run.samples);
    errors.push(...run.errors);
    const seconds = run.wallMs / 1000;
    const bytes = run.samples.reduce((n, s) => n + s.bytes, 0) + sentBytes(requests);
    perRound.push({ rps: run.samples.length / seconds, mbps: bytes / 1e6 / seconds, ips: (run.samples.length * (options.instancesPerRequest ?? 1)) / seconds });
  }
  const cpu1 = cpuSeconds(ctx.pid);
  const db1 = ctx.databaseCpu?.();
  const mem = memory(ctx.pid);
  const total = samples.map((s) => s.totalMs);
  const ttfb = samples.map((s) => s.ttfbMs);
  const result: OpResult = {
    phase,
    op,
    description,
    clients,
    rounds,
    requests: samples.length,
    errors: errors.length,
    p50Ms: round3(median(total)),
    p95Ms: round3(percentile(total, 95)),
    ttfbP50Ms: round3(median(ttfb)),
    ttfbP95Ms: round3(percentile(ttfb, 95)),
    requestsPerS: round3(median(perRound.map((r) => r.rps))),
    mbPerS: round3(median(perRound.map((r) => r.mbps))),
    ...(options.instancesPerRequest ? { instancesPerS: round3(median(perRound.map((r) => r.ips))) } : {}),
    ...(cpu0 !== undefined && cpu1 !== undefined && samples.length ? { cpuMsPerOp: round3(((cpu1 - cpu0) * 1000) / samples.length) } : {}),
    ...(db0 !== undefined && db1 !== undefined && samples.length ? { databaseCpuMsPerOp: round3(((db1 - db0) * 1000) / samples.length) } : {}),
    ...(mem.peakRssMb !== undefined ? { peakRssMb: Math.round(mem.peakRssMb) } : {}),
    ...(errors.length ? { firstError: errors[0] } : {}),
    startedAt,
    endedAt: Date.now(),
  };
  if (options.target) {
    const t = options.target;
    const measured = result[t.metric];
    result.target = t;
    result.measured = measured;
    result.met = measured !== undefined && (t.cmp === '<=' ? measured <= t.value : t.cmp === '<' ? measured < t.value : measured >= t.value);
  }
  ctx.log(
    `  ${phase}/${op}: p50 ${result.p50Ms} ms, p95 ${result.p95Ms} ms, ${result.requestsPerS} req/s, ${result.mbPerS} MB/s` +
      `${result.instancesPerS ? `, ${result.instancesPerS} inst/s` : ''}${result.cpuMsPerOp !== undefined ? `, cpu ${result.cpuMsPerOp} ms/op` : ''}` +
      `${result.databaseCpuMsPerOp !== undefined ? ` + database ${result.databaseCpuMsPerOp} ms/op` : ''}` +
      `${result.peakRssMb !== undefined ? `, peak RSS ${result.peakRssMb} MB` : ''}${errors.length ? `, ${errors.length} errors (${errors[0]})` : ''}` +
      `${result.target ? ` [target ${t(result)}]` : ''}`,
  );
  return result;
}

const t = (r: OpResult) => `${r.target!.label}: ${r.met ? 'met' : 'MISSED'}`;
const round3 = (n: number) => Math.round(n * 1000) / 1000;
const sentBytes = (requests: RequestSpec[]) => requests.reduce((n, r) => n + (r.body ? ((r as { bodyBytes?: number }).bodyBytes ?? 0) : 0), 0);

/** Cycles through `list` so every round asks for different objects (as far as the list allows). */
export function cycle<T>(list: T[], round: number, count: number): T[] {
  const out: T[] = [];
  const start = ((round + 1) * count * 7919) % Math.max(1, list.length);
  for (let i = 0; i < count; i++) out.push(list[(start + i) % list.length]!);
  return out;
}

/** STOW-RS request bodies: `batch` instances per multipart/related request. */
export function stowRequests(paths: Paths, dir: string, entries: Entry[], batch: number): (RequestSpec & { bodyBytes: number })[] {
  const requests: (RequestSpec & { bodyBytes: number })[] = [];
  for (let i = 0; i < entries.length; i += batch) {
    const part = entries.slice(i, i + batch);
    const boundary = `bench-${i}-${Math.random().toString(36).slice(2)}`;
    const head = Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`);
    const crlf = Buffer.from('\r\n');
    const tail = Buffer.from(`--${boundary}--\r\n`);
    const bodyBytes = part.reduce((n, e) => n + head.length + e.size + crlf.length, 0) + tail.length;
    requests.push({
      method: 'POST',
      path: `${paths.dicomweb}/studies`,
      headers: { 'content-type': `multipart/related; type="application/dicom"; boundary="${boundary}"`, accept: 'application/dicom+json' },
      body: () => [...part.flatMap((e) => [head, readFileSync(join(dir, e.file)), crlf]), tail],
      bodyBytes,
    });
  }
  return requests;
}

export async function stowPhase(ctx: PhaseContext, entries: Entry[], batch: number): Promise<OpResult> {
  const requests = stowRequests(ctx.paths, ctx.manifest.dir, entries, batch);
  const perRound = Math.ceil(requests.length / ctx.rounds);
  const mb = entries.reduce((n, e) => n + e.size, 0) / 1e6;
  return measure(
    ctx,
    'stow',
    'ingest',
    `STOW-RS ${entries.length} instances (${mb.toFixed(0)} MB), ${batch} per request, ${ctx.clients} clients`,
    (round) => (round < 0 ? [] : requests.slice(round * perRound, (round + 1) * perRound)),
    { clients: ctx.clients, instancesPerRequest: batch, warmup: 0, target: { metric: 'instancesPerS', cmp: '>=', value: 700, label: '≥ 700 instances/s' } },
  );
}

export async function stowQuiet(ctx: PhaseContext, entries: Entry[], batch: number): Promise<void> {
  const run = await runAll(ctx.client, stowRequests(ctx.paths, ctx.manifest.dir, entries, batch), ctx.clients);
  if (run.errors.length) throw new Error(`STOW of the top-up data failed: ${run.errors[0]}`);
}

export async function qidoPhase(ctx: PhaseContext, label: string, large: boolean): Promise<OpResult[]> {
  const m = ctx.manifest;
  const n = ctx.quick ? 5 : 30;
  const dw = ctx.paths.dicomweb;
  const studies = m.studies;
  const patientIds = [...new Set(studies.map((s) => s.patientId))];
  // Name fragments that occur in the data: a family-name infix (OHIF wraps filters in *…*) and a suffix.
  const families = [...new Set(studies.map((s) => s.patientName.split('^')[0]!))];
  const infixes = families.map((f) => f.slice(1, 4).toLowerCase());
  const suffixes = [...new Set(studies.map((s) => s.patientName.slice(-3)))];
  const p50 = (value: number, label = `p50 ≤ ${value} ms`): Target => ({ metric: 'p50Ms', cmp: '<=', value, label });
  const p95 = (value: number): Target => ({ metric: 'p95Ms', cmp: '<=', value, label: `p95 ≤ ${value} ms` });
  const exactTarget = large ? p95(20) : p50(2);
  const listTarget = large ? p95(20) : p50(10);
  const phase = `qido@${label}`;
  const get = (path: string): RequestSpec => ({ path: `${dw}${path}`, headers: { accept: 'application/dicom+json' } });
  return [
    await measure(
      ctx,
      phase,
      'patient-id',
      'studies?PatientID=<exact>',
      (r) => cycle(patientIds, r, n).map((id) => get(`/studies?PatientID=${encodeURIComponent(id)}`)),
      { target: exactTarget },
    ),
    await measure(
      ctx,
      phase,
      'study-uid',
      'studies?StudyInstanceUID=<exact>',
      (r) => cycle(studies, r, n).map((s) => get(`/studies?StudyInstanceUID=${s.uid}`)),
      { target: exactTarget },
    ),
    await measure(
      ctx,
      phase,
      'series-of-study',
      'studies/{s}/series (viewer)',
      (r) => cycle(studies, r, n).map((s) => get(`/studies/${s.uid}/series?includefield=0008103E%2C00080021`)),
      { target: large ? p95(20) : undefined },
    ),
    await measure(
      ctx,
      phase,
      'instances-of-series',
      'studies/{s}/series/{x}/instances (25)',
      (r) => cycle(studies, r, n).map((s) => get(`/studies/${s.uid}/series/${s.series[0]!.uid}/instances`)),
      { target: large ? p95(20) : undefined },
    ),
    await measure(ctx, phase, 'worklist', 'OHIF study list: limit=101 + includefield', (r) => cycle([0], r, n).map(() => get(OHIF_STUDY_LIST)), {
      target: listTarget,
    }),
    await measure(
      ctx,
      phase,
      'worklist-name',
      'OHIF study list + PatientName=*abc*',
      (r) => cycle(infixes, r, n).map((f) => get(`${OHIF_STUDY_LIST}&PatientName=${encodeURIComponent(`*${f}*`)}`)),
      { target: listTarget },
    ),
    await measure(
      ctx,
      phase,
      'name-leading-wildcard',
      'studies?PatientName=*xyz (leading wildcard)',
      (r) => cycle(suffixes, r, n).map((f) => get(`/studies?PatientName=${encodeURIComponent(`*${f}`)}`)),
      { target: large ? p95(20) : undefined },
    ),
  ];
}

export async function metadataPhase(ctx: PhaseContext): Promise<OpResult[]> {
  const m = ctx.manifest;
  const n = ctx.quick ? 5 : 30;
  const dw = ctx.paths.dicomweb;
  const full = m.studies.filter((s) => s.series.length === 4 && s.series.every((x) => x.instances.length === 25));
  const studies = full.length ? full : m.studies;
  const big = m.bigStudy;
  const json = { accept: 'application/dicom+json' };
  const seriesSize = studies[0]!.series[0]!.instances.length;
  const studySize = studies[0]!.series.reduce((k, x) => k + x.instances.length, 0);
  const bigSize = big.series[0]!.instances.length;
  return [
    await measure(
      ctx,
      'metadata',
      'series',
      `series metadata (${seriesSize} instances)`,
      (r) => cycle(studies, r, n).map((s) => ({ path: `${dw}/studies/${s.uid}/series/${s.series[1 % s.series.length]!.uid}/metadata`, headers: json })),
      { target: { metric: 'p50Ms', cmp: '<=', value: 3, label: 'p50 ≤ 3 ms' } },
    ),
    await measure(
      ctx,
      'metadata',
      'study',
      `study metadata (${studySize} instances)`,
      (r) => cycle(studies, r, Math.ceil(n / 2)).map((s) => ({ path: `${dw}/studies/${s.uid}/metadata`, headers: json })),
      { target: { metric: 'p50Ms', cmp: '<=', value: 10, label: 'p50 ≤ 10 ms' } },
    ),
    await measure(
      ctx,
      'metadata',
      'big-series',
      `series metadata (${bigSize} instances)`,
      () => Array.from({ length: ctx.quick ? 2 : 8 }, () => ({ path: `${dw}/studies/${big.uid}/series/${big.series[0]!.uid}/metadata`, headers: json })),
      { target: { metric: 'p50Ms', cmp: '<=', value: 40, label: 'p50 ≤ 40 ms' } },
    ),
  ];
}

export async function retrievePhase(ctx: PhaseContext): Promise<OpResult[]> {
  const m = ctx.manifest;
  const n = ctx.quick ? 10 : 120;
  const dw = ctx.paths.dicomweb;
  const entries = m.images;
  const big = m.bigStudy;
  const mbTarget: Target = { metric: 'mbPerS', cmp: '>=', value: 600, label: '≥ 600 MB/s' };
  const results = [
    await measure(
      ctx,
      'retrieve',
      'wado-rs-instance',
      `WADO-RS instance (multipart, ${ctx.clients} clients)`,
      (r) => cycle(entries, r, n).map((e) => ({ path: `${dw}/studies/${e.study}/series/${e.series}/instances/${e.sop}`, headers: { accept: ACCEPT_DICOM } })),
      { clients: ctx.clients, target: mbTarget },
    ),
    await measure(
      ctx,
      'retrieve',
      'wado-rs-frame',
      `WADO-RS frame 1 (octet-stream, ${ctx.clients} clients)`,
      (r) =>
        cycle(entries, r, n).map((e) => ({
          path: `${dw}/studies/${e.study}/series/${e.series}/instances/${e.sop}/frames/1`,
          headers: { accept: ACCEPT_FRAMES },
        })),
      { clients: ctx.clients },
    ),
  ];
  if (ctx.paths.wadouri !== undefined) {
    results.push(
      await measure(
        ctx,
        'retrieve',
        'wado-uri',
        `WADO-URI application/dicom (${ctx.clients} clients)`,
        (r) =>
          cycle(entries, r, n).map((e) => ({
            path: `${ctx.paths.wadouri}?requestType=WADO&studyUID=${e.study}&seriesUID=${e.series}&objectUID=${e.sop}&contentType=application/dicom`,
            headers: { accept: 'application/dicom' },
          })),
        { clients: ctx.clients, target: mbTarget },
      ),
    );
  }
  // A whole study of 4 series × 25 instances, a different one in each request (as a viewer's prefetch).
  const studies = m.studies.filter((s) => s.series.length === 4);
  if (studies.length) {
    const size = studies[0]!.series.reduce((k, s) => k + s.instances.length, 0);
    results.push(
      await measure(
        ctx,
        'retrieve',
        'study',
        `WADO-RS study retrieve (${size} instances, 1 client)`,
        (r) => cycle(studies, r, ctx.quick ? 1 : 3).map((s) => ({ path: `${dw}/studies/${s.uid}`, headers: { accept: ACCEPT_DICOM } })),
        { warmup: 1, rounds: Math.min(ctx.rounds, 3) },
      ),
    );
  }
  results.push(
    await measure(
      ctx,
      'retrieve',
      'big-series',
      `WADO-RS series retrieve (${big.series[0]!.instances.length} instances, 1 client)`,
      () => [{ path: `${dw}/studies/${big.uid}/series/${big.series[0]!.uid}`, headers: { accept: ACCEPT_DICOM } }],
      { warmup: 0, rounds: Math.min(ctx.rounds, 3), target: { metric: 'ttfbP50Ms', cmp: '<', value: 50, label: 'TTFB < 50 ms' } },
    ),
  );
  return results;
}

export async function ohifPhase(ctx: PhaseContext): Promise<OpResult[]> {
  if (ctx.paths.ohif === undefined) return [];
  const m = ctx.manifest;
  const n = ctx.quick ? 4 : 20;
  const o = ctx.paths.ohif;
  const studies: StudyInfo[] = m.studies.filter((s) => s.series.length === 4);
  const list = studies.length ? studies : m.studies;
  const big = m.bigStudy;
  const bigN = ctx.quick ? 2 : 8;
  const target: Target = { metric: 'p50Ms', cmp: '<=', value: 30, label: 'p50 ≤ 30 ms' };
  return [
    await measure(ctx, 'ohif', 'legacy-study', 'GET /ohif/study/{s}/series (100 instances)', (r) =>
      cycle(list, r, n).map((s) => ({ path: `${o}/study/${s.uid}/series` })),
    ),
    await measure(ctx, 'ohif', 'dicomjson-study', 'GET /ohif/dicomjson/studies/{s} (100 instances)', (r) =>
      cycle(list, r, n).map((s) => ({ path: `${o}/dicomjson/studies/${s.uid}` })),
    ),
    await measure(
      ctx,
      'ohif',
      'legacy-big',
      `GET /ohif/study/{s}/series (${big.series[0]!.instances.length} instances)`,
      () => Array.from({ length: bigN }, () => ({ path: `${o}/study/${big.uid}/series` })),
      { target },
    ),
    await measure(
      ctx,
      'ohif',
      'dicomjson-big',
      `GET /ohif/dicomjson/studies/{s} (${big.series[0]!.instances.length} instances)`,
      () => Array.from({ length: bigN }, () => ({ path: `${o}/dicomjson/studies/${big.uid}` })),
      { target },
    ),
  ];
}
