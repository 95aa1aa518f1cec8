import { createHmac } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, type JWK, SignJWT, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import t, { type Test } from 'tap';
import { createOidcVerifier, type OidcVerifierOptions } from './oidc-verifier.js';
import { parseScopeMap } from './scope-claim.js';

/**
 * A local issuer: discovery document and JWKS over loopback HTTP, keys made by jose. The keys it
 * publishes can be swapped (rotation) and its fetches counted. The real provider (oidc-provider)
 * is exercised in packages/e2e/test/oidc-provider.test.ts.
 */
interface Signer {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

async function signer(kid: string, alg = 'RS256'): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicKey };
}

async function startIssuer(t: Test, published: Signer[]) {
  const state = { keys: [] as JWK[], jwksFetches: 0, issuerName: '' };
  const setKeys = async (list: Signer[]) => {
    state.keys = await Promise.all(list.map(async (s) => ({ ...(await exportJWK(s.publicKey)), kid: s.kid, alg: s.alg, use: 'sig' })));
  };
  await setKeys(published);
  const server: Server = createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') {
      res.end(JSON.stringify({ issuer: state.issuerName || base, jwks_uri: `${base}/jwks` }));
    } else if (req.url === '/jwks') {
      state.jwksFetches++;
      res.end(JSON.stringify({ keys: state.keys }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { issuer, state, setKeys };
}

const AUDIENCE = 'tessera-api';
const now = () => Math.floor(Date.now() / 1000);

function token(s: Signer, claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
  return new SignJWT(claims).setProtectedHeader({ alg: s.alg, kid: s.kid, typ: 'at+jwt', ...header }).sign(s.privateKey);
}

function options(issuer: string, extra: Partial<OidcVerifierOptions> = {}): OidcVerifierOptions {
  return { issuer, audience: AUDIENCE, scopes: { claim: 'scope' }, clockToleranceSeconds: 30, jwksCooldownMs: 0, ...extra };
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

t.test('a valid token gives an oidc principal with the scopes of its claim', async (t) => {
  const key = await signer('k1');
  const { issuer } = await startIssuer(t, [key]);
  const verifier = createOidcVerifier(options(issuer));
  const exp = now() + 300;
  const jwt = await token(key, { iss: issuer, aud: AUDIENCE, sub: 'user-1', exp, preferred_username: 'alice', scope: 'openid read profile write' });
  t.ok(verifier.accepts(jwt), 'three base64url parts');
  const result = await verifier.verify(jwt);
  t.ok(result.ok, 'accepted');
  if (!result.ok) return;
  t.equal(result.principal.kind, 'oidc');
  t.equal(result.principal.id, 'user-1', 'id = sub');
  t.equal(result.principal.name, 'alice', 'name = preferred_username');
  t.same([...result.principal.scopes].sort(), ['read', 'write'], 'only our scope names count');
  t.equal(result.expiresAt, exp * 1000, 'expiresAt = exp in ms');

  const es = await signer('k-ec', 'ES256');
  const { issuer: ecIssuer } = await startIssuer(t, [es]);
  const ec = await createOidcVerifier(options(ecIssuer)).verify(
    await token(es, { iss: ecIssuer, aud: [AUDIENCE, 'other'], sub: 'u2', exp, email: 'bob@example.org', scope: 'read' }),
  );
  t.ok(ec.ok && ec.principal.name === 'bob@example.org' && ec.principal.scopes.has('read'), 'ES256, aud array, email as name');
});

t.test('an array claim (roles, groups, a nested Keycloak claim) through a scope map', async (t) => {
  const key = await signer('k1');
  const { issuer } = await startIssuer(t, [key]);
  const parsed = parseScopeMap('radiologist:read, uploader:read,uploader:write,https://idp.example/groups/admins:admin');
  t.ok(parsed.ok, 'map parsed');
  if (!parsed.ok) return;
  const base = { iss: issuer, aud: AUDIENCE, exp: now() + 60 };
  const roles = createOidcVerifier(options(issuer, { scopes: { claim: 'roles', map: parsed.map } }));
  const r1 = await roles.verify(await token(key, { ...base, sub: 'a', roles: ['uploader', 'read', 'nobody'] }));
  t.same(r1.ok && [...r1.principal.scopes].sort(), ['read', 'write'], 'mapped values only (a bare "read" is not mapped)');
  const r2 = await roles.verify(await token(key, { ...base, sub: 'b', roles: ['https://idp.example/groups/admins'] }));
  t.same(r2.ok && [...r2.principal.scopes], ['admin'], 'a value containing colons');
  const r3 = await roles.verify(await token(key, { ...base, sub: 'c' }));
  t.same(r3.ok && [...r3.principal.scopes], [], 'no claim: a principal with no scope (403 later, not 401)');

  const keycloak = createOidcVerifier(options(issuer, { scopes: { claim: 'realm_access.roles', map: parsed.map } }));
  const r4 = await keycloak.verify(await token(key, { ...base, sub: 'd', realm_access: { roles: ['radiologist', 'offline_access'] } }));
  t.same(r4.ok && [...r4.principal.scopes], ['read'], 'dotted path into a nested claim');

  t.match(parseScopeMap('radiologist:reed'), { ok: false, message: /not a scope/ }, 'unknown scope refused');
  t.match(parseScopeMap('read'), { ok: false, message: /value:scope/ }, 'no colon refused');
});

t.test('attacks and invalid tokens are refused with their reason', async (t) => {
  const key = await signer('k1');
  const { issuer, state } = await startIssuer(t, [key]);
  const verifier = createOidcVerifier(options(issuer));
  const good = { iss: issuer, aud: AUDIENCE, sub: 'user-1', scope: 'read write admin' };
  const expect = async (name: string, jwt: string, reason: string) => {
    const result = await verifier.verify(jwt);
    t.match(result, { ok: false, reason }, name);
  };

  await expect('alg none', `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ ...good, exp: now() + 60 })}.`, 'invalid-signature');
  t.ok(verifier.accepts(`${b64url({ alg: 'none' })}.${b64url(good)}.`), 'alg none has the form, so it is this verifier that refuses it');

  // The classic key-confusion attack: HMAC with the issuer's public key as the secret.
  const publicPem = await exportSPKI(key.publicKey);
  const publicJwk = JSON.stringify(await exportJWK(key.publicKey));
  for (const [label, secret] of [
    ['PEM', publicPem],
    ['JWK', publicJwk],
  ] as const) {
    const input = `${b64url({ alg: 'HS256', kid: 'k1', typ: 'JWT' })}.${b64url({ ...good, exp: now() + 60 })}`;
    await expect(
      `HS256 signed with the public key (${label})`,
      `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`,
      'invalid-signature',
    );
  }

  await expect('wrong issuer', await token(key, { ...good, iss: 'https://evil.example', exp: now() + 60 }), 'wrong-issuer');
  await expect('wrong audience', await token(key, { ...good, aud: 'another-api', exp: now() + 60 }), 'wrong-audience');
  await expect('expired beyond the tolerance', await token(key, { ...good, exp: now() - 120 }), 'expired');
  await expect('not yet valid beyond the tolerance', await token(key, { ...good, nbf: now() + 600, exp: now() + 900 }), 'not-yet-valid');
  await expect('no exp', await token(key, good), 'malformed');
  await expect('no sub', await token(key, { iss: issuer, aud: AUDIENCE, exp: now() + 60 }), 'malformed');

  const stranger = await signer('k1');
  await expect('same kid, another key set', await token(stranger, { ...good, exp: now() + 60 }), 'invalid-signature');
  const before = state.jwksFetches;
  const unknown = await signer('k-unknown');
  await expect('unknown kid, another key set', await token(unknown, { ...good, exp: now() + 60 }), 'invalid-signature');
  t.ok(state.jwksFetches > before, 'an unknown kid made the verifier fetch the key set again');

  const valid = await token(key, { ...good, exp: now() + 60 });
  const [h, p, s] = valid.split('.');
  await expect('payload altered', `${h}.${b64url({ ...good, sub: 'admin', exp: now() + 60 })}.${s}`, 'invalid-signature');
  await expect('header not JSON', `${Buffer.from('nope').toString('base64url')}.${p}.${s}`, 'malformed');
  t.notOk(verifier.accepts('rk_live.abc'), 'two parts: not a JWT');
  t.notOk(verifier.accepts('a.b.c.d.e'), 'JWE form: not accepted');
  t.match(await verifier.verify('not a token'), { ok: false, reason: 'malformed' }, 'verify without accepts still refuses');
});

t.test('the clock tolerance lets a token just past exp or just before nbf through', async (t) => {
  const key = await signer('k1');
  const { issuer } = await startIssuer(t, [key]);
  const verifier = createOidcVerifier(options(issuer, { clockToleranceSeconds: 60 }));
  const claims = { iss: issuer, aud: AUDIENCE, sub: 'u' };
  t.ok((await verifier.verify(await token(key, { ...claims, exp: now() - 10 }))).ok, 'exp 10 s ago, tolerance 60 s');
  t.ok((await verifier.verify(await token(key, { ...claims, nbf: now() + 10, exp: now() + 100 }))).ok, 'nbf in 10 s, tolerance 60 s');
  const strict = createOidcVerifier(options(issuer, { clockToleranceSeconds: 0 }));
  t.match(await strict.verify(await token(key, { ...claims, exp: now() - 10 })), { ok: false, reason: 'expired' }, 'tolerance 0');
});

t.test('key rotation: a token with a new kid makes the verifier refetch the JWKS and accept it', async (t) => {
  const old = await signer('2026-01');
  const { issuer, state, setKeys } = await startIssuer(t, [old]);
  const verifier = createOidcVerifier(options(issuer));
  const claims = { iss: issuer, aud: AUDIENCE, sub: 'u', scope: 'read', exp: now() + 60 };
  t.ok((await verifier.verify(await token(old, claims))).ok, 'old key');
  t.equal(state.jwksFetches, 1, 'one fetch');
  t.ok((await verifier.verify(await token(old, claims))).ok, 'old key again');
  t.equal(state.jwksFetches, 1, 'the key set is cached');

  const next = await signer('2026-02', 'PS256');
  await setKeys([old, next]);
  t.ok((await verifier.verify(await token(next, claims))).ok, 'new kid accepted after a refetch');
  t.equal(state.jwksFetches, 2, 'fetched again for the unknown kid');

  await setKeys([next]);
  const retired = await token(old, claims);
  // The retired key is still cached until the key set is fetched again; a verifier with an empty
  // cache (a new process) refuses it.
  const fresh = createOidcVerifier(options(issuer));
  t.match(await fresh.verify(retired), { ok: false, reason: 'invalid-signature' }, 'a retired key is refused by a fresh verifier');
});

t.test('cooldown: an unknown kid does not refetch the key set again within the cooldown', async (t) => {
  const key = await signer('k1');
  const { issuer, state } = await startIssuer(t, [key]);
  const verifier = createOidcVerifier(options(issuer, { jwksCooldownMs: 3_600_000 }));
  const claims = { iss: issuer, aud: AUDIENCE, sub: 'u', exp: now() + 60 };
  t.ok((await verifier.verify(await token(key, claims))).ok);
  for (let i = 0; i < 5; i++) {
    t.match(await verifier.verify(await token(await signer(`forged-${i}`), claims)), { ok: false, reason: 'invalid-signature' });
  }
  t.equal(state.jwksFetches, 1, 'forged kids cannot make the server hammer the provider');
});

t.test('an unreachable or inconsistent provider is "unavailable", and discovery is retried', async (t) => {
  const key = await signer('k1');
  const { issuer, state } = await startIssuer(t, [key]);
  state.issuerName = 'https://impostor.example';
  const verifier = createOidcVerifier(options(issuer));
  const claims = { iss: issuer, aud: AUDIENCE, sub: 'u', exp: now() + 60 };
  t.match(await verifier.verify(await token(key, claims)), { ok: false, reason: 'unavailable' }, 'discovery names another issuer');
  state.issuerName = '';
  t.ok((await verifier.verify(await token(key, claims))).ok, 'the failed discovery was not cached');

  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const deadIssuer = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const dead = createOidcVerifier(options(deadIssuer));
  t.match(await dead.verify(await token(key, { ...claims, iss: deadIssuer })), { ok: false, reason: 'unavailable' }, 'nothing listening');
});
