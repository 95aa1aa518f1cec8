import cliProgress from 'cli-progress';
import type { UploadEvents, UploadReport } from './upload-files.js';

const MB = 1e6;
const mb = (bytes: number) => (bytes / MB).toFixed(1);

export interface ProgressReporter {
  events: UploadEvents;
  /** Stops the bar (if any); call before printing the summary. */
  stop(): void;
}

/**
 * Progress while an upload runs, on `out` (stderr in the CLI, so stdout holds only the summary):
 * on a terminal a progress bar (files, MB, rate, ETA; cli-progress redraws one line), otherwise
 * one plain line per finished batch, which logs and CI read well. Notes (skipped files, retries)
 * are lines in both modes.
 */
export function createProgressReporter(out: NodeJS.WritableStream & { isTTY?: boolean }, options: { tty?: boolean } = {}): ProgressReporter {
  const tty = options.tty ?? out.isTTY === true;
  const started = Date.now();
  let totalFiles = 0;
  let totalBytes = 0;
  let doneFiles = 0;
  let sentBytes = 0;
  const rate = () => {
    const seconds = (Date.now() - started) / 1000;
    return seconds > 0 ? sentBytes / seconds : 0;
  };
  // A MultiBar with one bar: its log() prints a line above the bar without breaking it.
  const multi = tty
    ? new cliProgress.MultiBar(
        {
          stream: out,
          format: '{bar} {percentage}% | {doneFiles}/{totalFiles} files | {sentMb}/{totalMb} MB | {rateMb} MB/s | ETA {eta_formatted}',
          hideCursor: true,
          etaBuffer: 50,
          fps: 5,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let bar: cliProgress.SingleBar | undefined;
  const payload = () => ({ doneFiles, totalFiles, sentMb: mb(sentBytes), totalMb: mb(totalBytes), rateMb: mb(rate()) });
  const line = (text: string) => {
    if (multi) multi.log(`${text}\n`);
    else out.write(`${text}\n`);
  };
  const events: UploadEvents = {
    skipped: (file) => line(`skipped ${file.path}: ${file.reason}`),
    scanned: ({ files, bytes, skipped, studies }) => {
      totalFiles = files;
      totalBytes = bytes;
      line(`found ${files} DICOM file(s), ${mb(bytes)} MB in ${studies} stud${studies === 1 ? 'y' : 'ies'}; ${skipped} skipped`);
      if (multi && files > 0) bar = multi.create(Math.max(1, bytes), 0, payload());
    },
    presenceUnknown: (reason) => line(`note: could not ask the server which instances it already holds (${reason}); re-sent instances count as stored`),
    bytes: (delta) => {
      sentBytes += delta;
      bar?.update(Math.max(0, sentBytes), payload());
    },
    retrying: ({ attempt, delayMs, why, files }) =>
      line(`retrying a batch of ${files} file(s) in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempt}): ${why}`),
    batchDone: (batch) => {
      doneFiles += batch.files;
      if (multi) {
        bar?.update(Math.max(0, sentBytes), payload());
        if (batch.failure) line(`a batch of ${batch.files} file(s) failed: ${batch.failure}`);
        return;
      }
      const parts = [`${batch.stored} stored`, `${batch.alreadyPresent} already present`, `${batch.refused} refused`];
      if (batch.notSent) parts.push(`${batch.notSent} not sent`);
      const eta = rate() > 0 && totalBytes > sentBytes ? `, ETA ${Math.ceil((totalBytes - sentBytes) / rate())} s` : '';
      line(
        `${doneFiles}/${totalFiles} files, ${mb(sentBytes)}/${mb(totalBytes)} MB, ${mb(rate())} MB/s${eta}: batch of ${batch.files}: ${parts.join(', ')}${batch.failure ? ` (${batch.failure})` : ''}`,
      );
    },
  };
  return {
    events,
    stop: () => {
      bar?.update(Math.max(0, sentBytes), payload());
      multi?.stop();
    },
  };
}

/**
 * The closing summary: totals, then per study what was stored, already present, refused (with
 * each file's reason) and not sent. Only UIDs, paths and reasons: no patient data.
 */
export function formatSummary(report: UploadReport, seconds: number): string {
  const lines: string[] = [];
  const studies = [...report.studies.values()].sort((a, b) => (a.studyInstanceUid < b.studyInstanceUid ? -1 : 1));
  for (const study of studies) {
    const counts = [`${study.stored} stored`, `${study.alreadyPresent} already present`, `${study.refused.length} refused`];
    if (study.notSent.length) counts.push(`${study.notSent.length} not sent`);
    lines.push(`study ${study.studyInstanceUid || '(no StudyInstanceUID)'}: ${counts.join(', ')}`);
    for (const file of study.refused) lines.push(`  refused ${file.path}: ${file.reason}`);
    for (const file of study.warnings) lines.push(`  warning ${file.path}: ${file.reason}`);
    for (const file of study.notSent) lines.push(`  not sent ${file.path}: ${file.reason}`);
  }
  const dicomdirs = report.skipped.filter((s) => s.reason.startsWith('DICOMDIR')).length;
  const skippedText = report.skipped.length ? ` (${dicomdirs} DICOMDIR, ${report.skipped.length - dicomdirs} other)` : '';
  lines.push(
    `${report.files} DICOM file(s), ${mb(report.bytes)} MB in ${seconds.toFixed(1)} s: ${report.stored} stored, ${report.alreadyPresent} already present, ${report.refused} refused, ${report.notSent} not sent; ${report.skipped.length} file(s) skipped${skippedText}`,
  );
  if (report.files > 0 && report.stored === 0 && report.refused === 0 && report.notSent === 0) lines.push('nothing new: every instance was already present');
  if (!report.presenceChecked) lines.push('("already present" could not be told apart from "stored": the server did not answer the QIDO-RS search)');
  if (report.credentialRefused)
    lines.push(`the server refused the credential: ${report.credentialRefused} (give --token or TESSERA_TOKEN with the write scope)`);
  if (report.unreachable) lines.push('the server could not be reached; run the same command again to send the rest');
  return lines.join('\n');
}
