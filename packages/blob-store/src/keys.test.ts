import t from 'tap';
import { BlobKeyError } from './errors.js';
import { assertValidKey, assertValidPrefix, MAX_KEY_LENGTH } from './keys.js';

t.test('valid keys', async (t) => {
  const valid = ['a', 'studies/1.2.840.10008/instances/1.2.3.dcm', 'a-b_c.d/..e', '.hidden', 'x'.repeat(MAX_KEY_LENGTH)];
  for (const key of valid) t.doesNotThrow(() => assertValidKey(key), key);
});

t.test('invalid keys', async (t) => {
  const invalid = ['', '/abs', 'trailing/', 'a//b', '.', '..', '../x', 'a/./b', 'a/../b', 'a b', 'a\\b', 'é', 'a?b'];
  invalid.push('x'.repeat(MAX_KEY_LENGTH + 1));
  for (const key of invalid) t.throws(() => assertValidKey(key), BlobKeyError, JSON.stringify(key));
});

t.test('prefixes', async (t) => {
  for (const prefix of ['', 'studies', 'studies/', 'studies/1.2.']) {
    t.doesNotThrow(() => assertValidPrefix(prefix), prefix);
  }
  for (const prefix of ['/', '../', 'a//', '/studies', 'a/./']) {
    t.throws(() => assertValidPrefix(prefix), BlobKeyError, JSON.stringify(prefix));
  }
});
