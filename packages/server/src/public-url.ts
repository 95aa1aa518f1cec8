import type { FastifyRequest } from 'fastify';

/**
 * The base URL the client used to reach the server, so that every URL we emit works from where the
 * client stands (behind a reverse proxy too). Order: the configured PUBLIC_URL; then, when proxies
 * are trusted, RFC 7239 `Forwarded` or `X-Forwarded-Proto/-Host/-Prefix`; else the Host header.
 */
export function publicBaseUrl(request: FastifyRequest, settings: { publicUrl?: string; trustProxy: boolean }): string {
  if (settings.publicUrl) return settings.publicUrl;
  const headers = request.headers;
  let proto: string | undefined;
  let host: string | undefined;
  let prefix = '';
  if (settings.trustProxy) {
    const forwarded = firstValue(headers.forwarded);
    if (forwarded) {
      // Only the first (client-most) element: `for=…;proto=https;host=example.org, for=…`.
      for (const pair of forwarded.split(',')[0]!.split(';')) {
        const [name, value] = pair.split('=').map((s) => s.trim());
        const unquoted = value?.replace(/^"(.*)"$/, '$1');
        if (name?.toLowerCase() === 'proto' && unquoted) proto = unquoted;
        if (name?.toLowerCase() === 'host' && unquoted) host = unquoted;
      }
    }
    proto ??= firstValue(headers['x-forwarded-proto'])?.split(',')[0]?.trim();
    host ??= firstValue(headers['x-forwarded-host'])?.split(',')[0]?.trim();
    prefix = (firstValue(headers['x-forwarded-prefix'])?.split(',')[0]?.trim() ?? '').replace(/\/+$/, '');
  }
  proto = proto && /^https?$/i.test(proto) ? proto.toLowerCase() : request.protocol;
  host = host && isHost(host) ? host : isHost(headers.host ?? '') ? headers.host : 'localhost';
  if (prefix && !/^\/[A-Za-z0-9._~\/-]*$/.test(prefix)) prefix = '';
  return `${proto}://${host}${prefix}`;
}

const firstValue = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/** A host[:port] we are willing to echo into URLs (no spaces, slashes or quotes). */
const isHost = (value: string): boolean => /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(value);
