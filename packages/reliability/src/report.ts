/** What one scenario on one back end measured, and what went wrong (empty: it passed). */
export interface ScenarioResult {
  scenario: string;
  backend: string;
  figures: Record<string, number | string>;
  failures: string[];
  seconds: number;
}

export interface RunOptions {
  short: boolean;
  log: (line: string) => void;
  postgresAdminUrl: string;
  /** fast-check seed (fuzzing). */
  seed: number;
  /** Soak duration override, seconds. */
  soakSeconds?: number;
  /** kill -9 cycles override. */
  cycles?: number;
}

export function formatResult(r: ScenarioResult): string {
  const figures = Object.entries(r.figures)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(1) : v}`)
    .join(' ');
  const verdict = r.failures.length ? `FAIL (${r.failures.length})` : 'ok';
  return `${r.scenario} [${r.backend}] ${verdict} in ${r.seconds.toFixed(0)} s: ${figures}${r.failures.map((f) => `\n  - ${f}`).join('')}`;
}

export function markdownTable(results: ScenarioResult[]): string {
  const lines = ['| scenario | back end | result | figures |', '|---|---|---|---|'];
  for (const r of results) {
    const figures = Object.entries(r.figures)
      .map(([k, v]) => `${k} ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(1) : v}`)
      .join(', ');
    lines.push(`| ${r.scenario} | ${r.backend} | ${r.failures.length ? `FAIL: ${r.failures.join('; ')}` : 'pass'} | ${figures} |`);
  }
  return lines.join('\n');
}
