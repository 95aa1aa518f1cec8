import type { FastifyRequest } from 'fastify';
import t from 'tap';
import { type PublicUrlSettings, isHost, publicBaseUrl } from './public-url.js';

/**
 * The base of every emitted URL (digest STOW-10, and Host header poisoning, issue #21 item 13):
 * which headers may shape it under which settings. Requests are plain objects with the fields the
 * function reads (headers, protocol, the socket's local address).
 */

interface Case {
  name: string;
  settings?: Partial<PublicUrlSettings>;
  headers?: Record<string, string>;
  protocol?: 'http' | 'https';
  /** The address the connection came in on. */
  local?: { localAddress?: string; localPort?: number };
  expect: string;
}

const request = (c: Case) =>
  ({
    headers: c.headers ?? {},
    protocol: c.protocol ?? 'http',
    raw: { socket: c.local ?? { localAddress: '10.0.0.5', localPort: 8080 } },
  }) as unknown as FastifyRequest;
const base = (c: Case, listening = () => undefined as { address: string; port: number } | undefined) =>
  publicBaseUrl(request(c), { trustProxy: false, allowedHosts: [], ...c.settings }, listening);
const LOOPBACK = { localAddress: '127.0.0.1', localPort: 8080 };

t.test('which base URL each request gets', async (t) => {
  const cases: Case[] = [
    {
      name: 'PUBLIC_URL wins over everything',
      settings: { publicUrl: 'https://pacs.example.org/t', trustProxy: true },
      headers: { host: 'evil.test', 'x-forwarded-host': 'evil.test' },
      expect: 'https://pacs.example.org/t',
    },
    { name: 'an unknown Host is ignored: the address the connection came in on', headers: { host: 'evil.test' }, expect: 'http://10.0.0.5:8080' },
    {
      name: 'forwarded headers are ignored without TRUST_PROXY',
      headers: { host: 'evil.test', 'x-forwarded-host': 'evil.test', 'x-forwarded-proto': 'https', 'x-forwarded-prefix': '/p' },
      expect: 'http://10.0.0.5:8080',
    },
    {
      name: 'a Host listed in ALLOWED_HOSTS',
      settings: { allowedHosts: ['pacs.example.org'] },
      headers: { host: 'PACS.example.org' },
      expect: 'http://PACS.example.org',
    },
    {
      name: 'ALLOWED_HOSTS compares with the default port made explicit',
      settings: { allowedHosts: ['pacs.example.org:80'] },
      headers: { host: 'pacs.example.org' },
      expect: 'http://pacs.example.org',
    },
    {
      name: 'a listed host on another port is not listed',
      settings: { allowedHosts: ['pacs.example.org'] },
      headers: { host: 'pacs.example.org:8443' },
      expect: 'http://10.0.0.5:8080',
    },
    { name: 'localhost with our port, on a loopback connection', headers: { host: 'localhost:8080' }, local: LOOPBACK, expect: 'http://localhost:8080' },
    { name: 'localhost with another port is not this server', headers: { host: 'localhost:9999' }, local: LOOPBACK, expect: 'http://127.0.0.1:8080' },
    { name: 'localhost over a non-loopback connection is not trusted', headers: { host: 'localhost:8080' }, expect: 'http://10.0.0.5:8080' },
    { name: 'an IPv4-mapped local address is written as IPv4', local: { localAddress: '::ffff:192.168.1.2', localPort: 80 }, expect: 'http://192.168.1.2:80' },
    { name: 'an IPv6 local address is bracketed', local: { localAddress: 'fe80::1', localPort: 8080 }, expect: 'http://[fe80::1]:8080' },
    {
      name: 'TRUST_PROXY: X-Forwarded-Proto/-Host/-Prefix',
      settings: { trustProxy: true },
      headers: { host: 'internal:8080', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'pacs.example.org', 'x-forwarded-prefix': '/tessera/' },
      expect: 'https://pacs.example.org/tessera',
    },
    {
      name: 'TRUST_PROXY: the first of several values',
      settings: { trustProxy: true },
      headers: { 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'a.example.org, b.example.org' },
      expect: 'https://a.example.org',
    },
    {
      name: 'TRUST_PROXY: RFC 7239 Forwarded, first element, quoted values',
      settings: { trustProxy: true },
      headers: { forwarded: 'for=1.2.3.4;proto=https;host="pacs.example.org:8443", for=5.6.7.8;host=other', 'x-forwarded-host': 'ignored.example.org' },
      expect: 'https://pacs.example.org:8443',
    },
    {
      name: 'TRUST_PROXY: the Host header when nothing is forwarded',
      settings: { trustProxy: true },
      headers: { host: 'pacs.example.org' },
      expect: 'http://pacs.example.org',
    },
    {
      name: 'TRUST_PROXY + ALLOWED_HOSTS: a forwarded host outside the list is ignored',
      settings: { trustProxy: true, allowedHosts: ['pacs.example.org'] },
      headers: { host: 'pacs.example.org', 'x-forwarded-host': 'evil.test' },
      expect: 'http://pacs.example.org',
    },
    {
      name: 'TRUST_PROXY: a proto other than http(s) falls back to the connection',
      settings: { trustProxy: true },
      headers: { host: 'pacs.example.org', 'x-forwarded-proto': 'javascript' },
      protocol: 'https',
      expect: 'https://pacs.example.org',
    },
    {
      name: 'TRUST_PROXY: a forwarded host with a path or quote is not a host',
      settings: { trustProxy: true },
      headers: { 'x-forwarded-host': 'evil.test/x"' },
      expect: 'http://10.0.0.5:8080',
    },
    {
      name: 'TRUST_PROXY: a prefix with other characters is dropped',
      settings: { trustProxy: true },
      headers: { host: 'pacs.example.org', 'x-forwarded-prefix': '/a b<script>' },
      expect: 'http://pacs.example.org',
    },
  ];
  for (const c of cases) t.equal(base(c), c.expect, c.name);
});

t.test('without a socket address (inject()): the address the server listens on', async (t) => {
  t.equal(
    base({ name: '', local: {}, expect: '' }, () => ({ address: '0.0.0.0', port: 3000 })),
    'http://127.0.0.1:3000',
    'a wildcard listener is written as loopback',
  );
  t.equal(
    base({ name: '', local: {}, expect: '' }, () => ({ address: '::1', port: 3000 })),
    'http://[::1]:3000',
  );
  t.equal(base({ name: '', local: {}, expect: '' }), 'http://127.0.0.1:80', 'not listening at all');
});

t.test('isHost: what may be echoed into a URL', async (t) => {
  for (const host of ['pacs.example.org', 'localhost:8080', '127.0.0.1', '[::1]:8080', 'a-b.c']) t.ok(isHost(host), host);
  for (const host of ['', 'a b', 'a/b', 'a"b', 'pacs:port', 'pacs:123456', '[::1', 'user@host']) t.notOk(isHost(host), JSON.stringify(host));
});
