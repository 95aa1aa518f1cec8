import t from 'tap';
import { BlobKeyError } from './errors.js';
import { assertValidKey, assertValidPrefix, MAX_KEY_LENGTH, renderedInstanceKey, renderingsPrefix } from './keys.js';

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

t.test('cached renderings are named after their instance key, and lead back to it', async (t) => {
  const instance = 'instances/1.2.3/1.2.3.4/1.2.3.4.5.0a1b2c.d3e4f5.dcm';
  t.equal(renderingsPrefix(instance), 'thumbnails/instances/1.2.3/1.2.3.4/1.2.3.4.5.0a1b2c.d3e4f5/');
  t.equal(renderedInstanceKey(`${renderingsPrefix(instance)}thumbnail-1-jpeg`), instance, 'the inverse');
  t.equal(renderedInstanceKey('thumbnails/loose-file'), undefined, 'a key without an instance part is no rendering');
  t.equal(renderedInstanceKey('instances/1.2.3/x.dcm'), undefined, 'an instance key is no rendering');
});
