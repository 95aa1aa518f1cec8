export * from '@tessera/s3-test-server';
export * from '@tessera/test-data';
export * from './backends.js';
export * from './dicom-builder.js';
export * from './multipart-builder.js';
export * from './tcp-fault-proxy.js';
export * from './orthanc.js';
export * from './oidc-provider.js';
