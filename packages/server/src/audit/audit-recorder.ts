import type { FastifyBaseLogger } from 'fastify';
import type { AuditEvent } from '@tessera/index';

/** Where batches go: `Index['audit']`, or anything else with its append (the benchmark's tests). */
export interface AuditSink {
  append(events: readonly AuditEvent[]): Promise<void>;
}

export interface AuditRecorderOptions {
  /** A flush starts as soon as this many events wait (default 200). */
  batchSize?: number;
  /** …or when the oldest waiting event is this old (default 1 s). */
  flushIntervalMs?: number;
  /** Most events held in memory while the database cannot take them (default 100 000, ≈ 50 MB). */
  maxBuffered?: number;
}

/** Events per INSERT transaction when a flush catches up on a backlog. */
const APPEND_BATCH = 1_000;

/**
 * Collects audit events in memory and writes them in batches, so that recording costs a request
 * one array push and never a database round trip (the issue asks that recording not slow the hot
 * paths measurably; docs/benchmarks.md has the figures).
 *
 * Order and failure semantics: events are appended in the order recorded, one transaction per batch
 * (AuditLog.append). A batch that fails is put back at the head of the buffer and retried at the next
 * tick; the failure is logged, never reported to a request. While the database stays down the buffer
 * grows to `maxBuffered`; beyond it the oldest tenth is dropped (counted, and logged as an error at
 * the next flush attempt) rather than blocking requests or growing without bound: an archive that
 * cannot write its audit trail should be noticed through its log and `/readyz`, not by refusing
 * reads. A crash (kill -9) loses what was buffered, at most about `flushIntervalMs` of events in
 * normal operation; `close()` flushes what is left.
 */
export class AuditRecorder {
  private buffer: AuditEvent[] = [];
  private dropped = 0;
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxBuffered: number;

  constructor(
    private readonly sink: AuditSink,
    private readonly log: FastifyBaseLogger,
    options: AuditRecorderOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 200;
    this.flushIntervalMs = options.flushIntervalMs ?? 1_000;
    this.maxBuffered = options.maxBuffered ?? 100_000;
  }

  /** Events waiting to be written. */
  get pending(): number {
    return this.buffer.length;
  }

  /** Starts the periodic flush (at server start). */
  start(): void {
    this.timer ??= setInterval(() => {
      if (this.buffer.length) void this.flush();
    }, this.flushIntervalMs).unref();
  }

  /** Buffers one event; starts a flush when a batch is full. Never throws, never waits. */
  record(event: AuditEvent): void {
    this.buffer.push(event);
    if (this.buffer.length > this.maxBuffered) {
      const excess = Math.max(this.buffer.length - this.maxBuffered, Math.ceil(this.maxBuffered / 10));
      this.buffer.splice(0, excess);
      this.dropped += excess;
    }
    if (this.buffer.length >= this.batchSize && !this.flushing) void this.flush();
  }

  /** Writes everything buffered now (one flush at a time; resolves when it ends, successful or not). */
  flush(): Promise<void> {
    this.flushing ??= this.writeAll().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Stops the timer and writes what is left; events still unwritten after three tries are logged as lost. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    for (let attempt = 0; attempt < 3 && (this.buffer.length || this.flushing); attempt++) {
      await this.flushing;
      await this.flush();
    }
    if (this.buffer.length) {
      this.log.error({ auditEventsLost: this.buffer.length }, 'audit events could not be written before shutdown and are lost');
      this.buffer = [];
    }
  }

  private async writeAll(): Promise<void> {
    while (this.buffer.length) {
      const batch = this.buffer.splice(0, APPEND_BATCH);
      try {
        await this.sink.append(batch);
      } catch (error) {
        this.buffer.unshift(...batch);
        this.log.warn({ err: error, auditEventsWaiting: this.buffer.length }, 'could not write audit events; retrying');
        break;
      } finally {
        this.reportDropped();
      }
    }
  }

  private reportDropped(): void {
    if (!this.dropped) return;
    this.log.error(
      { auditEventsDropped: this.dropped, maxBuffered: this.maxBuffered },
      'audit events dropped: the database did not take them and the buffer was full (the oldest were dropped)',
    );
    this.dropped = 0;
  }
}
