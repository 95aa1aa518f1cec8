import { type JWTPayload, type JWTVerifyGetKey, createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { Principal } from '../principal.js';
import type { AuthFailureReason, BearerVerifier, Verification } from '../verifier.js';
import { discoverIssuer } from './discovery.js';
import { type ScopeClaim, scopesFromClaims } from './scope-claim.js';

/**
 * Signature algorithms a token may use: asymmetric only. A symmetric algorithm (HS256…) would let
 * anyone holding the verification key forge tokens, and the classic attack signs an HS256 token with
 * the issuer's *public* key; `none` is no signature at all. Both are refused before any key is looked up.
 */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

export interface OidcVerifierOptions {
  /** The issuer identifier, exactly as the tokens' `iss` (no trailing slash added or removed). */
  readonly issuer: string;
  /** Accepted `aud` values: the API's identifier or client id. */
  readonly audience: string | readonly string[];
  readonly scopes: ScopeClaim;
  /** Allowed clock skew for `exp` and `nbf`, in seconds. */
  readonly clockToleranceSeconds: number;
  readonly algorithms?: readonly string[];
  /** After a JWKS fetch, an unknown `kid` refetches only once this has passed (protects the provider). */
  readonly jwksCooldownMs?: number;
  /** The key set is refetched after this long even when every `kid` is known (rotation). */
  readonly jwksMaxAgeMs?: number;
  /** Discovery and JWKS requests taking longer fail (the request answers 503). */
  readonly httpTimeoutMs?: number;
}

/** Compact JWS: three base64url parts (the third empty for `alg: none`, which is then refused). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** Larger tokens are refused unread: real ones are a few KiB. */
const MAX_TOKEN_LENGTH = 16 * 1024;

/**
 * Checks OpenID Connect / OAuth 2.0 JWT bearer tokens (RFC 9068 access tokens, or ID tokens whose
 * audience is this server) against the issuer's published keys. The JWKS location is discovered
 * once; the key set is cached and fetched again when a token names an unknown `kid` (key rotation),
 * at most once per cooldown. The crypto and the claim checks are jose's; this module only chooses
 * what to require and turns jose's errors into `AuthFailureReason`s.
 */
export function createOidcVerifier(options: OidcVerifierOptions): BearerVerifier {
  const timeoutDuration = options.httpTimeoutMs ?? 5000;
  let keys: Promise<JWTVerifyGetKey> | undefined;
  const keySet = (): Promise<JWTVerifyGetKey> => {
    keys ??= discoverIssuer(options.issuer, timeoutDuration).then(({ jwksUri }) =>
      createRemoteJWKSet(new URL(jwksUri), {
        timeoutDuration,
        cooldownDuration: options.jwksCooldownMs ?? 30_000,
        cacheMaxAge: options.jwksMaxAgeMs ?? 10 * 60_000,
      }),
    );
    // A failed discovery is not cached: the next request tries again.
    keys.catch(() => {
      keys = undefined;
    });
    return keys;
  };
  const algorithms = [...(options.algorithms ?? ASYMMETRIC_ALGORITHMS)];
  const audience = typeof options.audience === 'string' ? options.audience : [...options.audience];

  return {
    kind: 'oidc',
    accepts: (token) => token.length <= MAX_TOKEN_LENGTH && COMPACT_JWS.test(token),
    async verify(token): Promise<Verification> {
      if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) return refused('malformed', 'not a compact JWT');
      let payload: JWTPayload;
      try {
        const getKey = await keySet();
        ({ payload } = await jwtVerify(token, getKey, {
          issuer: options.issuer,
          audience,
          algorithms,
          clockTolerance: options.clockToleranceSeconds,
          requiredClaims: ['exp', 'sub'],
        }));
      } catch (error) {
        return failure(error);
      }
      if (typeof payload.sub !== 'string' || payload.sub === '') return refused('malformed', "the token's 'sub' claim is not a string");
      const principal: Principal = {
        kind: 'oidc',
        id: payload.sub,
        name: nameOf(payload),
        scopes: scopesFromClaims(payload, options.scopes),
      };
      return { ok: true, principal, expiresAt: payload.exp! * 1000 };
    },
  };
}

function nameOf(payload: JWTPayload): string | undefined {
  for (const claim of ['preferred_username', 'email', 'name']) {
    const value = payload[claim];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

function refused(reason: AuthFailureReason, message: string): Verification {
  return { ok: false, reason, message };
}

/** jose's typed errors → why the token was refused. The message names a claim or a check, never the token. */
function failure(error: unknown): Verification {
  if (error instanceof errors.JWTExpired) return refused('expired', 'the token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return refused('wrong-issuer', 'the token was issued by another issuer');
      case 'aud':
        return refused('wrong-audience', 'the token is not meant for this server (aud)');
      case 'nbf':
        return refused('not-yet-valid', 'the token is not valid yet (nbf)');
      default:
        return refused('malformed', `the token's '${error.claim}' claim is missing or invalid`);
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return refused('invalid-signature', 'the token is signed with an algorithm that is not allowed (only asymmetric signatures are)');
  if (error instanceof errors.JWSSignatureVerificationFailed) return refused('invalid-signature', 'the token signature does not verify');
  if (error instanceof errors.JWKSNoMatchingKey) return refused('invalid-signature', "no key of the issuer's key set matches the token");
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return refused('unavailable', "the identity provider's keys cannot be read");
  if (
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JWTInvalid ||
    error instanceof errors.JOSENotSupported ||
    error instanceof errors.JWKInvalid
  ) {
    return refused('malformed', 'the token is not a valid signed JWT');
  }
  // Anything else happened while reaching the provider (discovery, a JWKS answer that is not 200,
  // a network error): nothing can be decided.
  return refused('unavailable', "the identity provider's keys cannot be read");
}
