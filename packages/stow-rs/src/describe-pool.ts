import { Worker } from 'node:worker_threads';
import { DicomParseError, type InstanceDescription } from '@tessera/dicom';
import type { DescribeAnswer, DescribeTask } from './describe-worker.js';

/** A spooled part read back, hashed and described. */
export interface DescribedPart {
  sha256: string;
  description: InstanceDescription;
}

/** The worker module beside this one: `.ts` when run from source (tsx, tap), `.js` when compiled. */
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './describe-worker.ts' : './describe-worker.js', import.meta.url);

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve(part: DescribedPart): void; reject(error: unknown): void }>;
}

/**
 * Hashes and describes spooled parts in worker threads (describe-worker.ts), off the event loop.
 * Each task names a file; only its description comes back (structured clone), never its bytes.
 * Tasks go to the worker with the fewest waiting; their number is bounded by the requests being
 * served, each of which describes one part at a time. A worker that dies fails its tasks and is
 * replaced for the next ones.
 */
export class DescribePool {
  readonly #slots: Slot[] = [];
  #nextId = 0;
  #closed = false;

  constructor(readonly threads: number) {
    for (let i = 0; i < threads; i++) this.#slots.push(this.#start());
  }

  describe(path: string, size: number, options: { maxHeaderBytes: number; inlineBinaryMaxBytes: number }): Promise<DescribedPart> {
    if (this.#closed) return Promise.reject(new Error('the describe pool is closed'));
    const slot = this.#slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.#nextId++;
    const task: DescribeTask = { id, path, size, ...options };
    return new Promise<DescribedPart>((resolve, reject) => {
      // A worker with work keeps the process alive; an idle one does not.
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage(task);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((slot) => slot.worker.terminate()));
  }

  #start(): Slot {
    const worker = new Worker(WORKER_URL);
    worker.unref();
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (answer: DescribeAnswer) => {
      const waiting = slot.pending.get(answer.id);
      if (!waiting) return;
      slot.pending.delete(answer.id);
      if (slot.pending.size === 0) worker.unref();
      if ('description' in answer) waiting.resolve({ sha256: answer.sha256, description: answer.description });
      else if ('parseError' in answer) {
        const { message, reason, sopClassUid, sopInstanceUid } = answer.parseError;
        waiting.reject(Object.assign(new DicomParseError(message, reason), { sopClassUid, sopInstanceUid }));
      } else waiting.reject(new Error(`describing a spooled part failed: ${answer.error}`));
    });
    const fail = (error: Error) => {
      for (const waiting of slot.pending.values()) waiting.reject(error);
      slot.pending.clear();
      const at = this.#slots.indexOf(slot);
      if (!this.#closed && at >= 0) this.#slots[at] = this.#start();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`a describe worker exited (${code})`)));
    return slot;
  }
}
