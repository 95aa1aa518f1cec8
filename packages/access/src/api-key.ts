import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The API key format: `tsk_<id>_<secret>`. `tsk_` makes a leaked key recognisable (secret scanners,
 * log reviews); the id (16 hex digits) finds the stored row without a search by hash; the secret is
 * 32 bytes from `crypto.randomBytes` (256 bits), base64url. Only SHA-256 of the secret is stored: a
 * fast hash is enough for a random 256-bit secret (nothing to brute-force, unlike a password).
 */
export const API_KEY_PREFIX = 'tsk_';

const KEY_FORM = /^tsk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface NewApiKey {
  readonly id: string;
  /** The whole key, shown once to whoever created it; never stored. */
  readonly key: string;
  /** SHA-256 of the secret part, hex: what is stored. */
  readonly secretHash: string;
}

export function generateApiKey(): NewApiKey {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, key: `${API_KEY_PREFIX}${id}_${secret}`, secretHash: hashSecret(secret) };
}

/** The id and secret of a key of our form; undefined for anything else. */
export function parseApiKey(key: string): { id: string; secret: string } | undefined {
  const match = KEY_FORM.exec(key);
  return match ? { id: match[1]!, secret: match[2]! } : undefined;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Whether `secret` hashes to `storedHash`, compared in constant time. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const given = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}
