/**
 * The studies a request concerned, noted by the service that knows them for the audit trail: STOW-RS
 * the studies it stored, QIDO-RS the studies of its results. The server's audit recorder reads them
 * when the response is sent. Kept beside the request object (no framework type, no decoration), so
 * a service adds one call and nothing else.
 */
const noted = new WeakMap<object, readonly string[]>();

/** Notes the studies `request` concerned (distinct, in first-seen order; replaces an earlier note). */
export function noteAuditedStudies(request: object, studyInstanceUids: Iterable<string>): void {
  noted.set(request, [...new Set(studyInstanceUids)]);
}

/** The studies noted for `request`, or undefined when its service noted none. */
export function auditedStudies(request: object): readonly string[] | undefined {
  return noted.get(request);
}
