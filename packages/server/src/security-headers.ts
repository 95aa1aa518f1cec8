import type { FastifyInstance } from 'fastify';

/**
 * What an HTML page that did not bring its own policy may do: nothing but be framed by this origin.
 * The hosted viewer sends its own Content-Security-Policy (packages/ohif, viewer-routes.ts).
 */
const DEFAULT_HTML_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

/**
 * Browser security headers (issue #21 item 14), as the last step of every response sent through
 * fastify (errors, 404s and preflights included): `X-Content-Type-Options: nosniff`, so a browser
 * never runs a DICOM value or a problem body as script or style; and on HTML, frame protection
 * (`X-Frame-Options: SAMEORIGIN`, CSP `frame-ancestors 'self'`) against clickjacking; and
 * `Referrer-Policy: same-origin` unless a route set its own (share links set `no-referrer`), so no
 * URL of ours, which may name a study, is sent to another origin as a Referer (issue #14). A small hook
 * rather than @fastify/helmet: helmet's defaults (a strict CSP on every response, COEP) would have
 * to be undone for the viewer and the DICOMweb routes, leaving these few lines.
 */
export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    // No URL of ours (viewer pages name studies; issue #14) is sent as a Referer to another origin.
    if (!reply.hasHeader('referrer-policy')) reply.header('referrer-policy', 'same-origin');
    const type = String(reply.getHeader('content-type') ?? '');
    if (/^text\/html\b/i.test(type)) {
      reply.header('x-frame-options', 'SAMEORIGIN');
      if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', DEFAULT_HTML_POLICY);
    }
    return payload;
  });
}
