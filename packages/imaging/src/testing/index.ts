/** Test support of @tessera/imaging (the `./testing` subpath): not part of the production build. */
export * from './load.js';
export * from './render-params.js';
