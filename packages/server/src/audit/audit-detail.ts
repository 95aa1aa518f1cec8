/**
 * Details a route notes for its audit event beyond what the route pattern says (the share link
 * routes: which share), read by the recorder when the response is sent. Beside the request object,
 * like @tessera/http's noteAuditedStudies. Never a secret, a query value or patient attribute.
 */
const noted = new WeakMap<object, Readonly<Record<string, string>>>();

export function noteAuditDetail(request: object, detail: Readonly<Record<string, string>>): void {
  noted.set(request, { ...noted.get(request), ...detail });
}

export function auditDetail(request: object): Readonly<Record<string, string>> | undefined {
  return noted.get(request);
}
