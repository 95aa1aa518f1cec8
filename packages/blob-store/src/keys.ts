import { BlobKeyError } from './errors.js';

/**
 * Longest key we accept. S3 allows 1024 bytes per object key; the rest is left for a store-wide
 * prefix. Keys are ASCII, so characters and bytes are the same count.
 */
export const MAX_KEY_LENGTH = 900;

/** One path segment. Deliberately narrow: safe as a file name, as an S3 key and in a URL, unescaped. */
const SEGMENT = /^[A-Za-z0-9._-]+$/;

/**
 * Throws BlobKeyError unless `key` is a relative, `/`-separated path of plain segments. Checked by
 * every backend so that a key accepted by one is accepted by all, and none can climb out of the
 * filesystem root.
 */
export function assertValidKey(key: string): void {
  const problem = findKeyProblem(key);
  if (problem !== undefined) throw new BlobKeyError(key, problem);
}

/**
 * Throws BlobKeyError unless `prefix` is empty, a valid key, or a valid key followed by `/`.
 * A prefix may end in the middle of a segment (`studies/1.2.`): keys are matched as strings.
 */
export function assertValidPrefix(prefix: string): void {
  if (prefix === '') return;
  const problem = findKeyProblem(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  if (problem !== undefined) throw new BlobKeyError(prefix, problem);
}

function findKeyProblem(key: string): string | undefined {
  if (key === '') return 'it is empty';
  if (key.length > MAX_KEY_LENGTH) return `it is longer than ${MAX_KEY_LENGTH} characters`;
  for (const segment of key.split('/')) {
    if (segment === '') return 'it has an empty segment (leading, trailing or doubled "/")';
    if (segment === '.' || segment === '..') return 'it has a "." or ".." segment';
    if (!SEGMENT.test(segment)) return 'a segment has characters outside [A-Za-z0-9._-]';
  }
  return undefined;
}

/** Where cached renderings (thumbnails) of instance blobs live: `thumbnails/{instance key without .dcm}/{variant}`. */
export const RENDERINGS_PREFIX = 'thumbnails/';

/**
 * The prefix of the cached renderings derived from one instance blob. The instance key names the
 * instance's SHA-256 and write, so a replaced instance never shows a stale image, and a deletion
 * (or `tessera gc`) finds what to remove from the key alone.
 */
export const renderingsPrefix = (instanceKey: string): string => `${RENDERINGS_PREFIX}${instanceKey.replace(/\.dcm$/, '')}/`;

/** The instance blob key a cached rendering was derived from (the inverse of `renderingsPrefix`), or undefined for other keys. */
export function renderedInstanceKey(renderingKey: string): string | undefined {
  if (!renderingKey.startsWith(RENDERINGS_PREFIX)) return undefined;
  const end = renderingKey.lastIndexOf('/');
  if (end <= RENDERINGS_PREFIX.length) return undefined;
  return `${renderingKey.slice(RENDERINGS_PREFIX.length, end)}.dcm`;
}
