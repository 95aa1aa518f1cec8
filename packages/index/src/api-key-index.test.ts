import t from 'tap';
import { ApiKeyIndex } from './api-key-index.js';
import { migrateToLatest } from './migrate.js';
import { testDatabases } from './testing/test-databases.js';

/** The API key table (issue #13) on every back end: create, find, list, revoke, throttled last-used writes. */

for (const database of await testDatabases()) {
  t.test(`${database.name}: api keys`, async (t) => {
    t.teardown(() => database.close());
    const { error } = await migrateToLatest(database.db);
    t.equal(error, undefined, 'migrated');
    let now = Date.parse('2026-12-07T10:00:00Z');
    const keys = new ApiKeyIndex(database.db, () => now);
    const expiresAt = new Date('2027-03-07T10:00:00Z');
    const created = await keys.create({ id: '0123456789abcdef', name: 'router', scopes: ['write', 'read'], secretHash: 'ab'.repeat(32), expiresAt });
    t.match(created, {
      id: '0123456789abcdef',
      name: 'router',
      scopes: ['write', 'read'],
      secretHash: 'ab'.repeat(32),
      expiresAt,
      revokedAt: null,
      lastUsedAt: null,
    });
    await keys.create({ id: 'fedcba9876543210', name: 'script', scopes: ['read'], secretHash: 'cd'.repeat(32) });
    t.same((await keys.list()).map((k) => k.name).sort(), ['router', 'script']);
    t.equal(await keys.find('0000000000000000'), undefined, 'an unknown id');
    await t.rejects(keys.create({ id: '0123456789abcdef', name: 'again', scopes: [], secretHash: '' }), 'an id is never reused');

    keys.touch(created.id);
    await keys.settle();
    t.same((await keys.find(created.id))?.lastUsedAt, new Date(now), 'first use written');
    now += 30_000;
    keys.touch(created.id);
    await keys.settle();
    t.same((await keys.find(created.id))?.lastUsedAt, new Date(now - 30_000), 'a use within the minute is not written again');
    now += 30_000;
    keys.touch(created.id);
    await keys.settle();
    t.same((await keys.find(created.id))?.lastUsedAt, new Date(now), 'a minute later it is');

    t.ok(await keys.revoke(created.id), 'revoked');
    const revokedAt = (await keys.find(created.id))?.revokedAt;
    t.same(revokedAt, new Date(now));
    now += 5000;
    t.ok(await keys.revoke(created.id), 'revoking again is fine');
    t.same((await keys.find(created.id))?.revokedAt, revokedAt, 'and keeps the first time');
    t.notOk(await keys.revoke('0000000000000000'), 'an unknown id is not revoked');
  });
}
