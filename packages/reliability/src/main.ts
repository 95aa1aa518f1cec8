#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { type ScenarioName, SCENARIOS, runScenarios } from './index.js';
import { BACKENDS, type BackendName } from './server.js';
import { formatResult, markdownTable } from './report.js';

const USAGE = `usage: pnpm reliability [options]

  --short                 the short form (CI): fewer cycles, shorter soak
  --scenarios <list>      comma-separated, default all: ${SCENARIOS.join(', ')}
  --backend <name|all>    embedded, postgres-s3 or all (default all)
  --postgres-url <url>    admin URL for scratch databases (default $TESSERA_TEST_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/postgres)
  --seed <n>              fast-check seed (default 20261206)
  --soak-seconds <n>      soak duration (default 600, short 60)
  --cycles <n>            kill -9 cycles (default 20, short 3)
  --markdown              also print the figures as a Markdown table`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      short: { type: 'boolean' },
      scenarios: { type: 'string' },
      backend: { type: 'string' },
      'postgres-url': { type: 'string' },
      seed: { type: 'string' },
      'soak-seconds': { type: 'string' },
      cycles: { type: 'string' },
      markdown: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const scenarios = (values.scenarios?.split(',') ?? [...SCENARIOS]) as ScenarioName[];
  for (const s of scenarios)
    if (!SCENARIOS.includes(s)) {
      console.error(`unknown scenario ${s}\n${USAGE}`);
      return 2;
    }
  const backends = (!values.backend || values.backend === 'all' ? [...BACKENDS] : values.backend.split(',')) as BackendName[];
  for (const b of backends)
    if (!BACKENDS.includes(b)) {
      console.error(`unknown back end ${b}\n${USAGE}`);
      return 2;
    }
  const results = await runScenarios(scenarios, backends, {
    short: values.short === true,
    log: (line) => console.log(line),
    postgresAdminUrl: values['postgres-url'] ?? process.env.TESSERA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    seed: Number(values.seed ?? 20261206),
    soakSeconds: values['soak-seconds'] ? Number(values['soak-seconds']) : undefined,
    cycles: values.cycles ? Number(values.cycles) : undefined,
  });
  console.log('\nsummary:');
  for (const r of results) console.log(formatResult(r));
  if (values.markdown) console.log(`\n${markdownTable(results)}`);
  const failed = results.filter((r) => r.failures.length).length;
  console.log(`\n${results.length - failed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
