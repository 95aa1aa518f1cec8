import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpProblem } from '@tessera/http';
import { CredentialCache } from './credential-cache.js';
import { FailureLimiter } from './failure-limiter.js';
import { type Principal, type Scope, anonymous } from './principal.js';
import { SHARE_COOKIE, cookieValue } from './share-token.js';
import type { ShareVerifier } from './share-verifier.js';
import type { AuthFailureReason, BearerVerifier, Verification } from './verifier.js';

/** The study a request names (`{ uid }`), `'limited'` (its service limits itself), or undefined (none). */
export type StudyOfRequest = { readonly uid: string } | 'limited' | undefined;

/** What a route needs: a scope, or nothing (`public`). */
export type RouteAccess = Scope | 'public';

/** What access control reports for each request to a non-public route (the audit trail listens). */
export interface AuthenticationOutcome {
  readonly ok: boolean;
  /** Why the credential was refused; absent when none was sent. */
  readonly reason?: AuthFailureReason;
  readonly principal?: Principal;
}

export interface AccessControlOptions {
  /** The anonymous principal's scopes: every scope with AUTH_MODE=none, none otherwise. */
  anonymousScopes: Iterable<Scope>;
  /** Asked in order; the first that `accepts` a token decides. */
  verifiers: readonly BearerVerifier[];
  /** The decision for the route a request matched; undefined when no route matched (a 404: public). */
  accessOf(request: FastifyRequest): RouteAccess | undefined;
  /**
   * How long a verified API key is believed without asking the key store again (default 5000 ms):
   * the bound on how long a revoked key keeps working on a server process. Tokens with an expiry
   * (OpenID Connect) are believed until it.
   */
  apiKeyCacheMs?: number;
  /** Refused credentials per client address and minute before it is answered 429 (default 20). */
  failuresPerMinute?: number;
  /**
   * Called once per request to a route that is not public and that the anonymous principal may not
   * use: `ok` with the principal when a credential was accepted (also from the cache, also when the
   * principal then lacks the scope: that is a 403, not a failed authentication), `ok: false` with
   * the reason when it was refused, `ok: false` without a reason when none was sent. Not called
   * for 429 answers (nothing was checked).
   */
  onAuthentication?(request: FastifyRequest, outcome: AuthenticationOutcome): void;
  /**
   * Share links (issue #14): the verifier of the share cookie (`tessera_share`), asked when a request
   * to a non-public route carries that cookie and no Authorization header. A verified share is
   * cached like an API key (apiKeyCacheMs, and never past its expiry). The cookie is honoured in
   * every AUTH_MODE, so a share link shows one study even on a server without authentication.
   */
  shares?: ShareVerifier;
  /**
   * The study a request concerns, for principals limited to one study (`principal.study`): the UID
   * its route names (path or query), `'limited'` when the route's service limits its answer to the
   * principal's study itself (QIDO-RS searches), undefined when the route names no study. Such a
   * principal is refused (403) unless the answer is its own study or `'limited'`.
   */
  studyOf?(request: FastifyRequest): StudyOfRequest;
  now?: () => number;
}

export const REALM = 'tessera';

/**
 * Access control as one `onRequest` hook on the root instance, so it runs before every route's own
 * hooks and handler. Install it after the CORS hook: a CORS preflight (OPTIONS with
 * Access-Control-Request-Method) needs no token. The credential comes from the
 * `Authorization: Bearer` header only, never from the URL (URLs end up in logs and browser history).
 * Answers, in problem+json (RFC 9457), as RFC 9110 §15.5.2/§15.5.4 and RFC 6750 §3 say: 401 with
 * `WWW-Authenticate: Bearer realm="tessera"` when no credential was sent (plus
 * `error="invalid_token"` when one was sent and refused); 403 when the principal lacks the route's
 * scope; 503 when the verifier cannot decide; 429 with Retry-After when the client address sent too
 * many refused credentials this minute.
 */
export function installAccessControl(app: FastifyInstance, options: AccessControlOptions): void {
  const anonymousPrincipal = anonymous(options.anonymousScopes);
  const now = options.now ?? Date.now;
  const apiKeyCacheMs = options.apiKeyCacheMs ?? 5000;
  const cache = new CredentialCache();
  const limiter = new FailureLimiter(options.failuresPerMinute ?? 20);
  const report = (request: FastifyRequest, outcome: AuthenticationOutcome) => {
    try {
      options.onAuthentication?.(request, outcome);
    } catch (error) {
      request.log.error({ err: error }, 'the authentication listener failed');
    }
  };

  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (request) => {
    request.principal = anonymousPrincipal;
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) return;
    const access = options.accessOf(request) ?? 'public';
    if (access === 'public') return;

    const bearer = bearerToken(request.headers.authorization);
    // A share cookie counts only without an Authorization header: a signed-in client is never narrowed by a stale cookie.
    const shareToken = bearer === undefined && options.shares ? cookieValue(request.headers.cookie, SHARE_COOKIE) : undefined;
    // Where everyone holds the scope (AUTH_MODE=none), a bearer token is not checked (a proxy in front
    // that authenticates may pass its own on); only a share cookie narrows the request to its study.
    if (shareToken === undefined && anonymousPrincipal.scopes.has(access)) return;
    const token = bearer ?? shareToken;
    if (token === undefined) {
      report(request, { ok: false });
      throw new HttpProblem(401, 'UNAUTHENTICATED', 'this resource needs a credential: send Authorization: Bearer <API key or access token>', {
        'www-authenticate': `Bearer realm="${REALM}"`,
      });
    }
    const at = now();
    const key = CredentialCache.keyOf(token);
    let principal = cache.get(key, at);
    if (!principal) {
      const wait = limiter.blockedFor(request.ip, at);
      if (wait !== undefined) {
        throw new HttpProblem(429, 'TOO_MANY_FAILED_AUTHENTICATIONS', `too many refused credentials from this address; try again in ${wait} s`, {
          'retry-after': String(wait),
        });
      }
      const verifier = shareToken === undefined ? options.verifiers.find((v) => v.accepts(token)) : undefined;
      const kind = shareToken === undefined ? verifier?.kind : 'share';
      const verification: Verification =
        shareToken !== undefined
          ? await options.shares!.verify(shareToken)
          : verifier
            ? await verifier.verify(token)
            : { ok: false, reason: 'malformed', message: 'the bearer token is neither an API key nor an access token this server accepts' };
      if (!verification.ok) {
        report(request, { ok: false, reason: verification.reason });
        if (verification.reason === 'unavailable') {
          request.log.warn({ verifier: kind, detail: verification.message }, 'a credential could not be checked');
          throw new HttpProblem(503, 'AUTHENTICATION_UNAVAILABLE', 'the credential cannot be checked now; retry later', { 'retry-after': '5' });
        }
        limiter.recordFailure(request.ip, at);
        request.log.info({ verifier: kind, reason: verification.reason }, 'credential refused');
        throw new HttpProblem(401, 'INVALID_CREDENTIAL', verification.message, {
          'www-authenticate': `Bearer realm="${REALM}", error="invalid_token"`,
          // A refused share cookie is removed, so the browser stops sending it (and the viewer's next requests are plain 401s).
          ...(shareToken === undefined ? {} : { 'set-cookie': clearedShareCookie() }),
        });
      }
      principal = verification.principal;
      const cap = kind === 'api-key' || kind === 'share' ? at + apiKeyCacheMs : Number.POSITIVE_INFINITY;
      const until = Math.min(verification.expiresAt ?? Number.POSITIVE_INFINITY, cap);
      if (until > at && Number.isFinite(until)) cache.set(key, principal, until);
    }
    request.principal = principal;
    report(request, { ok: true, principal });
    if (!principal.scopes.has(access)) {
      throw new HttpProblem(403, 'INSUFFICIENT_SCOPE', `this resource needs the '${access}' scope, which this credential does not have`);
    }
    if (principal.study !== undefined) {
      const study = options.studyOf?.(request);
      if (study !== 'limited' && study?.uid !== principal.study) {
        throw new HttpProblem(403, 'OUTSIDE_SHARED_STUDY', 'this credential opens one study only, and this request is not about that study');
      }
    }
  });
}

/** A Set-Cookie value that removes the share cookie (RFC 6265 §5.3: an expiry in the past). */
export function clearedShareCookie(): string {
  return `${SHARE_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict`;
}

/** The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1); undefined for any other header or none. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return match?.[1];
}
