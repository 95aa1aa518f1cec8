import type { FastifyRequest } from 'fastify';

export interface PublicUrlSettings {
  /** PUBLIC_URL: when set, the base of every emitted URL. */
  publicUrl?: string;
  /** TRUST_PROXY: a proxy in front sets Forwarded / X-Forwarded-* (and Host). */
  trustProxy: boolean;
  /** ALLOWED_HOSTS: `host[:port]` values, lower case, whose Host (or forwarded host) may shape URLs. */
  allowedHosts: readonly string[];
}

/** An address the server listens on (for requests that did not come through a socket: `inject()`). */
export interface ListenAddress {
  address: string;
  port: number;
}

/**
 * The base URL of every URL we emit (RetrieveURLs, BulkDataURIs, the viewer's app-config.js), chosen
 * so that a client cannot make the server hand out links to a host of its choosing (Host header
 * poisoning, issue #21 item 13). In order:
 * 1. PUBLIC_URL, if set.
 * 2. With TRUST_PROXY, the proto, host and prefix of RFC 7239 `Forwarded` or `X-Forwarded-Proto/
 *    -Host/-Prefix`, then the Host header: the proxy vouches for them. With ALLOWED_HOSTS set too, a
 *    host outside the list is ignored.
 * 3. Without TRUST_PROXY, the Host header only when ALLOWED_HOSTS lists it, or when it names this
 *    server on loopback (`localhost`, `127.0.0.1` or `[::1]` with the port the connection came in on,
 *    and only for a connection that came in on loopback).
 * 4. Otherwise the address and port the connection was accepted on: a name the client could not
 *    choose. An unknown Host is ignored, not refused, so health checks and tools that send odd Host
 *    headers keep working (docs/deployment.md).
 */
export function publicBaseUrl(request: FastifyRequest, settings: PublicUrlSettings, listening: () => ListenAddress | undefined): string {
  if (settings.publicUrl) return settings.publicUrl;
  const headers = request.headers;
  let proto: string | undefined;
  let forwardedHost: string | undefined;
  let prefix = '';
  if (settings.trustProxy) {
    const forwarded = firstValue(headers.forwarded);
    if (forwarded) {
      // Only the first (client-most) element: `for=…;proto=https;host=example.org, for=…`.
      for (const pair of forwarded.split(',')[0]!.split(';')) {
        const [name, value] = pair.split('=').map((s) => s.trim());
        const unquoted = value?.replace(/^"(.*)"$/, '$1');
        if (name?.toLowerCase() === 'proto' && unquoted) proto = unquoted;
        if (name?.toLowerCase() === 'host' && unquoted) forwardedHost = unquoted;
      }
    }
    proto ??= firstValue(headers['x-forwarded-proto'])?.split(',')[0]?.trim();
    forwardedHost ??= firstValue(headers['x-forwarded-host'])?.split(',')[0]?.trim();
    prefix = (firstValue(headers['x-forwarded-prefix'])?.split(',')[0]?.trim() ?? '').replace(/\/+$/, '');
  }
  proto = proto && /^https?$/i.test(proto) ? proto.toLowerCase() : request.protocol;
  if (prefix && !/^\/[A-Za-z0-9._~/-]*$/.test(prefix)) prefix = '';

  const local = localAddress(request, listening);
  const listed = (host: string) => settings.allowedHosts.some((entry) => withPort(entry, proto) === withPort(host, proto));
  const vouched = (host: string | undefined): host is string =>
    host !== undefined && isHost(host) && (settings.allowedHosts.length === 0 ? settings.trustProxy : listed(host));
  let host: string | undefined;
  if (vouched(forwardedHost)) host = forwardedHost;
  else if (vouched(headers.host) || (headers.host !== undefined && isHost(headers.host) && namesLoopbackSelf(withPort(headers.host, proto), local)))
    host = headers.host;
  host ??= `${local.address}:${local.port}`;
  return `${proto}://${host}${prefix}`;
}

/** The address and port this request's connection was accepted on, as a URL host. */
function localAddress(request: FastifyRequest, listening: () => ListenAddress | undefined): { address: string; port: number; loopback: boolean } {
  const socket = request.raw.socket as { localAddress?: string; localPort?: number } | undefined;
  const found = socket?.localAddress && socket.localPort ? { address: socket.localAddress, port: socket.localPort } : listening();
  let address = (found?.address ?? '127.0.0.1').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  if (address === '0.0.0.0' || address === '::') address = '127.0.0.1'; // only for inject() on a wildcard listener
  const loopback = /^127\./.test(address) || address === '::1';
  if (address.includes(':')) address = `[${address}]`;
  return { address, port: found?.port ?? 80, loopback };
}

/** `localhost:8080` & co. on a loopback connection to port 8080: this very server, not a client's choice. */
function namesLoopbackSelf(host: string, local: { port: number; loopback: boolean }): boolean {
  if (!local.loopback) return false;
  return [`localhost:${local.port}`, `127.0.0.1:${local.port}`, `[::1]:${local.port}`].includes(host.toLowerCase());
}

/** `host` with its port made explicit (`example.org` → `example.org:443` for https). */
function withPort(host: string, proto: string): string {
  const lower = host.toLowerCase();
  return /:\d+$/.test(lower) ? lower : `${lower}:${proto === 'https' ? 443 : 80}`;
}

const firstValue = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/** A host[:port] we are willing to echo into URLs (no spaces, slashes or quotes). */
export const isHost = (value: string): boolean => /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(value);
