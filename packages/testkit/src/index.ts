export * from './s3-server.js';
export * from './backends.js';
export * from './dicom-builder.js';
export * from './multipart-builder.js';
export * from './shared-data.js';
