/**
 * Who is asking, and what they may do. Every request carries exactly one principal once access
 * control has run: an API key, a signed-in person (an OpenID Connect token), an opened share link
 * (read-only, one study), or the anonymous principal (AUTH_MODE=none grants it every scope;
 * otherwise it has none).
 */

/** What a principal may do. Every route belongs to one scope or is public (docs/security.md). */
export const SCOPES = ['read', 'write', 'delete', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

export type PrincipalKind = 'anonymous' | 'api-key' | 'oidc' | 'share';

export interface Principal {
  readonly kind: PrincipalKind;
  /** The API key's id, or the token's `sub`; `anonymous` for the anonymous principal. Never a secret. */
  readonly id: string;
  /** A human-readable label: the key's name, or the token's preferred_username / email. */
  readonly name?: string;
  readonly scopes: ReadonlySet<Scope>;
  /**
   * The one study this principal may read (a share link, issue #14): every route that names another
   * study is refused, QIDO-RS searches are limited to it in the query, and a route that can name no
   * study is refused unless it is declared as limited (access-control.ts, `studyOf`).
   */
  readonly study?: string;
}

export function anonymous(scopes: Iterable<Scope> = []): Principal {
  return { kind: 'anonymous', id: 'anonymous', scopes: new Set(scopes) };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by access control before any handler runs. */
    principal: Principal;
  }
}
