export * from './problem.js';
export * from './media-type.js';
export * from './multipart-reader.js';
export * from './uid-param.js';
export * from './accept.js';
export * from './multipart-writer.js';
export { primed } from './primed.js';
export * from './dicom-model-accept.js';
export * from './warning-header.js';
