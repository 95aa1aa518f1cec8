import { splitOutsideQuotes } from '@tessera/http';

/** The media type of QIDO-RS answers (digest QIDO-2, NEG-1). */
export const DICOM_JSON = 'application/dicom+json';

/** Ranges that a DICOM JSON answer satisfies: the type, its PROJECT alias, and the wildcards. */
const JSON_RANGES = new Set([DICOM_JSON, 'application/json', 'application/*', '*/*']);

/**
 * Whether the Accept header allows a DICOM JSON answer: `application/dicom+json`, its PROJECT alias
 * `application/json`, a wildcard range, or no Accept at all (D2, NEG-3); a range with `q=0` does
 * not count. The XML form (`multipart/related; type="application/dicom+xml"`) is not built yet, so
 * asking only for it is 406.
 */
export function acceptsDicomJson(accept: string | string[] | undefined): boolean {
  const text = Array.isArray(accept) ? accept.join(',') : accept;
  if (text === undefined || text.trim() === '') return true;
  return splitOutsideQuotes(text, ',').some((range) => {
    const [type = '', ...parameters] = splitOutsideQuotes(range, ';').map((s) => s.trim());
    const q = parameters.find((p) => /^q\s*=/i.test(p))?.replace(/^q\s*=\s*/i, '');
    return JSON_RANGES.has(type.toLowerCase()) && (q === undefined || Number(q) > 0);
  });
}
