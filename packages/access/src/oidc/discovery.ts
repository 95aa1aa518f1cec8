/**
 * OpenID Connect Discovery 1.0: the issuer's metadata at `<issuer>/.well-known/openid-configuration`.
 * Only the fields the server uses are read. The document must name the configured issuer exactly
 * (Discovery §4.3), so a mistyped or impersonated issuer URL is caught at the first request.
 */
export interface IssuerMetadata {
  readonly issuer: string;
  readonly jwksUri: string;
}

export class DiscoveryError extends Error {
  override readonly name = 'DiscoveryError';
}

export async function discoverIssuer(issuer: string, timeoutMs: number): Promise<IssuerMetadata> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let body: unknown;
  try {
    const response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
    if (!response.ok) throw new DiscoveryError(`${url} answered ${response.status}`);
    body = await response.json();
  } catch (error) {
    if (error instanceof DiscoveryError) throw error;
    throw new DiscoveryError(`${url} could not be read: ${(error as Error).message}`);
  }
  if (body === null || typeof body !== 'object') throw new DiscoveryError(`${url} is not a JSON object`);
  const { issuer: named, jwks_uri: jwksUri } = body as Record<string, unknown>;
  if (named !== issuer) throw new DiscoveryError(`${url} names the issuer '${String(named)}', not '${issuer}'`);
  if (typeof jwksUri !== 'string' || !/^https?:\/\//.test(jwksUri)) throw new DiscoveryError(`${url} has no usable jwks_uri`);
  return { issuer, jwksUri };
}
