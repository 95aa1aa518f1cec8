import type { AcceptEntry } from './accept.js';

/** A dataset or list of datasets as DICOM JSON (PS3.18 Annex F) or as Native DICOM Model XML (PS3.19 §A.1). */
export type DicomModelForm = 'json' | 'xml';

/** Ranges a DICOM JSON answer satisfies: the type, its PROJECT alias `application/json`, the wildcards. */
const JSON_RANGES = new Set(['application/dicom+json', 'application/json', 'application/*', '*/*']);

/**
 * Chooses between DICOM JSON and the XML form for the resources that have both (PS3.18 §8.7.3.5,
 * digest QIDO-2, WADORS-4, STOW-4/12), from the acceptable entries in preference order
 * (`parseAccept` / `acceptableMediaTypes`):
 * - `xml: 'multipart'` (QIDO-RS results, WADO-RS metadata): the XML form is
 *   `multipart/related; type="application/dicom+xml"` (also `multipart/related` without `type`, and
 *   `multipart/*`), one Native DICOM Model document per part;
 * - `xml: 'single'` (the STOW-RS response): the XML form is one `application/dicom+xml` document.
 *
 * JSON stays the default: `*\/*`, `application/*` and no Accept at all are JSON, and when a JSON range
 * and an XML one are acceptable with the same `q`, JSON wins, whatever their order or specificity.
 * Undefined when neither form is acceptable (the caller answers 406, NEG-6).
 */
export function negotiateDicomModel(entries: readonly AcceptEntry[], xml: 'multipart' | 'single'): DicomModelForm | undefined {
  let best: { form: DicomModelForm; q: number } | undefined;
  for (const entry of entries) {
    const form = JSON_RANGES.has(entry.mediaType) ? 'json' : acceptsXml(entry, xml) ? 'xml' : undefined;
    if (form === undefined) continue;
    if (best === undefined || entry.q > best.q || (entry.q === best.q && form === 'json')) best = { form, q: entry.q };
  }
  return best?.form;
}

function acceptsXml(entry: AcceptEntry, xml: 'multipart' | 'single'): boolean {
  if (xml === 'single') return entry.mediaType === 'application/dicom+xml';
  if (entry.mediaType === 'multipart/*') return true;
  return entry.mediaType === 'multipart/related' && (entry.parameters.type === undefined || entry.parameters.type === 'application/dicom+xml');
}
