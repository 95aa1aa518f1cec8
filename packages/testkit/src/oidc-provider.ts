import { type KeyObject, createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

/**
 * A real OpenID Connect provider (oidc-provider, the certified Node.js implementation) on a
 * loopback port, for the access-control tests: discovery, JWKS, authorization code + PKCE with a
 * password login page (oidc-provider's development interactions: any login and password, then a
 * consent page), and client credentials. Access tokens are JWTs (RFC 9068) for the one resource
 * server `audience`, carrying the granted scopes in `scope`, signed RS256 with a key made here, so
 * tests can also sign tokens with the provider's own key (an expired token, say) or another key.
 */
export interface OidcProviderHandle {
  readonly issuer: string;
  /** `aud` of every access token (the resource indicator of the DICOMweb API). */
  readonly audience: string;
  /** The public client the hosted viewer uses (authorization code + PKCE, no secret). */
  readonly viewerClientId: string;
  /** client_credentials → a JWT access token with these scopes (`read`, `write`, …), through the real token endpoint. */
  clientCredentialsToken(scopes: readonly ('read' | 'write' | 'delete' | 'admin')[]): Promise<string>;
  /** Signs a JWT with the provider's own signing key (kid included), for cases no endpoint issues (expired, not yet valid). */
  signWithProviderKey(claims: Record<string, unknown>, header?: Record<string, unknown>): string;
  /** The provider's public key as PEM (for the HS256 key-confusion attack). */
  readonly publicKeyPem: string;
  close(): Promise<void>;
}

export interface OidcProviderOptions {
  audience?: string;
}

const SCOPES = ['read', 'write', 'delete', 'admin'] as const;
const KID = 'testkit-provider-1';

export async function startOidcProvider(options: OidcProviderOptions = {}): Promise<OidcProviderHandle> {
  const audience = options.audience ?? 'urn:tessera:dicomweb';
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateJwk = { ...privateKey.export({ format: 'jwk' }), kid: KID, alg: 'RS256', use: 'sig' };
  const secret = randomBytes(24).toString('base64url');
  const machineClient = 'tessera-machine';
  const viewerClientId = 'tessera-viewer';

  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const provider = new Provider(issuer, {
    clients: [
      {
        // The test server's port is known only once it listens, after the provider is configured:
        // registered as a loopback redirect of a native client, `/callback` is allowed on any port
        // (RFC 8252 §7.3). A real deployment registers `<public URL>/callback` of a web client.
        client_id: viewerClientId,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/callback'],
      },
      {
        client_id: machineClient,
        client_secret: secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: SCOPES.join(' '),
      },
    ],
    jwks: { keys: [privateJwk] },
    scopes: ['openid', 'profile', 'email', ...SCOPES],
    claims: { openid: ['sub'], profile: ['preferred_username', 'name'], email: ['email'] },
    findAccount: async (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: async () => ({ sub: id, preferred_username: id, name: id, email: `${id}@example.org` }),
    }),
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => audience,
        useGrantedResource: async () => true,
        getResourceServerInfo: async () => ({
          scope: SCOPES.join(' '),
          audience,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 3600,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    ttl: { AccessToken: 3600, ClientCredentials: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600 },
    pkce: { required: () => true },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    // The viewer (any loopback port) exchanges its code at the token endpoint with fetch.
    clientBasedCORS: (_ctx: unknown, origin: string) => /^http:\/\/127\.0\.0\.1:\d+$/.test(origin),
    // The access tokens are JWTs; the grant's audience must not mix with the ID token's.
    conformIdTokenClaims: true,
  });
  server.on('request', provider.callback());

  const tokenEndpoint = `${issuer}/token`;
  return {
    issuer,
    audience,
    viewerClientId,
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    async clientCredentialsToken(scopes) {
      const response = await fetch(tokenEndpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${machineClient}:${secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: scopes.join(' '), resource: audience }),
      });
      const body = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
      if (!response.ok || !body.access_token) throw new Error(`token endpoint: ${response.status} ${body.error ?? ''} ${body.error_description ?? ''}`);
      return body.access_token;
    },
    signWithProviderKey: (claims, header = {}) => signJwt(createPrivateKey({ key: privateJwk, format: 'jwk' }), claims, { kid: KID, ...header }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A compact RS256 JWS, signed with node:crypto (tests sign their own tokens without a JWT library). */
export function signJwt(key: KeyObject, claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const input = `${base64url({ alg: 'RS256', typ: 'at+jwt', ...header })}.${base64url(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

export function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
