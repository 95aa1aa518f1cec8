import type { BlobStore } from '@tessera/blob-store';
import type { Index } from '@tessera/index';
import { type VerifyLevel, type VerifyProblem, type VerifySummary, verifyArchive } from './verify.js';

/** Where `tessera verify` writes: stdout for results, stderr for the progress bar and errors. */
export interface VerifyOutput {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean; columns?: number };
}

export interface RunVerifyOptions {
  level: VerifyLevel;
  rate?: number;
  json: boolean;
  studyInstanceUid?: string;
  concurrency?: number;
}

/**
 * Runs `tessera verify` and returns its exit code: 0 when every checked instance is intact, 1 when a
 * problem was found, 2 when the check itself could not be done (index or store unavailable).
 *
 * Output, text: one line per problem on stdout (`missing|truncated|corrupt`, then study, series and
 * SOP Instance UIDs and the blob key), then a summary line. `--json`: JSON Lines on stdout, one
 * `{"type":"problem",…}` object per problem as found, then one `{"type":"summary",…}` object last
 * (so a script can stream problems and still read totals from the last line). A progress bar goes
 * to stderr only when stderr is a terminal.
 */
export async function runVerify(index: Pick<Index, 'instances'>, blobs: BlobStore, options: RunVerifyOptions, out: VerifyOutput): Promise<number> {
  const total = await index.instances.countInstances({ studyInstanceUid: options.studyInstanceUid }).catch(() => undefined);
  const progress = out.stderr.isTTY && !options.json ? new ProgressLine(out.stderr, total ?? 0) : undefined;
  let summary: VerifySummary;
  try {
    summary = await verifyArchive(index, blobs, {
      level: options.level,
      rate: options.rate,
      concurrency: options.concurrency,
      studyInstanceUid: options.studyInstanceUid,
      onProblem: (problem) => {
        progress?.clear();
        out.stdout.write(options.json ? `${JSON.stringify({ type: 'problem', ...problem })}\n` : `${describeProblem(problem)}\n`);
      },
      onProgress: (checked) => progress?.update(checked),
    });
  } catch (error) {
    progress?.clear();
    const message = `tessera verify: the check could not finish: ${(error as Error).message}`;
    if (options.json) out.stdout.write(`${JSON.stringify({ type: 'error', message })}\n`);
    out.stderr.write(`${message}\n`);
    return 2;
  }
  progress?.finish(summary.checked);
  const problems = summary.missing + summary.truncated + summary.corrupt;
  if (options.json) out.stdout.write(`${JSON.stringify({ type: 'summary', ...summary, problems, ok: problems === 0 })}\n`);
  else {
    const what =
      options.level === 'exists' ? 'present' : options.level === 'size' ? 'present and of the stored size' : 'byte-identical to what was stored (SHA-256)';
    out.stdout.write(
      problems === 0
        ? `verified ${summary.checked} instance(s) at level ${summary.level}: all ${what} (${(summary.elapsedMs / 1000).toFixed(1)} s)\n`
        : `verified ${summary.checked} instance(s) at level ${summary.level}: ${summary.missing} missing, ${summary.truncated} truncated, ${summary.corrupt} corrupt\n`,
    );
  }
  return problems === 0 ? 0 : 1;
}

export function describeProblem(problem: VerifyProblem): string {
  const detail =
    problem.kind === 'missing'
      ? 'no blob'
      : problem.kind === 'truncated'
        ? `size ${problem.actual?.size} instead of ${problem.expected.size}`
        : `SHA-256 ${problem.actual?.sha256} instead of ${problem.expected.sha256}`;
  return `${problem.kind.padEnd(9)} study=${problem.studyInstanceUid} series=${problem.seriesInstanceUid} sop=${problem.sopInstanceUid} key=${problem.blobKey} (${detail})`;
}

/**
 * A one-line progress bar rewritten in place on a terminal (carriage return + erase line), at most
 * ten times a second. Twenty lines of our own rather than a dependency: nothing else in the CLI
 * needs one, and it only ever runs on a TTY.
 */
class ProgressLine {
  #last = 0;
  #shown = false;
  constructor(
    private readonly stream: VerifyOutput['stderr'],
    private readonly total: number,
  ) {}

  update(checked: number): void {
    const now = Date.now();
    if (now - this.#last < 100) return;
    this.#last = now;
    this.#draw(checked);
  }

  /** The final state, kept on screen. */
  finish(checked: number): void {
    this.#draw(checked);
    this.stream.write('\n');
    this.#shown = false;
  }

  clear(): void {
    if (this.#shown) this.stream.write('\r\x1b[2K');
    this.#shown = false;
  }

  #draw(checked: number): void {
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - 40));
    const fraction = this.total > 0 ? Math.min(1, checked / this.total) : 0;
    const filled = Math.round(fraction * width);
    this.stream.write(`\r\x1b[2Kverify [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${checked}/${this.total} ${(fraction * 100).toFixed(0)}%`);
    this.#shown = true;
  }
}
