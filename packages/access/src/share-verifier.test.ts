import t from 'tap';
import { hashSecret } from './api-key.js';
import { type StoredShare, createShareVerifier } from './share-verifier.js';
import { cookieValue, generateShareToken, parseShareToken } from './share-token.js';

t.test('a share token: recognisable, 256-bit secret, only its hash kept', async (t) => {
  const a = generateShareToken();
  t.match(a.token, /^tsl_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  t.not(a.token, generateShareToken().token);
  const parsed = parseShareToken(a.token)!;
  t.equal(parsed.id, a.id);
  t.equal(Buffer.from(parsed.secret, 'base64url').length, 32);
  t.equal(a.secretHash, hashSecret(parsed.secret));
  for (const bad of ['tsl_', `${a.token}x`, a.token.replace('tsl_', 'tsk_'), '(token)']) t.equal(parseShareToken(bad), undefined, bad);
});

t.test('cookieValue reads one cookie of a Cookie header', async (t) => {
  t.equal(cookieValue('a=1; tessera_share=tsl_x; b=2', 'tessera_share'), 'tsl_x');
  t.equal(cookieValue('tessera_share="q"', 'tessera_share'), 'q');
  t.equal(cookieValue('not_tessera_share=1', 'tessera_share'), undefined);
  t.equal(cookieValue(['a=1', 'tessera_share=z'], 'tessera_share'), 'z');
  t.equal(cookieValue(undefined, 'tessera_share'), undefined);
});

t.test('the verifier: unknown, wrong secret, revoked, expired, unavailable, accepted', async (t) => {
  const now = Date.parse('2026-12-07T12:00:00Z');
  const shares = new Map<string, StoredShare>();
  let failing = false;
  const add = (over: Partial<StoredShare> = {}) => {
    const s = generateShareToken();
    shares.set(s.id, {
      id: s.id,
      studyInstanceUid: '1.2.3',
      secretHash: s.secretHash,
      note: 'Dr Lee',
      expiresAt: new Date(now + 60_000),
      revokedAt: null,
      ...over,
    });
    return s.token;
  };
  const verifier = createShareVerifier({
    now: () => now,
    shares: {
      async find(id) {
        if (failing) throw new Error('connection refused');
        return shares.get(id);
      },
    },
  });
  const good = add();
  const ok = await verifier.verify(good);
  t.ok(ok.ok);
  if (ok.ok) {
    t.equal(ok.principal.kind, 'share');
    t.same([...ok.principal.scopes], ['read'], 'read only');
    t.equal(ok.principal.study, '1.2.3', 'limited to its study');
    t.equal(ok.principal.name, 'Dr Lee');
    t.equal(ok.expiresAt, now + 60_000, 'a cached success never outlives the share');
  }
  t.match(await verifier.verify(`${good.slice(0, -4)}AAAA`), { ok: false, reason: 'unknown-credential' });
  t.match(await verifier.verify(generateShareToken().token), { ok: false, reason: 'unknown-credential' });
  t.match(await verifier.verify('tsl_short'), { ok: false, reason: 'malformed' });
  t.match(await verifier.verify(add({ revokedAt: new Date(now - 1) })), { ok: false, reason: 'revoked' });
  t.match(await verifier.verify(add({ expiresAt: new Date(now) })), { ok: false, reason: 'expired' });
  failing = true;
  t.match(await verifier.verify(good), { ok: false, reason: 'unavailable' });
});
