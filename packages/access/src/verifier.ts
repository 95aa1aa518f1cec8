import type { Principal } from './principal.js';

/**
 * Why a credential was refused. The HTTP answer is 401 for all of them except `unavailable` (503:
 * the key store or the identity provider's keys could not be reached, so nothing can be decided).
 */
export type AuthFailureReason =
  'malformed' | 'unknown-credential' | 'revoked' | 'expired' | 'not-yet-valid' | 'invalid-signature' | 'wrong-issuer' | 'wrong-audience' | 'unavailable';

export type Verification =
  | {
      readonly ok: true;
      readonly principal: Principal;
      /** Epoch milliseconds after which the credential is no longer valid (a token's `exp`); none for API keys. */
      readonly expiresAt?: number;
    }
  | { readonly ok: false; readonly reason: AuthFailureReason; readonly message: string };

/**
 * Checks one kind of bearer credential (API keys, OpenID Connect JWTs). Access control asks each
 * configured verifier whether it `accepts` the token's form, then lets the first that does decide.
 */
export interface BearerVerifier {
  readonly kind: 'api-key' | 'oidc';
  /** Whether the token has this verifier's form (e.g. an API key prefix, or three base64url parts). No I/O. */
  accepts(token: string): boolean;
  verify(token: string): Promise<Verification>;
}
