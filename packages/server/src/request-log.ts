import type { FastifyRequest } from 'fastify';

/**
 * How a request appears in the log: method, path, and the NAMES of its query parameters, never their
 * values. QIDO-RS queries carry patient names, IDs and birth dates (`?PatientName=DOE^JOHN`), and
 * patient data must not land in logs; a parameter's name is enough to see what kind of request it was.
 */
export function requestLogFields(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: redactQuery(redactShareToken(request.url)),
    remoteAddress: request.ip,
  };
}

/** `/path?PatientName=DOE&limit=10` → `/path?PatientName&limit`. */
export function redactQuery(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const names = url
    .slice(at + 1)
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const name = pair.split('=', 1)[0]!;
      try {
        return encodeURIComponent(decodeURIComponent(name.replace(/\+/g, ' ')));
      } catch {
        return '(malformed)';
      }
    });
  return `${url.slice(0, at)}?${names.join('&')}`;
}

/** `/s/tsl_…` → `/s/(token)`: a share link's token is a credential (issue #14) and never logged. */
export function redactShareToken(url: string): string {
  return url.replace(/^((?:\/[^/?]+)*?\/s\/)[^/?]+/, '$1(token)');
}
