import { parseMediaType, splitOutsideQuotes } from './media-type.js';
import { HttpProblem } from './problem.js';

/**
 * One media range of an `Accept` header (RFC 9110 §12.5.1, PS3.18 §8.7): lower-cased
 * `type/subtype`, parameters lower-cased by name and unquoted (digest COMMON-1), `q` taken out.
 * The `type` parameter of multipart/related is lower-cased too. Legacy names are mapped to the
 * current ones (`image/x-dicom-rle` → `image/dicom-rle`, `image/x-jls` → `image/jls`, DATA-3).
 */
export interface AcceptEntry {
  mediaType: string;
  parameters: Record<string, string>;
  q: number;
  /** Position in the header (ties keep the client's order). */
  order: number;
}

const LEGACY: Record<string, string> = { 'image/x-dicom-rle': 'image/dicom-rle', 'image/x-jls': 'image/jls' };
const normalise = (type: string): string => LEGACY[type] ?? type;

/** `*` 0, `type/*` 1, `type/subtype` 2, plus one per parameter (RFC 9110: more specific wins). */
export function specificity(entry: AcceptEntry): number {
  const [type, subtype] = entry.mediaType.split('/');
  const base = type === '*' ? 0 : subtype === '*' ? 1 : 2;
  return base * 100 + Object.keys(entry.parameters).length;
}

/**
 * Parses an Accept header into entries ordered by preference: highest `q`, then most specific,
 * then header order (digest NEG-1). Entries that do not parse, or have `q=0`, are dropped. A missing
 * or empty header is `*\/*` (PROJECT NEG-3).
 */
export function parseAccept(header: string | string[] | undefined): AcceptEntry[] {
  const text = Array.isArray(header) ? header.join(',') : header;
  if (text === undefined || text.trim() === '') return [{ mediaType: '*/*', parameters: {}, q: 1, order: 0 }];
  const entries: AcceptEntry[] = [];
  splitOutsideQuotes(text, ',').forEach((range, order) => {
    // parseMediaType refuses a `*` type: read `*/*` (and the bare `*` some clients send) as `x/*` and restore it.
    const trimmed = range.trim().replace(/^\*(\/\*)?(?=\s*(;|$))/, 'x-any/*');
    const parsed = parseMediaType(trimmed);
    if (parsed?.type === 'x-any/*') parsed.type = '*/*';
    if (!parsed) return;
    const { q: qText, ...parameters } = parsed.parameters;
    let q = 1;
    if (qText !== undefined) {
      if (!/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(qText)) return; // invalid entries are ignored (NEG-1)
      q = Number(qText);
    }
    if (q === 0) return;
    if (parameters.type !== undefined) parameters.type = normalise(parameters.type.toLowerCase());
    entries.push({ mediaType: normalise(parsed.type), parameters, q, order });
  });
  return entries.sort((a, b) => b.q - a.q || specificity(b) - specificity(a) || a.order - b.order);
}

/** Whether the range of `entry` (maybe a wildcard) covers the concrete media type `mediaType`. */
export function rangeCovers(entry: AcceptEntry, mediaType: string): boolean {
  if (entry.mediaType === '*/*') return true;
  const [type, subtype] = entry.mediaType.split('/');
  if (subtype === '*') return mediaType.startsWith(`${type}/`);
  return entry.mediaType === mediaType;
}

export const isWildcard = (entry: AcceptEntry): boolean => entry.mediaType.includes('*');

/**
 * The acceptable set of a request (digest NEG-2): the `accept` query parameter (WADO-URI:
 * `contentType`) comes first and excludes wildcards; each of its types must also be covered by the
 * Accept header. A query parameter none of whose types the header covers leaves nothing → 406.
 */
export function acceptableMediaTypes(query: string | string[] | undefined, header: string | string[] | undefined): AcceptEntry[] {
  const fromHeader = parseAccept(header);
  if (query === undefined || (Array.isArray(query) ? query.join('') : query).trim() === '') return fromHeader;
  const fromQuery = parseAccept(query);
  if (fromQuery.length === 0 || fromQuery.some(isWildcard)) {
    throw new HttpProblem(400, 'INVALID_ACCEPT_PARAMETER', 'the accept query parameter must name media types without wildcards (PS3.18 §8.3.3.1)');
  }
  const covered = fromQuery.filter((entry) => fromHeader.some((h) => rangeCovers(h, entry.mediaType)));
  if (covered.length === 0) {
    throw new HttpProblem(406, 'NOT_ACCEPTABLE', 'the accept query parameter names media types the Accept header does not allow (PS3.18 §8.3.3.1)');
  }
  return covered;
}

/** Media types of rendered (consumer) content: mixing them with DICOM types is a 400 (digest NEG-5). */
const RENDERED_TYPE = /^(image\/(?!\*)|video\/(?!\*)|text\/(?!\*)|application\/pdf$)/;
const DICOM_TYPE = /^(application\/dicom(\+json|\+xml)?|application\/octet-stream|multipart\/related)$/;

/** Throws 400 when DICOM media types and rendered media types are acceptable together (NEG-5). */
export function assertOneFamily(entries: AcceptEntry[]): void {
  const dicom = entries.find((e) => DICOM_TYPE.test(e.mediaType));
  const rendered = entries.find((e) => RENDERED_TYPE.test(e.mediaType));
  if (dicom && rendered) {
    throw new HttpProblem(400, 'MIXED_MEDIA_TYPES', `Accept mixes DICOM (${dicom.mediaType}) and rendered (${rendered.mediaType}) media types (PS3.18 §8.7.5)`);
  }
}

/** The 406 answer, listing what the resource can be had as (digest NEG-6). */
export function notAcceptable(resource: string, available: string[]): HttpProblem {
  return new HttpProblem(406, 'NOT_ACCEPTABLE', `${resource} is available as: ${available.join(', ')} (PS3.18 §10.4.4)`);
}

/** Parses Accept-Encoding and tells which of our encodings the client takes, best first. */
export function acceptedEncodings(header: string | string[] | undefined, supported: readonly string[]): string[] {
  const text = Array.isArray(header) ? header.join(',') : header;
  if (!text) return [];
  const weights = new Map<string, number>();
  for (const item of text.split(',')) {
    const [name, ...params] = item.trim().toLowerCase().split(';');
    if (!name) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    weights.set(name, Number.isFinite(q) ? q : 0);
  }
  return supported
    .filter((encoding) => (weights.get(encoding) ?? (weights.has('*') ? weights.get('*')! : 0)) > 0)
    .sort((a, b) => (weights.get(b) ?? weights.get('*') ?? 0) - (weights.get(a) ?? weights.get('*') ?? 0));
}
