/** Test support of @tessera/blob-store (the `./testing` subpath): not part of the production build. */
export * from './blob-store-contract.js';
export * from './ensure-bucket.js';
