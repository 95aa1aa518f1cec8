import type { BlobStore } from './blob-store.js';
import { FilesystemBlobStore, type FilesystemBlobStoreOptions } from './filesystem/filesystem-blob-store.js';
import { S3BlobStore, type S3BlobStoreOptions } from './s3/s3-blob-store.js';

/** Which backend to use and how; what the server's configuration produces. */
export type BlobStoreConfig = ({ kind: 'filesystem' } & FilesystemBlobStoreOptions) | ({ kind: 's3' } & S3BlobStoreOptions);

export function createBlobStore(config: BlobStoreConfig): BlobStore {
  switch (config.kind) {
    case 'filesystem':
      return new FilesystemBlobStore(config);
    case 's3':
      return new S3BlobStore(config);
  }
}
