import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';

/**
 * `pnpm bench --quick --backend embedded` runs to the end and writes well-formed JSON with every phase;
 * `--auth` in its quick form (one run per mode) really authenticates. No timing is asserted: this only
 * keeps the benchmark from rotting.
 */

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

/** Runs `pnpm bench` (from source) with `args`, no report, results in a scratch file; asserts it exits 0 and returns the results. */
async function runBench(t: Test, args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-smoke-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'results.json');
  const child = spawn(
    process.execPath,
    ['--conditions=@tessera/source', '--import', 'tsx', 'packages/bench/src/main.ts', ...args, '--no-report', '--out', out],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = await once(child, 'exit');
  t.equal(code, 0, `the benchmark exits 0\n${output.slice(-3000)}`);
  return JSON.parse(readFileSync(out, 'utf8'));
}

t.test('pnpm bench --quick --backend embedded', async (t) => {
  const results = await runBench(t, ['--quick', '--backend', 'embedded']);
  t.type(results.command, 'string', 'the command is recorded');
  t.type(results.machine?.nproc, 'number', 'the machine is described');
  t.equal(results.results.length, 1, 'one back end');
  t.same(
    results.baseline.map((b: { op: string }) => b.op),
    ['memory', 'file', 'files', 'series', 'upload', 'upload-durable'],
    'the loopback ceilings are measured',
  );
  for (const b of results.baseline) {
    t.ok(b.requests > 0 && b.errors === 0, `baseline/${b.op}: requests made, none failed`);
    if (b.op.startsWith('upload')) t.ok(b.instancesPerS > 0, `baseline/${b.op}: instances per second measured`);
  }
  const run = results.results[0];
  t.equal(run.name, 'embedded');
  const phases = new Set(run.ops.map((op: { phase: string }) => op.phase.split('@')[0]));
  t.same([...phases].sort(), ['metadata', 'ohif', 'qido', 'retrieve', 'stow'], 'every phase is present');
  const ops = new Set(run.ops.map((op: { phase: string; op: string }) => `${op.phase.split('@')[0]}/${op.op}`));
  for (const op of [
    'stow/ingest',
    'qido/patient-id',
    'qido/study-uid',
    'qido/worklist',
    'qido/worklist-name',
    'qido/name-leading-wildcard',
    'metadata/series',
    'metadata/study',
    'metadata/big-series',
    'retrieve/wado-rs-instance',
    'retrieve/wado-rs-frame',
    'retrieve/wado-uri',
    'retrieve/study',
    'retrieve/big-series',
    'ohif/legacy-study',
    'ohif/dicomjson-study',
    'ohif/dicomjson-big',
  ]) {
    t.ok(ops.has(op), `${op} is measured`);
  }
  for (const op of run.ops) {
    t.ok(op.requests > 0 && op.errors === 0, `${op.phase}/${op.op}: requests made, none failed`);
    t.ok(Number.isFinite(op.p50Ms) && Number.isFinite(op.p95Ms), `${op.phase}/${op.op}: p50 and p95 are numbers`);
  }
});

t.test('pnpm bench --runs 2: each run kept, every figure the median of the runs', async (t) => {
  const results = await runBench(t, ['--quick', '--backend', 'embedded', '--phases', 'retrieve', '--runs', '2']);
  t.equal(results.runs, 2);
  t.equal(results.passes?.length, 2, 'both runs are in the JSON');
  const instance = (ops: { phase: string; op: string; requests: number; p50Ms: number }[]) =>
    ops.find((op) => op.phase === 'retrieve' && op.op === 'wado-rs-instance')!;
  const [a, b] = results.passes.map((pass: { results: { ops: [] }[] }) => instance(pass.results[0]!.ops));
  const folded = instance(results.results[0].ops);
  t.equal(folded.requests, a.requests + b.requests, 'requests are summed over the runs');
  t.equal(folded.p50Ms, Math.min(a.p50Ms, b.p50Ms), "the p50 is the two runs' median (nearest rank: the lower of two)");
  t.equal(results.baseline.length, results.passes[0].baseline.length, 'the ceiling too');
});

t.test('pnpm bench --auth --auth-runs 1 --quick --backend embedded', async (t) => {
  const results = await runBench(t, ['--quick', '--backend', 'embedded', '--auth', '--auth-runs', '1']);
  t.same(results.auth?.modes, ['none', 'apikey', 'oidc'], 'three modes');
  t.same(
    results.results.map((r: { name: string }) => r.name),
    ['embedded none', 'embedded apikey', 'embedded oidc'],
    'one result per mode (medians of the runs)',
  );
  t.equal(results.auth.runs.length, 3, 'one run per mode');
  for (const run of results.auth.runs) {
    const ops = new Set(run.ops.map((op: { phase: string; op: string }) => `${op.phase.split('@')[0]}/${op.op}`));
    for (const op of ['qido/patient-id', 'qido/worklist', 'retrieve/wado-rs-instance', 'retrieve/wado-rs-frame', 'retrieve/wado-uri'])
      t.ok(ops.has(op), `${run.mode}: ${op} is measured`);
    for (const op of run.ops) t.ok(op.requests > 0 && op.errors === 0, `${run.mode} ${op.phase}/${op.op}: requests made, none failed`);
    if (run.mode === 'none') {
      t.equal(run.probe.withoutCredential, 200, 'AUTH_MODE=none: a search without a credential is answered');
      t.equal(run.audit, undefined);
      continue;
    }
    t.equal(run.probe.withoutCredential, 401, `AUTH_MODE=${run.mode}: a search without the credential is refused during the run`);
    t.equal(run.probe.withCredential, 200, `AUTH_MODE=${run.mode}: with it, answered`);
    t.match(run.audit.actorId, run.mode === 'apikey' ? /^[0-9a-f]{16}$/ : /^[^\s]+$/, `AUTH_MODE=${run.mode}: the actor is the key id or token subject`);
    const events = Object.values(run.audit.byType as Record<string, number>).reduce((n, k) => n + k, 0);
    t.ok(
      events >= run.audit.requests,
      `AUTH_MODE=${run.mode}: the audit trail names the credential on every measured request (${events} ≥ ${run.audit.requests})`,
    );
    t.ok(run.audit.byType.query > 0 && run.audit.byType['instances-transferred'] > 0, 'searches and retrievals are both audited under it');
  }
  const [comparison] = results.auth.comparisons;
  t.equal(comparison.backend, 'embedded');
  for (const row of comparison.rows) {
    for (const mode of ['apikey', 'oidc']) {
      const ratio = row.ratios[mode];
      t.ok(Number.isFinite(ratio?.p50) && Number.isFinite(ratio?.throughput), `${row.operation}: ${mode} ratios are numbers`);
    }
  }
});
