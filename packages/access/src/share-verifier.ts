import { secretMatches } from './api-key.js';
import type { Principal } from './principal.js';
import { parseShareToken } from './share-token.js';
import type { Verification } from './verifier.js';

/** A stored share as the verifier needs it (the index's `ShareIndex` row, structurally). */
export interface StoredShare {
  readonly id: string;
  readonly studyInstanceUid: string;
  readonly secretHash: string;
  readonly note: string | null;
  readonly expiresAt: Date;
  readonly revokedAt: Date | null;
}

/** What the verifier asks of the share store (implemented by `@tessera/index`'s ShareIndex). */
export interface ShareLookup {
  find(id: string): Promise<StoredShare | undefined>;
}

export interface ShareVerifier {
  /** Checks a share token (from the link or the cookie); failures are values, as for API keys. */
  verify(token: string): Promise<Verification>;
}

/** The principal of an open share: read-only, limited to the one study (access-control.ts enforces the limit). */
export function sharePrincipal(share: Pick<StoredShare, 'id' | 'studyInstanceUid' | 'note'>): Principal {
  return { kind: 'share', id: share.id, ...(share.note ? { name: share.note } : {}), scopes: new Set(['read']), study: share.studyInstanceUid };
}

/**
 * Verifies `tsl_…` share tokens against the share store. An unknown id and a wrong secret give the
 * same answer (`unknown-credential`); revoked and expired shares say so; a store that cannot be read
 * is `unavailable` (503), never a refusal. The answer carries the share's expiry, so a cached
 * success never outlives it.
 */
export function createShareVerifier({ shares, now = Date.now }: { shares: ShareLookup; now?: () => number }): ShareVerifier {
  return {
    async verify(token): Promise<Verification> {
      const parsed = parseShareToken(token);
      if (!parsed) return { ok: false, reason: 'malformed', message: 'the share token is not of the form tsl_<id>_<secret>' };
      let stored: StoredShare | undefined;
      try {
        stored = await shares.find(parsed.id);
      } catch (error) {
        return { ok: false, reason: 'unavailable', message: `the share store cannot be read: ${(error as Error).message}` };
      }
      if (!stored || !secretMatches(parsed.secret, stored.secretHash))
        return { ok: false, reason: 'unknown-credential', message: 'the share link is not known' };
      if (stored.revokedAt) return { ok: false, reason: 'revoked', message: 'the share link was revoked' };
      const expiresAt = stored.expiresAt.getTime();
      if (expiresAt <= now()) return { ok: false, reason: 'expired', message: 'the share link has expired' };
      return { ok: true, principal: sharePrincipal(stored), expiresAt };
    },
  };
}
