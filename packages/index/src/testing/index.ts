/** Test support of @tessera/index (the `./testing` subpath): not part of the production build. */
export * from './scratch-database.js';
export * from './test-databases.js';
export * from './index-readers.js';
