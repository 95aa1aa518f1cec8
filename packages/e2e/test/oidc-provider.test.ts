import { createHmac, generateKeyPairSync } from 'node:crypto';
import t from 'tap';
import { createOidcVerifier } from '@tessera/access';
import { base64url, signJwt, startOidcProvider } from '@tessera/testkit';

/**
 * The OpenID Connect verifier against a real identity provider (oidc-provider on a loopback port):
 * the JWKS is discovered through the provider's /.well-known/openid-configuration, tokens come from
 * its real token endpoint, and each attack of issue #13 is refused with its reason (401 at the HTTP
 * level). The HTTP statuses per route are in the access matrix test.
 */

t.test("tokens from a real provider's endpoints, and the attacks on them", async (t) => {
  const idp = await startOidcProvider();
  t.teardown(() => idp.close());
  const verifier = createOidcVerifier({ issuer: idp.issuer, audience: idp.audience, scopes: { claim: 'scope' }, clockToleranceSeconds: 30 });
  const now = Math.floor(Date.now() / 1000);

  const read = await idp.clientCredentialsToken(['read']);
  t.ok(verifier.accepts(read), 'a JWT access token (RFC 9068), not an opaque one');
  const r = await verifier.verify(read);
  t.ok(r.ok, 'client_credentials token with read accepted');
  if (r.ok) {
    t.equal(r.principal.kind, 'oidc');
    t.equal(r.principal.id, 'tessera-machine', 'sub of a client credentials token is the client');
    t.same([...r.principal.scopes], ['read']);
    t.ok(r.expiresAt! > Date.now(), 'expiresAt in the future');
  }
  const write = await verifier.verify(await idp.clientCredentialsToken(['read', 'write']));
  t.same(write.ok && [...write.principal.scopes].sort(), ['read', 'write'], 'read write');

  const claims = { iss: idp.issuer, aud: idp.audience, sub: 'mallory', scope: 'read write admin', exp: now + 300 };
  const expect = async (name: string, jwt: string, reason: string) => t.match(await verifier.verify(jwt), { ok: false, reason }, name);

  t.ok((await verifier.verify(idp.signWithProviderKey(claims))).ok, "control: the provider's own key and good claims pass");
  await expect('alg: none', `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`, 'invalid-signature');
  const hsInput = `${base64url({ alg: 'HS256', typ: 'JWT', kid: 'testkit-provider-1' })}.${base64url(claims)}`;
  await expect(
    "HS256 signed with the provider's public key",
    `${hsInput}.${createHmac('sha256', idp.publicKeyPem).update(hsInput).digest('base64url')}`,
    'invalid-signature',
  );
  await expect('wrong issuer', idp.signWithProviderKey({ ...claims, iss: 'https://evil.example' }), 'wrong-issuer');
  await expect('wrong audience', idp.signWithProviderKey({ ...claims, aud: 'urn:another:api' }), 'wrong-audience');
  await expect('expired', idp.signWithProviderKey({ ...claims, exp: now - 3600 }), 'expired');
  await expect('not yet valid', idp.signWithProviderKey({ ...claims, nbf: now + 3600, exp: now + 7200 }), 'not-yet-valid');

  const { privateKey: strangerKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await expect("another key set, the provider's kid", signJwt(strangerKey, claims, { kid: 'testkit-provider-1' }), 'invalid-signature');
  await expect('another key set, an unknown kid', signJwt(strangerKey, claims, { kid: 'stranger' }), 'invalid-signature');

  const other = await startOidcProvider({ audience: idp.audience });
  t.teardown(() => other.close());
  // Its signature is checked before its claims: refused as a signature from outside our issuer's keys.
  await expect('a real token of another provider', await other.clientCredentialsToken(['read']), 'invalid-signature');
  await expect("another provider's key, claiming our issuer", other.signWithProviderKey(claims), 'invalid-signature');
});

t.test('the provider stopped: unavailable (503), not a refusal', async (t) => {
  const idp = await startOidcProvider();
  const verifier = createOidcVerifier({ issuer: idp.issuer, audience: idp.audience, scopes: { claim: 'scope' }, clockToleranceSeconds: 30 });
  const token = await idp.clientCredentialsToken(['read']);
  await idp.close();
  t.match(await verifier.verify(token), { ok: false, reason: 'unavailable' });
});
