import { createHash } from 'node:crypto';
import type { Principal } from './principal.js';

/**
 * Verified credentials, by the SHA-256 of the token (never the token itself: a heap dump must not
 * yield usable credentials), each until its `until` time. Bounded: past `maxEntries` the oldest
 * entry goes (a Map keeps insertion order), so a flood of distinct valid tokens cannot grow memory.
 * Only successes are cached: a refused token is checked again each time (and rate-limited).
 */
export class CredentialCache {
  private readonly entries = new Map<string, { principal: Principal; until: number }>();

  constructor(private readonly maxEntries = 10_000) {}

  static keyOf(token: string): string {
    return createHash('sha256').update(token).digest('base64url');
  }

  get(key: string, now: number): Principal | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.principal;
  }

  set(key: string, principal: Principal, until: number): void {
    this.entries.delete(key);
    this.entries.set(key, { principal, until });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
