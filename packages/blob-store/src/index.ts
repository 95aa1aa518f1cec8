export type { BlobStore } from './blob-store.js';
export { createBlobStore, type BlobStoreConfig } from './create-blob-store.js';
export { BlobNotFoundError, BlobStoreFullError } from './errors.js';
export { RENDERINGS_PREFIX, renderedInstanceKey, renderingsPrefix } from './keys.js';
