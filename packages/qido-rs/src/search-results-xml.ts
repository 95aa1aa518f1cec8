import { DICOM_XML, type DicomJsonDataset, toNativeDicomXml } from '@tessera/dicom';
import { type MultipartResponse, writeMultipart } from '@tessera/http';
import type { ResultDataset } from './search-results.js';

/**
 * QIDO-RS results in their XML form (PS3.18 §10.6.4, digest QIDO-2): a `multipart/related;
 * type="application/dicom+xml"` body with one Native DICOM Model document (PS3.19 §A.1) per result,
 * in the order of the JSON array. Each part is converted when the writer reaches it, so the XML of
 * one result at a time is in memory besides the page of results the JSON path holds as well.
 */
export function resultsXml(results: readonly ResultDataset[]): MultipartResponse {
  function* parts() {
    for (const result of results) {
      yield { contentType: DICOM_XML, body: () => Buffer.from(toNativeDicomXml(JSON.parse(result.toJson()) as DicomJsonDataset)) };
    }
  }
  return writeMultipart(DICOM_XML, parts());
}
