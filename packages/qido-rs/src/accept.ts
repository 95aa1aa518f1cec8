import { type DicomModelForm, negotiateDicomModel, parseAccept } from '@tessera/http';

/** The media type of QIDO-RS answers (digest QIDO-2, NEG-1). */
export const DICOM_JSON = 'application/dicom+json';

/** The XML form of QIDO-RS answers: one Native DICOM Model document per result (PS3.18 §10.6.4, QIDO-2). */
export const MULTIPART_DICOM_XML = 'multipart/related; type="application/dicom+xml"';

/**
 * The form the Accept header asks for: DICOM JSON (`application/dicom+json`, its PROJECT alias
 * `application/json`, a wildcard, or no Accept at all: D2, NEG-3) or the XML form
 * (`multipart/related; type="application/dicom+xml"`); undefined when neither is acceptable (406).
 * A range with `q=0` does not count; JSON wins a tie.
 */
export function searchResultsForm(accept: string | string[] | undefined): DicomModelForm | undefined {
  return negotiateDicomModel(parseAccept(accept), 'multipart');
}
