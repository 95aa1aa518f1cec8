/** An item opened ahead of its turn: what it holds in memory, and how to release it unsent. */
export interface ReadAheadItem {
  /** Bytes it holds until it is taken (the first chunk read of its body). */
  readonly held: number;
  /** Releases what it keeps open (a file, an S3 response); called only for items never taken. */
  close(): Promise<void>;
}

export interface ReadAheadLimits {
  /** Most items opened (or opening) ahead of the one taken last. */
  items: number;
  /** No further item is opened while the items waiting ahead hold (or, opening, are expected to hold) this many bytes. */
  bytes: number;
}

export interface ReadAheadOptions<T extends ReadAheadItem> {
  /** Item 0, opened by the caller (typically before answering, so that its failure is an error response). */
  first: T;
  /** Number of items, the first included. */
  count: number;
  /** Opens item `i` (1 ≤ i < count). */
  open: (i: number) => Promise<T>;
  limits: ReadAheadLimits;
}

/**
 * The items `0..count-1` in order, each opened before its turn: as soon as item i is taken, items
 * i+1.. are opened (concurrently, up to `limits.items` of them and while those waiting hold less
 * than `limits.bytes`), so their first bytes are read while item i is being sent.
 *
 * An item whose opening fails is reported when its turn comes (`next()` rejects there, and nothing
 * after it is opened), so everything before it is delivered as without read-ahead. `return()` (a
 * consumer that stops, e.g. a client that disconnected) closes every item opened and not taken,
 * including those still opening, and resolves once they are closed: nothing stays open. Memory held
 * ahead is at most `limits.items` items, and no item is opened once those waiting and those opening
 * (each counted as the largest item seen) reach `limits.bytes`: at most one item more than the budget.
 */
export function readAhead<T extends ReadAheadItem>(options: ReadAheadOptions<T>): AsyncIterableIterator<T> {
  return new ReadAhead(options);
}

interface Slot<T> {
  promise: Promise<T>;
  value?: T;
  taken: boolean;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

class ReadAhead<T extends ReadAheadItem> implements AsyncIterableIterator<T> {
  readonly #count: number;
  readonly #open: (i: number) => Promise<T>;
  readonly #limits: ReadAheadLimits;
  /** Items whose opening has started (the first included). */
  #started = 1;
  /** Started and not yet taken, in order. */
  readonly #waiting: Slot<T>[];
  /** Bytes held by the waiting items that are open. */
  #held = 0;
  /** Items still opening, each counted as holding as much as the largest item seen so far. */
  #opening = 0;
  #largest: number;
  /** The `next()` in progress: `return()` waits for it, since it may have to close its item. */
  #taking: Promise<unknown> = Promise.resolve();
  /** Set by `return()`: nothing more is opened or handed out. */
  #stopped = false;
  /** An opening failed: nothing after it is opened (the consumer will stop there). */
  #failed = false;

  constructor({ first, count, open, limits }: ReadAheadOptions<T>) {
    this.#count = count;
    this.#open = open;
    this.#limits = limits;
    this.#waiting = [{ promise: Promise.resolve(first), value: first, taken: false }];
    this.#held = first.held;
    this.#largest = first.held;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<T>> {
    const taking = this.#take();
    this.#taking = taking.catch(() => {});
    return taking;
  }

  async return(): Promise<IteratorResult<T>> {
    this.#stopped = true;
    const waiting = this.#waiting.splice(0);
    this.#held = 0;
    // allSettled: an item whose opening failed has nothing to close.
    await Promise.allSettled([this.#taking, ...waiting.map(async (slot) => (await slot.promise).close())]);
    return DONE;
  }

  async #take(): Promise<IteratorResult<T>> {
    // A consumer faster than the deferred fill below finds nothing waiting: open the next item now.
    if (this.#waiting.length === 0) this.#fill();
    const slot = this.#stopped ? undefined : this.#waiting.shift();
    if (!slot) return DONE;
    slot.taken = true;
    if (slot.value) this.#held -= slot.value.held;
    const value = await slot.promise;
    if (this.#stopped) {
      // return() came while this item was opening: it is closed here, since no one will read it.
      await value.close();
      return DONE;
    }
    // The next items are opened once this one has been handed out and written (setImmediate runs
    // after the consumer's microtasks and the socket write they start), so that the read-ahead never
    // delays the first bytes of a response.
    setImmediate(() => this.#fill());
    return { done: false, value };
  }

  #fill(): void {
    while (
      !this.#stopped &&
      !this.#failed &&
      this.#started < this.#count &&
      this.#waiting.length < this.#limits.items &&
      this.#held + this.#opening * this.#largest < this.#limits.bytes
    ) {
      const slot: Slot<T> = { promise: this.#open(this.#started++), taken: false };
      this.#opening++;
      slot.promise.then(
        (value) => {
          this.#opening--;
          slot.value = value;
          this.#largest = Math.max(this.#largest, value.held);
          if (!slot.taken && !this.#stopped) this.#held += value.held;
        },
        // Reported by next() when this item's turn comes; until then it only stops further opening.
        () => {
          this.#opening--;
          this.#failed = true;
        },
      );
      this.#waiting.push(slot);
    }
  }
}
