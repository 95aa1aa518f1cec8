export { HttpProblem } from './problem.js';
export { parseMediaType } from './media-type.js';
export { readMultipart, type MultipartPart } from './multipart-reader.js';
export { uidParam } from './uid-param.js';
export { parseAccept, rangeCovers, acceptableMediaTypes, assertOneFamily, notAcceptable, acceptedEncodings, type AcceptEntry } from './accept.js';
export { writeMultipart, type ResponsePart, type MultipartResponse } from './multipart-writer.js';
export { primed } from './primed.js';
export { negotiateDicomModel, type DicomModelForm } from './dicom-model-accept.js';
export { warningHeader } from './warning-header.js';
