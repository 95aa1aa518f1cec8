/**
 * Bytes lent by a BufferPool. `release()` gives the memory back once nothing refers to it any more:
 * after the socket write that sent it has completed, never earlier (the pool hands the same memory
 * to the next reader). Calling it again does nothing; never calling it is safe too (the buffer is
 * then collected as any other).
 */
export interface Lease {
  readonly bytes: Buffer;
  readonly release: () => void;
}

export interface BufferPoolOptions {
  /** Size of each pooled buffer; larger leases get a buffer of their own, not pooled. */
  slabBytes: number;
  /** Most free buffers kept; those given back beyond it are left to the garbage collector. */
  maxFree: number;
  /** Free buffers are dropped after this long without a lease, so an idle server holds none. */
  idleMs: number;
}

/**
 * Reusable buffers for the whole reads of retrieval (a CT slice read into one buffer and written
 * with one socket write). A new buffer per request is memory outside V8's heap that V8 must account
 * for: once an idle server's heap had been shrunk by V8's memory reducer, those allocations set off
 * a full garbage collection every few requests, and retrieval cost twice the CPU for as long as the
 * load lasted (docs/benchmarks.md, "After an idle spell"). Reused buffers allocate nothing.
 */
export class BufferPool {
  readonly #slabBytes: number;
  readonly #maxFree: number;
  readonly #idleMs: number;
  readonly #free: ArrayBuffer[] = [];
  #lastLease = 0;
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(options: BufferPoolOptions) {
    this.#slabBytes = options.slabBytes;
    this.#maxFree = options.maxFree;
    this.#idleMs = options.idleMs;
  }

  /** Free buffers held now (for tests and metrics). */
  get free(): number {
    return this.#free.length;
  }

  /** `length` bytes (uninitialised, as Buffer.allocUnsafe), from a pooled buffer when they fit one. */
  lease(length: number): Lease {
    if (length > this.#slabBytes) return { bytes: Buffer.allocUnsafeSlow(length), release: () => {} };
    this.#lastLease = performance.now();
    const slab = this.#free.pop() ?? Buffer.allocUnsafeSlow(this.#slabBytes).buffer;
    let lent = true;
    return {
      bytes: Buffer.from(slab, 0, length),
      release: () => {
        if (!lent) return;
        lent = false;
        this.#giveBack(slab);
      },
    };
  }

  #giveBack(slab: ArrayBuffer): void {
    if (this.#free.length >= this.#maxFree) return;
    this.#free.push(slab);
    if (this.#idleTimer === undefined) this.#idleTimer = this.#armIdleTimer(this.#idleMs);
  }

  #armIdleTimer(delay: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const idle = performance.now() - this.#lastLease;
      if (idle >= this.#idleMs) {
        this.#free.length = 0;
        this.#idleTimer = undefined;
      } else {
        this.#idleTimer = this.#armIdleTimer(this.#idleMs - idle);
      }
    }, delay);
    // A pool never keeps the process alive.
    timer.unref();
    return timer;
  }
}
