/**
 * Counts refused credentials per client address in fixed one-minute windows; an address with
 * `limit` failures in the current window is blocked until the window ends. In memory and per
 * server process (with WORKERS=N an address may fail up to N × limit times a minute): enough to
 * make guessing keys hopeless (a 256-bit secret) and to slow a token-stuffing client, without a
 * shared store. @fastify/rate-limit counts requests, not failures, so it does not fit. Bounded:
 * at most `maxAddresses` are tracked; when full, a new address evicts the oldest (an attacker with
 * that many addresses can only lose track of its own older ones).
 */
export class FailureLimiter {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly maxAddresses = 10_000,
  ) {}

  /** Seconds until `address` may try again; undefined when it is not blocked. */
  blockedFor(address: string, now: number): number | undefined {
    const window = this.current(address, now);
    if (!window || window.failures < this.limit) return undefined;
    return Math.max(1, Math.ceil((window.start + this.windowMs - now) / 1000));
  }

  recordFailure(address: string, now: number): void {
    const window = this.current(address, now) ?? { start: now, failures: 0 };
    window.failures++;
    this.windows.delete(address);
    this.windows.set(address, window);
    if (this.windows.size > this.maxAddresses) this.windows.delete(this.windows.keys().next().value!);
  }

  private current(address: string, now: number) {
    const window = this.windows.get(address);
    if (window && now - window.start >= this.windowMs) {
      this.windows.delete(address);
      return undefined;
    }
    return window;
  }
}
