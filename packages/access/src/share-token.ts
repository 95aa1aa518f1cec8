import { randomBytes } from 'node:crypto';
import { hashSecret } from './api-key.js';

/**
 * The share link token (issue #14): `tsl_<id>_<secret>`, in the link `/s/<token>`. Like an API key
 * (api-key.ts): `tsl_` makes a leaked link recognisable, the id (16 hex digits) finds the stored row,
 * the secret is 32 bytes from `crypto.randomBytes` (256 bits, base64url), and only the SHA-256 of the
 * secret is stored. The link is exchanged for an HttpOnly cookie holding the same token, so the
 * viewer's URL, its Referer headers and the server's logs never hold it.
 */
export const SHARE_TOKEN_PREFIX = 'tsl_';

const TOKEN_FORM = /^tsl_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** The cookie that carries a share token after the link was opened. */
export const SHARE_COOKIE = 'tessera_share';

export interface NewShareToken {
  readonly id: string;
  /** The whole token, shown once (in the link) to whoever created the share; never stored. */
  readonly token: string;
  /** SHA-256 of the secret part, hex: what is stored. */
  readonly secretHash: string;
}

export function generateShareToken(): NewShareToken {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `${SHARE_TOKEN_PREFIX}${id}_${secret}`, secretHash: hashSecret(secret) };
}

/** The id and secret of a token of our form; undefined for anything else. */
export function parseShareToken(token: string): { id: string; secret: string } | undefined {
  const match = TOKEN_FORM.exec(token);
  return match ? { id: match[1]!, secret: match[2]! } : undefined;
}

/** The value of cookie `name` in a Cookie header (RFC 6265 §5.4: `name=value; name2=value2`); undefined when absent. */
export function cookieValue(header: string | string[] | undefined, name: string): string | undefined {
  for (const line of [header ?? []].flat()) {
    for (const pair of line.split(';')) {
      const at = pair.indexOf('=');
      if (at < 0) continue;
      if (pair.slice(0, at).trim() === name)
        return pair
          .slice(at + 1)
          .trim()
          .replace(/^"(.*)"$/, '$1');
    }
  }
  return undefined;
}
