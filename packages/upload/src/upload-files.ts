import { type DicomFile, type SkippedFile, findDicomFiles } from './find-files.js';
import { type BatchOutcome, type RetryPolicy, type StowTarget, sendBatch } from './stow-client.js';
import { findStoredInstances } from './stored-instances.js';

export interface UploadOptions {
  target: StowTarget;
  /** STOW-RS requests in flight at once. */
  concurrency: number;
  /** Files per STOW-RS request, at most. */
  batchFiles: number;
  /** Bytes of files per request, at most (a larger single file goes alone). */
  batchBytes?: number;
  retry?: RetryPolicy;
  events?: UploadEvents;
}

/** What an upload says while it runs (the CLI turns these into a progress bar or plain lines). */
export interface UploadEvents {
  skipped?(file: SkippedFile): void;
  /** The walk is done: what will be sent. */
  scanned?(totals: { files: number; bytes: number; skipped: number; studies: number }): void;
  /** Which instances the server already held could not be found out (the reason). */
  presenceUnknown?(reason: string): void;
  /** File bytes sent (negative when an attempt is abandoned). */
  bytes?(delta: number): void;
  batchDone?(batch: { files: number; stored: number; alreadyPresent: number; refused: number; notSent: number; failure?: string }): void;
  retrying?(note: { attempt: number; delayMs: number; why: string; files: number }): void;
}

/** One file's fate. */
export interface FileResult {
  path: string;
  size: number;
  sopInstanceUid: string;
  kind: 'stored' | 'already-present' | 'refused' | 'not-sent';
  /** Why it was refused or not sent, or the warning it was stored with. */
  reason?: string;
}

export interface StudyReport {
  studyInstanceUid: string;
  stored: number;
  alreadyPresent: number;
  refused: FileResult[];
  notSent: FileResult[];
  warnings: FileResult[];
}

export interface UploadReport {
  files: number;
  bytes: number;
  skipped: SkippedFile[];
  /** By StudyInstanceUID ('' for files whose UID could not be read). */
  studies: Map<string, StudyReport>;
  stored: number;
  alreadyPresent: number;
  refused: number;
  notSent: number;
  /** False when the server could not be asked which instances it held (re-sent ones then count as stored). */
  presenceChecked: boolean;
  /** The server could not be reached (after retries). */
  unreachable: boolean;
  /** The server refused the credential (401/403): the rest was not sent. */
  credentialRefused?: string;
}

const DEFAULT_BATCH_BYTES = 256 * 2 ** 20;

/**
 * `tessera upload`: finds the DICOM files under `paths` (by content), asks the server which of their
 * studies' instances it already holds (QIDO-RS, so the summary can say "already present": a STOW-RS
 * answer does not tell a byte-identical re-send from a new instance), then sends them with STOW-RS in
 * batches, `concurrency` requests at a time, grouped by study. Only file headers are read up front;
 * every body is streamed from disk as it is sent.
 *
 * Order of decisions per batch: a Store Instances Response settles each instance (stored, stored
 * with a warning, refused with its FailureReason); a 413 splits the batch in two; a transient failure
 * is retried (stow-client.ts); a refused credential or an unreachable server stops the upload, and
 * what was not sent is listed as such.
 */
export async function uploadFiles(paths: readonly string[], options: UploadOptions): Promise<UploadReport> {
  const events = options.events ?? {};
  const found = await findDicomFiles(paths, (file) => events.skipped?.(file));
  const files = [...found.files].sort((a, b) =>
    a.studyInstanceUid < b.studyInstanceUid ? -1 : a.studyInstanceUid > b.studyInstanceUid ? 1 : a.path < b.path ? -1 : 1,
  );
  const studyUids = [...new Set(files.map((f) => f.studyInstanceUid))];
  const report: UploadReport = {
    files: files.length,
    bytes: files.reduce((sum, f) => sum + f.size, 0),
    skipped: found.skipped,
    studies: new Map(),
    stored: 0,
    alreadyPresent: 0,
    refused: 0,
    notSent: 0,
    presenceChecked: true,
    unreachable: false,
  };
  events.scanned?.({ files: report.files, bytes: report.bytes, skipped: report.skipped.length, studies: studyUids.length });
  if (files.length === 0) return report;

  const before = await findStoredInstances(options.target, studyUids.filter(Boolean), options.concurrency);
  if (before.kind === 'unknown') {
    report.presenceChecked = false;
    events.presenceUnknown?.(before.reason);
  }
  const held = before.kind === 'known' ? before.sopInstanceUids : new Set<string>();

  const record = (file: DicomFile, kind: FileResult['kind'], reason?: string) => {
    const study = report.studies.get(file.studyInstanceUid) ?? {
      studyInstanceUid: file.studyInstanceUid,
      stored: 0,
      alreadyPresent: 0,
      refused: [],
      notSent: [],
      warnings: [],
    };
    report.studies.set(file.studyInstanceUid, study);
    const result: FileResult = { path: file.path, size: file.size, sopInstanceUid: file.sopInstanceUid, kind, ...(reason ? { reason } : {}) };
    switch (kind) {
      case 'stored':
        study.stored++;
        report.stored++;
        if (reason) study.warnings.push(result);
        break;
      case 'already-present':
        study.alreadyPresent++;
        report.alreadyPresent++;
        if (reason) study.warnings.push(result);
        break;
      case 'refused':
        study.refused.push(result);
        report.refused++;
        break;
      case 'not-sent':
        study.notSent.push(result);
        report.notSent++;
        break;
    }
    return kind;
  };

  const queue = batches(files, options.batchFiles, options.batchBytes ?? DEFAULT_BATCH_BYTES);
  let stop: string | undefined;
  const runBatch = async (batch: DicomFile[]): Promise<void> => {
    const counts = { files: batch.length, stored: 0, alreadyPresent: 0, refused: 0, notSent: 0 };
    const tally = (kind: FileResult['kind']) => {
      if (kind === 'stored') counts.stored++;
      else if (kind === 'already-present') counts.alreadyPresent++;
      else if (kind === 'refused') counts.refused++;
      else counts.notSent++;
    };
    if (stop) {
      for (const file of batch) tally(record(file, 'not-sent', stop));
      events.batchDone?.({ ...counts, failure: stop });
      return;
    }
    const outcome: BatchOutcome = await sendBatch(options.target, batch, {
      ...(options.retry ? { retry: options.retry } : {}),
      onBytes: (delta) => events.bytes?.(delta),
      onRetry: (note) => events.retrying?.({ ...note, files: batch.length }),
    });
    if (outcome.kind === 'failed' && outcome.status === 413 && batch.length > 1) {
      // Larger than the server takes in one request: send the halves separately.
      const half = Math.ceil(batch.length / 2);
      await runBatch(batch.slice(0, half));
      await runBatch(batch.slice(half));
      return;
    }
    if (outcome.kind === 'failed') {
      let kind: FileResult['kind'] = 'refused';
      if (outcome.status === 401 || outcome.status === 403) {
        report.credentialRefused ??= outcome.message;
        stop ??= `not sent: the server refused the credential (${outcome.message})`;
        kind = 'not-sent';
      } else if (outcome.status === undefined || outcome.status >= 500) {
        if (outcome.unreachable) {
          report.unreachable = true;
          stop ??= `not sent: the server is unreachable (${outcome.message})`;
        }
        kind = 'not-sent';
      }
      const reason =
        kind === 'refused' ? `the request was refused as a whole: ${outcome.message}` : `${outcome.message} (after ${outcome.attempts} attempt(s))`;
      for (const file of batch) tally(record(file, kind, reason));
      events.batchDone?.({ ...counts, failure: outcome.message });
      return;
    }
    const { answer } = outcome;
    const unmatched: DicomFile[] = [];
    for (const file of batch) {
      const said = answer.instances.get(file.sopInstanceUid);
      if (!said) unmatched.push(file);
      else if (said.kind === 'refused') tally(record(file, 'refused', said.reason));
      else tally(record(file, held.has(file.sopInstanceUid) ? 'already-present' : 'stored', said.warning));
    }
    // Failures the server could not tie to an instance (unreadable parts): in the order of the parts.
    const others = answer.otherFailures.length === unmatched.length ? answer.otherFailures : [];
    unmatched.forEach((file, i) => tally(record(file, 'refused', others[i] ?? `not listed in the server's answer (HTTP ${outcome.status})`)));
    events.batchDone?.(counts);
  };
  let next = 0;
  const worker = async () => {
    while (next < queue.length) await runBatch(queue[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, queue.length)) }, worker));
  return report;
}

/** The exit code of `tessera upload`: 0 everything stored or already present, 1 something was not, 2 unreachable or credential refused. */
export function exitCode(report: UploadReport): number {
  if (report.unreachable || report.credentialRefused) return 2;
  return report.refused + report.notSent > 0 ? 1 : 0;
}

/** Consecutive files (already grouped by study) cut into requests of at most `maxFiles` files and `maxBytes` bytes. */
function batches(files: readonly DicomFile[], maxFiles: number, maxBytes: number): DicomFile[][] {
  const out: DicomFile[][] = [];
  let current: DicomFile[] = [];
  let bytes = 0;
  for (const file of files) {
    if (current.length > 0 && (current.length >= maxFiles || bytes + file.size > maxBytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(file);
    bytes += file.size;
  }
  if (current.length) out.push(current);
  return out;
}
