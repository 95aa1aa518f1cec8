import t from 'tap';
import type { OpResult } from './phases.js';
import { type Run, SUMMARY_END, SUMMARY_START, medianRun, replaceSummary, summaryMarkdown, targetChecks } from './summary.js';

/** An operation's result with the figures a test names; the rest are plausible and irrelevant. */
function op(phase: string, name: string, figures: Partial<OpResult> = {}): OpResult {
  return {
    phase,
    op: name,
    description: `${phase}/${name}`,
    clients: 4,
    rounds: 3,
    requests: 100,
    errors: 0,
    p50Ms: 5,
    p95Ms: 9,
    ttfbP50Ms: 4,
    ttfbP95Ms: 8,
    requestsPerS: 100,
    mbPerS: 100,
    startedAt: 1,
    endedAt: 2,
    ...figures,
  };
}

/** A run of the three servers and the ceiling, every figure scaled by `k` (to make runs differ). */
function run(k: number): Run {
  const reads = (mbPerS: number, cpu: number, db?: number) => [
    op('retrieve', 'wado-rs-instance', { mbPerS: mbPerS * k, cpuMsPerOp: cpu, ...(db === undefined ? {} : { databaseCpuMsPerOp: db }) }),
    op('retrieve', 'wado-rs-frame', { mbPerS: mbPerS * k, cpuMsPerOp: cpu }),
    op('retrieve', 'wado-uri', { mbPerS: mbPerS * k, cpuMsPerOp: cpu }),
    op('retrieve', 'big-series', { clients: 1, mbPerS: 2 * mbPerS * k, p50Ms: 100 / k }),
  ];
  return {
    baseline: [op('baseline', 'files', { mbPerS: 600 * k, cpuMsPerOp: 1 }), op('baseline', 'upload-durable', { instancesPerS: 700 * k, cpuMsPerOp: 15 })],
    results: [
      {
        name: 'postgres',
        description: 'PostgreSQL + filesystem',
        idleRssMb: 150,
        notes: [],
        ops: [
          op('stow', 'ingest', { instancesPerS: 480 * k, cpuMsPerOp: 40, databaseCpuMsPerOp: 5 }),
          ...reads(500, 1.2, 0.2),
          op('qido@2000', 'patient-id', { clients: 1, p50Ms: 2 }),
        ],
      },
      {
        name: 'embedded',
        description: 'PGlite + filesystem',
        idleRssMb: 190 + k,
        notes: [],
        ops: [op('stow', 'ingest', { instancesPerS: 300 * k, cpuMsPerOp: 60 }), ...reads(400, 2), op('qido@2000', 'patient-id', { clients: 1, p50Ms: 2.1 })],
      },
      { name: 'orthanc', description: 'Orthanc 1.10.1', notes: [], ops: [op('stow', 'ingest', { instancesPerS: 300 * k, cpuMsPerOp: 50 }), ...reads(240, 2)] },
    ],
  };
}

t.test('medianRun takes the median of every figure over the runs, per server and for the ceiling', async (t) => {
  const folded = medianRun([run(1), run(3), run(2)]);
  const pg = folded.results.find((r) => r.name === 'postgres')!;
  t.equal(pg.ops.find((o) => o.op === 'ingest')!.instancesPerS, 960, 'STOW: the middle of 480, 1440 and 960');
  t.equal(pg.ops.find((o) => o.op === 'wado-rs-instance')!.databaseCpuMsPerOp, 0.2, 'the database CPU is kept');
  t.equal(pg.ops.find((o) => o.op === 'ingest')!.requests, 300, 'requests are summed');
  t.equal(folded.results.find((r) => r.name === 'embedded')!.idleRssMb, 192, 'idle RSS: the median');
  t.equal(folded.baseline.find((o) => o.op === 'files')!.mbPerS, 1200, 'the ceiling too');
  t.same(medianRun([run(1)]), run(1), 'one run is itself');
});

t.test("targetChecks holds each back end to issue #19's bounds", async (t) => {
  const checks = targetChecks(run(1));
  const get = (backend: string, what: string) => checks.find((c) => c.backend === backend && c.what.startsWith(what));
  t.match(get('postgres', 'STOW-RS instances/s'), { measured: 1.6, met: true }, '480 ÷ 300 ≥ 1.5');
  t.match(get('embedded', 'STOW-RS instances/s'), { measured: 1, met: false }, '300 ÷ 300 < 1.5');
  t.match(get('postgres', 'STOW-RS CPU'), { measured: 0.9, met: true }, 'CPU (40 + 5 database) ÷ 50 ≤ 1');
  t.match(get('embedded', 'STOW-RS CPU'), { measured: 1.2, met: false });
  t.match(get('postgres', 'WADO-RS instance MB/s ÷ Orthanc'), { met: true }, '500 ÷ 240 ≥ 2');
  t.match(get('embedded', 'WADO-RS instance MB/s ÷ Orthanc'), { met: false }, '400 ÷ 240 < 2');
  t.match(get('postgres', 'WADO-RS instance MB/s ÷ trivial'), { measured: 500 / 600, met: true });
  t.match(get('postgres', 'WADO-RS instance CPU'), { measured: 1.4, met: true }, 'database CPU counted: (1.2 + 0.2) ÷ 1');
  t.match(get('embedded', 'WADO-RS frame CPU'), { measured: 2, met: false });
  t.notOk(get('postgres', 'WADO-RS study'), 'an operation not measured is not checked');
  t.match(get('embedded', 'slowest read operation'), { measured: 0.8, met: false }, 'the slowest of embedded ÷ PostgreSQL: 400 ÷ 500');
  t.match(get('embedded', 'idle resident memory'), { measured: 191, met: true });
  t.same(targetChecks({ ...run(1), results: run(1).results.filter((r) => r.name !== 'orthanc') }), [], 'no Orthanc, no checks');
});

t.test('the summary is one block at the top of the document, replaced in place', async (t) => {
  const summary = summaryMarkdown({
    timestamp: '2026-12-07T01:00:00.000Z',
    command: 'pnpm bench --orthanc --runs 3 --summary',
    runs: 3,
    machine: { nproc: 2, cpu: 'AMD EPYC', node: 'v20.20.2', loadAverage: [1, 2, 3] },
    run: run(1),
    orthancVersion: '1.10.1',
  });
  t.match(summary, /medians of 3 runs/);
  t.match(summary, /Orthanc 1\.10\.1 with its DICOMweb plugin 1\.7/);
  t.match(summary, /targets: \d+ of \d+ met/);
  t.match(
    summary,
    /trivial node:http server itself reached WADO-RS instance 2\.50×, WADO-RS frame 2\.50×, WADO-URI 2\.50× Orthanc's MB\/s/,
    'the ceiling ÷ Orthanc: 600 ÷ 240',
  );
  const doc = '# Benchmarks\n\nIntro.\n\n## Run log\n';
  const once = replaceSummary(doc, summary);
  t.ok(once.startsWith(`# Benchmarks\n\n${SUMMARY_START}`), 'inserted under the title');
  t.match(once, /Intro\.\n\n## Run log/, 'the rest is kept');
  const twice = replaceSummary(once, 'new summary\n');
  t.equal(twice.split(SUMMARY_START).length, 2, 'one block after a second write');
  t.notMatch(twice, /medians of 3 runs/, 'the old summary is gone');
  t.match(twice, new RegExp(`new summary\\n\\n${SUMMARY_END}\\n\\nIntro`), 'the new one is in its place');
});
