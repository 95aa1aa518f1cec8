import { readFileSync } from 'node:fs';
import { generateApiKey } from '@tessera/access';
import type { Index } from '@tessera/index';
import { testDataPath } from '@tessera/testkit';

/** A real CT image (Explicit VR Little Endian, one frame) from the test data: what the matrix stores and reads. */
export const CT_FILE = 'dicomdir/77654033/CT2/17106';

export function ctBytes(): Buffer {
  return readFileSync(testDataPath(CT_FILE));
}

/** Creates a key straight in the index (as `tessera keys create` does) and returns the whole key. */
export async function createKey(index: Index, name: string, scopes: string[], options: { expiresAt?: Date; revoked?: boolean } = {}): Promise<string> {
  const key = generateApiKey();
  await index.apiKeys.create({ id: key.id, name, scopes, secretHash: key.secretHash, ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}) });
  if (options.revoked) await index.apiKeys.revoke(key.id);
  return key.key;
}

export const bearer = (key: string | undefined): Record<string, string> => (key ? { authorization: `Bearer ${key}` } : {});
