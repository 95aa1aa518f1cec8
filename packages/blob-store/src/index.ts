export type { BlobInfo, BlobStore, ByteRange, PutFileOptions } from './blob-store.js';
export { createBlobStore, type BlobStoreConfig } from './create-blob-store.js';
export { BlobKeyError, BlobNotFoundError, BlobSizeMismatchError, BlobStoreFullError, BlobStoreUnavailableError } from './errors.js';
export { FilesystemBlobStore, type FilesystemBlobStoreOptions } from './filesystem/filesystem-blob-store.js';
export { assertValidKey, assertValidPrefix, MAX_KEY_LENGTH } from './keys.js';
export { S3BlobStore, type S3BlobStoreOptions } from './s3/s3-blob-store.js';
