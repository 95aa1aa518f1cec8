import { API_KEY_PREFIX, parseApiKey, secretMatches } from './api-key.js';
import { type Scope, isScope } from './principal.js';
import type { BearerVerifier, Verification } from './verifier.js';

/** A stored API key as the verifier needs it (the index's `ApiKeyIndex` row, structurally). */
export interface StoredApiKey {
  readonly id: string;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly secretHash: string;
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
}

/** What the verifier asks of the key store (implemented by `@tessera/index`'s ApiKeyIndex). */
export interface ApiKeyLookup {
  find(id: string): Promise<StoredApiKey | undefined>;
  /** Records that the key was used (the store throttles its writes). */
  touch(id: string): void;
}

export interface ApiKeyVerifierOptions {
  keys: ApiKeyLookup;
  now?: () => number;
}

/**
 * Verifies `tsk_…` API keys against the key store. Every failure is a value: an unknown id and a
 * wrong secret give the same answer (`unknown-credential`), so a caller cannot learn which ids
 * exist; revoked and expired keys say so (the key holder needs to know why it stopped working).
 * A store that cannot be reached is `unavailable` (503), never a refusal.
 */
export function createApiKeyVerifier({ keys, now = Date.now }: ApiKeyVerifierOptions): BearerVerifier {
  return {
    kind: 'api-key',
    accepts: (token) => token.startsWith(API_KEY_PREFIX),
    async verify(token): Promise<Verification> {
      const parsed = parseApiKey(token);
      if (!parsed) return { ok: false, reason: 'malformed', message: 'the API key is not of the form tsk_<id>_<secret>' };
      let stored: StoredApiKey | undefined;
      try {
        stored = await keys.find(parsed.id);
      } catch (error) {
        return { ok: false, reason: 'unavailable', message: `the key store cannot be read: ${(error as Error).message}` };
      }
      if (!stored || !secretMatches(parsed.secret, stored.secretHash)) return { ok: false, reason: 'unknown-credential', message: 'the API key is not known' };
      if (stored.revokedAt) return { ok: false, reason: 'revoked', message: 'the API key was revoked' };
      const expiresAt = stored.expiresAt?.getTime();
      if (expiresAt !== undefined && expiresAt <= now()) return { ok: false, reason: 'expired', message: 'the API key has expired' };
      keys.touch(stored.id);
      const scopes = new Set<Scope>(stored.scopes.filter(isScope));
      return { ok: true, principal: { kind: 'api-key', id: stored.id, name: stored.name, scopes }, ...(expiresAt === undefined ? {} : { expiresAt }) };
    },
  };
}
