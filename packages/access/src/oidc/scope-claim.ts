import { type Scope, isScope } from '../principal.js';

/**
 * How a claim of a verified token becomes scopes. Identity providers carry permissions in different
 * places: an OAuth `scope` string ("openid read write"), an array of app roles (Entra ID `roles`),
 * group names (`groups`), or a nested object (Keycloak's `realm_access.roles`). The claim is named
 * by a setting; its values are either our scope names themselves or, with a map, translated
 * (`radiologist` → read). A value that is neither is ignored: it grants nothing.
 */
export interface ScopeClaim {
  /** The claim's name; a dotted path (`realm_access.roles`) when no claim has the literal name. */
  readonly claim: string;
  /** Claim value → scopes it grants. When given, only mapped values grant anything. */
  readonly map?: ReadonlyMap<string, readonly Scope[]>;
}

export function scopesFromClaims(claims: Readonly<Record<string, unknown>>, rule: ScopeClaim): Set<Scope> {
  const scopes = new Set<Scope>();
  for (const value of claimValues(claimAt(claims, rule.claim))) {
    if (rule.map) {
      for (const scope of rule.map.get(value) ?? []) scopes.add(scope);
    } else if (isScope(value)) {
      scopes.add(value);
    }
  }
  return scopes;
}

function claimAt(claims: Readonly<Record<string, unknown>>, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  let node: unknown = claims;
  for (const part of name.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** A space-separated string (RFC 8693 §4.2 `scope`) or an array of strings; anything else has no values. */
function claimValues(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

export type ScopeMapParse = { readonly ok: true; readonly map: Map<string, Scope[]> } | { readonly ok: false; readonly message: string };

/**
 * Reads a scope map written as `value:scope` pairs separated by commas, a value repeated for several
 * scopes: `radiologist:read,uploader:read,uploader:write`. The value is everything before the last
 * colon, so group names that are URLs or contain colons still work.
 */
export function parseScopeMap(text: string): ScopeMapParse {
  const map = new Map<string, Scope[]>();
  for (const pair of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const colon = pair.lastIndexOf(':');
    const value = pair.slice(0, colon).trim();
    const scope = pair.slice(colon + 1).trim();
    if (colon <= 0 || value === '') return { ok: false, message: `'${pair}' is not value:scope` };
    if (!isScope(scope)) return { ok: false, message: `'${pair}': '${scope}' is not a scope (read, write, delete, admin)` };
    const scopes = map.get(value) ?? [];
    if (!scopes.includes(scope)) scopes.push(scope);
    map.set(value, scopes);
  }
  return { ok: true, map };
}
