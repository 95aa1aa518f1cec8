import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { DicomParseError, type InstanceDescription, describeInstance, headedFileByteSource } from '@tessera/dicom';

/**
 * The worker-thread side of `DescribePool` (describe-pool.ts): reads a spooled part from the file
 * system, computes its SHA-256 and describes it (header parse + DICOM JSON), so that this work runs
 * on another core than the event loop. Tasks are handled one at a time, in the order they arrive.
 */

export interface DescribeTask {
  id: number;
  path: string;
  size: number;
  maxHeaderBytes: number;
  inlineBinaryMaxBytes: number;
}

export type DescribeAnswer =
  | { id: number; sha256: string; description: InstanceDescription }
  | { id: number; parseError: { message: string; reason: number; sopClassUid?: string; sopInstanceUid?: string } }
  | { id: number; error: string };

/** Bytes read into memory for the header (the whole of a typical slice); further reads hash only. */
const HEAD_BYTES = 1 << 20;
const head = Buffer.allocUnsafe(HEAD_BYTES);
const rest = Buffer.allocUnsafe(HEAD_BYTES);

async function handle(task: DescribeTask): Promise<DescribeAnswer> {
  const hash = createHash('sha256');
  const fd = openSync(task.path, 'r');
  let headLength = 0;
  try {
    headLength = readFully(fd, head, Math.min(task.size, HEAD_BYTES), 0);
    hash.update(head.subarray(0, headLength));
    for (let offset = headLength; offset < task.size;) {
      const n = readFully(fd, rest, Math.min(task.size - offset, HEAD_BYTES), offset);
      if (n === 0) break;
      hash.update(rest.subarray(0, n));
      offset += n;
    }
  } finally {
    closeSync(fd);
  }
  const source = headedFileByteSource(task.path, task.size, [head.subarray(0, headLength)]);
  try {
    const description = await describeInstance(source, { maxHeaderBytes: task.maxHeaderBytes, inlineBinaryMaxBytes: task.inlineBinaryMaxBytes });
    return { id: task.id, sha256: hash.digest('hex'), description };
  } catch (error) {
    if (error instanceof DicomParseError) {
      return {
        id: task.id,
        parseError: { message: error.message, reason: error.reason, sopClassUid: error.sopClassUid, sopInstanceUid: error.sopInstanceUid },
      };
    }
    throw error;
  } finally {
    await source.close();
  }
}

/** Reads `length` bytes at `position` (fewer only at the end of the file). */
function readFully(fd: number, buffer: Buffer, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buffer, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

let queue: Promise<void> = Promise.resolve();
parentPort?.on('message', (task: DescribeTask) => {
  // One task at a time: the head and rest buffers are reused.
  queue = queue.then(async () => {
    let answer: DescribeAnswer;
    try {
      answer = await handle(task);
    } catch (error) {
      answer = { id: task.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    }
    parentPort!.postMessage(answer);
  });
});
