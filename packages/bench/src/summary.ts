import { median } from './load.js';
import type { OpResult } from './phases.js';

/** One server's results in a run (a back end the benchmark started, a --target, or Orthanc). */
export interface ServerResult {
  name: string;
  description: string;
  ops: OpResult[];
  /** Resident memory just after /readyz, and after 30 s idle (on a server of its own: idleMemory in main.ts). */
  startRssMb?: number;
  idleRssMb?: number;
  peakRssMb?: number;
  finalRssMb?: number;
  notes: string[];
}

/** One whole pass of `pnpm bench`: the loopback ceiling, then every server. */
export interface Run {
  baseline: OpResult[];
  results: ServerResult[];
}

/** The medians over the runs of every figure of each operation (requests and errors are summed). */
export function medianOps(runs: OpResult[][]): OpResult[] {
  const first = runs[0] ?? [];
  return first.map((op) => {
    const same = runs.map((ops) => ops.find((x) => x.phase === op.phase && x.op === op.op)).filter((x): x is OpResult => x !== undefined);
    const mid = (pick: (x: OpResult) => number | undefined) => {
      const values = same.map(pick).filter((v): v is number => v !== undefined);
      return values.length ? median(values) : undefined;
    };
    const result: OpResult = {
      ...op,
      rounds: same.reduce((n, x) => n + x.rounds, 0),
      requests: same.reduce((n, x) => n + x.requests, 0),
      errors: same.reduce((n, x) => n + x.errors, 0),
      p50Ms: mid((x) => x.p50Ms)!,
      p95Ms: mid((x) => x.p95Ms)!,
      ttfbP50Ms: mid((x) => x.ttfbP50Ms)!,
      ttfbP95Ms: mid((x) => x.ttfbP95Ms)!,
      requestsPerS: mid((x) => x.requestsPerS)!,
      mbPerS: mid((x) => x.mbPerS)!,
      startedAt: Math.min(...same.map((x) => x.startedAt)),
      endedAt: Math.max(...same.map((x) => x.endedAt)),
    };
    for (const key of ['instancesPerS', 'cpuMsPerOp', 'databaseCpuMsPerOp', 'peakRssMb'] as const) {
      const value = mid((x) => x[key]);
      if (value !== undefined) result[key] = value;
      else delete result[key];
    }
    if (op.target) {
      const measured = result[op.target.metric];
      const t = op.target;
      result.measured = measured;
      result.met = measured !== undefined && (t.cmp === '<=' ? measured <= t.value : t.cmp === '<' ? measured < t.value : measured >= t.value);
    }
    return result;
  });
}

/** The runs folded into one: each server's and the ceiling's figures are the medians over the runs. */
export function medianRun(runs: Run[]): Run {
  if (runs.length === 1) return runs[0]!;
  const first = runs[0]!;
  const rss = (pick: (r: ServerResult) => number | undefined, name: string) => {
    const values = runs.flatMap((run) => run.results.filter((r) => r.name === name).map(pick)).filter((v): v is number => v !== undefined);
    return values.length ? Math.round(median(values)) : undefined;
  };
  return {
    baseline: medianOps(runs.map((run) => run.baseline)),
    results: first.results.map((r) => {
      const out: ServerResult = {
        name: r.name,
        description: r.description,
        ops: medianOps(runs.map((run) => run.results.find((x) => x.name === r.name)?.ops ?? [])),
        notes: [...new Set(runs.flatMap((run) => run.results.filter((x) => x.name === r.name).flatMap((x) => x.notes)))],
      };
      const start = rss((x) => x.startRssMb, r.name);
      if (start !== undefined) out.startRssMb = start;
      const idle = rss((x) => x.idleRssMb, r.name);
      const peak = rss((x) => x.peakRssMb, r.name);
      const final = rss((x) => x.finalRssMb, r.name);
      if (idle !== undefined) out.idleRssMb = idle;
      if (peak !== undefined) out.peakRssMb = peak;
      if (final !== undefined) out.finalRssMb = final;
      return out;
    }),
  };
}

/** A target of issue #19 and how the run measured against it. */
export interface TargetCheck {
  backend: string;
  what: string;
  /** The measured ratio or value, and the bound it is held to. */
  measured: number | undefined;
  cmp: '>=' | '<=';
  bound: number;
  met: boolean | undefined;
}

const THROUGHPUT_READS = ['wado-rs-instance', 'wado-rs-frame', 'wado-uri'] as const;
const NAMES: Record<string, string> = {
  'wado-rs-instance': 'WADO-RS instance',
  'wado-rs-frame': 'WADO-RS frame',
  'wado-uri': 'WADO-URI',
  study: 'WADO-RS study (100 instances)',
  'big-series': 'WADO-RS series (big series)',
};

const find = (ops: OpResult[] | undefined, phase: string, op: string) => ops?.find((x) => x.phase.split('@')[0] === phase && x.op === op);
/** Server CPU per request with its database's (PostgreSQL back ends; PGlite and Orthanc's SQLite are in process). */
const totalCpu = (op: OpResult | undefined) => (op?.cpuMsPerOp === undefined ? undefined : op.cpuMsPerOp + (op.databaseCpuMsPerOp ?? 0));
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? undefined : a / b);

function check(backend: string, what: string, measured: number | undefined, cmp: '>=' | '<=', bound: number): TargetCheck {
  return { backend, what, measured, cmp, bound, met: measured === undefined ? undefined : cmp === '>=' ? measured >= bound : measured <= bound };
}

/**
 * Issue #19's targets, checked on one run (its medians): for each of Tessera's back ends, STOW-RS and
 * raw retrieval against Orthanc and the trivial node:http server of the same run, and the embedded
 * back end against PostgreSQL on every read operation. Empty when Orthanc was not measured.
 */
export function targetChecks(run: Run): TargetCheck[] {
  const orthanc = run.results.find((r) => r.name === 'orthanc');
  if (!orthanc) return [];
  const trivial = find(run.baseline, 'baseline', 'files');
  const checks: TargetCheck[] = [];
  const tessera = run.results.filter((r) => r.name === 'postgres' || r.name === 'embedded' || r.name === 'postgres-s3');
  for (const server of tessera) {
    const b = server.name;
    const stow = find(server.ops, 'stow', 'ingest');
    const oStow = find(orthanc.ops, 'stow', 'ingest');
    checks.push(check(b, 'STOW-RS instances/s ÷ Orthanc', ratio(stow?.instancesPerS, oStow?.instancesPerS), '>=', 1.5));
    checks.push(check(b, 'STOW-RS CPU per instance (database included) ÷ Orthanc', ratio(totalCpu(stow), totalCpu(oStow)), '<=', 1));
    for (const op of THROUGHPUT_READS) {
      const mine = find(server.ops, 'retrieve', op);
      const theirs = find(orthanc.ops, 'retrieve', op);
      if (!mine) continue;
      checks.push(check(b, `${NAMES[op]} MB/s ÷ Orthanc`, ratio(mine.mbPerS, theirs?.mbPerS), '>=', 2));
      checks.push(check(b, `${NAMES[op]} MB/s ÷ trivial server`, ratio(mine.mbPerS, trivial?.mbPerS), '>=', 0.7));
      checks.push(check(b, `${NAMES[op]} CPU per request ÷ trivial server`, ratio(totalCpu(mine), totalCpu(trivial)), '<=', 1.5));
    }
    for (const op of ['study', 'big-series']) {
      const mine = find(server.ops, 'retrieve', op);
      if (mine) checks.push(check(b, `${NAMES[op]} MB/s ÷ Orthanc`, ratio(mine.mbPerS, find(orthanc.ops, 'retrieve', op)?.mbPerS), '>=', 2));
    }
  }
  const pg = run.results.find((r) => r.name === 'postgres');
  const embedded = run.results.find((r) => r.name === 'embedded');
  if (pg && embedded) {
    // Every read operation, as speed relative to PostgreSQL's: the throughput of the concurrent ones,
    // the inverse of the p50 of those run one request at a time. The slowest one is the figure.
    const speeds = embedded.ops.flatMap((op) => {
      if (op.phase === 'stow' || op.op === 'ingest-rss') return [];
      const other = find(pg.ops, op.phase.split('@')[0]!, op.op);
      const speed = other && (op.clients > 1 ? ratio(op.mbPerS, other.mbPerS) : ratio(other.p50Ms, op.p50Ms));
      return speed === undefined ? [] : [{ name: `${op.phase}/${op.op}`, speed }];
    });
    const slowest = speeds.reduce<{ name: string; speed: number } | undefined>((a, b) => (a === undefined || b.speed < a.speed ? b : a), undefined);
    checks.push(check('embedded', `slowest read operation ÷ PostgreSQL's${slowest ? ` (${slowest.name})` : ''}`, slowest?.speed, '>=', 0.9));
    checks.push(check('embedded', 'idle resident memory (30 s after start), MB', embedded.idleRssMb, '<=', 200));
  }
  return checks;
}

const fmt = (n: number | undefined, digits = 2) => (n === undefined || Number.isNaN(n) ? '–' : n >= 100 ? n.toFixed(0) : n.toFixed(digits));

/** The one-screen summary that opens docs/benchmarks.md, from a run's medians. */
export function summaryMarkdown(o: {
  timestamp: string;
  command: string;
  runs: number;
  machine: { nproc: number; cpu?: string; node: string; postgres?: string; loadAverage: number[] };
  run: Run;
  orthancVersion?: string;
}): string {
  const { run } = o;
  const orthanc = run.results.find((r) => r.name === 'orthanc');
  const servers = run.results.filter((r) => r.name !== 'orthanc');
  const trivial = find(run.baseline, 'baseline', 'files');
  const durable = find(run.baseline, 'baseline', 'upload-durable');
  const rows: [string, (ops: OpResult[] | undefined, baseline: boolean) => string][] = [
    ['STOW-RS instances/s (10 per request, 4 clients)', (ops, base) => fmt((base ? durable : find(ops, 'stow', 'ingest'))?.instancesPerS)],
    [
      'STOW-RS CPU ms per instance (+ database)',
      (ops, base) => {
        const op = base ? durable : find(ops, 'stow', 'ingest');
        const per = (n: number | undefined) => (n === undefined ? undefined : n / 10);
        return op?.cpuMsPerOp === undefined
          ? '–'
          : `${fmt(per(op.cpuMsPerOp))}${op.databaseCpuMsPerOp === undefined ? '' : ` + ${fmt(per(op.databaseCpuMsPerOp))}`}`;
      },
    ],
    ...THROUGHPUT_READS.flatMap((op): [string, (ops: OpResult[] | undefined, base: boolean) => string][] => [
      [`${NAMES[op]} MB/s (4 clients)`, (ops, base) => fmt((base ? trivial : find(ops, 'retrieve', op))?.mbPerS, 0)],
      [
        `${NAMES[op]} CPU ms per request (+ database)`,
        (ops, base) => {
          const x = base ? trivial : find(ops, 'retrieve', op);
          return x?.cpuMsPerOp === undefined ? '–' : `${fmt(x.cpuMsPerOp)}${x.databaseCpuMsPerOp === undefined ? '' : ` + ${fmt(x.databaseCpuMsPerOp)}`}`;
        },
      ],
    ]),
    [`${NAMES.study} MB/s (1 client)`, (ops, base) => (base ? '' : fmt(find(ops, 'retrieve', 'study')?.mbPerS, 0))],
    [
      `${NAMES['big-series']} MB/s (1 client)`,
      (ops, base) => fmt((base ? find(run.baseline, 'baseline', 'series') : find(ops, 'retrieve', 'big-series'))?.mbPerS, 0),
    ],
    ['study metadata p50 ms', (ops, base) => (base ? '' : fmt(find(ops, 'metadata', 'study')?.p50Ms))],
    ['QIDO studies by PatientID p50 ms', (ops, base) => (base ? '' : fmt(find(ops, 'qido', 'patient-id')?.p50Ms))],
    ['OHIF v3 JSON, study, p50 ms', (ops, base) => (base ? '' : fmt(find(ops, 'ohif', 'dicomjson-study')?.p50Ms))],
  ];
  const columns = [...servers.map((s) => s.name), ...(orthanc ? ['orthanc'] : []), 'trivial node:http'];
  const lines = [
    `Latest summary run: ${o.timestamp.slice(0, 16).replace('T', ' ')} UTC, medians of ${o.runs} run${o.runs === 1 ? '' : 's'}, ` +
      `${o.machine.nproc} cores (${o.machine.cpu ?? 'unknown CPU'}), Node ${o.machine.node}${o.machine.postgres ? `, ${o.machine.postgres}` : ''}, ` +
      `load average at the end ${o.machine.loadAverage.map((n) => n.toFixed(1)).join(' / ')}.`,
    `Orthanc: ${o.orthancVersion ? `Orthanc ${o.orthancVersion}` : 'not measured'}${o.orthancVersion ? ' with its DICOMweb plugin 1.7 (the Debian 12 packages; later plugins cache series metadata, so the metadata lead would be smaller against them)' : ''}. The trivial node:http server is the same clients against a server that only sends the instance files (retrieval) or only writes and fdatasyncs them (STOW): the ceiling of this machine.`,
    '',
    '```sh',
    o.command,
    '```',
    '',
    `| | ${columns.join(' | ')} |`,
    `|---|${columns.map(() => '---:').join('|')}|`,
    ...rows.map(
      ([label, cell]) =>
        `| ${label} | ${[...servers.map((s) => cell(s.ops, false)), ...(orthanc ? [cell(orthanc.ops, false)] : []), cell(undefined, true)].join(' | ')} |`,
    ),
  ];
  const embedded = servers.find((s) => s.name === 'embedded');
  if (embedded?.idleRssMb !== undefined)
    lines.push('', `Embedded server resident memory: ${embedded.startRssMb ?? '–'} MB just started, ${embedded.idleRssMb} MB after 30 s idle.`);
  // The ceiling against Orthanc: a read target above it is beyond any node:http server on this machine.
  if (orthanc && trivial?.mbPerS !== undefined) {
    const ceilings = THROUGHPUT_READS.map((op) => `${NAMES[op]} ${fmt(ratio(trivial.mbPerS, find(orthanc.ops, 'retrieve', op)?.mbPerS))}×`);
    lines.push(
      '',
      `The trivial node:http server itself reached ${ceilings.join(', ')} Orthanc's MB/s in this run: a read target above that ratio cannot be met by a node:http server on this machine.`,
    );
  }
  const checks = targetChecks(run);
  if (checks.length) {
    const backends = [...new Set(checks.map((c) => c.backend))];
    const targets = [...new Set(checks.map((c) => c.what))];
    const met = checks.filter((c) => c.met).length;
    lines.push(
      '',
      `**Issue #19's targets: ${met} of ${checks.length} met.**`,
      '',
      `| target | bound | ${backends.join(' | ')} |`,
      `|---|---:|${backends.map(() => '---:').join('|')}|`,
    );
    for (const what of targets) {
      const row = checks.filter((c) => c.what === what);
      const cells = backends.map((b) => {
        const c = row.find((x) => x.backend === b);
        return c === undefined ? '' : c.met === undefined ? 'not measured' : `${fmt(c.measured)} ${c.met ? '✅' : '❌'}`;
      });
      lines.push(`| ${what} | ${row[0]!.cmp === '>=' ? '≥' : '≤'} ${row[0]!.bound} | ${cells.join(' | ')} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export const SUMMARY_START = '<!-- summary: written by `pnpm bench --summary`; edit the generator (packages/bench/src/summary.ts), not this block -->';
export const SUMMARY_END = '<!-- end of summary -->';

/** `doc` with the block between the summary markers replaced by `summary` (inserted after the title when absent). */
export function replaceSummary(doc: string, summary: string): string {
  const block = `${SUMMARY_START}\n\n${summary.trimEnd()}\n\n${SUMMARY_END}`;
  const start = doc.indexOf(SUMMARY_START);
  const end = doc.indexOf(SUMMARY_END);
  if (start >= 0 && end > start) return doc.slice(0, start) + block + doc.slice(end + SUMMARY_END.length);
  const title = doc.indexOf('\n');
  return `${doc.slice(0, title + 1)}\n${block}\n${doc.slice(title + 1)}`;
}
