import t from 'tap';
import { generateApiKey, hashSecret, parseApiKey, secretMatches } from './api-key.js';
import { type StoredApiKey, createApiKeyVerifier } from './api-key-verifier.js';

t.test('a generated key: recognisable, 256-bit secret, only its hash kept', async (t) => {
  const a = generateApiKey();
  const b = generateApiKey();
  t.match(a.key, /^tsk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  t.not(a.key, b.key, 'two keys differ');
  const parsed = parseApiKey(a.key)!;
  t.equal(parsed.id, a.id);
  t.equal(Buffer.from(parsed.secret, 'base64url').length, 32, '32 random bytes');
  t.equal(a.secretHash, hashSecret(parsed.secret));
  t.notMatch(a.secretHash, parsed.secret, 'the hash is not the secret');
  t.ok(secretMatches(parsed.secret, a.secretHash));
  t.notOk(secretMatches(parseApiKey(b.key)!.secret, a.secretHash), 'another secret does not match');
  t.notOk(secretMatches(parsed.secret, 'abcd'), 'a malformed stored hash does not match (no throw)');
  for (const bad of ['tsk_', 'tsk_0123_abc', `${a.key}x`, a.key.replace('tsk_', 'tsx_'), `Bearer ${a.key}`]) t.equal(parseApiKey(bad), undefined, bad);
});

t.test('the verifier: unknown, wrong secret, revoked, expired, unavailable, accepted', async (t) => {
  const now = Date.parse('2026-12-07T12:00:00Z');
  const keys = new Map<string, StoredApiKey>();
  const touched: string[] = [];
  let failing = false;
  const add = (over: Partial<StoredApiKey>) => {
    const k = generateApiKey();
    keys.set(k.id, { id: k.id, name: 'router', scopes: ['write', 'nonsense'], secretHash: k.secretHash, expiresAt: null, revokedAt: null, ...over });
    return k.key;
  };
  const verifier = createApiKeyVerifier({
    now: () => now,
    keys: {
      async find(id) {
        if (failing) throw new Error('connection refused');
        return keys.get(id);
      },
      touch: (id) => touched.push(id),
    },
  });
  t.ok(verifier.accepts('tsk_anything'));
  t.notOk(verifier.accepts('eyJhbGciOi.x.y'), 'a JWT is not for this verifier');
  const good = add({ expiresAt: new Date(now + 60_000) });
  const ok = await verifier.verify(good);
  t.ok(ok.ok);
  if (ok.ok) {
    t.same([...ok.principal.scopes], ['write'], 'unknown scope names are dropped');
    t.equal(ok.principal.kind, 'api-key');
    t.equal(ok.principal.name, 'router');
    t.equal(ok.expiresAt, now + 60_000);
  }
  t.same(touched, [parseApiKey(good)!.id], 'use recorded');
  const wrongSecret = `${good.slice(0, -4)}AAAA`;
  t.match(await verifier.verify(wrongSecret), { ok: false, reason: 'unknown-credential' });
  t.match(await verifier.verify(generateApiKey().key), { ok: false, reason: 'unknown-credential' }, 'unknown id: the same answer');
  t.match(await verifier.verify('tsk_short'), { ok: false, reason: 'malformed' });
  t.match(await verifier.verify(add({ revokedAt: new Date(now - 1) })), { ok: false, reason: 'revoked' });
  t.match(await verifier.verify(add({ expiresAt: new Date(now) })), { ok: false, reason: 'expired' });
  failing = true;
  t.match(await verifier.verify(good), { ok: false, reason: 'unavailable' });
  t.equal(touched.length, 1, 'failures are not recorded as uses');
});
