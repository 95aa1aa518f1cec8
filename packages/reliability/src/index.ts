import { abuse } from './abuse.js';
import { diskFull } from './disk-full.js';
import { dependencyFaults } from './faults.js';
import { fuzz } from './fuzz.js';
import { killNine } from './kill9.js';
import { soak } from './soak.js';
import { type RunOptions, type ScenarioResult, formatResult } from './report.js';
import { type BackendName, buildServer } from './server.js';

export type { RunOptions, ScenarioResult } from './report.js';
export { formatResult, markdownTable } from './report.js';
export { BACKENDS, type BackendName } from './server.js';

export const SCENARIOS = ['kill9', 'fuzz', 'faults', 'soak', 'abuse', 'diskfull'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

const RUNNERS: Record<ScenarioName, (backend: BackendName, options: RunOptions) => Promise<ScenarioResult>> = {
  kill9: killNine,
  fuzz,
  faults: dependencyFaults,
  soak,
  abuse,
  diskfull: diskFull,
};

/** Runs each scenario on each back end in turn (the server compiled first); a scenario that throws is a failure. */
export async function runScenarios(scenarios: readonly ScenarioName[], backends: readonly BackendName[], options: RunOptions): Promise<ScenarioResult[]> {
  buildServer(options.log);
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios)
    for (const backend of backends) {
      options.log(`${scenario} [${backend}] …`);
      const started = performance.now();
      let result: ScenarioResult;
      try {
        result = await RUNNERS[scenario](backend, options);
      } catch (error) {
        result = {
          scenario,
          backend,
          figures: {},
          failures: [`threw: ${(error as Error).stack ?? String(error)}`],
          seconds: (performance.now() - started) / 1000,
        };
      }
      options.log(formatResult(result));
      results.push(result);
    }
  return results;
}
