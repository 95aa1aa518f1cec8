import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

/**
 * `pnpm bench --quick --backend embedded` runs to the end and writes well-formed JSON with every phase.
 * No timing is asserted: this only keeps the benchmark from rotting.
 */

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

t.test('pnpm bench --quick --backend embedded', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-smoke-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'results.json');
  const child = spawn(
    process.execPath,
    ['--conditions=@tessera/source', '--import', 'tsx', 'packages/bench/src/main.ts', '--quick', '--backend', 'embedded', '--no-report', '--out', out],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = await once(child, 'exit');
  t.equal(code, 0, `the benchmark exits 0\n${output.slice(-3000)}`);

  const results = JSON.parse(readFileSync(out, 'utf8'));
  t.type(results.command, 'string', 'the command is recorded');
  t.type(results.machine?.nproc, 'number', 'the machine is described');
  t.equal(results.results.length, 1, 'one back end');
  t.same(
    results.baseline.map((b: { op: string }) => b.op),
    ['memory', 'file', 'files', 'upload', 'upload-durable'],
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
