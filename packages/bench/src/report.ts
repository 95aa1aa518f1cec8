import { type AuthComparison, authMarkdown } from './auth.js';
import type { OpResult } from './phases.js';
import type { ServerResult } from './summary.js';

interface Output {
  timestamp: string;
  command: string;
  durationMinutes: number;
  machine: { uname: string; nproc: number; cpu?: string; memoryGb: number; loadAverage: number[]; node: string; postgres?: string };
  settings: Record<string, unknown>;
  /** Passes of the whole measurement; above 1 every figure is the median of the passes'. */
  runs?: number;
  skipped: string[];
  baseline: OpResult[];
  results: ServerResult[];
  /** `--auth`: each back end's modes compared. */
  auth?: { comparisons: AuthComparison[] };
}

const num = (n: number | undefined, digits = 1) => (n === undefined || Number.isNaN(n) ? '–' : n >= 100 ? n.toFixed(0) : n.toFixed(digits));

function throughput(op: OpResult): string {
  if (op.op === 'ingest-rss') return '';
  if (op.instancesPerS !== undefined) return `${num(op.instancesPerS, 0)} inst/s, ${num(op.mbPerS, 0)} MB/s`;
  if (op.mbPerS >= 10) return `${num(op.requestsPerS)} req/s, ${num(op.mbPerS, 0)} MB/s`;
  return `${num(op.requestsPerS)} req/s`;
}

/** Server CPU per operation, and the database's beside it when measured (PostgreSQL back ends). */
function cpuCell(op: OpResult): string {
  return `${num(op.cpuMsPerOp, 2)}${op.databaseCpuMsPerOp === undefined ? '' : ` + ${num(op.databaseCpuMsPerOp, 2)} db`}`;
}

function targetCell(op: OpResult): string {
  if (!op.target) return '';
  return `${op.target.label} → ${num(op.measured, 2)} ${op.met ? '✅' : '❌'}`;
}

export function markdownSection(o: Output): string {
  const m = o.machine;
  const lines = [
    '',
    `## ${o.timestamp.slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `- Command: \`${o.command}\` (${o.durationMinutes} min)${(o.runs ?? 1) > 1 ? `; every figure is the median of ${o.runs} runs` : ''}`,
    `- Machine: \`${m.uname}\``,
    `- ${m.nproc} CPUs (${m.cpu ?? 'unknown'}), ${m.memoryGb} GB RAM, Node ${m.node}${m.postgres ? `, ${m.postgres}` : ''}`,
    `- Load average at the end (1/5/15 min): ${m.loadAverage.join(' / ')}`,
    `- Settings: ${Object.entries(o.settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
    ...o.skipped.map((s) => `- Skipped: ${s}`),
    ...o.baseline.map(
      (b) =>
        `- Loopback ceiling (${b.description}): ${b.op.startsWith('upload') ? `${num(b.instancesPerS, 0)} inst/s, ` : ''}${num(b.mbPerS, 0)} MB/s, p50 ${num(b.p50Ms, 2)} ms, CPU ${num(b.cpuMsPerOp, 2)} ms/request`,
    ),
  ];
  for (const r of o.results) {
    lines.push('', `### ${r.name}: ${r.description}`, '');
    lines.push('| phase | operation | clients | requests | p50 ms | p95 ms | TTFB p50 ms | throughput | server CPU ms/op | peak RSS MB | target → measured |');
    lines.push('|---|---|---:|---:|---:|---:|---:|---|---:|---:|---|');
    for (const op of r.ops) {
      if (op.op === 'ingest-rss') {
        lines.push(`| ${op.phase} | server peak RSS | | | | | | | | ${num(op.peakRssMb, 0)} | ${targetCell(op)} |`);
        continue;
      }
      lines.push(
        `| ${op.phase} | ${op.description}${op.errors ? ` (${op.errors} errors)` : ''} | ${op.clients} | ${op.requests} | ${num(op.p50Ms, 2)} | ${num(op.p95Ms, 2)} | ${num(op.ttfbP50Ms, 2)} | ${throughput(op)} | ${cpuCell(op)} | ${num(op.peakRssMb, 0)} | ${targetCell(op)} |`,
      );
    }
    const targets = r.ops.filter((op) => op.target);
    lines.push(
      '',
      `Targets met: ${targets.filter((op) => op.met).length} of ${targets.length}${r.peakRssMb ? `; server RSS just started ${r.startRssMb ?? '–'} MB, after 30 s idle ${r.idleRssMb ?? '–'} MB, peak over the run ${r.peakRssMb} MB, at the end ${r.finalRssMb ?? '–'} MB` : ''}.`,
    );
    for (const note of r.notes) lines.push(`- ${note}`);
  }
  if (o.auth) lines.push(authMarkdown(o.auth.comparisons));
  else if (o.results.length > 1) lines.push('', ratioTable(o.results));
  lines.push('');
  return `${lines.join('\n')}\n`;
}

/** p50 and throughput of every result relative to the first one (e.g. Orthanc / Tessera). */
export function ratioTable(results: Output['results']): string {
  const [base, ...others] = results;
  const lines = [
    `Ratios to ${base!.name} (p50: other ÷ ${base!.name}, > 1 is slower; throughput: other ÷ ${base!.name}, < 1 is slower):`,
    '',
    `| operation | ${others.map((o) => `${o.name} p50 | ${o.name} throughput`).join(' | ')} |`,
    `|---|${others.map(() => '---:|---:').join('|')}|`,
  ];
  for (const op of base!.ops) {
    if (op.op === 'ingest-rss') continue;
    const cells = others.map((o) => {
      const other = o.ops.find((x) => x.phase.split('@')[0] === op.phase.split('@')[0] && x.op === op.op);
      if (!other) return '– | –';
      const tp = (x: OpResult) => x.instancesPerS ?? (x.phase === 'retrieve' ? x.mbPerS : x.requestsPerS);
      return `${(other.p50Ms / op.p50Ms).toFixed(2)} | ${(tp(other) / tp(op)).toFixed(2)}`;
    });
    lines.push(`| ${op.phase}/${op.op} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
