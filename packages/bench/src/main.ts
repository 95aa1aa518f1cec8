#!/usr/bin/env node
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureBucket } from '@tessera/blob-store/testing';
import { createScratchDatabase } from '@tessera/index/testing';
import { startS3Server } from '@tessera/s3-test-server';
import { hasPsql, insertSyntheticRows } from './bulk-rows.js';
import { disableChangeFeed } from './feed.js';
import { startOrthanc } from './orthanc.js';
import { type Manifest, loadOrGenerate } from './data.js';
import { Client, type RequestSpec } from './load.js';
import {
  type OpResult,
  type Paths,
  type PhaseContext,
  measure,
  metadataPhase,
  ohifPhase,
  qidoPhase,
  retrievePhase,
  stowPhase,
  stowQuiet,
  stowRequests,
  cycle,
} from './phases.js';
import { freePort } from '@tessera/testkit';
import { type ServerUnderTest, buildServer, memory, startServerProcess, watchDatabaseCpu } from './server-process.js';
import { markdownSection, ratioTable } from './report.js';
import { type Run, type ServerResult, medianOps, medianRun, replaceSummary, summaryMarkdown } from './summary.js';
import {
  AUTH_MODES,
  type AuthComparison,
  type AuthMode,
  type AuthRun,
  type Credential,
  type TokenIssuer,
  auditedEvents,
  authMarkdown,
  compareModes,
  createApiKey,
  probeAuthentication,
  startTokenIssuer,
} from './auth.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BACKENDS = ['embedded', 'postgres', 'postgres-s3'] as const;
const PHASES = ['stow', 'metadata', 'retrieve', 'ohif', 'qido'] as const;
type Phase = (typeof PHASES)[number];
type Backend = (typeof BACKENDS)[number];

const USAGE = `usage: pnpm bench [options]

  --backend embedded|postgres|postgres-s3|all   server back end(s) to start (default: all available)
  --target <url>          also (or, with --backend none, only) measure a running server at this base URL
  --target-name <name>    its name in the report (default: target)
  --dicomweb-path <p>     DICOMweb root on the target (default /dicomweb)
  --wadouri-path <p>      WADO-URI path on the target (default /wadouri; '' to skip)
  --ohif-path <p>         OHIF JSON root on the target (default /ohif; '' to skip)
  --orthanc               also start Orthanc (--orthanc-binary, default Orthanc on PATH; apt-get install orthanc
                          orthanc-dicomweb) with empty storage and measure it on the same data, with its
                          CPU and memory; ratios to the first back end are printed
  --instances <n>         512×512 CT instances (default 5000), in studies of 4 series × 25
  --big-series <n>        slices of the one big series (default 500)
  --clients <n>           concurrent clients for STOW and retrieval (default 4)
  --rounds <n>            rounds per operation (default 5)
  --qido-rows <n>         instances in the index for the QIDO phase (default 10000); above the stored
                          count Postgres back ends get rows inserted directly (e.g. --qido-rows 1000000)
  --batch <n>             instances per STOW request (default 10)
  --postgres-url <url>    admin URL for scratch databases (default $TESSERA_BENCH_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/postgres)
  --server-node-args=<s>  extra node arguments for the server process (e.g. --server-node-args="--cpu-prof --cpu-prof-dir=/tmp/prof")
  --idle-first <s>        leave each server idle for s seconds before its first phase, as a server is after a
                          quiet night (default 0: measured as soon as it is ready)
  --phases <list>         phases to measure, comma-separated (default all): stow, metadata, retrieve,
                          ohif, qido; the data is stored (unmeasured) when stow is not among them
  --without-change-feed   Postgres back ends: disable the change feed's triggers once the server has
                          migrated its database (to measure what the feed costs STOW: compare with a run
                          without this option)
  --keep-db               keep the PostgreSQL scratch database(s) after the run and print their URLs
                          (to EXPLAIN ANALYZE the queries on a 1M-row index; drop them yourself afterwards)
  --auth                  the cost of access control instead of the phases: for each back end, the same
                          server and data measured with AUTH_MODE=none, apikey (a key made with
                          \`tessera keys create\`) and oidc (tokens of a real OpenID Connect provider on
                          loopback), audit trail on; QIDO and retrieve phases; ratios to none
  --auth-runs <n>         runs per mode with --auth, alternating modes; figures are medians of the runs (default 3)
  --runs <n>              measure everything n times in turn (the ceiling, each back end, Orthanc) and report
                          the medians of the runs (default 1)
  --summary               rewrite the summary that opens docs/benchmarks.md from this run's medians: the
                          table against Orthanc and the loopback ceiling, and issue #19's targets met or
                          missed (needs --orthanc; e.g. --backend postgres,embedded --orthanc --runs 3 --summary)
  --quick                 tiny sizes (CI smoke test)
  --no-report             do not append to docs/benchmarks.md
  --out <file>            JSON results file (default .bench-cache/results-<timestamp>.json)`;

const log = (line: string) => console.log(line);

/** Seconds the benchmark leaves a server idle after its start before reading its idle resident memory. */
const IDLE_SECONDS = 30;

/** A back end's results, with when its server was started (to cut a --cpu-prof profile). */
interface RunResult extends ServerResult {
  serverSpawnedAt?: number;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'all' },
      target: { type: 'string' },
      'target-name': { type: 'string', default: 'target' },
      'dicomweb-path': { type: 'string', default: '/dicomweb' },
      'wadouri-path': { type: 'string', default: '/wadouri' },
      'ohif-path': { type: 'string', default: '/ohif' },
      instances: { type: 'string' },
      'big-series': { type: 'string' },
      clients: { type: 'string' },
      rounds: { type: 'string' },
      'qido-rows': { type: 'string' },
      batch: { type: 'string' },
      'postgres-url': { type: 'string' },
      'server-node-args': { type: 'string', default: '' },
      'idle-first': { type: 'string' },
      phases: { type: 'string', default: PHASES.join(',') },
      'keep-db': { type: 'boolean', default: false },
      'without-change-feed': { type: 'boolean', default: false },
      orthanc: { type: 'boolean', default: false },
      'orthanc-binary': { type: 'string', default: 'Orthanc' },
      quick: { type: 'boolean', default: false },
      auth: { type: 'boolean', default: false },
      'auth-runs': { type: 'string' },
      runs: { type: 'string' },
      summary: { type: 'boolean', default: false },
      'no-report': { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const quick = values.quick;
  const int = (text: string | undefined, fallback: number, name: string) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} needs a whole number, got '${text}'`);
    return n;
  };
  const instances = int(values.instances, quick ? 100 : 5000, 'instances');
  const bigSeries = int(values['big-series'], quick ? 40 : 500, 'big-series');
  const clients = int(values.clients, 4, 'clients') || 1;
  const rounds = int(values.rounds, quick ? 1 : 5, 'rounds') || 1;
  const qidoRows = int(values['qido-rows'], quick ? 400 : 10_000, 'qido-rows');
  const batch = int(values.batch, quick ? 5 : 10, 'batch') || 1;
  const auth = values.auth;
  const authRuns = int(values['auth-runs'], 3, 'auth-runs') || 1;
  if (auth && values.target) throw new Error('--auth measures the servers it starts (--backend), not --target');
  const runs = int(values.runs, 1, 'runs') || 1;
  const idleFirstSeconds = int(values['idle-first'], 0, 'idle-first');
  if (auth && runs > 1) throw new Error('--auth has its own runs (--auth-runs), not --runs');
  if (values.summary && !values.orthanc) throw new Error('--summary compares with Orthanc: add --orthanc');
  if (values.summary && values['no-report']) throw new Error('--summary writes docs/benchmarks.md: drop --no-report');
  const stored = instances + bigSeries;
  // Small instances STOWed to reach the QIDO size (up to 10,000); beyond that, rows are inserted directly.
  const topUp = Math.max(0, Math.min(qidoRows, 10_000) - stored);
  const adminUrl = values['postgres-url'] ?? process.env.TESSERA_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const command = `pnpm bench ${process.argv.slice(2).join(' ')}`.trim();
  const cacheDir = join(ROOT, '.bench-cache');
  mkdirSync(cacheDir, { recursive: true });
  const started = performance.now();

  const requested = values.backend === 'all' ? [...BACKENDS] : values.backend === 'none' ? [] : values.backend.split(',');
  for (const b of requested) if (!(BACKENDS as readonly string[]).includes(b)) throw new Error(`unknown --backend '${b}' (${BACKENDS.join(', ')}, all, none)`);
  let backends = requested as Backend[];
  const skipped: string[] = [];
  if (backends.some((b) => b !== 'embedded')) {
    const ok = await createScratchDatabase(adminUrl, 'bench_probe').then(
      (db) => db.drop().then(() => true),
      () => false,
    );
    if (!ok) {
      if (values.backend !== 'all') throw new Error(`Postgres is not reachable at ${adminUrl}`);
      skipped.push(`postgres, postgres-s3: no Postgres at ${adminUrl}`);
      backends = backends.filter((b) => b === 'embedded');
    }
  }

  const manifest = loadOrGenerate(cacheDir, { instances, bigSeries, topUp, rows: quick ? 512 : 512 }, log);
  if (backends.length) buildServer(ROOT, log);
  const nodeArgs = values['server-node-args'].split(/\s+/).filter(Boolean);
  const phases = new Set(
    values.phases
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean),
  );
  for (const p of phases) if (!(PHASES as readonly string[]).includes(p)) throw new Error(`unknown phase '${p}' (${PHASES.join(', ')})`);

  const authComparisons: AuthComparison[] = [];
  const authRunResults: AuthRun[] = [];
  const issuer = auth && backends.length ? await startTokenIssuer() : undefined;
  // Servers the benchmark does not start (--target) or that are not Tessera (--orthanc): no direct index inserts.
  const external = { manifest, clients, rounds, quick, batch, qidoRows: Math.min(qidoRows, 10_000), phases: phases as Set<Phase>, idleFirstSeconds };
  const passes: Run[] = [];
  let orthancVersion: string | undefined;

  // --runs: every server measured once per pass, the passes one after the other, so that a slow
  // moment of the machine falls on one pass of every server rather than on all of one server's.
  for (let pass = 1; pass <= runs; pass++) {
    if (runs > 1) log(`\n######## run ${pass} of ${runs}`);
    const results: RunResult[] = [];
    // The loopback ceiling is not what --auth compares (it compares the server with itself).
    const baseline = auth ? [] : await measureBaseline(manifest, clients, rounds, quick, batch, idleFirstSeconds);
    for (const backend of backends) {
      log(`\n== ${backend}${auth ? ' (--auth)' : ''}`);
      const cleanups: (() => Promise<void>)[] = [];
      const dataDir = mkdtempSync(join(os.tmpdir(), 'tessera-bench-'));
      cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
      let server: ServerUnderTest | undefined;
      try {
        // WORKERS (passed on from the environment) needs PostgreSQL: the embedded back end runs one process.
        const env: Record<string, string> = { DATA_DIR: dataDir, ...(backend === 'embedded' ? { WORKERS: '1' } : {}) };
        let databaseUrl: string | undefined;
        if (backend !== 'embedded') {
          const db = await createScratchDatabase(adminUrl, 'bench');
          if (values['keep-db']) log(`  keeping the scratch database ${db.url} (--keep-db)`);
          else cleanups.unshift(db.drop);
          env.DATABASE_URL = databaseUrl = db.url;
        }
        if (backend === 'postgres-s3') {
          const s3 = await startS3Server();
          cleanups.unshift(s3.stop);
          await ensureBucket({ ...s3 });
          Object.assign(env, s3.env('bench/'));
        }
        const description =
          backend === 'embedded'
            ? 'PGlite (embedded, on disk) + filesystem'
            : backend === 'postgres'
              ? 'PostgreSQL + filesystem'
              : 'PostgreSQL + S3 (s3rver child process)';
        const common = {
          description,
          paths: { dicomweb: '/dicomweb', wadouri: '/wadouri', ohif: '/ohif' },
          manifest,
          clients,
          rounds,
          quick,
          batch,
          qidoRows,
          databaseUrl,
          idleFirstSeconds,
        };
        if (issuer) {
          const measured = await measureAuthModes(backend, env, common, issuer, authRuns, nodeArgs);
          results.push(...measured.results);
          authComparisons.push(measured.comparison);
          authRunResults.push(...measured.runs);
          continue;
        }
        // Idle memory on a server of its own, started on an empty data directory and left alone: the
        // measured server is not left idle first (see idleMemory).
        const idle = quick ? undefined : await idleMemory({ ...env, DATA_DIR: mkdtempSync(join(os.tmpdir(), 'tessera-bench-idle-')) }, nodeArgs);
        server = await startServerProcess(ROOT, env, nodeArgs, log);
        if (values['without-change-feed']) {
          if (!databaseUrl) throw new Error('--without-change-feed needs a Postgres back end (the embedded one has the same triggers, but no psql access)');
          disableChangeFeed(databaseUrl);
          log('  change feed triggers disabled (--without-change-feed)');
        }
        const run = await runPhases({ ...common, name: backend, url: server.url, pid: server.pid, phases: phases as Set<Phase> });
        if (values['without-change-feed']) run.notes.push('change feed triggers disabled (--without-change-feed)');
        results.push({ ...run, ...(idle ? { startRssMb: idle.startRssMb, idleRssMb: idle.idleRssMb } : {}), serverSpawnedAt: server.spawnedAt });
      } finally {
        await server?.stop();
        for (const cleanup of cleanups) await cleanup().catch((error: unknown) => log(`cleanup: ${(error as Error).message}`));
      }
    }

    if (values.target) {
      const name = values['target-name'];
      log(`\n== ${name} (${values.target})`);
      const path = (p: string) => (p === '' ? undefined : p);
      results.push(
        await runPhases({
          name,
          description: `external server at ${values.target}`,
          url: values.target,
          paths: { dicomweb: values['dicomweb-path'], wadouri: path(values['wadouri-path']), ohif: path(values['ohif-path']) },
          ...external,
        }),
      );
    }

    if (values.orthanc) {
      const orthanc = await startOrthanc(values['orthanc-binary'], log);
      try {
        orthancVersion = orthanc.version;
        log(`\n== orthanc ${orthanc.version}`);
        results.push(
          await runPhases({
            name: 'orthanc',
            description: `Orthanc ${orthanc.version} + DICOMweb plugin (SQLite index, filesystem storage, started by the benchmark)`,
            url: orthanc.url,
            pid: orthanc.pid,
            paths: { dicomweb: '/dicom-web', wadouri: '/wado' },
            ...external,
          }),
        );
      } finally {
        await orthanc.stop();
      }
    }
    passes.push({ baseline, results });
  }
  await issuer?.close();
  // One run, or the medians of the runs (every figure of every operation, per server).
  const { baseline, results } = medianRun(passes);

  const minutes = (performance.now() - started) / 60_000;
  const machine = describeMachine();
  const timestamp = new Date().toISOString();
  const output = {
    timestamp,
    command,
    durationMinutes: Math.round(minutes * 100) / 100,
    machine,
    settings: { instances, bigSeries, clients, rounds, qidoRows, batch, quick, instanceBytes: manifest.images[0]?.size },
    skipped,
    runs,
    baseline,
    results,
    ...(runs > 1 ? { passes } : {}),
    ...(auth ? { auth: { runsPerMode: authRuns, modes: AUTH_MODES, comparisons: authComparisons, runs: authRunResults } } : {}),
  };
  const out = values.out ?? join(cacheDir, `results-${timestamp.replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(output, null, 2)}\n`);
  log(`\nresults: ${out}`);
  if (auth) log(`\n${authMarkdown(authComparisons)}`);
  else if (results.length > 1) log(`\n${ratioTable(results)}`);
  if (!values['no-report']) {
    const doc = join(ROOT, 'docs/benchmarks.md');
    if (!existsSync(doc)) writeFileSync(doc, INTRO);
    appendFileSync(doc, markdownSection(output));
    log(`report appended to ${doc}`);
    if (values.summary) {
      const summary = summaryMarkdown({ timestamp, command, runs, machine, run: { baseline, results }, orthancVersion });
      writeFileSync(doc, replaceSummary(readFileSync(doc, 'utf8'), summary));
      log(`summary rewritten at the top of ${doc}:\n\n${summary}`);
    }
  }
  log(`done in ${minutes.toFixed(1)} min`);
  return 0;
}

interface RunOptions {
  name: string;
  description: string;
  url: string;
  pid?: number;
  paths: Paths;
  manifest: Manifest;
  clients: number;
  rounds: number;
  quick: boolean;
  batch: number;
  qidoRows: number;
  databaseUrl?: string;
  phases: Set<Phase>;
  /** Sent with every request (the --auth runs' credential). */
  headers?: Record<string, string>;
  /** The data is in the server's index already (the --auth runs after the first): nothing is stored. */
  stored?: boolean;
  /** Seconds the server is left idle before the first phase (--idle-first), as a server is overnight. */
  idleFirstSeconds?: number;
}

async function runPhases(o: RunOptions): Promise<RunResult> {
  const client = new Client(o.url, Math.max(o.clients, 1), o.headers);
  // The index's own CPU, measured beside the server's: Orthanc's index (SQLite) runs inside its process.
  const database = o.databaseUrl ? watchDatabaseCpu(new URL(o.databaseUrl).pathname.slice(1)) : undefined;
  const ctx: PhaseContext = {
    client,
    pid: o.pid,
    ...(database ? { databaseCpu: () => database.seconds() } : {}),
    paths: o.paths,
    manifest: o.manifest,
    clients: o.clients,
    rounds: o.rounds,
    quick: o.quick,
    log,
  };
  const ops: OpResult[] = [];
  const notes: string[] = [];
  if (o.idleFirstSeconds) {
    await idleFirst(o.idleFirstSeconds);
    notes.push(`server left idle ${o.idleFirstSeconds} s before the first phase (--idle-first)`);
  }
  const started = memory(o.pid).rssMb;
  try {
    const m = o.manifest;
    const on = (p: Phase) => o.phases.has(p);
    if (on('stow')) {
      ops.push(await stowPhase(ctx, [...m.images, ...m.bigSeries], o.batch));
      const stowPeak = ops[0]!.peakRssMb;
      if (stowPeak !== undefined)
        ops.push({
          ...ops[0]!,
          op: 'ingest-rss',
          description: 'server peak RSS during STOW',
          target: { metric: 'peakRssMb', cmp: '<=', value: 200, label: '≤ 200 MB' },
          measured: stowPeak,
          met: stowPeak <= 200,
        });
    } else if (!o.stored) {
      log(`  storing ${m.images.length + m.bigSeries.length} instances (not measured)`);
      await stowQuiet(ctx, [...m.images, ...m.bigSeries], o.batch);
    }
    // The next phases read what STOW wrote: let the kernel finish writing it back first, so that
    // retrieval is not measured against the write-back of gigabytes of dirty pages.
    flushPageCache(log);
    if (on('metadata')) ops.push(...(await metadataPhase(ctx)));
    if (on('retrieve')) ops.push(...(await retrievePhase(ctx)));
    if (on('ohif')) ops.push(...(await ohifPhase(ctx)));
    if (on('qido')) {
      if (m.topUp.length && !o.stored) {
        log(`  storing ${m.topUp.length} small instances for the QIDO phase`);
        await stowQuiet(ctx, m.topUp, 50);
      }
      const indexed = m.images.length + m.bigSeries.length + m.topUp.length;
      ops.push(...(await qidoPhase(ctx, String(indexed), false)));
      if (o.qidoRows > indexed) {
        if (!o.databaseUrl) notes.push(`QIDO at ${o.qidoRows} rows: skipped (rows are inserted directly only on the Postgres back ends)`);
        else if (!hasPsql()) notes.push(`QIDO at ${o.qidoRows} rows: skipped (psql not found)`);
        else {
          const t0 = performance.now();
          insertSyntheticRows(o.databaseUrl, indexed, o.qidoRows, log);
          notes.push(`QIDO at ${o.qidoRows} rows: ${o.qidoRows - indexed} rows inserted directly by SQL in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
          ops.push(...(await qidoPhase(ctx, String(o.qidoRows), o.qidoRows >= 100_000)));
        }
      }
    }
  } finally {
    client.close();
    database?.stop();
  }
  const mem = memory(o.pid);
  return {
    name: o.name,
    description: o.description,
    ops,
    startRssMb: started && Math.round(started),
    finalRssMb: mem.rssMb && Math.round(mem.rssMb),
    peakRssMb: Math.max(0, ...ops.map((op) => op.peakRssMb ?? 0)) || undefined,
    notes,
  };
}

/** --idle-first: the server under test (and the load generator) wait, as a server does through a quiet night. */
async function idleFirst(seconds: number): Promise<void> {
  log(`  idle for ${seconds} s first (--idle-first)`);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}

/**
 * A server's resident memory when it has just answered /readyz and after IDLE_SECONDS without a
 * request (V8 gives back the young generation it grew while starting only once it sees the process
 * idle), on a server started for this alone and stopped after. Not on the measured server: after
 * V8's idle-time memory reduction the server spent twice the CPU per request for minutes
 * (2026-12-07: WADO-RS instance 4.2 against 1.9–2.1 ms, GC 16.5 % of the main thread against 2.5 %).
 */
async function idleMemory(env: Record<string, string>, nodeArgs: string[]): Promise<{ startRssMb?: number; idleRssMb?: number }> {
  const server = await startServerProcess(ROOT, env, nodeArgs, () => {});
  try {
    const start = memory(server.pid).rssMb;
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
    const idle = memory(server.pid).rssMb;
    log(`  idle server: ${start?.toFixed(0) ?? '–'} MB resident just started, ${idle?.toFixed(0) ?? '–'} MB after ${IDLE_SECONDS} s idle`);
    return { startRssMb: start && Math.round(start), idleRssMb: idle && Math.round(idle) };
  } finally {
    await server.stop();
    rmSync(env.DATA_DIR!, { recursive: true, force: true });
  }
}

type CommonRunOptions = Omit<RunOptions, 'name' | 'url' | 'pid' | 'phases' | 'headers' | 'stored'>;

/**
 * `--auth` on one back end: API keys made with `tessera keys create`, the data stored once by the
 * key holder (not measured), then `runs` rounds of the three modes, each a fresh server on the same
 * data: AUTH_MODE=none without a credential, apikey with the key and oidc with an access token of
 * `issuer`, every request of every phase carrying it. Before each credentialed run a search without
 * the credential must be refused (401); after it, the audit trail must name the credential's key id
 * or token subject on at least as many events as the run made requests.
 */
async function measureAuthModes(
  backend: Backend,
  env: Record<string, string>,
  common: CommonRunOptions,
  issuer: TokenIssuer,
  runs: number,
  nodeArgs: string[],
): Promise<{ results: RunResult[]; comparison: AuthComparison; runs: AuthRun[] }> {
  // Made before any server starts: the embedded index is one process's at a time.
  const key = createApiKey(ROOT, env, 'bench', ['read', 'write']);
  const adminKey = createApiKey(ROOT, env, 'bench-audit', ['admin']);
  log(`  API keys ${key.actorId} (read,write) and ${adminKey.actorId} (admin, to read the audit trail) made with tessera keys create`);

  const m = common.manifest;
  const loader = await startServerProcess(ROOT, { ...env, AUTH_MODE: 'apikey' }, nodeArgs, log);
  const client = new Client(loader.url, common.clients, { authorization: key.authorization });
  try {
    const ctx: PhaseContext = {
      client,
      pid: loader.pid,
      paths: common.paths,
      manifest: m,
      clients: common.clients,
      rounds: common.rounds,
      quick: common.quick,
      log,
    };
    log(`  storing ${m.images.length + m.bigSeries.length + m.topUp.length} instances with the API key (not measured)`);
    await stowQuiet(ctx, [...m.images, ...m.bigSeries], common.batch);
    if (m.topUp.length) await stowQuiet(ctx, m.topUp, 50);
  } finally {
    client.close();
    await loader.stop();
  }

  const measured: AuthRun[] = [];
  for (let run = 1; run <= runs; run++) {
    // The order turns from run to run, so that a drift in the machine's load favours no mode.
    for (let i = 0; i < AUTH_MODES.length; i++) {
      const mode: AuthMode = AUTH_MODES[(i + run - 1) % AUTH_MODES.length]!;
      let credential: Credential | undefined;
      let admin: Credential | undefined;
      if (mode === 'apikey') [credential, admin] = [key, adminKey];
      if (mode === 'oidc') [credential, admin] = [await issuer.credential(['read', 'write']), await issuer.credential(['admin'])];
      log(`  -- AUTH_MODE=${mode}, run ${run} of ${runs}`);
      const server = await startServerProcess(ROOT, { ...env, AUTH_MODE: mode, ...(mode === 'oidc' ? issuer.env : {}) }, nodeArgs, log);
      try {
        const probe = await probeAuthentication(server.url, credential);
        const refused = mode === 'none' ? 200 : 401;
        if (probe.withoutCredential !== refused || (credential && probe.withCredential !== 200)) {
          throw new Error(`AUTH_MODE=${mode}: a search answered ${probe.withoutCredential} without a credential and ${probe.withCredential ?? '–'} with one`);
        }
        const since = new Date();
        const result = await runPhases({
          ...common,
          name: `${backend} ${mode}`,
          url: server.url,
          pid: server.pid,
          phases: new Set<Phase>(['retrieve', 'qido']),
          stored: true,
          ...(credential ? { headers: { authorization: credential.authorization } } : {}),
        });
        const entry: AuthRun = { backend, mode, run, ops: result.ops, probe };
        if (credential && admin) {
          const requests = result.ops.reduce((n, op) => n + op.requests, 0);
          const byType = await auditedEvents(server.url, admin, credential.actorId, since, requests);
          const events = Object.values(byType).reduce((n, k) => n + k, 0);
          log(`  audit trail: ${events} events name ${credential.actorId} (${requests} measured requests): ${JSON.stringify(byType)}`);
          if (events < requests)
            throw new Error(`AUTH_MODE=${mode}: the audit trail names the credential on ${events} events, fewer than the ${requests} requests`);
          entry.audit = { actorId: credential.actorId, requests, byType };
        }
        measured.push(entry);
      } finally {
        await server.stop();
      }
    }
  }

  const byMode = Object.fromEntries(AUTH_MODES.map((mode) => [mode, medianOps(measured.filter((r) => r.mode === mode).map((r) => r.ops))])) as Record<
    AuthMode,
    OpResult[]
  >;
  const how: Record<AuthMode, string> = {
    none: 'AUTH_MODE=none, no credential',
    apikey: 'AUTH_MODE=apikey, every request with the API key',
    oidc: 'AUTH_MODE=oidc, every request with an OpenID Connect access token (RS256 JWT)',
  };
  const results = AUTH_MODES.map((mode) => ({
    name: `${backend} ${mode}`,
    description: `${common.description}; ${how[mode]}; audit trail on; medians of ${runs} runs`,
    ops: byMode[mode],
    notes: [],
  }));
  return { results, comparison: compareModes(backend, runs, byMode), runs: measured };
}

/**
 * The loopback ceiling on this machine at this moment: the same clients against a trivial node:http
 * server (baseline-server.mjs) returning one instance from memory and from disk.
 */
async function measureBaseline(manifest: Manifest, clients: number, rounds: number, quick: boolean, batch: number, idleFirstSeconds = 0): Promise<OpResult[]> {
  const entry = manifest.images[0];
  if (!entry) return [];
  log('\n== baseline (trivial node:http server)');
  const port = await freePort();
  // The spool lives where the servers under test keep their data (os.tmpdir()), so fsync costs the same.
  const spool = mkdtempSync(join(os.tmpdir(), 'tessera-baseline-'));
  const seriesList = join(spool, 'series.txt');
  writeFileSync(seriesList, manifest.bigSeries.map((e) => e.file).join('\n'));
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('./baseline-server.mjs', import.meta.url)), String(port), join(manifest.dir, entry.file), spool, manifest.dir, seriesList],
    { stdio: 'ignore' },
  );
  const client = new Client(`http://127.0.0.1:${port}`, clients);
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) break;
      } catch {
        if (i > 100) throw new Error('the baseline server did not start');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const ctx: PhaseContext = { client, pid: child.pid, paths: { dicomweb: '' }, manifest, clients, rounds, quick, log };
    if (idleFirstSeconds) await idleFirst(idleFirstSeconds);
    const n = quick ? 10 : 120;
    // Uploads: the first images in STOW-sized batches, the same bodies as the STOW phase sends.
    const uploads = manifest.images.slice(0, quick ? 2 * batch : 50 * batch);
    const upload = (path: string) => (round: number) => stowRequests({ dicomweb: path }, manifest.dir, uploads, batch).slice(0, round < 0 ? 1 : undefined);
    const op = (name: string, what: string, make: (round: number) => RequestSpec[], perRequest?: number) =>
      measure(ctx, 'baseline', name, `trivial node:http, ${what} (${perRequest ? `${perRequest} per request, ` : ''}${clients} clients)`, make, {
        clients,
        ...(perRequest ? { instancesPerRequest: perRequest } : {}),
      });
    const repeat = (path: string) => () => Array.from({ length: n }, () => ({ path }));
    return [
      await op('memory', 'one instance from memory', repeat('/memory')),
      await op('file', 'one instance from disk', repeat('/file')),
      await op('files', "the retrieve phase's mix of instance files", (round) =>
        cycle(manifest.images, round, n).map((e) => ({ path: `/files/${e.file.split('/').map(encodeURIComponent).join('/')}` })),
      ),
      await measure(
        ctx,
        'baseline',
        'series',
        `trivial node:http, the big series (${manifest.bigSeries.length} files) as one multipart response (1 client)`,
        () => [{ path: '/series' }],
        {
          warmup: 0,
          rounds: Math.min(rounds, 3),
        },
      ),
      await op('upload', 'STOW-sized uploads read and discarded', upload('/discard'), batch),
      await op('upload-durable', 'STOW-sized uploads written to one file per instance, each fdatasynced', upload('/durable'), batch),
    ];
  } finally {
    client.close();
    child.kill();
    rmSync(spool, { recursive: true, force: true });
  }
}

/** `sync`: writes dirty pages back before the read phases (the time it takes is logged, not measured). */
function flushPageCache(log: (line: string) => void): void {
  const started = performance.now();
  try {
    execFileSync('sync');
    log(`  sync: dirty pages written back in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch {
    // not available: measure as is
  }
}

function describeMachine() {
  const sh = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
    } catch {
      return undefined;
    }
  };
  return {
    uname: sh('uname', ['-a']) ?? `${os.type()} ${os.release()} ${os.arch()}`,
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model,
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    postgres: sh('psql', ['--version']),
  };
}

const INTRO = `# Benchmarks

\`pnpm bench\` (packages/bench) measures the server on synthetic but realistic data, from a fresh clone, in one command.

## Method

- **Data**: generated in TypeScript and cached in \`.bench-cache/\` (gitignored): 512×512 16-bit CT-like slices
  (a body ellipse with fat rim, lungs, heart, liver and spine whose sizes follow the slice position, smooth edges, noise),
  about 526 KB each, in studies of 4 series × 25 instances, with unique 2.25 UIDs and varied patients (some non-ASCII names),
  dates, accession numbers and modalities (CT/MR/PT labels); plus one study with a 500-slice series. To reach the QIDO size
  (10,000 instances by default) small 16×16 instances are stored too; \`--qido-rows 1000000\` inserts further rows directly
  into the Postgres index by SQL (copies of stored rows with new UIDs, names and dates) and measures QIDO again.
- **Server**: \`tessera serve\` from source in a child process, started by the benchmark for each back end
  (embedded PGlite on disk + filesystem; PostgreSQL scratch database + filesystem; PostgreSQL + S3 via the s3rver test server),
  or any other server given with \`--target\` (server CPU and memory are then not measured).
  Server CPU is user + system time of that process from \`/proc/<pid>/stat\` over an operation, divided by its requests;
  peak RSS is \`VmHWM\` from \`/proc/<pid>/status\`, reset before each operation (\`clear_refs\`). On the PostgreSQL back ends the CPU of the scratch database's backends is measured too and shown beside it
  (\`52.3 + 9.1 db\`: read from /proc every 0.5 s, the process titles naming the database; PostgreSQL's shared WAL writer,
  checkpointer and background writer are left out). s3rver's CPU and PostgreSQL's memory are not included.
- **Load**: keep-alive HTTP/1.1 on 127.0.0.1 from the benchmark process. STOW and WADO-RS instance/frame/WADO-URI retrieval
  use \`--clients\` (default 4) concurrent clients; latency operations (QIDO, metadata, OHIF JSON, the 500-instance series retrieve)
  run one request at a time, so their times are latencies, not queueing. Every operation has a short warm-up, then
  \`--rounds\` rounds; p50/p95 are over every request of every round, throughput (requests/s, MB/s, instances/s) is the median of
  the rounds'. TTFB is the time to the response headers.
- The targets (from the issue) are for the PostgreSQL back end on a 2-core machine with 4 clients; they are shown for every back end.
- Timings on a shared machine are noisy: each run records the load averages at its end.

Each run appends a section below: the machine, the exact command, one table per back end.
`;

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
